//! CMaps (ISO 32000-2 §9.7.5, §9.10.3): codespace ranges (how a string splits into codes),
//! code-to-CID mappings of embedded encoding CMaps, and ToUnicode maps (`bfchar`, `bfrange`
//! with a string or an array, UTF-16BE destinations with surrogate pairs).
//!
//! Nothing is expanded: a range is kept as a range, so `<0000> <FFFFFFFF>` costs one entry.
//! At most [`MAX_ENTRIES`] mappings and [`MAX_CODESPACES`] codespace ranges are kept; the rest
//! of a larger map is ignored.

use super::lexer::{Lexer, Token};

/// Most mappings (single codes plus ranges) kept from one CMap.
pub(super) const MAX_ENTRIES: usize = 100_000;
/// Most codespace ranges kept from one CMap.
pub(super) const MAX_CODESPACES: usize = 256;
/// Longest destination string kept (bytes of UTF-16BE).
const MAX_DEST: usize = 512;

/// A codespace range: codes of `len` bytes whose every byte lies between those of `lo` and `hi`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Codespace {
    len: usize,
    lo: [u8; 4],
    hi: [u8; 4],
}

/// Where a mapped code goes.
#[derive(Debug, Clone, PartialEq)]
enum Dest {
    /// Text (bfchar, or the start of a string bfrange whose last UTF-16 unit is incremented).
    Text(Vec<u16>),
    /// One text per code of a range (the array form of bfrange).
    List(Vec<Vec<u16>>),
    /// A CID (cidchar, or the first CID of a cidrange).
    Cid(u32),
}

/// The section of a CMap being read, by its `begin…` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Codespace,
    BfChar,
    BfRange,
    CidChar,
    CidRange,
}

impl Section {
    fn of(op: &[u8]) -> Self {
        match op {
            b"begincodespacerange" => Self::Codespace,
            b"beginbfchar" => Self::BfChar,
            b"beginbfrange" => Self::BfRange,
            b"begincidchar" => Self::CidChar,
            b"begincidrange" => Self::CidRange,
            _ => Self::None,
        }
    }

    /// How many operands one entry of the section has (0: the section holds none).
    fn group(self) -> usize {
        match self {
            Self::None => 0,
            Self::Codespace | Self::BfChar | Self::CidChar => 2,
            Self::BfRange | Self::CidRange => 3,
        }
    }
}

/// An operand of a CMap entry.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Str(Vec<u8>),
    Num(f64),
    List(Vec<Vec<u16>>),
}

/// A parsed CMap.
#[derive(Debug, Clone, Default)]
pub(super) struct CMap {
    codespaces: Vec<Codespace>,
    /// (first code, last code, destination), sorted by first code.
    ranges: Vec<(u32, u32, Dest)>,
}

impl CMap {
    /// The Identity-H/V encoding: two-byte codes, CID = code.
    pub(super) fn identity() -> Self {
        Self {
            codespaces: vec![Codespace {
                len: 2,
                lo: [0; 4],
                hi: [0xff, 0xff, 0, 0],
            }],
            ranges: vec![(0, 0xffff, Dest::Cid(0))],
        }
    }

    /// Parse CMap data (its mappings and codespace ranges); whatever is not understood is
    /// skipped.
    pub(super) fn parse(data: &[u8]) -> Self {
        let mut map = CMap::default();
        let mut section = Section::None;
        let mut operands: Vec<Operand> = Vec::new();
        let mut array: Option<Vec<Vec<u16>>> = None;
        for tok in Lexer::new(data) {
            match (tok, array.as_mut()) {
                (Token::Str(s), Some(a)) => {
                    if a.len() < MAX_ENTRIES {
                        a.push(utf16(&s));
                    }
                    continue;
                }
                (Token::ArrayClose, Some(_)) => {
                    operands.push(Operand::List(array.take().unwrap_or_default()));
                }
                (_, Some(_)) => continue,
                (Token::ArrayOpen, None) => {
                    array = Some(Vec::new());
                    continue;
                }
                (Token::Str(s), None) => operands.push(Operand::Str(s)),
                (Token::Num(n), None) => operands.push(Operand::Num(n)),
                (Token::Op(op), None) => {
                    section = Section::of(op);
                    operands.clear();
                    continue;
                }
                (_, None) => {
                    operands.clear();
                    continue;
                }
            }
            if operands.len() == section.group() {
                map.group(section, &operands);
                operands.clear();
            } else if operands.len() > 3 {
                operands.clear();
            }
        }
        map.ranges.sort_by_key(|r| r.0);
        map
    }

