//! Text layout for the stamp and the footer: lines wrapped at spaces with the font's real
//! advance widths, and the largest font size (from [`MAX_SIZE`] down to [`MIN_SIZE`] in
//! quarter points) at which every line fits the box.
//!
//! A word wider than the line is broken between characters. Runs of spaces collapse to one
//! (what a reader expects of a name typed with a double space); a line of only spaces stays as
//! an empty line.

use super::font::{FontFace, Weight};
use super::{StampError, StampLine};

/// Largest stamp font size in points.
pub(crate) const MAX_SIZE: f64 = 9.0;
/// Smallest stamp font size in points: below this a printed stamp is hard to read.
pub(crate) const MIN_SIZE: f64 = 5.0;
/// Size steps between [`MAX_SIZE`] and [`MIN_SIZE`].
const STEP: f64 = 0.25;
/// Baseline-to-baseline distance as a multiple of the font size.
pub(crate) const LEADING: f64 = 1.2;
/// How far below the largest fitting size [`fit`] goes to break fewer lines.
const SHRINK_FOR_WHOLE_LINES: f64 = 0.8;
/// Most bytes in one line of stamp text (a template line of 400 bytes with its values).
pub(crate) const MAX_TEXT_LEN: usize = 2000;
/// Most lines of stamp text.
pub(crate) const MAX_TEXT_LINES: usize = 32;

/// Text laid out in a box.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Laid {
    /// Font size in points.
    pub(crate) size: f64,
    /// Rows top to bottom.
    pub(crate) rows: Vec<Row>,
    /// How many lines were broken into more than one row.
    broken: usize,
}

/// One drawn row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The text.
    pub(crate) text: String,
    /// Drawn in the bold face.
    pub(crate) bold: bool,
}

impl Laid {
    /// Baseline-to-baseline distance in points.
    pub(crate) fn leading(&self) -> f64 {
        self.size * LEADING
    }

    /// Height of the rows in points.
    pub(crate) fn height(&self) -> f64 {
        self.rows.len() as f64 * self.leading()
    }
}

/// Checks the lines: at most [`MAX_TEXT_LINES`] of at most [`MAX_TEXT_LEN`] bytes, without
/// control characters, every character in its face.
///
/// # Errors
/// [`StampError::Template`] for too much text or a control character,
/// [`StampError::MissingGlyph`] for a character the font lacks.
pub(crate) fn check_lines(lines: &[StampLine]) -> Result<(), StampError> {
    if lines.len() > MAX_TEXT_LINES {
        return Err(StampError::Template(format!(
            "{} lines of stamp text; at most {MAX_TEXT_LINES}",
            lines.len()
        )));
    }
    for l in lines {
        if l.text.len() > MAX_TEXT_LEN || l.text.chars().any(char::is_control) {
            return Err(StampError::Template(format!(
                "stamp line {:?}: at most {MAX_TEXT_LEN} bytes and no control characters",
                l.text.chars().take(80).collect::<String>()
            )));
        }
        FontFace::get(weight(l.bold)).check(&l.text)?;
    }
    Ok(())
}

/// The face of a line.
pub(crate) fn weight(bold: bool) -> Weight {
    if bold {
        Weight::Bold
    } else {
        Weight::Regular
    }
}

/// Lays `lines` out in `width` x `height` points at the largest size that fits, between
/// `max` and `min` points (the stamp uses [`MAX_SIZE`] and [`MIN_SIZE`]).
///
/// A slightly smaller size (down to [`SHRINK_FOR_WHOLE_LINES`] of the largest) is taken when
/// it breaks fewer lines: "NIP. 198701012010011001" reads better whole at 6.5 pt than split
/// at 7.75 pt. Among those sizes the one breaking the fewest lines wins, the larger on a tie.
///
/// # Errors
/// [`StampError::TextDoesNotFit`] naming the first line that does not fit at `min`. The lines
/// must have passed [`check_lines`].
pub(crate) fn fit(
    lines: &[StampLine],
    width: f64,
    height: f64,
    max: f64,
    min: f64,
) -> Result<Laid, StampError> {
    let steps = ((max - min) / STEP).round().clamp(0.0, 100.0) as u32;
    let sizes = (0..=steps).map(|i| max - f64::from(i) * STEP);
    // The best layout so far and the largest size that fits.
    let mut best: Option<(Laid, f64)> = None;
    for size in sizes {
        if let Some((b, largest)) = &best {
            if b.broken == 0 || size < largest * SHRINK_FOR_WHOLE_LINES - 1e-9 {
                break;
            }
        }
        let Ok(laid) = lay_out(lines, width, height, size) else {
            continue;
        };
        match &best {
            None => best = Some((laid, size)),
            Some((b, largest)) if laid.broken < b.broken => best = Some((laid, *largest)),
            Some(_) => {}
        }
    }
    if let Some((laid, _)) = best {
        return Ok(laid);
    }
    let line = match lay_out(lines, width, height, min) {
        Err(i) => lines.get(i).map(|l| l.text.clone()).unwrap_or_default(),
        Ok(_) => String::new(),
    };
    Err(StampError::TextDoesNotFit {
        width,
        height,
        min_size: min,
        line,
    })
}

