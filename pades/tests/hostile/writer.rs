//! A small PDF writer for the generators.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::Compression;

pub(crate) struct Pdf {
    /// The bytes written so far.
    pub(crate) out: Vec<u8>,
    /// Object number and offset of every object written since the last table.
    pub(crate) offsets: Vec<(u32, usize)>,
}

impl Pdf {
    pub(crate) fn new() -> Self {
        Self {
            out: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            offsets: Vec::new(),
        }
    }

    pub(crate) fn obj(&mut self, num: u32, body: &[u8]) {
        self.offsets.push((num, self.out.len()));
        self.out
            .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// A stream object; `dict` is the dictionary's inside, `/Length` is added unless given.
    pub(crate) fn stream(&mut self, num: u32, dict: &str, data: &[u8]) {
        let mut body = if dict.contains("/Length") {
            format!("<<{dict}>>stream\n").into_bytes()
        } else {
            format!("<<{dict}/Length {}>>stream\n", data.len()).into_bytes()
        };
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.obj(num, &body);
    }

    /// A classic xref table of every object written so far, and the trailer.
    pub(crate) fn table(&mut self, trailer: &str) -> usize {
        let at = self.out.len();
        let mut offs = std::mem::take(&mut self.offsets);
        offs.sort_unstable();
        let size = offs.last().map_or(1, |(n, _)| n + 1);
        self.out
            .extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
        for (num, off) in &offs {
            self.out
                .extend_from_slice(format!("{num} 1\n{off:010} 00000 n \n").as_bytes());
        }
        self.out
            .extend_from_slice(format!("trailer\n<<{trailer}/Size {size}>>\n").as_bytes());
        at
    }

    pub(crate) fn finish(mut self, startxref: usize) -> Vec<u8> {
        self.out
            .extend_from_slice(format!("startxref\n{startxref}\n%%EOF\n").as_bytes());
        self.out
    }
}

/// `len` zero bytes, deflated (about 1 KiB per MiB), without holding them.
pub(crate) fn zero_bomb(len: usize) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let k = left.min(chunk.len());
        z.write_all(&chunk[..k]).expect("deflate");
        left -= k;
    }
    z.finish().expect("deflate")
}

/// The objects of a one-page document: 1 catalog (with `catalog_extra`), 2 pages, 3 page.
pub(crate) fn skeleton(pdf: &mut Pdf, catalog_extra: &str) {
    pdf.obj(
        1,
        format!("<</Type/Catalog/Pages 2 0 R{catalog_extra}>>").as_bytes(),
    );
    pdf.obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
    pdf.obj(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>");
}
