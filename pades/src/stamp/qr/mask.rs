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

use qrcode::canvas::{Canvas, Module};
use qrcode::Color;

/// The finder-like pattern of rule N3, dark light dark dark dark light dark, as bits.
const FINDER: u32 = 0b101_1101;

/// Format information (error correction level M, mask 000 to 111) as 15 bits, BCH-coded and
/// XOR-ed with 101010000010010 (ISO/IEC 18004 §7.9, table C.1).
const FORMAT_M: [u16; 8] = [
    0x5412, 0x5125, 0x5e7c, 0x5b4b, 0x45f9, 0x40ce, 0x4f97, 0x4aa0,
];

/// Where the format information's bits go, most significant first, as (column, row); negative
/// numbers count from the right or bottom edge. The first copy runs around the top-left finder
/// pattern, the second is split between the top-right and bottom-left ones.
const FORMAT_AT: [[(i16, i16); 15]; 2] = [
    [
        (0, 8),
        (1, 8),
        (2, 8),
        (3, 8),
        (4, 8),
        (5, 8),
        (7, 8),
        (8, 8),
        (8, 7),
        (8, 5),
        (8, 4),
        (8, 3),
        (8, 2),
        (8, 1),
        (8, 0),
    ],
    [
        (8, -1),
        (8, -2),
        (8, -3),
        (8, -4),
        (8, -5),
        (8, -6),
        (8, -7),
        (-8, 8),
        (-7, 8),
        (-6, 8),
        (-5, 8),
        (-4, 8),
        (-3, 8),
        (-2, 8),
        (-1, 8),
    ],
];

/// Whether mask pattern `p` (000 to 111) inverts the module at column `x`, row `y` (§7.8.2,
/// table 10).
fn inverts(p: usize, x: usize, y: usize) -> bool {
    match p {
        0 => (x + y) % 2 == 0,
        1 => y % 2 == 0,
        2 => x % 3 == 0,
        3 => (x + y) % 3 == 0,
        4 => (y / 2 + x / 3) % 2 == 0,
        5 => (x * y) % 2 + (x * y) % 3 == 0,
        6 => ((x * y) % 2 + (x * y) % 3) % 2 == 0,
        _ => ((x + y) % 2 + (x * y) % 3) % 2 == 0,
    }
}

/// A symbol before masking: each module's colour and whether it carries data (and so is
/// masked); function patterns are not.
pub(super) struct Unmasked {
    width: usize,
    dark: Vec<bool>,
    /// Per module, bit `p` set when mask pattern `p` inverts it (data modules only).
    inverted_by: Vec<u8>,
}

impl Unmasked {
    /// The modules of `canvas` (function patterns and data drawn), `width` a side.
    pub(super) fn new(canvas: &Canvas, width: usize) -> Unmasked {
        let side = i16::try_from(width).unwrap_or(0);
        let mut dark = Vec::with_capacity(width * width);
        let mut inverted_by = Vec::with_capacity(width * width);
        for (y, row) in (0..side).zip(0usize..) {
            for (x, col) in (0..side).zip(0usize..) {
                let (d, is_data) = match canvas.get(x, y) {
                    Module::Empty => (false, true),
                    Module::Unmasked(c) => (c == Color::Dark, true),
                    Module::Masked(c) => (c == Color::Dark, false),
                };
                dark.push(d);
                let by = (0..8).fold(0u8, |a, p| a | u8::from(inverts(p, col, row)) << p);
                inverted_by.push(if is_data { by } else { 0 });
            }
        }
        Unmasked {
            width,
            dark,
            inverted_by,
        }
    }

