//! C2SP `tlog-tiles`: the log as static tiles of hashes and bundles of entries (bytes only; the
//! HTTP serving is elsewhere).
//!
//! ```text
//!  tile/<L>/<N>[.p/<W>]      hash tile: the level-(8·L) subtree hashes N·256 .. N·256+W,
//!                            32 bytes each
//!  tile/entries/<N>[.p/<W>]  entry bundle: entries N·256 .. N·256+W, each a u16 big-endian
//!                            length then its bytes
//!  <N>: groups of three digits, all but the last prefixed with `x`: 1234067 → x001/x234/067
//!  <W>: 1..=255, only on a partial tile; a full tile holds 256 hashes (8,192 bytes)
//! ```
//!
//! For a tree of size `s`, level `l` has `s / 256^(l+1)` full tiles and, when
//! `(s / 256^l) mod 256` is not 0, one partial tile of that width after them
//! ([`tiles_of_size`]). A full tile never changes; a partial tile is superseded by a wider one
//! as the log grows. Entry bundles follow the level-0 tiles.
//!
//! Paths are parsed strictly ([`TilePath::parse`]): only the one spelling the specification
//! gives for each tile is accepted, since the parser faces the public internet.

use std::fmt;
use std::str::FromStr;

use crate::error::TlogError;
use crate::proof::NodeReader;

/// Tree levels covered by one tile (the specification's tile height).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes (or entries) in a full tile (or bundle): `2^TILE_HEIGHT`.
pub const TILE_WIDTH: u16 = 256;
/// The highest hash-tile level a path may name (`<L>` is 0..=63).
pub const MAX_TILE_LEVEL: u8 = 63;
/// The longest entry an entry bundle can hold (its length is a `u16`).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// The longest `<N>`: seven groups of three digits hold every `u64`.
const MAX_GROUPS: usize = 7;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// A hash tile at this tile level (`tile/<L>/…`): hashes of level-`8·L` subtrees.
    Hash {
        /// The tile level `L` (0..=63).
        level: u8,
    },
    /// An entry bundle (`tile/entries/…`): the log's entries themselves.
    Entries,
}

/// One tile or entry bundle: its kind, its index `N` within its level, and its width `W`
/// (1..=256; 256 is a full tile, written without `.p/<W>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TilePath {
    kind: TileKind,
    index: u64,
    width: u16,
}

/// Why a string is not a tile path.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilePathError {
    /// It does not start with `tile/`.
    #[error("not a tile path: it does not start with tile/")]
    Prefix,
    /// `<L>` is not a decimal integer 0..=63 without leading zeros (nor `entries`).
    #[error("bad tile level: a decimal 0..=63 without leading zeros, or entries")]
    Level,
    /// `<N>` is not groups of exactly three ASCII digits, `x`-prefixed on all but the last,
    /// without a leading all-zero group, at most seven groups, within 64 bits.
    #[error("bad tile index: groups of three digits, x-prefixed on all but the last")]
    Index,
    /// `<W>` is not a decimal integer 1..=255 without leading zeros.
    #[error("bad partial tile width: a decimal 1..=255 without leading zeros")]
    Width,
    /// Something follows the path (another segment, a suffix other than `.p/<W>`).
    #[error("trailing characters after the tile path")]
    Trailing,
}

/// A tile that cannot be produced.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// The tree of this size has no such tile: a full tile beyond its size, a partial tile of
    /// another width or index, or an entry bundle asked for as a hash tile.
    #[error("the tree of size {size} has no tile {tile}")]
    NotInTree {
        /// The tile asked for.
        tile: TilePath,
        /// The tree size.
        size: u64,
    },
    /// The node store failed or lacks a node.
    #[error(transparent)]
    Store(#[from] TlogError),
}

/// An entry bundle that cannot be written or read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// A bundle holds 1..=256 entries.
    #[error("a bundle holds 1 to 256 entries, not {0}")]
    Count(usize),
    /// An entry longer than 65,535 bytes.
    #[error("entry {index} has {len} bytes, more than 65535")]
    EntryTooLong {
        /// Its position in the bundle.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// The bytes end inside a length prefix or an entry, before the expected count.
    #[error("the bundle ends inside entry {0}")]
    Truncated(usize),
    /// Bytes remain after the expected number of entries.
    #[error("{0} bytes follow the last entry of the bundle")]
    Overlong(usize),
}

/// `256^e` as a `u128`; callers keep `e <= 9` (a tile at level 8 or above needs 2^64 leaves).
fn pow256(e: u32) -> u128 {
    1u128 << (8 * e)
}

/// Tile levels that a tree of at most `u64::MAX` leaves can have tiles at: 0..=7.
const LEVELS_IN_U64: u8 = 8;