    fn group(&mut self, section: Section, ops: &[Operand]) {
        match (section, ops) {
            (Section::Codespace, [Operand::Str(lo), Operand::Str(hi)]) => {
                self.push_codespace(lo, hi);
            }
            (Section::BfChar, [Operand::Str(c), Operand::Str(dest)]) => {
                if let Some(c) = code(c) {
                    self.push(c, c, Dest::Text(utf16(dest)));
                }
            }
            (Section::BfRange, [Operand::Str(lo), Operand::Str(hi), dest]) => {
                let dest = match dest {
                    Operand::Str(d) => Dest::Text(utf16(d)),
                    Operand::List(l) => Dest::List(l.clone()),
                    Operand::Num(_) => return,
                };
                if let (Some(l), Some(h)) = (code(lo), code(hi)) {
                    self.push(l, h, dest);
                }
            }
            (Section::CidChar, [Operand::Str(c), Operand::Num(cid)]) => {
                if let Some(c) = code(c) {
                    self.push(c, c, Dest::Cid(clamp_cid(*cid)));
                }
            }
            (Section::CidRange, [Operand::Str(lo), Operand::Str(hi), Operand::Num(cid)]) => {
                if let (Some(l), Some(h)) = (code(lo), code(hi)) {
                    self.push(l, h, Dest::Cid(clamp_cid(*cid)));
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, lo: u32, hi: u32, dest: Dest) {
        if lo <= hi && self.ranges.len() < MAX_ENTRIES {
            self.ranges.push((lo, hi, dest));
        }
    }

    /// Split `bytes` into codes: each the shortest prefix that lies in a codespace range (one
    /// byte when none does, so that decoding always moves on).
    pub(super) fn codes<'s>(&'s self, bytes: &'s [u8]) -> impl Iterator<Item = (u32, usize)> + 's {
        let mut pos = 0;
        std::iter::from_fn(move || {
            let rest = bytes.get(pos..).filter(|r| !r.is_empty())?;
            let len = (1..=4usize)
                .find(|&n| {
                    rest.get(..n).is_some_and(|c| {
                        self.codespaces.iter().any(|cs| {
                            cs.len == n
                                && c.iter()
                                    .enumerate()
                                    .all(|(i, &b)| cs.lo[i] <= b && b <= cs.hi[i])
                        })
                    })
                })
                .or_else(|| self.codespaces.first().map(|cs| cs.len.min(rest.len())))
                .unwrap_or(1);
            let c = rest.get(..len).unwrap_or(rest);
            pos += len.max(1);
            Some((c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)), c.len()))
        })
    }

    /// Whether the map has codespace ranges of its own.
    pub(super) fn has_codespaces(&self) -> bool {
        !self.codespaces.is_empty()
    }

    fn find(&self, code: u32) -> Option<&(u32, u32, Dest)> {
        let i = self.ranges.partition_point(|r| r.0 <= code);
        // The nearest range starting at or before `code`; ranges rarely overlap, and a few
        // earlier ones are looked at for those that do.
        self.ranges[..i]
            .iter()
            .rev()
            .take(8)
            .find(|r| r.0 <= code && code <= r.1)
    }

    /// The text of `code`, if mapped.
    pub(super) fn text(&self, code: u32) -> Option<String> {
        let (lo, _, dest) = self.find(code)?;
        let off = code - lo;
        let units = match dest {
            Dest::Text(t) => {
                let mut t = t.clone();
                if let Some(last) = t.last_mut() {
                    *last = last.wrapping_add((off & 0xffff) as u16);
                }
                t
            }
            Dest::List(l) => l.get(off as usize)?.clone(),
            Dest::Cid(_) => return None,
        };
        let s: String = char::decode_utf16(units.iter().copied())
            .filter_map(Result::ok)
            .collect();
        (!s.is_empty()).then_some(s)
    }

    /// The CID of `code`, if mapped.
    pub(super) fn cid(&self, code: u32) -> Option<u32> {
        match self.find(code)? {
            (lo, _, Dest::Cid(c)) => Some(c.saturating_add(code - lo)),
            _ => None,
        }
    }

    fn push_codespace(&mut self, lo: &[u8], hi: &[u8]) {
        let n = lo.len();
        if n == 0 || n > 4 || hi.len() != n || self.codespaces.len() >= MAX_CODESPACES {
            return;
        }
        let mut cs = Codespace {
            len: n,
            lo: [0; 4],
            hi: [0; 4],
        };
        cs.lo[..n].copy_from_slice(lo);
        cs.hi[..n].copy_from_slice(hi);
        self.codespaces.push(cs);
    }
}

/// A code of one to four bytes.
fn code(s: &[u8]) -> Option<u32> {
    (1..=4)
        .contains(&s.len())
        .then(|| s.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)))
}

