//! The drawn stamp, judged by outside tools: a one-page PDF whose page draws the stamp's form
//! XObject (`/Fm1 Do`) is rendered by poppler (`pdftoppm`, 200 dpi) and its QR code read back
//! (`rqrr`); `pdffonts` must show every font embedded as a subset with a ToUnicode map,
//! `pdftotext` must find the stamp's text in order, and `qpdf --check` must pass — on upright
//! pages and on pages turned by 90, 180 and 270 degrees.
//!
//! Without the tools the tool-based tests are skipped with a note, unless
//! `SEGEL_REQUIRE_TOOLS=1`. The hostile inputs need no tools.

use std::path::Path;
use std::process::Command;

use pades::pdf::ObjRef;
use pades::stamp::testing::{draw, footer, DrawnStamp};
use pades::stamp::{Appearance, Placement, StampError, StampLine};

#[path = "support/pdf.rs"]
mod pdf;
#[path = "support/pgm.rs"]
mod pgm;
use pgm::Grey;

const LINK: &str = "http://127.0.0.1:8080/d/Zx3_q9LmT0a-Bc7dEf1GhK";
/// Page side (square page) in points; the stamp's box is placed at (X, Y) as the reader sees
/// the page.
const PAGE: f64 = 400.0;
const X: f64 = 60.0;
const Y: f64 = 80.0;
const W: f64 = 200.0;
const H: f64 = 110.0;
/// Rendering resolution: pixels per point.
const SCALE: f64 = 200.0 / 72.0;

fn appearance(lines: &[(&str, bool)], image: Option<Vec<u8>>) -> Appearance {
    Appearance {
        placement: Placement::Field,
        lines: lines
            .iter()
            .map(|(t, b)| StampLine {
                text: (*t).into(),
                bold: *b,
            })
            .collect(),
        link: LINK.into(),
        image,
        footer: None,
        alt_text: String::new(),
    }
}

fn letter() -> Appearance {
    appearance(
        &[
            ("Ditandatangani secara elektronik oleh:", false),
            ("Sekretaris Jenderal", false),
            ("Kementerian Contoh", true),
            ("Budi Santoso", true),
            ("NIP. 198701012010011001", false),
            ("5 Desember 2026 08:30 WIB", false),
        ],
        None,
    )
}

/// Serialises numbered objects (1..=n, contiguous) with a correct xref table.
fn pdf_of(mut objects: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    objects.sort_by_key(|(n, _)| *n);
    for (i, (n, _)) in objects.iter().enumerate() {
        assert_eq!(*n as usize, i + 1, "objects are numbered 1..=n");
    }
    let bodies: Vec<Vec<u8>> = objects.into_iter().map(|(_, b)| b).collect();
    pdf::numbered(&bodies)
}

/// A one-page PDF, the page turned by `rotate`, black underneath, with the stamp drawn into
/// the box (X, Y, W, H) as the reader sees the page (origin bottom-left). `extra` content and
/// `fonts` (name, reference) are added to the page (for the footer).
fn page_with(
    drawn: &DrawnStamp,
    rotate: u16,
    extra: &[u8],
    fonts: &[(&str, ObjRef)],
    more: Vec<(ObjRef, Vec<u8>)>,
) -> Vec<u8> {
    // The box's lower-left corner in user space: the page turned back by `rotate`.
    let (ux, uy) = match rotate {
        0 => (X, Y),
        90 => (PAGE - Y - H, X),
        180 => (PAGE - X - W, PAGE - Y - H),
        _ => (Y, PAGE - X - W),
    };
    // The reader's coordinates -> user space, for the extra content.
    let seen = match rotate {
        0 => "1 0 0 1 0 0".to_string(),
        90 => format!("0 1 -1 0 {PAGE} 0"),
        180 => format!("-1 0 0 -1 {PAGE} {PAGE}"),
        _ => format!("0 -1 1 0 0 {PAGE}"),
    };
    let mut content =
        format!("0 g 0 0 {PAGE} {PAGE} re f\nq 1 0 0 1 {ux} {uy} cm /Fm1 Do Q\nq {seen} cm\n")
            .into_bytes();
    content.extend_from_slice(extra);
    content.extend_from_slice(b"\nQ\n");
    let font_dict: String = fonts
        .iter()
        .map(|(n, r)| format!("/{n} {} 0 R ", r.num))
        .collect();
    let mut objects = vec![
        (1, b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
        (
            3,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE} {PAGE}] /Rotate {rotate} \
                 /Resources << /XObject << /Fm1 {} 0 R >> /Font << {font_dict}>> >> \
                 /Contents 4 0 R >>",
                drawn.form.num
            )
            .into_bytes(),
        ),
        (
            4,
            [
                format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(),
                &content,
                b"\nendstream",
            ]
            .concat(),
        ),
    ];
    objects.extend(drawn.objects.iter().map(|(r, b)| (r.num, b.clone())));
    objects.extend(more.into_iter().map(|(r, b)| (r.num, b)));
    pdf_of(objects)
}