impl TilePath {
    /// A hash tile at tile level `level` (0..=63), index `index`, width `width` (1..=256).
    ///
    /// # Errors
    /// [`TilePathError::Level`] or [`TilePathError::Width`] outside those ranges.
    pub fn hash(level: u8, index: u64, width: u16) -> Result<Self, TilePathError> {
        if level > MAX_TILE_LEVEL {
            return Err(TilePathError::Level);
        }
        Self::new(TileKind::Hash { level }, index, width)
    }

    /// An entry bundle at index `index`, width `width` (1..=256).
    ///
    /// # Errors
    /// [`TilePathError::Width`] outside that range.
    pub fn entries(index: u64, width: u16) -> Result<Self, TilePathError> {
        Self::new(TileKind::Entries, index, width)
    }

    fn new(kind: TileKind, index: u64, width: u16) -> Result<Self, TilePathError> {
        if width == 0 || width > TILE_WIDTH {
            return Err(TilePathError::Width);
        }
        Ok(Self { kind, index, width })
    }

    /// What the tile holds.
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// The tile level of a hash tile; 0 for an entry bundle (which follows the level-0 tiles).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hash { level } => level,
            TileKind::Entries => 0,
        }
    }

    /// The index `N` of the tile within its level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The number of hashes (or entries) it holds, 1..=256.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether it is a full tile (256 wide): its bytes never change.
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The smallest tree size that has this tile, or `None` beyond 64 bits. A full tile exists
    /// in every tree at least that big; a partial tile exactly in the trees whose size rounds
    /// down to it (to a multiple of `256^L`) — its bytes are the same in each of them, so a
    /// server may serve a partial tile of an earlier tree with this size.
    pub fn min_tree_size(&self) -> Option<u64> {
        if self.level() >= LEVELS_IN_U64 {
            return None;
        }
        let l = u32::from(self.level());
        let span = pow256(l + 1);
        let n = u128::from(self.index);
        let s = if self.is_full() {
            (n + 1).checked_mul(span)?
        } else {
            n.checked_mul(span)?
                .checked_add(u128::from(self.width) * pow256(l))?
        };
        u64::try_from(s).ok()
    }

    /// Whether the tree of `size` leaves has this tile (with exactly this width).
    pub fn exists_in(&self, size: u64) -> bool {
        let Some(min) = self.min_tree_size() else {
            return false;
        };
        if self.is_full() {
            return min <= size;
        }
        // The partial tile of a tree of `size` at level l has index size / 256^(l+1) and width
        // (size / 256^l) mod 256: both match iff size rounded down to 256^l is `min`.
        let unit = pow256(u32::from(self.level()));
        u128::from(size) - u128::from(size) % unit == u128::from(min)
    }

    /// Parse a path as the specification writes it, `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`, with nothing before or after (strip the log's URL prefix
    /// first). Only the canonical spelling is accepted, so a tile has exactly one path.
    ///
    /// # Errors
    /// A [`TilePathError`] saying which part is wrong.
    pub fn parse(path: &str) -> Result<Self, TilePathError> {
        let rest = path.strip_prefix("tile/").ok_or(TilePathError::Prefix)?;
        let (level_part, rest) = rest.split_once('/').ok_or(TilePathError::Level)?;
        let kind = if level_part == "entries" {
            TileKind::Entries
        } else {
            TileKind::Hash {
                level: parse_small(level_part, 0, u16::from(MAX_TILE_LEVEL))
                    .and_then(|l| u8::try_from(l).ok())
                    .ok_or(TilePathError::Level)?,
            }
        };
        // The index runs until ".p/" or the end; groups are '/'-separated.
        let (index_part, width_part) = match rest.split_once(".p/") {
            Some((i, w)) => (i, Some(w)),
            None => (rest, None),
        };
        let index = parse_index(index_part)?;
        let width = match width_part {
            None => TILE_WIDTH,
            Some(w) => {
                if w.contains('/') {
                    return Err(TilePathError::Trailing);
                }
                parse_small(w, 1, TILE_WIDTH - 1).ok_or(TilePathError::Width)?
            }
        };
        Ok(Self { kind, index, width })
    }
}

/// A decimal of ASCII digits without leading zeros (except "0" itself), in `min..=max`.
fn parse_small(s: &str, min: u16, max: u16) -> Option<u16> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let v = b.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    (min..=max).contains(&v).then_some(v)
}

/// `<N>`: `x123/x456/789`.
fn parse_index(s: &str) -> Result<u64, TilePathError> {
    let groups: Vec<&str> = s.split('/').collect();
    if groups.len() > MAX_GROUPS {
        return Err(TilePathError::Index);
    }
    let last = groups.len() - 1;
    let mut n: u64 = 0;
    for (i, g) in groups.iter().enumerate() {
        let digits = if i < last {
            g.strip_prefix('x').ok_or(TilePathError::Index)?
        } else {
            *g
        };
        let b = digits.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
            // A group that is not three digits: a trailing segment after a complete path
            // (e.g. `000/extra`) reads as a bad last group.
            return Err(TilePathError::Index);
        }
        if i == 0 && i < last && digits == "000" {
            return Err(TilePathError::Index);
        }
        let v = b.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(v))
            .ok_or(TilePathError::Index)?;
    }
    Ok(n)
}

