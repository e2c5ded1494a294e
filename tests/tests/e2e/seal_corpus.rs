//! The judges' suite for visible seals: every letter of the corpus that holds the tag `#ttd#`
//! is sealed at its tag, and poppler judges the result independently of the engine.
//!
//! - The QR code, rendered by `pdftoppm` at 200 dpi and decoded by `rqrr`, carries
//!   `{verify_url}/d/{document_id}`, reads upright, is at least 20 mm wide, and lies with the
//!   tag (where `pdftotext -bbox` of the *unsigned* letter saw it) in one stamp-sized box.
//! - The tag is hidden: most of its glyphs' dark pixels are white (the stamp's opaque
//!   background) in the signed rendering.
//! - The stamp's text is searchable (`pdftotext` finds the name), and every font the seal adds
//!   is embedded with a ToUnicode map (`pdffonts`).
//! - The signature is valid for our verifier, pdfsig, qpdf and pyHanko.
//!
//! Rectangles on rotated pages and on a page with an offset crop box are measured from the
//! top-left corner of the page as seen; a seal signed into an existing empty field keeps its
//! rectangle; a missing tag is refused by name.

use std::path::{Path, PathBuf};

use pades::stamp::{compose, DocumentId, Placement, StampSettings, VisibleOptions, MIN_SIZE_PT};
use segel_tests::poppler::{self, BoxPt, QrFound, Raster};
use segel_tests::{corpus, pdfsig_check, pki, pyhanko_check, qpdf_check};

use super::verify;

const VERIFY_URL: &str = "http://127.0.0.1:8080";
const TAG: &str = "#ttd#";
const DPI: u32 = 200;
const WIDTH: f64 = 200.0;
const HEIGHT: f64 = 110.0;
/// Rounding of poppler's boxes and of the rendering's pixel grid, in points.
const SLACK: f64 = 1.5;

/// The corpus rows: (file, exercises, expect).
fn rows() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() >= 4).then(|| (c[0].to_string(), c[2].to_string(), c[3].to_string()))
        })
        .collect()
}

/// The dev agency's key and certificate chain.
pub(super) fn signer() -> (pades::RsaKeySigner, pades::SignerIdentity) {
    signer_of("dev-agency.key", "dev-agency.pem")
}

/// A signer from the development PKI's key and certificate files (chained to the agency CA).
pub(super) fn signer_of(key: &str, cert: &str) -> (pades::RsaKeySigner, pades::SignerIdentity) {
    let p = pki();
    let key = pades::pem::private_key(&std::fs::read(p.file(key)).expect("key")).expect("key PEM");
    let signer = pades::RsaKeySigner::from_der(&key, pades::SignatureAlgorithm::RsaPkcs1Sha256)
        .expect("RSA key");
    let mut chain =
        pades::pem::certificates(&std::fs::read(p.file(cert)).expect("cert")).expect("cert PEM");
    chain.truncate(1);
    chain.extend(
        pades::pem::certificates(&std::fs::read(p.file("dev-agency-chain.pem")).expect("chain"))
            .expect("chain PEM"),
    );
    (signer, pades::SignerIdentity::new(chain).expect("identity"))
}

