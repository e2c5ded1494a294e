//! The QR code on a visible seal, drawn as PDF vector operators.
//!
//! The QR code printed on a sealed letter carries its verification link,
//! `{verify_url}/d/{document_id}`: a reader scans it with a phone and lands on the page that
//! shows the signature's log entry. It uses error correction level M, so a slightly soiled or
//! creased print still reads.
//!
//! A printed QR code must be at least 20 mm wide to be read reliably by a phone, quiet zone
//! included: [`MIN_SIZE_PT`] (≈ 56.7 pt). [`QrCode::content`] refuses a smaller box.

mod mask;

use qrcode::canvas::Canvas;
use qrcode::EcLevel;

/// Width of the quiet zone (white margin) on every side, in modules, as the QR standard asks.
const QUIET: usize = 4;

/// The smallest box [`QrCode::content`] draws into: 20 mm in PDF points (72 pt per inch).
pub const MIN_SIZE_PT: f64 = 20.0 / 25.4 * 72.0;

/// The smallest module (one dark or light square) [`QrCode::content`] draws: 0.3 mm, about
/// what an office printer and a phone camera resolve reliably. A long link needs more modules,
/// so a box that holds it at 20 mm may still be too small for it.
pub const MIN_MODULE_PT: f64 = 0.3 / 25.4 * 72.0;

/// Why a QR code could not be made or drawn.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QrError {
    /// The text is longer than the largest QR code holds at error correction level M.
    #[error(
        "text of {len} bytes does not fit in a QR code at error correction level M \
         (at most 2331 bytes of arbitrary text)"
    )]
    TooLong {
        /// Length of the refused text in bytes (UTF-8).
        len: usize,
    },
    /// The box is smaller than [`MIN_SIZE_PT`] (or not a finite number).
    #[error("a QR code of {size} pt is too small to be read from paper; it needs at least {MIN_SIZE_PT:.1} pt (20 mm)")]
    TooSmall {
        /// The refused size in points.
        size: f64,
    },
    /// The link needs so many modules that each would be smaller than [`MIN_MODULE_PT`].
    #[error("the link needs a QR code of {modules} modules (with its quiet zone), which at {size:.1} pt makes each {module_mm:.2} mm, under the 0.3 mm a print and a phone resolve; make the stamp larger or the verification URL shorter")]
    ModulesTooSmall {
        /// Modules across, quiet zone included.
        modules: usize,
        /// The box in points.
        size: f64,
        /// One module in millimetres.
        module_mm: f64,
    },
    /// A coordinate of the box is NaN or infinite.
    #[error("the QR code's position ({x}, {y}) is not a finite point")]
    NotFinite {
        /// Left edge.
        x: f64,
        /// Bottom edge.
        y: f64,
    },
}

/// A QR code (error correction level M) ready to be drawn into a PDF content stream.
#[derive(Debug, Clone)]
pub struct QrCode {
    /// Width and height in modules, without the quiet zone.
    width: usize,
    /// Row-major modules, top row first; `true` is dark.
    dark: Vec<bool>,
}