/// The rows at `size`, or the index of the first line that overflows.
fn lay_out(lines: &[StampLine], width: f64, height: f64, size: f64) -> Result<Laid, usize> {
    let leading = size * LEADING;
    let mut rows = Vec::new();
    let mut broken = 0;
    for (i, line) in lines.iter().enumerate() {
        let face = FontFace::get(weight(line.bold));
        let wrapped = wrap(&line.text, face, size, width).ok_or(i)?;
        broken += usize::from(wrapped.len() > 1);
        for text in wrapped {
            rows.push(Row {
                text,
                bold: line.bold,
            });
            if rows.len() as f64 * leading > height + 1e-9 {
                return Err(i);
            }
        }
    }
    Ok(Laid { size, rows, broken })
}

/// `text` wrapped to `width` points at `size`: greedy, at spaces, breaking a word that is
/// wider than a line. `None` if one character is wider than the line.
pub(crate) fn wrap(text: &str, face: &FontFace, size: f64, width: f64) -> Option<Vec<String>> {
    let space = face.width(" ", size);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut row_width = 0.0;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let w = face.width(word, size);
        let gap = if row.is_empty() { 0.0 } else { space };
        if row_width + gap + w <= width {
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
            row_width += gap + w;
            continue;
        }
        if !row.is_empty() {
            rows.push(std::mem::take(&mut row));
            row_width = 0.0;
        }
        if w <= width {
            row.push_str(word);
            row_width = w;
            continue;
        }
        // A word wider than the line: as many characters per row as fit.
        for ch in word.chars() {
            let mut buf = [0u8; 4];
            let cw = face.width(ch.encode_utf8(&mut buf), size);
            if cw > width {
                return None;
            }
            if row_width + cw > width {
                rows.push(std::mem::take(&mut row));
                row_width = 0.0;
            }
            row.push(ch);
            row_width += cw;
        }
    }
    if !row.is_empty() || rows.is_empty() {
        rows.push(row);
    }
    Some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> StampLine {
        StampLine {
            text: text.into(),
            bold: false,
        }
    }

    #[test]
    fn words_wrap_at_spaces_within_the_width() {
        let face = FontFace::get(Weight::Regular);
        let text = "Sekretaris Jenderal Kementerian Dalam Negeri Republik Indonesia";
        let rows = wrap(text, face, 9.0, 100.0).expect("wraps");
        assert!(rows.len() > 1);
        assert_eq!(rows.join(" "), text);
        for r in &rows {
            assert!(face.width(r, 9.0) <= 100.0, "{r}");
        }
    }

    #[test]
    fn a_long_word_is_broken() {
        let face = FontFace::get(Weight::Regular);
        let word = "x".repeat(100);
        let rows = wrap(&word, face, 9.0, 50.0).expect("wraps");
        assert!(rows.len() > 1);
        assert_eq!(rows.concat(), word);
        assert!(rows.iter().all(|r| face.width(r, 9.0) <= 50.0));
        assert_eq!(wrap("W", face, 9.0, 1.0), None);
        assert_eq!(wrap("  ", face, 9.0, 10.0), Some(vec![String::new()]));
    }

    #[test]
    fn text_shrinks_to_fit_and_never_below_the_minimum() {
        let lines: Vec<StampLine> = (0..6).map(|i| line(&format!("Baris nomor {i}"))).collect();
        let big = fit(&lines, 200.0, 200.0, MAX_SIZE, MIN_SIZE).expect("fits");
        assert_eq!(big.size, MAX_SIZE);
        let small = fit(&lines, 200.0, 40.0, MAX_SIZE, MIN_SIZE).expect("fits");
        assert!(small.size < MAX_SIZE && small.size >= MIN_SIZE);
        assert!(small.height() <= 40.0);
        let e = fit(&lines, 200.0, 20.0, MAX_SIZE, MIN_SIZE).expect_err("too small");
        match e {
            StampError::TextDoesNotFit { line, min_size, .. } => {
                assert_eq!(min_size, MIN_SIZE);
                assert_eq!(line, "Baris nomor 3");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_slightly_smaller_size_is_taken_to_keep_lines_whole() {
        let lines = [line("Budi Santoso"), line("NIP. 198701012010011001")];
        let face = FontFace::get(Weight::Regular);
        // A width where the NIP line breaks at 9 pt but not at 8 pt.
        let width = face.width("NIP. 198701012010011001", 8.0) + 0.01;
        let laid = fit(&lines, width, 100.0, MAX_SIZE, MIN_SIZE).expect("fits");
        assert_eq!(laid.broken, 0);
        assert_eq!(laid.rows.len(), 2);
        assert!(laid.size >= 8.0 && laid.size < 9.0, "{}", laid.size);
        // A line that breaks at every size within reach keeps the largest size.
        let long = [line(&"kata ".repeat(40))];
        let laid = fit(&long, 100.0, 200.0, MAX_SIZE, MIN_SIZE).expect("fits");
        assert_eq!(laid.size, MAX_SIZE);
    }

    #[test]
    fn too_much_or_unprintable_text_is_refused() {
        assert!(check_lines(&[line(&"a".repeat(MAX_TEXT_LEN + 1))]).is_err());
        assert!(check_lines(&vec![line("a"); MAX_TEXT_LINES + 1]).is_err());
        assert!(check_lines(&[line("a\u{0}b")]).is_err());
        assert!(matches!(
            check_lines(&[line("Kepala Dinas 漢")]),
            Err(StampError::MissingGlyph { ch: '漢', .. })
        ));
        assert!(check_lines(&[line("Dr. Ir. Ñoño Müller-Łukasz, M.Sc.")]).is_ok());
    }
}
