//! Test and benchmark support: synthetic PDFs of a chosen size and page count. Pure (returns
//! bytes); compiled only with the `testing` feature, which tests, benchmarks and examples
//! enable.

/// A valid PDF with `pages` pages (one small content stream each) and one filler stream of
/// about `filler` bytes of incompressible data, classic xref table.
pub fn synthetic_pdf(pages: usize, filler: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    let put = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        let n = offsets.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // 1 catalog, 2 pages root, 3 font, 4 filler image; then page i at 5+2i, content at 6+2i.
    put(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 5 + 2 * i)).collect();
    put(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} /MediaBox [0 0 595 842] >>",
            kids.join(" ")
        )
        .as_bytes(),
    );
    put(
        &mut out,
        &mut offsets,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    );
    let mut data = Vec::with_capacity(filler);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while data.len() < filler {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(filler);
    let mut img = format!(
        "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
        data.len()
    )
    .into_bytes();
    img.extend_from_slice(&data);
    img.extend_from_slice(b"\nendstream");
    put(&mut out, &mut offsets, &img);
    for i in 0..pages {
        let content = format!("BT /F1 12 Tf 72 720 Td (Halaman {}) Tj ET", i + 1);
        put(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> /XObject << /Im 4 0 R >> >> /Contents {} 0 R >>",
                6 + 2 * i
            )
            .as_bytes(),
        );
        put(
            &mut out,
            &mut offsets,
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            )
            .as_bytes(),
        );
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}
