//! Choosing a QR code's mask (ISO/IEC 18004 §7.8.3): each of the eight mask patterns is
//! applied, and the one whose symbol has the lowest penalty wins (the first on a tie, in the
//! patterns' order 000 to 111).
//!
//! The penalty (§7.8.3.1, table 11) sums four rules over the symbol's modules, functional
//! patterns and format information included:
//!
//! - N1: every run of 5 + i modules of one colour in a row or column scores 3 + i;
//! - N2: every 2 x 2 block of one colour (blocks overlap) scores 3;
//! - N3: every `dark light dark dark dark light dark` (1:1:3:1:1) in a row or column with 4
//!   light modules before or after it (the area outside the symbol counts as light) scores 40;
//! - N4: the share of dark modules scores 1 point per half percent away from 50 % (the
//!   standard's 10 points per whole 5 % step, without the rounding to steps).
//!
//! These are the rules the `qrcode` crate scores by, so the chosen mask (and the drawn code) is
//! the one `qrcode::QrCode` would choose; this scorer works on a plain grid of booleans and is
//! some ten times faster, which matters because a code is drawn on every sealed signature.

use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::Color;

/// The eight patterns of a (non-micro) QR code, in the order of their reference 000 to 111.
const PATTERNS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The finder-like pattern of rule N3, dark light dark dark dark light dark, as bits.
const FINDER: u32 = 0b101_1101;

/// The modules (row-major, top row first, `true` dark) of `canvas` (functional patterns and
/// data drawn, not yet masked) under the mask with the lowest penalty.
pub(super) fn best(canvas: &Canvas, width: usize) -> Vec<bool> {
    let mut best: Option<(u32, Vec<bool>)> = None;
    let mut columns = Vec::new();
    for pattern in PATTERNS {
        let mut c = canvas.clone();
        c.apply_mask(pattern);
        let dark: Vec<bool> = c
            .into_colors()
            .into_iter()
            .map(|m| m == Color::Dark)
            .collect();
        let score = penalty(&dark, width, &mut columns);
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, dark));
        }
    }
    best.map(|(_, dark)| dark).unwrap_or_default()
}

/// The penalty of a `width` x `width` symbol (rules N1 to N4). `columns` is scratch space.
///
/// A grid whose length is not `width * width` scores what its complete rows score.
pub(super) fn penalty(dark: &[bool], width: usize, columns: &mut Vec<bool>) -> u32 {
    if width == 0 {
        return 0;
    }
    let rows = dark.chunks_exact(width);
    let height = rows.len();
    // The transposed grid, so that columns are scored as rows (contiguous).
    columns.clear();
    columns.resize(width * height, false);
    for (r, row) in rows.clone().enumerate() {
        for (c, &d) in row.iter().enumerate() {
            columns[c * height + r] = d;
        }
    }
    let mut score: u32 = rows.clone().map(line).sum();
    if height > 0 {
        score += columns.chunks_exact(height).map(line).sum::<u32>();
    }
    score += blocks(dark, width, height);
    score + balance(&dark[..width * height])
}

/// Rules N1 and N3 along one row or column, in one pass without branches on the modules
/// (their colours are as good as random, so branches would be mispredicted).
fn line(cells: &[bool]) -> u32 {
    let mut score = 0;
    // N1: the length of the run the current module ends; a run scores 3 when it reaches five
    // modules and 1 for each module after that.
    let mut run = 0u32;
    let mut previous = false;
    // N3: the last 15 modules, the latest in bit 0; outside the line counts as light (0).
    let mut window = 0u32;
    for &c in cells {
        let same = u32::from(c == previous);
        run = run * same + 1;
        score += 3 * u32::from(run == 5) + u32::from(run > 5);
        previous = c;
        window = ((window << 1) | u32::from(c)) & 0x7FFF;
        score += finder_score(window);
    }
    // The four light modules after the line.
    for _ in 0..4 {
        window = (window << 1) & 0x7FFF;
        score += finder_score(window);
    }
    score
}

/// N3 for the 15 modules in `window` (oldest in bit 14): 40 if bits 10..4 are the finder-like
/// pattern and the four modules before it (bits 14..11) or after it (bits 3..0) are light.
fn finder_score(window: u32) -> u32 {
    let pattern = (window >> 4) & 0x7F == FINDER;
    let light = (window >> 11 == 0) | (window & 0xF == 0);
    40 * u32::from(pattern & light)
}