impl QrCode {
    /// Encodes `text` at error correction level M, in the smallest QR version that holds it.
    ///
    /// Refuses text that no QR version holds with [`QrError::TooLong`], naming its length.
    pub fn new(text: &str) -> Result<QrCode, QrError> {
        // For arbitrary bytes at a fixed level the encoder's only failure is "data too long".
        let too_long = |_| QrError::TooLong { len: text.len() };
        let bits = qrcode::bits::encode_auto(text.as_bytes(), EcLevel::M).map_err(too_long)?;
        let version = bits.version();
        let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)
            .map_err(too_long)?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&data, &ec);
        let width = usize::from(version.width().unsigned_abs());
        let dark = mask::best(&canvas, width);
        Ok(QrCode { width, dark })
    }

    /// Width (and height) of the code in modules, without the quiet zone.
    pub fn modules(&self) -> usize {
        self.width
    }

    /// PDF content-stream operators that draw the code into the square `(x, y, size, size)` in
    /// user space (origin bottom-left, y up).
    ///
    /// The result is wrapped in `q … Q`, so it leaves the graphics state as it found it. It first
    /// paints the whole square opaque white (`1 g`), so nothing underneath shows through, then
    /// the dark modules in black (`0 g`). The square includes a quiet zone of 4 modules on every
    /// side, so one module is `size / (modules + 8)` wide (rounded to a thousandth of a point).
    /// The modules are drawn in a space of one unit per module (a `cm` scales and moves it
    /// onto the code's square, bottom row 0), so every rectangle has whole-number edges and
    /// neighbouring rectangles meet without gaps; horizontal runs of dark modules are merged
    /// into one rectangle (`col row length 1 re`). Numbers have at most 3 decimals and no
    /// exponent.
    ///
    /// Refuses a `size` below [`MIN_SIZE_PT`] ([`QrError::TooSmall`]), one whose modules would
    /// be under [`MIN_MODULE_PT`] ([`QrError::ModulesTooSmall`]) and a non-finite `x` or `y`
    /// ([`QrError::NotFinite`]).
    pub fn content(&self, x: f64, y: f64, size: f64) -> Result<Vec<u8>, QrError> {
        // NaN is not finite, so it is refused here too.
        if !size.is_finite() || size < MIN_SIZE_PT {
            return Err(QrError::TooSmall { size });
        }
        if !x.is_finite() || !y.is_finite() {
            return Err(QrError::NotFinite { x, y });
        }
        let across = self.width + 2 * QUIET;
        if size / (across as f64) < MIN_MODULE_PT {
            return Err(QrError::ModulesTooSmall {
                modules: across,
                size,
                module_mm: size / across as f64 / 72.0 * 25.4,
            });
        }
        let module = milli(size / across as f64);
        // The code's bottom-left corner, inside the quiet zone.
        let quiet = module.saturating_mul(QUIET as i64);
        let (x0, y0) = (
            milli(x).saturating_add(quiet),
            milli(y).saturating_add(quiet),
        );

        // About four rectangles of some 12 bytes per row.
        let mut out = Vec::with_capacity(96 + self.width * 48);
        let s = milli(size);
        out.extend_from_slice(b"q\n1 g\n");
        numbers(&mut out, &[milli(x), milli(y), s, s]);
        out.extend_from_slice(b"re f\n0 g\n");
        numbers(&mut out, &[module, 0, 0, module, x0, y0]);
        out.extend_from_slice(b"cm\n");
        let mut any = false;
        for (r, cells) in self.dark.chunks_exact(self.width.max(1)).enumerate() {
            // Rows are stored top first; in the module space row 0 is the bottom one.
            let up = self.width.saturating_sub(r + 1);
            let mut c = 0;
            while c < cells.len() {
                if !cells[c] {
                    c += 1;
                    continue;
                }
                let start = c;
                while c < cells.len() && cells[c] {
                    c += 1;
                }
                units(&mut out, &[start, up, c - start, 1]);
                out.extend_from_slice(b"re\n");
                any = true;
            }
        }
        if any {
            out.extend_from_slice(b"f\n");
        }
        out.extend_from_slice(b"Q\n");
        Ok(out)
    }
}

