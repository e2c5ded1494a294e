//! Shared by the placement tests: small hand-made PDFs and poppler's `pdftotext -bbox` as the
//! independent oracle for where a word is as the reader sees it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use pades::place::{locate_in, Rect};
use pades::stamp::Placement;

/// A PDF from object bodies (object 1 is the catalog), with a correct classic xref table.
pub(crate) fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A stream object body.
pub(crate) fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< /Length {} {dict} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

/// A one-page PDF: catalog 1, pages 2, page 3 (with `page_extra` entries), content 4, font 5
/// (`font`, named /F1 unless `page_extra` has its own `/Resources`), then `more` objects from
/// 6 on.
pub(crate) fn one_page(page_extra: &str, content: &[u8], font: &str, more: &[Vec<u8>]) -> Vec<u8> {
    let mut objs = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Contents 4 0 R {} {page_extra} >>",
            if page_extra.contains("/Resources") {
                ""
            } else {
                "/Resources << /Font << /F1 5 0 R >> >>"
            }
        )
        .into_bytes(),
        stream("", content),
        font.as_bytes().to_vec(),
    ];
    objs.extend(more.iter().cloned());
    pdf(&objs)
}

/// Helvetica, WinAnsi, no widths (the standard 14 metrics apply).
pub(crate) const HELVETICA: &str =
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

/// Every word poppler sees, in order: page (1-based), text, and xMin, yMin, xMax, yMax from
/// the visible top-left corner. `None` when pdftotext cannot run (unless
/// SEGEL_REQUIRE_TOOLS=1).
pub(crate) fn poppler_words(pdf: &[u8]) -> Option<Vec<(u32, String, [f64; 4])>> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let file: PathBuf = std::env::temp_dir().join(format!(
        "segel-place-{}-{}.pdf",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&file, pdf).expect("write PDF");
    let out = Command::new("pdftotext")
        .args(["-bbox", "-cropbox"])
        .arg(&file)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&file);
    let out = match out {
        Ok(o) => o,
        Err(e) if std::env::var("SEGEL_REQUIRE_TOOLS").is_ok_and(|v| v == "1") => {
            panic!("pdftotext is required (SEGEL_REQUIRE_TOOLS=1) but could not run: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping the poppler comparison, pdftotext could not run: {e}");
            return None;
        }
    };
    assert!(out.status.success(), "pdftotext failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut page = 0;
    let mut words = Vec::new();
    for line in text.lines() {
        if line.contains("<page ") {
            page += 1;
        }
        let Some(start) = line.find("<word ") else {
            continue;
        };
        let line = &line[start..];
        let attr = |name: &str| -> f64 {
            let at = line.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
            let end = line[at..].find('"').expect("quote") + at;
            line[at..end].parse().expect("number")
        };
        let open = line.find('>').expect("tag end") + 1;
        let close = line.rfind("</word>").expect("close");
        let word = line[open..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        words.push((
            page,
            word,
            [attr("xMin"), attr("yMin"), attr("xMax"), attr("yMax")],
        ));
    }
    Some(words)
}

/// A word's box as poppler sees it: page (1-based), xMin, yMin, xMax, yMax from the visible
/// top-left corner. `None` when pdftotext cannot run (unless SEGEL_REQUIRE_TOOLS=1).
pub(crate) fn poppler_word(pdf: &[u8], word: &str) -> Option<(u32, [f64; 4])> {
    let words = poppler_words(pdf)?;
    let found = words.iter().find(|w| w.1 == word);
    let (page, _, b) = found.unwrap_or_else(|| panic!("poppler does not see {word:?}: {words:?}"));
    Some((*page, *b))
}

/// Poppler's box of `word`, mapped to user space through our page geometry (a rectangle from
/// the visible top-left corner), or `None` without pdftotext.
pub(crate) fn poppler_user_box(pdf: &[u8], word: &str) -> Option<(u32, Rect)> {
    let (page, [x0, y0, x1, y1]) = poppler_word(pdf, word)?;
    let located = locate_in(
        pdf,
        &Placement::Rect {
            page,
            x: x0,
            y: y0,
            width: x1 - x0,
            height: y1 - y0,
        },
    )
    .expect("poppler's box lies on the page");
    Some((page, located.rect))
}

/// Each edge within `tol` points.
pub(crate) fn assert_close(a: Rect, b: Rect, tol: f64, what: &str) {
    let d = [a.x0 - b.x0, a.y0 - b.y0, a.x1 - b.x1, a.y1 - b.y1];
    assert!(
        d.iter().all(|v| v.abs() <= tol),
        "{what}: {a:?} and {b:?} differ by more than {tol} pt"
    );
}