fn clamp_cid(v: f64) -> u32 {
    if v.is_finite() && v >= 0.0 {
        v.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// UTF-16BE units of a destination string (an odd last byte is dropped).
fn utf16(s: &[u8]) -> Vec<u16> {
    s.get(..s.len().min(MAX_DEST))
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO_UNICODE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap
        /CMapName /Adobe-Identity-UCS def
        1 begincodespacerange <0000> <FFFF> endcodespacerange
        3 beginbfchar <0003> <0020> <0011> <0041> <0020> <D83DDE00> endbfchar
        2 beginbfrange <0030> <0039> <0030> <0100> <0102> [<0066> <00660069> <0078>] endbfrange
        endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn reads_bfchar_bfrange_and_surrogates() {
        let m = CMap::parse(TO_UNICODE);
        assert_eq!(m.text(0x0011).as_deref(), Some("A"));
        assert_eq!(m.text(0x0020).as_deref(), Some("\u{1F600}"));
        assert_eq!(m.text(0x0035).as_deref(), Some("5"));
        assert_eq!(m.text(0x0101).as_deref(), Some("fi"));
        assert_eq!(m.text(0x0103), None);
        assert_eq!(m.text(0x0004), None);
        let codes: Vec<_> = m.codes(b"\x00\x11\x01").collect();
        assert_eq!(codes, vec![(0x11, 2), (1, 1)]);
    }

    #[test]
    fn cid_ranges_and_mixed_code_lengths() {
        let m = CMap::parse(
            b"2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange
              1 begincidrange <8140> <817E> 633 endcidrange 1 begincidchar <20> 1 endcidchar",
        );
        let codes: Vec<_> = m.codes(b"\x20\x81\x41\xa0").collect();
        assert_eq!(codes, vec![(0x20, 1), (0x8141, 2), (0xa0, 1)]);
        assert_eq!(m.cid(0x8141), Some(634));
        assert_eq!(m.cid(0x20), Some(1));
    }

    #[test]
    fn absurd_ranges_cost_one_entry_and_counts_are_bounded() {
        let m = CMap::parse(b"1 beginbfrange <00000000> <FFFFFFFF> <0041> endbfrange");
        assert_eq!(m.ranges.len(), 1);
        assert_eq!(m.text(0xFFFF_FFFF).as_deref(), Some("\u{40}"));
        let mut many = b"beginbfchar ".to_vec();
        for i in 0..(MAX_ENTRIES + 10) {
            many.extend_from_slice(format!("<{:04X}> <0041> ", i % 65536).as_bytes());
        }
        let m = CMap::parse(&many);
        assert_eq!(m.ranges.len(), MAX_ENTRIES);
        // Garbage: no panic, nothing mapped.
        let m = CMap::parse(b"<> <> <> [ [ <01> ] ] 1e999 <0102030405> <01> beginbfrange");
        assert_eq!(m.text(1), None);
    }
}
