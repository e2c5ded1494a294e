//! The QR code of a visible seal, rendered by poppler (`pdftoppm`, 200 dpi) and read back by a
//! QR decoder (`rqrr`): the text must come back unchanged, and the code must sit in its box.
//!
//! Without `pdftoppm` the test is skipped with a note, unless `SEGEL_REQUIRE_TOOLS=1`.

use std::path::Path;
use std::process::Command;

use pades::stamp::QrCode;

#[path = "support/pdf.rs"]
mod pdf;
#[path = "support/pgm.rs"]
mod pgm;
use pgm::Grey;

/// Page size (points, square) and the QR box on it.
const PAGE: f64 = 300.0;
const X: f64 = 50.0;
const Y: f64 = 50.0;
const SIZE: f64 = 200.0;
/// Rendering resolution: pixels per point.
const SCALE: f64 = 200.0 / 72.0;

/// A one-page PDF (`MediaBox 0 0 300 300`) whose content is `content`, with a correct xref.
fn one_page_pdf(content: &[u8]) -> Vec<u8> {
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 300] /Contents 4 0 R >>".to_vec(),
        [
            format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(),
            content,
            b"\nendstream",
        ]
        .concat(),
    ];
    pdf::numbered(&objects)
}

/// Renders the only page of `pdf` at 200 dpi in grey, or `None` when pdftoppm is missing.
fn render(dir: &Path, pdf: &[u8]) -> Option<Grey> {
    let file = dir.join("qr.pdf");
    std::fs::write(&file, pdf).expect("write PDF");
    let out = dir.join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-singlefile"])
        .arg(&file)
        .arg(&out)
        .status();
    match status {
        Ok(status) => assert!(status.success(), "pdftoppm failed: {status}"),
        Err(e) if std::env::var("SEGEL_REQUIRE_TOOLS").is_ok_and(|v| v == "1") => {
            panic!("pdftoppm is required (SEGEL_REQUIRE_TOOLS=1) but could not run: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping the QR rendering test, pdftoppm could not run: {e}");
            return None;
        }
    }
    Some(pgm::parse(
        &std::fs::read(out.with_extension("pgm")).expect("read PGM"),
        PAGE,
        SCALE,
    ))
}

/// Draws `text` as a QR code on a black page, renders it, decodes it and checks its place.
/// The black page shows that the code's box, quiet zone included, is painted opaque white.
fn round_trip(text: &str) {
    let code = QrCode::new(text).expect("fits");
    let mut content = b"0 g 0 0 300 300 re f\n".to_vec();
    content.extend(code.content(X, Y, SIZE).expect("drawn"));
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(image) = render(dir.path(), &one_page_pdf(&content)) else {
        return;
    };

    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(image.width, image.height, |x, y| {
            image.pixels[y * image.width + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page for {text:?}");
    let (_, decoded) = grids[0].decode().expect("decodes");
    assert_eq!(decoded, text);

    // Module (col, row) centre in PDF space; negative indices lie in the quiet zone.
    let n = code.modules() as f64;
    let module = SIZE / (n + 8.0);
    let centre = |c: f64, r: f64| {
        (
            X + (4.0 + c + 0.5) * module,
            Y + SIZE - (4.0 + r + 0.5) * module,
        )
    };
    let dark = |c: f64, r: f64| {
        let (x, y) = centre(c, r);
        image.at(x, y) < 64
    };
    // The three finder patterns: dark outer ring corners and centres, white inner ring.
    for (c, r) in [
        (0.0, 0.0),
        (n - 1.0, 0.0),
        (0.0, n - 1.0),
        (3.0, 3.0),
        (n - 4.0, 3.0),
        (3.0, n - 4.0),
    ] {
        assert!(dark(c, r), "module ({c}, {r}) should be dark for {text:?}");
    }
    for (c, r) in [
        (1.0, 1.0),
        (n - 2.0, 1.0),
        (1.0, n - 2.0),
        (-1.0, -1.0),
        (-4.0, -4.0),
        (n + 3.0, n + 3.0),
    ] {
        assert!(
            !dark(c, r),
            "module ({c}, {r}) should be white for {text:?}"
        );
    }
    // Just inside every corner of the box: white; just outside: the black page.
    for (x, y, dx, dy) in [
        (X, Y, 1.0, 1.0),
        (X + SIZE, Y, -1.0, 1.0),
        (X, Y + SIZE, 1.0, -1.0),
        (X + SIZE, Y + SIZE, -1.0, -1.0),
    ] {
        assert!(
            image.at(x + dx, y + dy) > 192,
            "inside corner ({x}, {y}) should be white"
        );
        assert!(
            image.at(x - 2.0 * dx, y - 2.0 * dy) < 64,
            "outside corner ({x}, {y}) should be black"
        );
    }
}

#[test]
fn a_verification_link_reads_back() {
    round_trip("http://127.0.0.1:8080/d/Zx3_q9LmT0a-Bc7dEf1GhK");
}

#[test]
fn a_longer_https_link_reads_back() {
    round_trip(
        "https://verifikasi.kemendagri.example.go.id/segel/d/Zx3_q9LmT0a-Bc7dEf1GhKjL2mN4pQ6rS8",
    );
}

#[test]
fn a_200_character_text_reads_back() {
    let text: String = "Dokumen ini telah ditandatangani secara elektronik. "
        .chars()
        .cycle()
        .take(200)
        .collect();
    round_trip(&text);
}