impl fmt::Display for TilePath {
    /// The path as the specification writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hash { level } => write!(f, "tile/{level}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        let mut groups = Vec::with_capacity(MAX_GROUPS);
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for g in groups.iter().skip(1).rev() {
            write!(f, "x{g:03}/")?;
        }
        write!(f, "{:03}", groups[0])?;
        if !self.is_full() {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

impl FromStr for TilePath {
    type Err = TilePathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The tiles of one level of a tree: `full` full tiles (indices `0..full`), then, if any, one
/// partial tile of width `partial` at index `full`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelTiles {
    /// The tile level.
    pub level: u8,
    /// The number of full tiles.
    pub full: u64,
    /// The width (1..=255) of the partial tile after them, if there is one.
    pub partial: Option<u16>,
}

impl LevelTiles {
    /// The partial tile at this level as a hash tile path, if there is one.
    pub fn partial_tile(&self) -> Option<TilePath> {
        self.partial
            .and_then(|w| TilePath::hash(self.level, self.full, w).ok())
            .filter(|t| !t.is_full())
    }
}

/// The hash tiles of the tree of `size` leaves, level 0 first, up to the highest level with a
/// tile (none for the empty tree). The entry bundles are those of level 0. For 70,000 leaves:
/// level 0 has 273 full and a partial of 112, level 1 one full and a partial of 17, level 2 a
/// partial of 1.
pub fn tiles_of_size(size: u64) -> Vec<LevelTiles> {
    let mut out = Vec::new();
    let mut level = 0u8;
    let mut below = size; // size / 256^level
    while below > 0 {
        let partial = u16::try_from(below % u64::from(TILE_WIDTH)).unwrap_or(0);
        out.push(LevelTiles {
            level,
            full: below / u64::from(TILE_WIDTH),
            partial: (partial != 0).then_some(partial),
        });
        below /= u64::from(TILE_WIDTH);
        level += 1;
    }
    out
}

/// The bytes of hash tile `tile` of the tree of `size` leaves: the 32-byte hashes of the
/// level-`8·L` subtrees `N·256 .. N·256+W`, concatenated, read from `store`.
///
/// # Errors
/// [`TileError::NotInTree`] for an entry bundle, a full tile beyond `size` or a partial tile
/// that is not the one of `size` at its level (to serve a partial tile of an earlier tree, pass
/// [`TilePath::min_tree_size`]); [`TileError::Store`] when the store fails.
pub fn hash_tile(
    store: &impl NodeReader,
    size: u64,
    tile: &TilePath,
) -> Result<Vec<u8>, TileError> {
    let not_in_tree = || TileError::NotInTree { tile: *tile, size };
    let TileKind::Hash { level } = tile.kind else {
        return Err(not_in_tree());
    };
    if !tile.exists_in(size) {
        return Err(not_in_tree());
    }
    // exists_in bounds the level: a tile at level >= 8 needs 2^64 leaves.
    let node_level = level.checked_mul(TILE_HEIGHT).ok_or_else(not_in_tree)?;
    let first = tile
        .index
        .checked_mul(u64::from(TILE_WIDTH))
        .ok_or_else(not_in_tree)?;
    let mut out = Vec::with_capacity(usize::from(tile.width) * 32);
    for i in 0..u64::from(tile.width) {
        out.extend_from_slice(&store.node(node_level, first + i)?);
    }
    Ok(out)
}

/// An entry bundle: each entry as a big-endian `u16` length then its bytes.
///
/// # Errors
/// [`BundleError::Count`] unless 1..=256 entries; [`BundleError::EntryTooLong`] for an entry
/// over 65,535 bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    if entries.is_empty() || entries.len() > usize::from(TILE_WIDTH) {
        return Err(BundleError::Count(entries.len()));
    }
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for (index, e) in entries.iter().enumerate() {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| BundleError::EntryTooLong {
            index,
            len: e.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of a bundle that must hold exactly `count` (1..=256, the tile's width) of them.
///
/// # Errors
/// [`BundleError::Count`] for a count outside 1..=256; [`BundleError::Truncated`] if the
/// bytes end early; [`BundleError::Overlong`] if bytes follow the last entry.
pub fn decode_bundle(bytes: &[u8], count: u16) -> Result<Vec<&[u8]>, BundleError> {
    if count == 0 || count > TILE_WIDTH {
        return Err(BundleError::Count(usize::from(count)));
    }
    let mut out = Vec::with_capacity(usize::from(count));
    let mut rest = bytes;
    for i in 0..usize::from(count) {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(BundleError::Truncated(i))?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(BundleError::Truncated(i));
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(BundleError::Overlong(rest.len()));
    }
    Ok(out)
}