    /// The modules under mask pattern `p` (000 to 111), format information included.
    pub(super) fn masked(&self, p: usize) -> Vec<bool> {
        let w = self.width;
        let mut out = self.dark.clone();
        for (m, &by) in out.iter_mut().zip(&self.inverted_by) {
            *m ^= (by >> (p & 7)) & 1 == 1;
        }
        let format = FORMAT_M.get(p).copied().unwrap_or(0);
        // A coordinate from FORMAT_AT as an index (negative: from the far edge).
        let at = |v: i16| {
            let n = usize::from(v.unsigned_abs());
            if v < 0 {
                w.checked_sub(n)
            } else {
                Some(n)
            }
        };
        for coords in &FORMAT_AT {
            for (bit, &(x, y)) in coords.iter().enumerate() {
                if let (Some(x), Some(y)) = (at(x), at(y)) {
                    if let Some(m) = out.get_mut(y * w + x) {
                        *m = (format >> (14 - bit)) & 1 == 1;
                    }
                }
            }
        }
        // The dark module above the bottom-left finder pattern.
        if let Some(y) = at(-8) {
            if let Some(m) = out.get_mut(y * w + 8) {
                *m = true;
            }
        }
        out
    }
}

/// The modules (row-major, top row first, `true` dark) of `canvas` (functional patterns and
/// data drawn, not yet masked) under the mask with the lowest penalty.
pub(super) fn best(canvas: &Canvas, width: usize) -> Vec<bool> {
    let unmasked = Unmasked::new(canvas, width);
    let mut best: Option<(u32, Vec<bool>)> = None;
    let mut columns = Vec::new();
    for p in 0..FORMAT_M.len() {
        let dark = unmasked.masked(p);
        let score = if width <= 64 && dark.len() == width * width {
            penalty_bits(&dark, width)
        } else {
            penalty(&dark, width, &mut columns)
        };
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

/// [`penalty`] of a square symbol at most 64 modules wide (versions 1 to 11), with each row and
/// column as the bits of a `u64` (module `i` in bit `i`): the same score, a few times faster.
fn penalty_bits(dark: &[bool], width: usize) -> u32 {
    let mut rows = [0u64; 64];
    let mut columns = [0u64; 64];
    for (r, cells) in dark.chunks_exact(width).take(64).enumerate() {
        rows[r] = cells
            .iter()
            .take(64)
            .enumerate()
            .fold(0, |a, (c, &d)| a | u64::from(d) << c);
        // Each dark module of the row into its column.
        let mut bits = rows[r];
        while bits != 0 {
            let c = bits.trailing_zeros() as usize;
            columns[c] |= 1 << r;
            bits &= bits - 1;
        }
    }
    let (rows, columns) = (&rows[..width.min(64)], &columns[..width.min(64)]);
    let mut score: u32 = rows
        .iter()
        .chain(columns)
        .map(|&l| line_bits(l, width))
        .sum();
    // N2: neighbours equal in this row and the one above, and the two rows equal.
    let all = mask(width);
    let same_as_left = |x: u64| !(x ^ (x << 1)) & all & !1;
    for pair in rows.windows(2) {
        let block = same_as_left(pair[0]) & same_as_left(pair[1]) & !(pair[0] ^ pair[1]);
        score += 3 * block.count_ones();
    }
    let n: u32 = rows.iter().map(|r| r.count_ones()).sum();
    score + balance_of(n as usize, width * width)
}

/// The low `width` bits set.
fn mask(width: usize) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Rules N1 and N3 along a line of `width` (at most 64) modules held as bits.
fn line_bits(x: u64, width: usize) -> u32 {
    let all = mask(width);
    // N1: `eq` bit i: modules i - 1 and i have one colour; `five` bit i: modules i - 4 ..= i do.
    // A run of n >= 5 sets n - 4 bits of `five` and scores n - 2: those bits plus 2 per run.
    let eq = !(x ^ (x << 1)) & all & !1;
    let five = eq & (eq << 1) & (eq << 2) & (eq << 3);
    let starts = five & !(five << 1);
    let mut score = five.count_ones() + 2 * starts.count_ones();
    // N3: the line shifted 4 up, so that the 4 modules outside each end are light (0) bits.
    let d = u128::from(x & all) << 4;
    let l = !d;
    let pattern = d & (l >> 1) & (d >> 2) & (d >> 3) & (d >> 4) & (l >> 5) & (d >> 6);
    let before = (l << 1) & (l << 2) & (l << 3) & (l << 4);
    let after = (l >> 7) & (l >> 8) & (l >> 9) & (l >> 10);
    score += 40 * (pattern & (before | after)).count_ones();
    score
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
    balance_of(dark.iter().filter(|&&d| d).count(), dark.len())
}

/// Rule N4 for `dark` dark modules of `total`.
fn balance_of(dark: usize, total: usize) -> u32 {
    if total == 0 {
        return 0;
    }
    let ratio = dark.saturating_mul(200) / total;
    u32::try_from(ratio.abs_diff(100)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::canvas::MaskPattern;

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

    #[test]
    fn masking_is_what_qrcode_does_for_every_pattern() {
        for (text, version) in [
            ("http://127.0.0.1:8080/d/AbCdEfGhIjKlMnOpQrStUv", 4),
            ("1234", 1),
            ("https://segel.example.go.id/d/Zx3_q9LmT0a-Bc7dEf1GhK", 4),
            ("Kementerian Dalam Negeri", 7),
            ("Kementerian Dalam Negeri", 40),
        ] {
            let version = qrcode::Version::Normal(version);
            let bits = {
                let mut b = qrcode::bits::Bits::new(version);
                b.push_byte_data(text.as_bytes()).expect("fits");
                b.push_terminator(qrcode::EcLevel::M).expect("fits");
                b
            };
            let (data, ec) =
                qrcode::ec::construct_codewords(&bits.into_bytes(), version, qrcode::EcLevel::M)
                    .expect("codewords");
            let mut canvas = Canvas::new(version, qrcode::EcLevel::M);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(&data, &ec);
            let width = usize::from(version.width().unsigned_abs());
            let unmasked = Unmasked::new(&canvas, width);
            for (p, pattern) in PATTERNS.into_iter().enumerate() {
                let mut theirs = canvas.clone();
                theirs.apply_mask(pattern);
                let theirs: Vec<bool> = theirs
                    .into_colors()
                    .into_iter()
                    .map(|c| c == Color::Dark)
                    .collect();
                assert_eq!(unmasked.masked(p), theirs, "{text}, {version:?}, mask {p}");
            }
        }
    }

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
    fn the_bit_scorer_agrees_with_the_plain_one() {
        // Pseudo-random grids of every width up to 64, some sparse, some dense, some striped.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for width in 1..=64 {
            for kind in 0..4 {
                let dark: Vec<bool> = (0..width * width)
                    .map(|i| match kind {
                        0 => next() % 2 == 0,
                        1 => next() % 8 == 0,
                        2 => next() % 8 != 0,
                        _ => (i / 7) % 2 == 0 || next() % 16 == 0,
                    })
                    .collect();
                assert_eq!(
                    penalty_bits(&dark, width),
                    penalty(&dark, width, &mut Vec::new()),
                    "width {width}, kind {kind}"
                );
            }
        }
        // Hand-made lines: the finder-like pattern at either end, long runs.
        for row in [
            "#.###.#",
            "....#.###.#",
            "#.###.#....#",
            "##########",
            "#.###.#.###.#",
        ] {
            let dark: Vec<bool> = row.bytes().map(|b| b == b'#').collect();
            let bits = dark.iter().rev().fold(0u64, |a, &d| a << 1 | u64::from(d));
            assert_eq!(line_bits(bits, dark.len()), line(&dark), "{row}");
        }
    }

    #[test]
    fn odd_grids_do_not_panic() {
        assert_eq!(penalty(&[], 0, &mut Vec::new()), 0);
        assert_eq!(penalty(&[true, false, true], 2, &mut Vec::new()), 0);
        assert_eq!(line(&[]), 0);
    }
}