fn tools_required() -> bool {
    std::env::var("SEGEL_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Runs `tool args… file`; `None` (with a note) when the tool is missing.
fn run(tool: &str, args: &[&str], file: &Path) -> Option<std::process::Output> {
    match Command::new(tool).args(args).arg(file).output() {
        Ok(out) => Some(out),
        Err(e) if tools_required() => {
            panic!("{tool} is required (SEGEL_REQUIRE_TOOLS=1) but could not run: {e}")
        }
        Err(e) => {
            eprintln!("note: skipping a check, {tool} could not run: {e}");
            None
        }
    }
}

/// Everything the outside tools say about one PDF.
struct Judged {
    image: Grey,
    fonts: String,
    text: String,
}

/// Renders (200 dpi, grey), lists fonts, extracts text and checks `pdf`; `None` without tools.
fn judge(pdf: &[u8]) -> Option<Judged> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("stamp.pdf");
    std::fs::write(&file, pdf).expect("write PDF");

    let qpdf = run("qpdf", &["--check"], &file)?;
    assert!(
        qpdf.status.success(),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&qpdf.stdout),
        String::from_utf8_lossy(&qpdf.stderr)
    );
    let out = dir.path().join("page");
    let render = Command::new("pdftoppm")
        .args(["-r", "200", "-gray", "-singlefile"])
        .arg(&file)
        .arg(&out)
        .output();
    let render = match render {
        Ok(r) => r,
        Err(e) if tools_required() => panic!("pdftoppm is required: {e}"),
        Err(e) => {
            eprintln!("note: skipping, pdftoppm could not run: {e}");
            return None;
        }
    };
    assert!(render.status.success(), "pdftoppm failed");
    assert!(
        render.stderr.is_empty(),
        "poppler complained: {}",
        String::from_utf8_lossy(&render.stderr)
    );
    let image = pgm::parse(
        &std::fs::read(out.with_extension("pgm")).expect("read PGM"),
        PAGE,
        SCALE,
    );
    let fonts = run("pdffonts", &[], &file)?;
    let text = run("pdftotext", &["-layout"], &file)?;
    let text_path = file.with_extension("txt");
    let text = if text.status.success() {
        std::fs::read_to_string(text_path).expect("pdftotext output")
    } else {
        panic!("pdftotext failed")
    };
    Some(Judged {
        image,
        fonts: String::from_utf8_lossy(&fonts.stdout).into_owned(),
        text,
    })
}

/// The QR codes found in the rendering, decoded.
fn qr_texts(image: &Grey) -> Vec<String> {
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(image.width, image.height, |x, y| {
            image.pixels[y * image.width + x]
        });
    prepared
        .detect_grids()
        .iter()
        .map(|g| g.decode().expect("the QR code decodes").1)
        .collect()
}

/// Every font line of `pdffonts` says embedded, subset, ToUnicode; returns their count.
fn check_fonts(listing: &str) -> usize {
    let lines: Vec<&str> = listing.lines().skip(2).filter(|l| !l.is_empty()).collect();
    for l in &lines {
        let cols: Vec<&str> = l.split_whitespace().collect();
        // name type(2 words: CID TrueType) encoding emb sub uni object-id(2)
        let n = cols.len();
        assert!(n >= 6, "{l}");
        assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{l}");
        assert!(
            cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
            "subset tag: {l}"
        );
    }
    lines.len()
}

/// Words of the text in reading order, ignoring layout spaces.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_stamp(rotate: u16) {
    let a = letter();
    let drawn = draw(&a, W, H, rotate, 5).expect("drawn");
    let pdf = page_with(&drawn, rotate, b"", &[], Vec::new());
    let Some(j) = judge(&pdf) else { return };

    assert_eq!(qr_texts(&j.image), [LINK], "rotate {rotate}");
    assert_eq!(check_fonts(&j.fonts), 2, "regular and bold:\n{}", j.fonts);
    let all = words(&j.text);
    let mut at = 0;
    for line in &a.lines {
        for w in line.text.split(' ') {
            let found = all[at..]
                .find(w)
                .unwrap_or_else(|| panic!("rotate {rotate}: {w:?} after byte {at} in {all:?}"));
            at += found + w.len();
        }
    }
    // The background is opaque: inside the box's corners white, outside the black page.
    for (x, y, dx, dy) in [
        (X, Y, 1.0, 1.0),
        (X + W, Y, -1.0, 1.0),
        (X, Y + H, 1.0, -1.0),
        (X + W, Y + H, -1.0, -1.0),
    ] {
        assert!(
            j.image.at(x + 3.0 * dx, y + 3.0 * dy) > 192,
            "rotate {rotate}: inside corner ({x}, {y})"
        );
        assert!(
            j.image.at(x - 3.0 * dx, y - 3.0 * dy) < 64,
            "rotate {rotate}: outside corner ({x}, {y})"
        );
    }
    // The QR code is on the reader's left: its middle row's left part holds dark modules,
    // and it is at least 20 mm wide.
    let dark_left = (0..100).any(|i| j.image.at(X + 15.0 + f64::from(i) * 0.5, Y + H / 2.0) < 64);
    assert!(dark_left, "rotate {rotate}: no QR modules on the left");
}