/// Rule N2: 2 x 2 blocks of one colour.
fn blocks(dark: &[bool], width: usize, height: usize) -> u32 {
    let mut score = 0;
    for r in 1..height {
        let (above, here) = (
            &dark[(r - 1) * width..r * width],
            &dark[r * width..(r + 1) * width],
        );
        for c in 1..width {
            let v = here[c];
            score += 3 * u32::from((here[c - 1] == v) & (above[c] == v) & (above[c - 1] == v));
        }
    }
    score
}

/// Rule N4: one point per half percent of dark modules away from 50 %.
fn balance(dark: &[bool]) -> u32 {
    if dark.is_empty() {
        return 0;
    }
    let n = dark.iter().filter(|&&d| d).count();
    let ratio = n * 200 / dark.len();
    u32::try_from(ratio.abs_diff(100)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid from rows of `#` (dark) and `.` (light).
    fn grid(rows: &[&str]) -> (Vec<bool>, usize) {
        let width = rows[0].len();
        let dark = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| b == b'#'))
            .collect();
        (dark, width)
    }

    #[test]
    fn runs_of_five_or_more_score_three_and_one_per_extra_module() {
        let row = |s: &str| s.bytes().map(|b| b == b'#').collect::<Vec<_>>();
        assert_eq!(line(&row("####.")), 0);
        assert_eq!(line(&row("#####")), 3);
        assert_eq!(line(&row("#######")), 5);
        // Two runs: five light (3), six dark (4); the 1-module run between scores nothing.
        assert_eq!(line(&row(".....#.######")), 3 + 4);
    }

    #[test]
    fn a_finder_like_pattern_scores_forty_with_light_on_either_side() {
        let row = |s: &str| s.bytes().map(|b| b == b'#').collect::<Vec<_>>();
        // Outside the symbol counts as light: the pattern at the edge scores.
        assert_eq!(line(&row("#.###.#")), 40);
        // Dark on both sides within four modules: no score (the runs are too short for N1).
        assert_eq!(line(&row("#..#.###.#..#")), 0);
        // Four light modules after it (a run of 4: no N1).
        assert_eq!(line(&row("#.#.###.#....#")), 40);
        // Light on both sides still scores once.
        assert_eq!(line(&row("....#.###.#....")), 40);
    }

    #[test]
    fn every_two_by_two_block_scores_three() {
        let (g, w) = grid(&["##.", "##.", "..."]);
        assert_eq!(blocks(&g, w, 3), 3);
        let (g, w) = grid(&["###", "###", "#.."]);
        assert_eq!(blocks(&g, w, 3), 3 + 3);
        let (g, w) = grid(&["#.#", ".#.", "#.#"]);
        assert_eq!(blocks(&g, w, 3), 0);
    }

    #[test]
    fn balance_scores_the_distance_from_half_dark() {
        assert_eq!(balance(&[true, false]), 0);
        assert_eq!(balance(&[true; 4]), 100);
        assert_eq!(balance(&[false; 4]), 100);
        // 11 of 20 dark: 55 % -> 10 points.
        let g: Vec<bool> = (0..20).map(|i| i < 11).collect();
        assert_eq!(balance(&g), 10);
    }

    #[test]
    fn the_penalty_sums_the_four_rules_over_rows_and_columns() {
        // 5 x 5 all dark: N1 3 per row and column (30), N2 16 blocks (48), N4 100.
        let (g, w) = grid(&["#####"; 5]);
        assert_eq!(penalty(&g, w, &mut Vec::new()), 30 + 48 + 100);
        // A checkerboard: no runs, no blocks, no finder pattern, nearly balanced (13 of 25).
        let (g, w) = grid(&["#.#.#", ".#.#.", "#.#.#", ".#.#.", "#.#.#"]);
        assert_eq!(penalty(&g, w, &mut Vec::new()), 4);
        // The finder-like pattern in a column is found like one in a row.
        let col = ["#", ".", "#", "#", "#", ".", "#"];
        let (g, w) = grid(&col);
        // N3 40, N4: 5 of 7 dark is 142 half-percent units -> 42.
        assert_eq!(penalty(&g, w, &mut Vec::new()), 40 + 42);
    }

    #[test]
    fn odd_grids_do_not_panic() {
        assert_eq!(penalty(&[], 0, &mut Vec::new()), 0);
        assert_eq!(penalty(&[true, false, true], 2, &mut Vec::new()), 0);
        assert_eq!(line(&[]), 0);
    }
}