/// Seal `input` with `placement` (into the field `field`, if given) and write `out`; nothing
/// is written when the engine refuses. Returns the document id the QR code must carry.
fn seal(
    input: &Path,
    out: &Path,
    placement: Placement,
    field: Option<&str>,
) -> Result<DocumentId, pades::Error> {
    let settings = StampSettings::new("Kementerian Contoh", VERIFY_URL).expect("settings");
    let visible = VisibleOptions {
        placement,
        fields: [
            ("nama", "Budi Santoso"),
            ("jabatan", "Sekretaris Jenderal"),
            ("nip", "198001012005011001"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        footer: false,
        image: None,
    };
    let id = DocumentId::generate();
    let time = pades::UnixTime::now();
    let mut request = pades::SignatureRequest::new(time);
    request.field = field.map(str::to_string);
    request.reason = Some("Penetapan surat".into());
    request.appearance = Some(compose(&settings, &visible, &id, time).expect("compose"));
    let pdf = std::fs::read(input).expect("input");
    let (signer, identity) = signer();
    let signed = pades::sign(&pdf, &request, &signer, &identity)?;
    std::fs::write(out, signed.parts().concat()).expect("write output");
    Ok(id)
}

/// The one QR code on `raster`, checked: it carries the link of `id`, is at least 20 mm wide
/// with its quiet zone and, when `upright`, reads upright on the page as seen.
fn the_qr(name: &str, raster: &Raster, id: &DocumentId, upright: bool) -> QrFound {
    let codes = poppler::qr_codes(raster).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert_eq!(codes.len(), 1, "{name}: QR codes on the page: {codes:?}");
    let qr = codes.into_iter().next().expect("one code");
    assert_eq!(qr.text, format!("{VERIFY_URL}/d/{id}"), "{name}: QR text");
    assert!(
        !upright || qr.upright(),
        "{name}: the QR code does not read upright: {qr:?}"
    );
    let width = qr.width_with_quiet_zone_pt(raster);
    assert!(
        width >= MIN_SIZE_PT - SLACK,
        "{name}: QR code {width:.1} pt wide with its quiet zone, less than 20 mm"
    );
    qr
}

/// Every external judge, and the output keeps the input as its prefix.
pub(super) fn judged(name: &str, input: &Path, out: &Path) {
    let original = std::fs::read(input).expect("input");
    let output = std::fs::read(out).expect("output");
    assert!(
        output.starts_with(&original),
        "{name}: not an incremental update"
    );
    let report = verify(out);
    assert!(report.all_passed(), "{name}: our verifier: {report:#?}");
    let n = report.signatures.len();
    pdfsig_check(out, n).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    qpdf_check(out).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    pyhanko_check(out, n).unwrap_or_else(|e| panic!("{name}: {e:#}"));
}

/// Every font of `signed` that `unsigned` does not have is embedded and has a ToUnicode map;
/// there is at least one (the stamp's text).
fn new_fonts_are_embedded(name: &str, unsigned: &Path, signed: &Path) {
    let (Some(before), Some(after)) = (
        poppler::fonts(unsigned).expect("pdffonts"),
        poppler::fonts(signed).expect("pdffonts"),
    ) else {
        return;
    };
    let added: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(
        !added.is_empty(),
        "{name}: the seal added no font: {after:?}"
    );
    for f in added {
        assert!(
            f.embedded && f.unicode,
            "{name}: the seal's font {f:?} is not embedded with a ToUnicode map"
        );
    }
}

/// On a tagged input (a structure tree), the seal's widget joins the tree in a `Form`
/// element (PDF/UA-1 7.18.4) and every element of the letter stays, in order.
fn joins_the_structure_tree(name: &str, unsigned: &Path, signed: &Path) {
    let (Some(before), Some(after)) = (
        poppler::structure(unsigned).expect("pdfinfo"),
        poppler::structure(signed).expect("pdfinfo"),
    ) else {
        return;
    };
    if before.is_empty() {
        assert!(
            after.is_empty(),
            "{name}: an untagged letter got a structure tree"
        );
        return;
    }
    let forms = |t: &[String]| {
        t.iter()
            .filter(|l| l.trim_start().starts_with("Form"))
            .count()
    };
    assert_eq!(
        forms(&after),
        forms(&before) + 1,
        "{name}: the seal is not in a Form element of the structure tree:\n{}",
        after.join("\n")
    );
    let mut rest = after.iter();
    for line in &before {
        assert!(
            rest.any(|l| l.trim() == line.trim()),
            "{name}: the letter's structure element {line:?} was lost or reordered"
        );
    }
}

/// The first page whose words include the tag, and the tag's box there.
fn find_tag(pages: &[poppler::PageWords]) -> Option<(u32, BoxPt)> {
    pages
        .iter()
        .enumerate()
        .find_map(|(i, p)| p.find(TAG).map(|b| (i as u32 + 1, b)))
}

/// Of the pixels that are dark in the `unsigned` rendering of `tag`, how many are white in
/// the `signed` one: (white, dark).
fn whitened(tag: &BoxPt, unsigned: &Raster, signed: &Raster) -> (usize, usize) {
    let (mut dark, mut white) = (0usize, 0usize);
    for (x, y) in unsigned.pixels_in(tag) {
        if unsigned.at(x, y).is_some_and(|v| v < 128) {
            dark += 1;
            if signed.at(x, y).is_some_and(|v| v > 200) {
                white += 1;
            }
        }
    }
    (white, dark)
}

/// The tag's glyphs are covered: of the pixels that are dark in the unsigned rendering of its
/// box, at least a fifth are white in the signed one (a transparent stamp leaves none white;
/// the QR code's modules or the stamp's text leave the rest dark).
fn tag_is_hidden(name: &str, tag: &BoxPt, unsigned: &Raster, signed: &Raster) {
    assert_eq!(
        (unsigned.width, unsigned.height),
        (signed.width, signed.height),
        "{name}: the page changed size"
    );
    let (white, dark) = whitened(tag, unsigned, signed);
    assert!(
        dark > 20,
        "{name}: the tag's box {tag:?} shows no glyphs before signing"
    );
    assert!(
        white * 5 >= dark,
        "{name}: the tag still shows through the seal ({white} of {dark} glyph pixels white)"
    );
}

/// The letters with the tag, from the MANIFEST (every row whose description names it).
fn tagged_letters() -> Vec<String> {
    let tagged: Vec<String> = rows()
        .into_iter()
        .filter(|(_, what, expect)| expect == "sign" && what.contains(TAG))
        .map(|(f, _, _)| f)
        .collect();
    assert!(
        tagged.len() >= 14,
        "the corpus lost letters with the tag: {tagged:?}"
    );
    tagged
}

/// The oracle agrees with itself on every letter: where `pdftotext -bbox` puts the tag, the
/// `pdftoppm` rendering of the page as seen shows glyphs, and the box lies on the page.
#[test]
fn the_oracle_sees_each_letters_tag_where_it_is_drawn() {
    let work = tempfile::tempdir().expect("tempdir");
    for name in tagged_letters() {
        let input = corpus().join(&name);
        let Some(words) = poppler::word_boxes(&input).expect("pdftotext") else {
            return;
        };
        let (page, tag) =
            find_tag(&words).unwrap_or_else(|| panic!("{name}: pdftotext sees no {TAG}"));
        let Some(r) = poppler::render(&input, page, DPI, false, work.path()).expect("render")
        else {
            return;
        };
        let (w, h) = (r.width as f64 / r.scale(), r.height as f64 / r.scale());
        let seen = BoxPt {
            x_min: 0.0,
            y_min: 0.0,
            x_max: w,
            y_max: h,
        };
        assert!(
            seen.contains(&tag, 0.0),
            "{name}: tag {tag:?} off the page {w} x {h}"
        );
        let (_, dark) = whitened(&tag, &r, &r);
        assert!(
            dark > 20,
            "{name}: no glyphs where pdftotext puts the tag {tag:?}"
        );
    }
}

#[test]
fn every_tagged_letter_is_sealed_over_its_tag_and_judged() {
    let work = tempfile::tempdir().expect("tempdir");
    for name in &tagged_letters() {
        let input = corpus().join(name);
        let Some(words) = poppler::word_boxes(&input).expect("pdftotext") else {
            return;
        };
        let (page, tag) =
            find_tag(&words).unwrap_or_else(|| panic!("{name}: pdftotext sees no {TAG}"));
        let out = work.path().join(format!("sealed-{name}"));
        let id = seal(
            &input,
            &out,
            Placement::Tag {
                text: TAG.into(),
                width: WIDTH,
                height: HEIGHT,
            },
            None,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));

        let Some(signed) = poppler::render(&out, page, DPI, false, work.path()).expect("render")
        else {
            return;
        };
        let unsigned = poppler::render(&input, page, DPI, false, work.path())
            .expect("render")
            .expect("pdftoppm");
        // A letter turned sideways by /Rotate is read by turning it: there the stamp may follow
        // either the reader or the letter's text; everywhere else it reads upright.
        let qr = the_qr(name, &signed, &id, !name.starts_with("surat-rotate"));
        let qbox = qr.box_pt(&signed);
        let stamp = qbox.union(&tag);
        assert!(
            stamp.width() <= WIDTH + SLACK && stamp.height() <= HEIGHT + SLACK,
            "{name}: the QR code {qbox:?} and the tag {tag:?} on page {page} do not fit in one \
             {WIDTH} x {HEIGHT} stamp"
        );
        tag_is_hidden(name, &tag, &unsigned, &signed);

        // The stamp's words are text, on the tag's page, in the stamp's box.
        let text = poppler::page_text(&out, page)
            .expect("pdftotext")
            .expect("pdftotext");
        assert!(
            text.contains("Budi Santoso"),
            "{name}: the stamp's text is not searchable on page {page}:\n{text}"
        );
        let signed_words = poppler::word_boxes(&out)
            .expect("pdftotext")
            .expect("pdftotext");
        let seen = &signed_words[page as usize - 1];
        for w in ["Budi", "Santoso", "198001012005011001"] {
            let b = seen
                .find(w)
                .unwrap_or_else(|| panic!("{name}: {w:?} is not on page {page} after sealing"));
            let all = stamp.union(&b);
            // On a letter turned sideways the stamp lies along its lines, turned with it.
            let (w, h) = if name.starts_with("surat-rotate") {
                (HEIGHT, WIDTH)
            } else {
                (WIDTH, HEIGHT)
            };
            assert!(
                all.width() <= w + SLACK && all.height() <= h + SLACK,
                "{name}: {w:?} at {b:?} lies outside the stamp holding {stamp:?}"
            );
        }
        new_fonts_are_embedded(name, &input, &out);
        joins_the_structure_tree(name, &input, &out);
        judged(name, &input, &out);
    }
}

/// Rectangles measured from the top-left corner of the page as seen: on pages turned by
/// `/Rotate` 90 and 270, a landscape page stored portrait, a crop box offset from the media
/// box, and an ordinary page. The QR code must lie in the rectangle and read upright.
#[test]
fn rectangles_are_measured_on_the_page_as_seen() {
    let work = tempfile::tempdir().expect("tempdir");
    // (file, page, visible width, visible height)
    let cases: [(&str, u32, f64, f64); 5] = [
        ("surat-rekomendasi.pdf", 2, 595.28, 841.89),
        ("surat-rotate90.pdf", 2, 841.89, 595.28),
        ("surat-rotate270.pdf", 2, 841.89, 595.28),
        ("landscape-rotate90.pdf", 1, 841.89, 595.28),
        ("surat-cropbox.pdf", 1, 640.0, 910.0),
    ];
    for (name, page, w, h) in cases {
        let input = corpus().join(name);
        // Near the top-left corner and near the bottom-right corner.
        for (i, (x, y)) in [(36.0, 48.0), (w - WIDTH - 30.0, h - HEIGHT - 40.0)]
            .into_iter()
            .enumerate()
        {
            let label = format!("{name} rect {i} at {x:.0},{y:.0}");
            let out = work.path().join(format!("rect{i}-{name}"));
            let id = seal(
                &input,
                &out,
                Placement::Rect {
                    page,
                    x,
                    y,
                    width: WIDTH,
                    height: HEIGHT,
                },
                None,
            )
            .unwrap_or_else(|e| panic!("{label}: {e}"));
            let Some(r) = poppler::render(&out, page, DPI, false, work.path()).expect("render")
            else {
                return;
            };
            // The oracle's own view: the rendering is the page as seen.
            let (rw, rh) = (r.width as f64 / r.scale(), r.height as f64 / r.scale());
            assert!(
                (rw - w).abs() < 2.0 && (rh - h).abs() < 2.0,
                "{label}: pdftoppm shows {rw:.1} x {rh:.1}, expected {w} x {h}"
            );
            let qr = the_qr(&label, &r, &id, true);
            let qbox = qr.box_pt(&r);
            let rect = BoxPt {
                x_min: x,
                y_min: y,
                x_max: x + WIDTH,
                y_max: y + HEIGHT,
            };
            assert!(
                rect.contains(&qbox, SLACK),
                "{label}: the QR code {qbox:?} is not in the asked rectangle {rect:?}"
            );
            if i == 0 {
                judged(&label, &input, &out);
            }
        }
        // A rectangle that leaves the page as seen is refused, and nothing is written.
        let out = work.path().join(format!("off-{name}"));
        let e = seal(
            &input,
            &out,
            Placement::Rect {
                page,
                x: w - WIDTH / 2.0,
                y: 10.0,
                width: WIDTH,
                height: HEIGHT,
            },
            None,
        )
        .expect_err("off the page");
        assert!(
            e.to_string().contains("does not fit on page"),
            "{name}: {e}"
        );
        assert!(!out.exists());
    }
}

/// The letter's empty field `ttd_pejabat` (its /Rect in the MANIFEST row) is signed into: the
/// seal is drawn in that rectangle.
#[test]
fn a_seal_signed_into_the_empty_field_keeps_its_rectangle() {
    let name = "surat-field-ttd.pdf";
    let (_, what, _) = rows()
        .into_iter()
        .find(|(f, _, _)| f == name)
        .expect("the field letter is in the corpus");
    // "/Rect [285, 390, 485, 500]": PDF user space of page 2 (595.28 x 841.89, no rotation).
    let nums: Vec<f64> = what
        .split_once("/Rect [")
        .and_then(|(_, r)| r.split_once(']'))
        .map(|(r, _)| r.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_default();
    let [x1, y1, x2, y2] = nums[..] else {
        panic!("no /Rect in {what:?}")
    };
    let page_height = 841.89;
    let field = BoxPt {
        x_min: x1,
        y_min: page_height - y2,
        x_max: x2,
        y_max: page_height - y1,
    };
    let work = tempfile::tempdir().expect("tempdir");
    let input = corpus().join(name);
    let out = work.path().join("sealed-field.pdf");
    let id = seal(&input, &out, Placement::Field, Some("ttd_pejabat"))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let report = verify(&out);
    assert_eq!(report.signatures.len(), 1, "{report:#?}");
    assert_eq!(report.signatures[0].field, "ttd_pejabat");
    let Some(r) = poppler::render(&out, 2, DPI, false, work.path()).expect("render") else {
        return;
    };
    let qr = the_qr(name, &r, &id, true);
    let qbox = qr.box_pt(&r);
    assert!(
        field.contains(&qbox, SLACK),
        "{name}: the QR code {qbox:?} is not in the field's rectangle {field:?}"
    );
    new_fonts_are_embedded(name, &input, &out);
    judged(name, &input, &out);
}

/// A tag that the document does not hold is refused with its name, and nothing is written.
#[test]
fn a_missing_tag_is_refused_by_name() {
    let work = tempfile::tempdir().expect("tempdir");
    for name in [
        "surat-rekomendasi.pdf",
        "reportlab-1page.pdf",
        "tricky-differences.pdf",
    ] {
        let out: PathBuf = work.path().join(format!("missing-{name}"));
        let e = seal(
            &corpus().join(name),
            &out,
            Placement::Tag {
                text: "#paraf-kabag#".into(),
                width: WIDTH,
                height: HEIGHT,
            },
            None,
        )
        .expect_err("no such tag");
        assert!(
            matches!(
                &e,
                pades::Error::Stamp(pades::stamp::StampError::TagNotFound(t)) if t == "#paraf-kabag#"
            ),
            "{name}: {e:?}"
        );
        assert!(e.to_string().contains("#paraf-kabag#"), "{name}: {e}");
        assert!(!out.exists(), "{name}: an output was written");
    }
}

/// A one-page PDF of `media` (width, height) with `/Rotate rotate` whose content is `content`.
pub(super) fn page_pdf(media: (f64, f64), rotate: u32, content: &[u8]) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!(
            "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 {} {}] >>",
            media.0, media.1
        ),
        format!(
            "<< /Type /Page /Parent 2 0 R /Rotate {rotate} /Contents 4 0 R /Resources << >> >>"
        ),
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    offsets.push(pdf.len());
    pdf.extend_from_slice(format!("4 0 obj\n<< /Length {} >>\nstream\n", content.len()).as_bytes());
    pdf.extend_from_slice(content);
    pdf.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = pdf.len();
    pdf.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for o in offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    pdf
}

/// The oracle itself: a QR code drawn at a known place is found there, on the page as seen, and
/// its orientation is told apart (upright when drawn for the reader of a turned page, sideways
/// when drawn in the stored page's frame).
#[test]
fn the_oracle_sees_where_a_qr_code_is_and_which_way_it_reads() {
    let work = tempfile::tempdir().expect("tempdir");
    let link = "http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv";
    let code = pades::stamp::QrCode::new(link).expect("QR");
    let draw = |x: f64, y: f64| code.content(x, y, 100.0).expect("drawn");
    // (label, rotate, content, box as seen, upright)
    let mut turned = b"q 0 1 -1 0 595 0 cm\n".to_vec();
    turned.extend(draw(100.0, 595.0 - 50.0 - 100.0));
    turned.extend_from_slice(b"\nQ");
    let cases = [
        ("plain", 0, draw(100.0, 600.0), (100.0, 842.0 - 700.0), true),
        ("turned for the reader", 90, turned, (100.0, 50.0), true),
        // Stored (100, 445)-(200, 545) seen on a page turned clockwise: x = y, y = x.
        (
            "stored frame",
            90,
            draw(100.0, 445.0),
            (445.0, 100.0),
            false,
        ),
    ];
    for (label, rotate, content, (x, y), upright) in cases {
        let file = work.path().join(format!("oracle-{rotate}-{upright}.pdf"));
        std::fs::write(&file, page_pdf((595.0, 842.0), rotate, &content)).expect("write");
        let Some(r) = poppler::render(&file, 1, DPI, false, work.path()).expect("render") else {
            return;
        };
        let codes = poppler::qr_codes(&r).expect("decodes");
        assert_eq!(codes.len(), 1, "{label}");
        assert_eq!(codes[0].text, link, "{label}");
        assert_eq!(codes[0].upright(), upright, "{label}: {:?}", codes[0]);
        let want = BoxPt {
            x_min: x,
            y_min: y,
            x_max: x + 100.0,
            y_max: y + 100.0,
        };
        let got = codes[0].box_pt(&r);
        assert!(
            want.contains(&got, SLACK),
            "{label}: {got:?} not in {want:?}"
        );
        let quiet = codes[0].width_with_quiet_zone_pt(&r);
        assert!(
            (quiet - 100.0).abs() < 5.0,
            "{label}: {quiet:.1} pt with the quiet zone"
        );
        // A transparent stamp over a glyph-like mark would not hide it: the check sees that.
        let mark = BoxPt {
            x_min: got.x_min,
            y_min: got.y_min,
            x_max: got.x_min + 20.0,
            y_max: got.y_min + 20.0,
        };
        let white = Raster {
            pixels: vec![255; r.pixels.len()],
            ..r.clone()
        };
        let (kept, dark) = whitened(&mark, &r, &r);
        assert!(dark > 20 && kept == 0, "{label}: {kept} of {dark}");
        tag_is_hidden(label, &mark, &r, &white);
    }
}