#[test]
fn an_upright_stamp_reads_back() {
    check_stamp(0);
}

#[test]
fn a_stamp_on_a_page_turned_90_degrees_reads_upright() {
    check_stamp(90);
}

#[test]
fn a_stamp_on_a_page_turned_180_degrees_reads_upright() {
    check_stamp(180);
}

#[test]
fn a_stamp_on_a_page_turned_270_degrees_reads_upright() {
    check_stamp(270);
}

/// A `width` x `height` RGBA PNG: a dark square with a transparent border.
fn png_rgba(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("header");
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                let inside = x > width / 4 && x < 3 * width / 4 && y > height / 4;
                data.extend_from_slice(&[20, 40, 120, if inside { 255 } else { 0 }]);
            }
        }
        w.write_image_data(&data).expect("data");
    }
    out
}

#[test]
fn a_png_logo_is_drawn_opaque_above_the_text() {
    let mut a = letter();
    a.image = Some(png_rgba(120, 60));
    let drawn = draw(&a, W, H, 0, 5).expect("drawn");
    let image = drawn
        .objects
        .iter()
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .find(|b| b.contains("/Subtype /Image"))
        .expect("an image XObject");
    assert!(image.contains("/ColorSpace /DeviceRGB"), "{image}");
    for (_, b) in &drawn.objects {
        let s = String::from_utf8_lossy(b);
        assert!(!s.contains("/SMask") && !s.contains("/Mask"), "{s}");
    }
    let pdf = page_with(&drawn, 0, b"", &[], Vec::new());
    let Some(j) = judge(&pdf) else { return };
    assert_eq!(qr_texts(&j.image), [LINK]);
    assert!(words(&j.text).contains("Kementerian Contoh"));
}

#[test]
fn a_jpeg_is_passed_through() {
    // A real baseline JPEG, made by poppler from the upright stamp.
    let drawn = draw(&letter(), W, H, 0, 5).expect("drawn");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("in.pdf");
    std::fs::write(&file, page_with(&drawn, 0, b"", &[], Vec::new())).expect("write");
    let root = dir.path().join("small");
    let out = Command::new("pdftoppm")
        .args(["-r", "20", "-jpeg", "-singlefile"])
        .arg(&file)
        .arg(&root)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if tools_required() => panic!("pdftoppm is required: {e}"),
        Err(e) => {
            eprintln!("note: skipping, pdftoppm could not run: {e}");
            return;
        }
    };
    assert!(out.status.success(), "pdftoppm -jpeg failed");
    let jpeg = std::fs::read(root.with_extension("jpg")).expect("the JPEG");
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "a JPEG");

    let mut a = letter();
    a.image = Some(jpeg.clone());
    let drawn = draw(&a, W, H, 0, 5).expect("drawn with a JPEG");
    let body = drawn
        .objects
        .iter()
        .map(|(_, b)| b)
        .find(|b| String::from_utf8_lossy(b).contains("/DCTDecode"))
        .expect("a DCT image");
    assert!(body.windows(jpeg.len()).any(|w| w == jpeg.as_slice()));
    let Some(j) = judge(&page_with(&drawn, 0, b"", &[], Vec::new())) else {
        return;
    };
    assert_eq!(qr_texts(&j.image), [LINK]);
}

#[test]
fn the_footer_is_an_embedded_searchable_note() {
    let drawn = draw(&letter(), W, H, 90, 5).expect("drawn");
    let first = 5 + drawn.objects.len() as u32;
    let note = "Dokumen ini telah ditandatangani secara elektronik. Untuk memastikan \
                keasliannya, pindai kode QR atau kunjungi http://127.0.0.1:8080";
    let f = footer(note, PAGE, "FSegel", first).expect("footer");
    let pdf = page_with(&drawn, 90, &f.content, &[("FSegel", f.font)], f.objects);
    let Some(j) = judge(&pdf) else { return };
    assert_eq!(check_fonts(&j.fonts), 3, "{}", j.fonts);
    assert!(
        words(&j.text).contains("Dokumen ini telah ditandatangani"),
        "{}",
        j.text
    );
    // The note sits near the bottom edge as the reader sees the page.
    let dark_low = (0..200).any(|i| j.image.at(PAGE / 2.0 - 50.0 + f64::from(i) * 0.5, 15.5) < 128);
    assert!(dark_low, "no footer text near the bottom");
}

