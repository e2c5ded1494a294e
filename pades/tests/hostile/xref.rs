//! Cross-reference rows and inflation: what a small file can make the reader list or inflate.

use super::*;

/// A 64 KiB xref stream that inflates to 60 MiB of one-byte rows, listed again and again by
/// `/Index`.
fn xref_rows() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let prev = pdf.table("/Root 1 0 R");
    let at = pdf.out.len();
    let bomb = zero_bomb(60 << 20);
    let index = "0 8388606 ".repeat(8);
    pdf.stream(
        10,
        &format!(
            "/Type/XRef/Size 8388607/W[1 0 0]/Index[{index}]/Root 1 0 R/Prev {prev}/Filter/FlateDecode"
        ),
        &bomb,
    );
    pdf.finish(at)
}

#[test]
fn xref_stream_rows_are_bounded_by_the_input() {
    holds_budget(
        "xref::xref_stream_rows_are_bounded_by_the_input",
        xref_rows,
        Expect::BothFail("limit exceeded"),
    );
}

/// 4,000 table sections, each pointing (`/XRefStm`) at the same xref stream of 2,000 rows.
fn xrefstm_reread() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let mut prev = pdf.table("/Root 1 0 R");
    let xs = pdf.out.len();
    let rows: Vec<u8> = (0..2000u32).flat_map(|_| [1u8, 0, 0, 0, 9, 0, 0]).collect();
    pdf.stream(10, "/Type/XRef/Size 2000/W[1 4 2]/Index[3000 2000]", &rows);
    for _ in 0..4000 {
        let at = pdf.out.len();
        pdf.out.extend_from_slice(
            format!("xref\n0 0\ntrailer\n<</Size 5000/Root 1 0 R/Prev {prev}/XRefStm {xs}>>\n")
                .as_bytes(),
        );
        prev = at;
    }
    pdf.finish(prev)
}

#[test]
fn a_shared_xref_stream_is_not_a_multiplier() {
    holds_budget(
        "xref::a_shared_xref_stream_is_not_a_multiplier",
        xrefstm_reread,
        Expect::Anything,
    );
}

/// Four object streams, each 24 MiB inflated (a form field and white space), each holding a
/// form field.
fn inflate_bombs() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let k = 4u32;
    let mut fields = String::new();
    for i in 0..k {
        let head = format!("{} 0 ", 100 + i);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(head.as_bytes()).expect("deflate");
        z.write_all(b"<</T(f)/FT/Tx>>").expect("deflate");
        let spaces = vec![b' '; 1 << 16];
        for _ in 0..(24 << 20) / spaces.len() {
            z.write_all(&spaces).expect("deflate");
        }
        let z = z.finish().expect("deflate");
        pdf.stream(
            10 + i,
            &format!("/Type/ObjStm/N 1/First {}/Filter/FlateDecode", head.len()),
            &z,
        );
        fields.push_str(&format!("{} 0 R ", 100 + i));
    }
    skeleton(&mut pdf, &format!("/AcroForm<</Fields[{fields}]>>"));
    let at = pdf.out.len();
    let mut rows = Vec::new();
    let mut index = String::new();
    let mut push = |num: u32, t: u8, a: u32, b: u16| {
        index.push_str(&format!("{num} 1 "));
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes());
        rows.extend_from_slice(&b.to_be_bytes());
    };
    let offsets = pdf.offsets.clone();
    for (num, off) in offsets {
        push(num, 1, off as u32, 0);
    }
    for i in 0..k {
        push(100 + i, 2, 10 + i, 0);
    }
    push(200, 1, at as u32, 0);
    pdf.stream(
        200,
        &format!("/Type/XRef/Size 201/W[1 4 2]/Index[{index}]/Root 1 0 R"),
        &rows,
    );
    pdf.finish(at)
}

#[test]
fn inflate_bombs_are_capped_per_open() {
    holds_budget(
        "xref::inflate_bombs_are_capped_per_open",
        inflate_bombs,
        Expect::BothFail("bytes inflated"),
    );
}