/// A length in points as whole thousandths of a point (rounded; saturates far outside any page).
fn milli(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// Appends each of `values` (thousandths of a point) as a PDF number followed by a space.
fn numbers(out: &mut Vec<u8>, values: &[i64]) {
    for &m in values {
        push_num(out, m);
        out.push(b' ');
    }
}

/// Appends each of `values` (whole module counts) as a PDF integer followed by a space.
fn units(out: &mut Vec<u8>, values: &[usize]) {
    for &v in values {
        push_num(
            out,
            i64::try_from(v).unwrap_or(i64::MAX).saturating_mul(1000),
        );
        out.push(b' ');
    }
}

/// Appends thousandths of a point as a PDF number: at most 3 decimals, no trailing zeros, no
/// exponent, no `-0`.
fn push_num(out: &mut Vec<u8>, m: i64) {
    if m < 0 {
        out.push(b'-');
    }
    let (whole, frac) = (m.unsigned_abs() / 1000, m.unsigned_abs() % 1000);
    // The digits of `whole`, last first (a u64 has at most 20).
    let mut digits = [0u8; 20];
    let mut n = whole;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev());
    if frac != 0 {
        let frac = [frac / 100, frac / 10 % 10, frac % 10].map(|d| b'0' + d as u8);
        let used = 3 - frac.iter().rev().take_while(|&&d| d == b'0').count();
        out.push(b'.');
        out.extend_from_slice(&frac[..used]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(code: &QrCode, x: f64, y: f64, size: f64) -> String {
        String::from_utf8(code.content(x, y, size).expect("drawn")).expect("ASCII")
    }

    #[test]
    fn runs_of_dark_modules_become_one_rectangle() {
        // 3 × 3 pattern: "##." / ".#." / "#.#"; with the quiet zone 11 modules of 10 pt.
        let code = QrCode {
            width: 3,
            dark: vec![true, true, false, false, true, false, true, false, true],
        };
        let expected = "q\n1 g\n0 0 110 110 re f\n0 g\n\
                        10 0 0 10 40 40 cm\n\
                        0 2 2 1 re\n\
                        1 1 1 1 re\n\
                        0 0 1 1 re\n2 0 1 1 re\n\
                        f\nQ\n";
        assert_eq!(text(&code, 0.0, 0.0, 110.0), expected);
    }

    fn num(m: i64) -> String {
        let mut out = Vec::new();
        push_num(&mut out, m);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn numbers_have_at_most_three_decimals_and_no_exponent() {
        let n = |v: f64| num(milli(v));
        assert_eq!(n(2.0), "2");
        assert_eq!(n(1.5), "1.5");
        assert_eq!(n(0.1234), "0.123");
        assert_eq!(n(0.0005), "0.001");
        assert_eq!(n(-12.05), "-12.05");
        assert_eq!(n(-0.0004), "0");
        assert_eq!(n(1e-9), "0");
        assert_eq!(n(1e12), "1000000000000");
        assert_eq!(n(0.01), "0.01");
        assert_eq!(n(-7.0), "-7");
        assert_eq!(num(i64::MIN), "-9223372036854775.808");
        assert_eq!(num(i64::MAX), "9223372036854775.807");
    }

    #[test]
    fn every_number_in_a_real_code_is_plain() {
        let code = QrCode::new("http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv").expect("fits");
        assert!(code.modules() >= 21);
        let s = text(&code, 10.0 / 3.0, 50.1, 200.0 / 3.0);
        for word in s.split_whitespace() {
            if let Some(frac) = word.split_once('.').map(|(_, f)| f) {
                assert!(frac.len() <= 3, "{word}");
            }
            assert!(
                !word.contains(['e', 'E']) || ["re", "f", "g"].contains(&word),
                "{word}"
            );
        }
    }

    /// Texts of several versions: a seal's link, digits, longer text, the largest code.
    fn samples() -> Vec<String> {
        vec![
            "http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv".into(),
            "https://segel.example.go.id/d/Zx3_q9LmT0a-Bc7dEf1GhK".into(),
            "1234567890".into(),
            "HELLO WORLD".into(),
            "Sekretaris Jenderal Kementerian Dalam Negeri, ".repeat(8),
            "x".repeat(2331),
        ]
    }

    #[test]
    fn modules_too_small_to_print_are_refused() {
        // A short link: 33 modules with the quiet zone fit 20 mm at 0.6 mm each.
        let short = QrCode::new("http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv").expect("fits");
        assert!(short.content(0.0, 0.0, MIN_SIZE_PT).is_ok());
        // A very long link needs a version 13 code: too fine at 20 mm, fine larger.
        let long = QrCode::new(&format!("https://{}/d/x", "a".repeat(300))).expect("fits");
        let e = long.content(0.0, 0.0, MIN_SIZE_PT).expect_err("too fine");
        assert!(matches!(e, QrError::ModulesTooSmall { .. }), "{e}");
        assert!(e.to_string().contains("verification URL shorter"), "{e}");
        let across = (long.modules() + 2 * QUIET) as f64;
        assert!(long.content(0.0, 0.0, across * MIN_MODULE_PT).is_ok());
    }

    #[test]
    fn the_mask_chosen_is_the_one_qrcode_chooses() {
        for t in samples() {
            let ours = QrCode::new(&t).expect("fits");
            let theirs = qrcode::QrCode::with_error_correction_level(&t, EcLevel::M).expect("fits");
            assert_eq!(ours.width, theirs.width(), "{t}");
            let dark: Vec<bool> = theirs
                .to_colors()
                .into_iter()
                .map(|c| c == qrcode::Color::Dark)
                .collect();
            assert_eq!(ours.dark, dark, "{t}");
        }
    }

    #[test]
    fn the_code_decodes_to_its_text() {
        for t in samples() {
            let code = QrCode::new(&t).expect("fits");
            // Three pixels a module, with the quiet zone.
            let side = (code.width + 2 * QUIET) * 3;
            let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
                let (c, r) = ((x / 3).wrapping_sub(QUIET), (y / 3).wrapping_sub(QUIET));
                let dark = c < code.width && r < code.width && code.dark[r * code.width + c];
                if dark {
                    0
                } else {
                    255
                }
            });
            let grids = img.detect_grids();
            assert_eq!(grids.len(), 1, "{t}");
            let (_, content) = grids[0].decode().expect("decodes");
            assert_eq!(content, t);
        }
    }

    #[test]
    fn text_that_does_not_fit_is_refused_with_its_length() {
        let long = "x".repeat(3000);
        let err = QrCode::new(&long).expect_err("too long");
        assert_eq!(err, QrError::TooLong { len: 3000 });
        assert!(err.to_string().contains("3000 bytes"), "{err}");
    }

    #[test]
    fn a_box_smaller_than_20_mm_is_refused() {
        let code = QrCode::new("hello").expect("fits");
        assert!((MIN_SIZE_PT - 56.693).abs() < 0.001);
        assert_eq!(
            code.content(0.0, 0.0, 50.0),
            Err(QrError::TooSmall { size: 50.0 })
        );
        assert!(code.content(0.0, 0.0, f64::NAN).is_err());
        assert!(code.content(0.0, 0.0, f64::INFINITY).is_err());
        assert!(matches!(
            code.content(f64::NAN, 0.0, 60.0),
            Err(QrError::NotFinite { .. })
        ));
        assert!(code.content(0.0, 0.0, MIN_SIZE_PT).is_ok());
    }
}