#[test]
fn drawing_twice_gives_the_same_bytes() {
    let mut a = letter();
    a.image = Some(png_rgba(30, 20));
    for rotate in [0, 90] {
        assert_eq!(
            draw(&a, W, H, rotate, 5).expect("drawn"),
            draw(&a, W, H, rotate, 5).expect("drawn")
        );
    }
}

#[test]
fn a_character_outside_the_font_is_named() {
    let a = appearance(&[("Kepala Dinas 東京", false)], None);
    match draw(&a, W, H, 0, 5) {
        Err(StampError::MissingGlyph { ch, text, .. }) => {
            assert_eq!(ch, '東');
            assert_eq!(text, "Kepala Dinas 東京");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn text_that_cannot_fit_is_refused_naming_the_line() {
    let long = "Sekretaris Jenderal Kementerian Dalam Negeri Republik Indonesia ".repeat(15);
    let a = appearance(
        &[("Ditandatangani oleh:", false), (long.trim(), false)],
        None,
    );
    match draw(&a, W, H, 0, 5) {
        Err(StampError::TextDoesNotFit { line, min_size, .. }) => {
            assert_eq!(line, long.trim());
            assert!(min_size >= 5.0);
        }
        other => panic!("{other:?}"),
    }
    // The same text fits a larger box.
    assert!(draw(&a, 400.0, 300.0, 0, 5).is_ok());
}

#[test]
fn unusable_boxes_are_refused() {
    let a = letter();
    for (w, h, rotate) in [
        (60.0, 60.0, 0),
        (200.0, 50.0, 0),
        (f64::NAN, H, 0),
        (W, f64::NAN, 0),
        (f64::INFINITY, H, 0),
        (W, -110.0, 0),
        (3000.0, H, 0),
        (W, H, 45),
        (W, H, 360),
    ] {
        assert!(
            matches!(draw(&a, w, h, rotate, 5), Err(StampError::Geometry(_))),
            "{w} x {h} at {rotate}"
        );
    }
}

#[test]
fn hostile_images_are_refused_without_panicking() {
    let refused = |bytes: Vec<u8>, want: &str| {
        let mut a = letter();
        a.image = Some(bytes);
        match draw(&a, W, H, 0, 5) {
            Err(StampError::Image(why)) => assert!(why.contains(want), "{why}"),
            other => panic!("{want}: {other:?}"),
        }
    };
    let good = png_rgba(40, 20);
    // Truncated in the header or the image data (a missing IEND alone does no harm).
    assert!(good.len() > 120, "{} bytes", good.len());
    for cut in [8, 20, 33, 50, good.len() / 2] {
        refused(good[..cut].to_vec(), "PNG");
    }
    // Not an image; too large an input.
    refused(b"%PDF-1.7".to_vec(), "neither PNG nor JPEG");
    refused(vec![0x89; 2 * 1024 * 1024], "1 MiB");
    // A bomb: a tiny file claiming 60000 x 60000 pixels (IHDR patched, CRC fixed).
    let mut bomb = good.clone();
    bomb[16..20].copy_from_slice(&60000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    refused(bomb, "pixels");
    // A lying size within the limits: 2000 x 2000 declared, 40 x 20 pixels of data.
    let mut lying = good.clone();
    lying[16..20].copy_from_slice(&2000u32.to_be_bytes());
    lying[20..24].copy_from_slice(&2000u32.to_be_bytes());
    let crc = crc32(&lying[12..29]);
    lying[29..33].copy_from_slice(&crc.to_be_bytes());
    refused(lying, "PNG");
    // A CMYK JPEG header, and one whose frame claims no lines.
    refused(jpeg_header(4, 64, 32), "CMYK");
    refused(jpeg_header(3, 64, 0), "pixels");
    refused(jpeg_header(3, 64, 32)[..12].to_vec(), "truncated");
}

/// SOI, SOF0 with `components` and the size, EOI: enough for the header check.
fn jpeg_header(components: u8, width: u16, height: u16) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xC0];
    v.extend_from_slice(&(8 + 3 * u16::from(components)).to_be_bytes());
    v.push(8);
    v.extend_from_slice(&height.to_be_bytes());
    v.extend_from_slice(&width.to_be_bytes());
    v.push(components);
    for i in 0..components {
        v.extend_from_slice(&[i + 1, 0x11, 0]);
    }
    v.extend_from_slice(&[0xFF, 0xD9]);
    v
}

/// CRC-32 (PNG chunks: ISO 3309), bit by bit.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}
