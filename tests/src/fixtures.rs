//! Hand-built PDFs for the shapes that the corpus producers do not emit: other line endings,
//! no `/ID`, nothing or garbage after `%%EOF`, inherited page attributes, hybrid-reference files,
//! certification signatures that forbid changes.

/// How to build a file.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Header version, e.g. "1.3" or "2.0".
    pub version: &'static str,
    /// End-of-line sequence used everywhere.
    pub eol: &'static str,
    /// Write a trailer `/ID`.
    pub id: bool,
    /// What follows `%%EOF` (may be empty: no end-of-line at all).
    pub after_eof: &'static [u8],
    /// Put the page object into an object stream reached through `/XRefStm` (hybrid file).
    pub hybrid: bool,
    /// Extra catalog entries (e.g. `/Perms 6 0 R`), and extra objects numbered from 6.
    pub catalog_extra: &'static str,
    /// Extra objects (numbered 6, 7, …).
    pub extra_objects: &'static [&'static str],
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            version: "1.4",
            eol: "\n",
            id: true,
            after_eof: b"\n",
            hybrid: false,
            catalog_extra: "",
            extra_objects: &[],
        }
    }
}

/// Build a one-page PDF of `shape`. Page attributes (MediaBox, Resources) are inherited from the
/// page tree root.
pub fn build(shape: &Shape) -> Vec<u8> {
    let e = shape.eol;
    // `stream` must be followed by CRLF or LF (ISO 32000-2 §7.3.8.1), even in a CR-only file.
    let se = if e == "\r" { "\r\n" } else { e };
    let mut out = format!("%PDF-{}{e}%\u{e2}\u{e3}{e}", shape.version).into_bytes();
    let content = "BT /F1 24 Tf 72 700 Td (Surat Keputusan) Tj ET";
    let mut objs: Vec<(u32, String)> = vec![
        (
            1,
            format!("<< /Type /Catalog /Pages 2 0 R {} >>", shape.catalog_extra),
        ),
        (
            2,
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] \
             /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_string(),
        ),
        (
            4,
            format!(
                "<< /Length {} >>{e}stream{se}{content}{e}endstream",
                content.len()
            ),
        ),
        (
            5,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        ),
    ];
    for (i, o) in shape.extra_objects.iter().enumerate() {
        objs.push((6 + i as u32, (*o).to_string()));
    }
    let page = "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>";
    let n_extra = shape.extra_objects.len() as u32;
    let mut offsets: Vec<(u32, usize)> = Vec::new();
    let objstm_num = 6 + n_extra;
    let xrefstm_num = objstm_num + 1;
    if !shape.hybrid {
        objs.push((3, page.to_string()));
    }
    objs.sort_by_key(|(n, _)| *n);
    for (n, body) in &objs {
        offsets.push((*n, out.len()));
        out.extend_from_slice(format!("{n} 0 obj{e}{body}{e}endobj{e}").as_bytes());
    }
    let mut xrefstm_at = None;
    if shape.hybrid {
        // Object 3 inside object stream `objstm_num`; an xref stream lists it as compressed.
        let header = "3 0 ";
        let data = format!("{header}{page}");
        offsets.push((objstm_num, out.len()));
        out.extend_from_slice(
            format!(
                "{objstm_num} 0 obj{e}<< /Type /ObjStm /N 1 /First {} /Length {} >>{e}stream{se}{data}{e}endstream{e}endobj{e}",
                header.len(),
                data.len()
            )
            .as_bytes(),
        );
        let at = out.len();
        let mut rows = Vec::new();
        rows.extend_from_slice(&[2, 0, 0, objstm_num as u8, 0]); // object 3: compressed, index 0
        out.extend_from_slice(
            format!(
                "{xrefstm_num} 0 obj{e}<< /Type /XRef /Size {} /Index [3 1] /W [1 3 1] /Length {} >>{e}stream{se}",
                xrefstm_num + 1,
                rows.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&rows);
        out.extend_from_slice(format!("{e}endstream{e}endobj{e}").as_bytes());
        offsets.push((xrefstm_num, at));
        xrefstm_at = Some(at);
    }
    let size = offsets.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
    let xref_at = out.len();
    out.extend_from_slice(format!("xref{e}0 {size}{e}").as_bytes());
    // Entries are exactly 20 bytes: with a one-byte EOL, pad with a space.
    let entry_eol = if e.len() == 2 {
        e.to_string()
    } else {
        format!(" {e}")
    };
    for n in 0..size {
        match offsets.iter().find(|(m, _)| *m == n) {
            Some((_, off)) => {
                out.extend_from_slice(format!("{off:010} 00000 n{entry_eol}").as_bytes())
            }
            // Object 0 heads the free list; objects hidden in the xref stream of a hybrid file
            // are free with generation 0, as readers without stream support must see them.
            None if n == 0 => {
                out.extend_from_slice(format!("0000000000 65535 f{entry_eol}").as_bytes())
            }
            None => out.extend_from_slice(format!("0000000000 00000 f{entry_eol}").as_bytes()),
        }
    }
    let id = if shape.id {
        " /ID [<0123456789ABCDEF0123456789ABCDEF> <0123456789ABCDEF0123456789ABCDEF>]"
    } else {
        ""
    };
    let xs = xrefstm_at
        .map(|a| format!(" /XRefStm {a}"))
        .unwrap_or_default();
    out.extend_from_slice(
        format!("trailer{e}<< /Size {size} /Root 1 0 R{id}{xs} >>{e}startxref{e}{xref_at}{e}%%EOF")
            .as_bytes(),
    );
    out.extend_from_slice(shape.after_eof);
    out
}

/// A file certified with DocMDP /P 1 (no changes allowed). The certification signature itself is
/// a placeholder: only the permission matters for the refusal.
pub fn certified_no_changes() -> Vec<u8> {
    build(&Shape {
        catalog_extra: "/Perms << /DocMDP 6 0 R >>",
        extra_objects: &[
            "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
             /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams \
             << /Type /TransformParams /P 1 /V /1.2 >> >>] /Contents <00> /ByteRange [0 0 0 0] >>",
        ],
        ..Shape::default()
    })
}
