//! Fonts as far as finding text needs them (ISO 32000-2 §9.5–§9.10): how a string splits into
//! codes, the Unicode text of each code, and each glyph's width and height.
//!
//! - Simple fonts (Type1, MMType1, TrueType, Type3): one byte per code; text from `/ToUnicode`,
//!   else from `/Encoding` (a base encoding and `/Differences` glyph names); widths from
//!   `/Widths` and `/FirstChar` (`/MissingWidth` otherwise), or for the standard 14 fonts
//!   without `/Widths`, from their AFM metrics. Type3 widths are in glyph space, scaled by the
//!   `/FontMatrix`.
//! - Type0 fonts: codes per the `/Encoding` CMap (Identity-H/V or an embedded CMap stream),
//!   text from `/ToUnicode`, widths from the descendant's `/W` and `/DW`.
//!
//! A font that cannot be read is no font: its strings yield no text (the caller skips them).

use std::borrow::Cow;

use super::afm;
use super::cmap::{CMap, MAX_ENTRIES};
use super::encodings::{GLYPH_NAMES, MAC_ROMAN, PDF_DOC, STANDARD, WIN_ANSI};
use super::{num, soft};
use crate::error::Result;
use crate::pdf::object::{Dict, Object};
use crate::pdf::Document;

/// Default ascent and descent, in ems, when the font descriptor gives none that is usable.
const DEFAULT_ASCENT: f64 = 0.8;
const DEFAULT_DESCENT: f64 = -0.2;
/// Width of a glyph that no table gives, in thousandths of an em.
const FALLBACK_WIDTH: f64 = 500.0;
/// Largest glyph width (thousandths of an em) taken from a font; larger values are refused.
const MAX_WIDTH: f64 = 100_000.0;

/// One glyph of a shown string.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Glyph<'s> {
    /// Its text (empty when unknown): a character or borrowed from the font's encoding when it
    /// comes from there, so that showing a simple font's string allocates nothing per glyph.
    pub(super) text: GlyphText<'s>,
    /// Horizontal displacement in text space per unit of font size (`w0`).
    pub(super) width: f64,
    /// A single-byte code 32 (word spacing applies).
    pub(super) space: bool,
}

/// The text of a shown glyph.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum GlyphText<'s> {
    /// One character.
    One(char),
    /// Any text (empty when unknown).
    Text(Cow<'s, str>),
}

impl GlyphText<'_> {
    /// Its characters.
    pub(super) fn chars(&self) -> impl Iterator<Item = char> + '_ {
        let (one, text) = match self {
            GlyphText::One(c) => (Some(*c), ""),
            GlyphText::Text(t) => (None, t.as_ref()),
        };
        one.into_iter().chain(text.chars())
    }
}

/// A loaded font.
#[derive(Debug, Clone)]
pub(super) struct Font {
    kind: Kind,
    to_unicode: Option<CMap>,
    /// Glyph box top and bottom in ems.
    pub(super) ascent: f64,
    pub(super) descent: f64,
}

#[derive(Debug, Clone)]
enum Kind {
    Simple {
        /// Text of each code from the encoding (empty: none).
        text: Box<[CodeText]>,
        /// Width of each code in text space per unit of font size.
        widths: Box<[f64]>,
    },
    Composite {
        encoding: CMap,
        /// Identity encoding: the CID is the code.
        identity: bool,
        widths: CidWidths,
    },
}

impl Font {
    /// Load the font dictionary `dict`; `None` when it is not a font this reader knows.
    ///
    /// # Errors
    /// Only a spent budget: everything else makes the font unknown or falls back to defaults.
    pub(super) fn load(doc: &Document<'_>, dict: &Dict) -> Result<Option<Font>> {
        let subtype = dict
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or_default();
        let to_unicode = match dict.get(b"ToUnicode") {
            Some(o) => stream_bytes(doc, o)?.map(|d| CMap::parse(&d)),
            None => None,
        };
        let (kind, descriptor) = match subtype {
            b"Type0" => {
                let Some(desc) = descendant(doc, dict)? else {
                    return Ok(None);
                };
                let (encoding, identity) = match dict.get(b"Encoding") {
                    Some(Object::Name(n)) if n == b"Identity-H" || n == b"Identity-V" => {
                        (CMap::identity(), true)
                    }
                    Some(o @ Object::Reference(_)) => match stream_bytes(doc, o)? {
                        Some(d) => {
                            let m = CMap::parse(&d);
                            if m.has_codespaces() {
                                (m, false)
                            } else {
                                (CMap::identity(), true)
                            }
                        }
                        None => (CMap::identity(), true),
                    },
                    // Predefined CMaps other than Identity are not bundled: two-byte codes.
                    _ => (CMap::identity(), true),
                };
                let widths = CidWidths::load(doc, &desc)?;
                let fd = soft(doc.resolve_dict(
                    desc.get(b"FontDescriptor").unwrap_or(&Object::Null),
                    "font descriptor",
                ))?;
                (
                    Kind::Composite {
                        encoding,
                        identity,
                        widths,
                    },
                    fd,
                )
            }
            b"Type1" | b"MMType1" | b"TrueType" | b"Type3" => {
                let fd = match dict.get(b"FontDescriptor") {
                    Some(o) => soft(doc.resolve_dict(o, "font descriptor"))?,
                    None => None,
                };
                let text = simple_text(doc, dict, subtype)?;
                let widths = simple_widths(doc, dict, fd.as_ref(), &text)?;
                (Kind::Simple { text, widths }, fd)
            }
            _ => return Ok(None),
        };
        let num = |k: &[u8]| descriptor.as_ref().and_then(|d| d.get(k)).and_then(num);
        let ascent = num(b"Ascent")
            .filter(|a| *a > 0.0 && *a <= 3000.0)
            .map_or(DEFAULT_ASCENT, |a| a / 1000.0);
        let descent = num(b"Descent")
            .filter(|d| *d < 0.0 && *d >= -3000.0)
            .map_or(DEFAULT_DESCENT, |d| d / 1000.0);
        Ok(Some(Font {
            kind,
            to_unicode,
            ascent,
            descent,
        }))
    }

    /// The glyphs of a shown string, in order.
    pub(super) fn glyphs<'s>(
        &'s self,
        bytes: &'s [u8],
    ) -> Box<dyn Iterator<Item = Glyph<'s>> + 's> {
        match &self.kind {
            Kind::Simple { text, widths } => Box::new(bytes.iter().map(move |&b| {
                let i = usize::from(b);
                let text = match self.to_unicode.as_ref().and_then(|m| m.text(u32::from(b))) {
                    Some(t) => GlyphText::Text(Cow::Owned(t)),
                    None => match text.get(i) {
                        Some(CodeText::One(c)) => GlyphText::One(*c),
                        Some(CodeText::Long(t)) => GlyphText::Text(Cow::Borrowed(t)),
                        Some(CodeText::Empty) | None => GlyphText::Text(Cow::Borrowed("")),
                    },
                };
                Glyph {
                    text,
                    width: widths.get(i).copied().unwrap_or(0.0),
                    space: b == b' ',
                }
            })),
            Kind::Composite {
                encoding,
                identity,
                widths,
            } => Box::new(encoding.codes(bytes).map(move |(code, len)| {
                let cid = if *identity {
                    Some(code)
                } else {
                    encoding.cid(code)
                };
                Glyph {
                    text: GlyphText::Text(Cow::Owned(
                        self.to_unicode
                            .as_ref()
                            .and_then(|m| m.text(code))
                            .unwrap_or_default(),
                    )),
                    width: cid.map_or(widths.default, |c| widths.of(c)) / 1000.0,
                    space: len == 1 && code == 32,
                }
            })),
        }
    }
}

/// The data of the stream at `obj`, or `None` when it is not a readable stream.
pub(super) fn stream_bytes(doc: &Document<'_>, obj: &Object) -> Result<Option<Vec<u8>>> {
    match soft(doc.deref(obj))? {
        Some(Object::Stream(s)) => soft(doc.stream_data(&s)),
        _ => Ok(None),
    }
}

/// The descendant CIDFont of a Type0 font.
fn descendant(doc: &Document<'_>, dict: &Dict) -> Result<Option<Dict>> {
    let Some(arr) = dict.get(b"DescendantFonts") else {
        return Ok(None);
    };
    let Some(arr) = soft(doc.deref(arr))? else {
        return Ok(None);
    };
    match arr.as_array().and_then(<[Object]>::first) {
        Some(first) => soft(doc.resolve_dict(first, "descendant font")),
        None => Ok(None),
    }
}

/// The text of one code of a simple font. Nearly every code's text is one character, kept
/// as such: loading a font allocates no string per code.
#[derive(Debug, Clone, Default)]
enum CodeText {
    /// No text.
    #[default]
    Empty,
    /// One character.
    One(char),
    /// Text of several characters (a ligature's name such as `f_f_i`).
    Long(String),
}

impl CodeText {
    fn from_string(s: String) -> CodeText {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (None, _) => CodeText::Empty,
            (Some(c), None) => CodeText::One(c),
            _ => CodeText::Long(s),
        }
    }
}

/// The text of each code of a simple font per its `/Encoding`.
fn simple_text(doc: &Document<'_>, dict: &Dict, subtype: &[u8]) -> Result<Box<[CodeText]>> {
    let default_base: &[u16; 256] = if subtype == b"TrueType" {
        &WIN_ANSI
    } else {
        &STANDARD
    };
    let enc = match dict.get(b"Encoding") {
        Some(o) => soft(doc.deref(o))?,
        None => None,
    };
    let base_name = match &enc {
        Some(Object::Name(n)) => Some(n.as_slice()),
        Some(Object::Dict(d)) => d.get(b"BaseEncoding").and_then(Object::as_name),
        _ => None,
    };
    let base = match base_name {
        Some(b"WinAnsiEncoding") => &WIN_ANSI,
        Some(b"MacRomanEncoding") => &MAC_ROMAN,
        Some(b"StandardEncoding") => &STANDARD,
        Some(b"PDFDocEncoding") => &PDF_DOC,
        _ => default_base,
    };
    let mut text: Vec<CodeText> = base
        .iter()
        .map(|&u| {
            char::from_u32(u32::from(u))
                .filter(|_| u != 0)
                .map_or(CodeText::default(), CodeText::One)
        })
        .collect();
    let diffs = match &enc {
        Some(Object::Dict(d)) => match d.get(b"Differences") {
            Some(o) => soft(doc.deref(o))?,
            None => None,
        },
        _ => None,
    };
    if let Some(Object::Array(items)) = diffs {
        let mut code: Option<usize> = None;
        for item in &items {
            match item {
                Object::Integer(c) => code = usize::try_from(*c).ok().filter(|c| *c < 256),
                Object::Name(n) => {
                    if let Some(c) = code {
                        if let Some(slot) = text.get_mut(c) {
                            *slot = CodeText::from_string(glyph_text(n));
                        }
                        code = Some(c + 1).filter(|c| *c < 256);
                    }
                }
                _ => code = None,
            }
        }
    }
    Ok(text.into_boxed_slice())
}

/// The Unicode text of a glyph name (Adobe Glyph List rules for Latin names, `uniXXXX`,
/// `uXXXX[XX]`, suffixes after `.` dropped, ligatures of `_`-joined names).
pub(super) fn glyph_text(name: &[u8]) -> String {
    let name = std::str::from_utf8(name).unwrap_or("");
    let base = name.split('.').next().unwrap_or("");
    if base.is_empty() || base.len() > 128 {
        return String::new();
    }
    base.split('_').filter_map(component).collect()
}

fn component(c: &str) -> Option<String> {
    if let Ok(i) = GLYPH_NAMES.binary_search_by(|(n, _)| n.as_bytes().cmp(c.as_bytes())) {
        return GLYPH_NAMES.get(i).map(|(_, ch)| ch.to_string());
    }
    let hex_char = |h: &str| {
        u32::from_str_radix(h, 16)
            .ok()
            .filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(char::from_u32)
    };
    if let Some(h) = c.strip_prefix("uni") {
        if h.len() >= 4 && h.len() % 4 == 0 {
            let chars: Option<String> = (0..h.len() / 4)
                .map(|i| h.get(i * 4..i * 4 + 4).and_then(hex_char))
                .collect();
            return chars;
        }
    }
    if let Some(h) = c.strip_prefix('u') {
        if (4..=6).contains(&h.len()) {
            return hex_char(h).map(String::from);
        }
    }
    None
}

/// The widths of a simple font's codes (text space per unit font size).
fn simple_widths(
    doc: &Document<'_>,
    dict: &Dict,
    fd: Option<&Dict>,
    text: &[CodeText],
) -> Result<Box<[f64]>> {
    // Type3 glyph space is mapped to text space by the font matrix; others by 1/1000.
    let scale = match dict
        .get(b"FontMatrix")
        .map(|m| soft(doc.deref(m)))
        .transpose()?
        .flatten()
    {
        Some(Object::Array(m)) => m
            .first()
            .and_then(num)
            .filter(|a| a.abs() <= 1.0 && *a != 0.0)
            .map_or(0.001, |a| a.abs()),
        _ => 0.001,
    };
    let missing = fd
        .and_then(|d| d.get(b"MissingWidth"))
        .and_then(num)
        .filter(|w| w.abs() <= MAX_WIDTH);
    let widths = match dict.get(b"Widths") {
        Some(o) => soft(doc.deref(o))?,
        None => None,
    };
    let first = dict.get(b"FirstChar").and_then(Object::as_i64).unwrap_or(0);
    let standard = standard_font(dict);
    let mut out = vec![0.0; 256];
    for (code, slot) in out.iter_mut().enumerate() {
        let from_table = match &widths {
            Some(Object::Array(w)) => i64::try_from(code)
                .ok()
                .and_then(|c| c.checked_sub(first))
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| w.get(i))
                .and_then(|o| match o {
                    Object::Reference(r) => {
                        soft(doc.resolve(*r)).ok().flatten().as_ref().and_then(num)
                    }
                    o => num(o),
                })
                .filter(|w| w.abs() <= MAX_WIDTH),
            _ => None,
        };
        let w = from_table
            .or_else(|| {
                standard.and_then(|s| match text.get(code) {
                    Some(CodeText::One(c)) => afm_char_width(s, *c),
                    _ => None,
                })
            })
            .or(missing)
            .unwrap_or(if widths.is_some() {
                0.0
            } else {
                FALLBACK_WIDTH
            });
        *slot = w * scale;
    }
    Ok(out.into_boxed_slice())
}

/// Which standard font's metrics a font without `/Widths` uses, by its `/BaseFont`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standard {
    Courier,
    Helvetica,
    HelveticaBold,
    TimesRoman,
    TimesBold,
    TimesItalic,
    TimesBoldItalic,
}

fn standard_font(dict: &Dict) -> Option<Standard> {
    let name = dict.get(b"BaseFont").and_then(Object::as_name)?;
    let name = String::from_utf8_lossy(name);
    // A subset tag `ABCDEF+` is not part of the name.
    let name = name
        .split_once('+')
        .map_or(&*name, |(_, n)| n)
        .to_ascii_lowercase();
    let bold = name.contains("bold");
    let italic = name.contains("italic") || name.contains("oblique");
    if name.contains("courier") {
        Some(Standard::Courier)
    } else if name.contains("times") {
        Some(match (bold, italic) {
            (false, false) => Standard::TimesRoman,
            (true, false) => Standard::TimesBold,
            (false, true) => Standard::TimesItalic,
            (true, true) => Standard::TimesBoldItalic,
        })
    } else if name.contains("helvetica") || name.contains("arial") {
        Some(if bold {
            Standard::HelveticaBold
        } else {
            Standard::Helvetica
        })
    } else {
        None
    }
}

/// The width of the character `c` in a standard font.
fn afm_char_width(font: Standard, c: char) -> Option<f64> {
    if font == Standard::Courier {
        return Some(600.0);
    }
    let key = u16::try_from(u32::from(c)).ok()?;
    let i = afm::CHARS.binary_search(&key).ok()?;
    let table: &[u16] = match font {
        Standard::Helvetica => &afm::HELVETICA,
        Standard::HelveticaBold => &afm::HELVETICA_BOLD,
        Standard::TimesRoman => &afm::TIMES_ROMAN,
        Standard::TimesBold => &afm::TIMES_BOLD,
        Standard::TimesItalic => &afm::TIMES_ITALIC,
        Standard::TimesBoldItalic | Standard::Courier => &afm::TIMES_BOLD_ITALIC,
    };
    table.get(i).map(|&w| f64::from(w))
}

/// A CIDFont's widths (§9.7.4.3): `/W` ranges over `/DW`, in thousandths of an em.
#[derive(Debug, Clone, Default)]
struct CidWidths {
    default: f64,
    /// (first CID, last CID, constant width or start in `list`), sorted by first CID.
    ranges: Vec<(u32, u32, Width)>,
    list: Vec<f64>,
}

#[derive(Debug, Clone, Copy)]
enum Width {
    Const(f64),
    From(usize),
}

impl CidWidths {
    fn load(doc: &Document<'_>, desc: &Dict) -> Result<Self> {
        let default = desc
            .get(b"DW")
            .and_then(num)
            .filter(|w| w.abs() <= MAX_WIDTH)
            .unwrap_or(1000.0);
        let mut out = CidWidths {
            default,
            ..CidWidths::default()
        };
        let items = match desc.get(b"W") {
            Some(o) => soft(doc.deref(o))?,
            None => None,
        };
        let Some(Object::Array(items)) = items else {
            return Ok(out);
        };
        let width = |o: &Object| num(o).filter(|w| w.abs() <= MAX_WIDTH).unwrap_or(default);
        let mut i = 0;
        while i < items.len() && out.ranges.len() < MAX_ENTRIES {
            let first = items
                .get(i)
                .and_then(Object::as_i64)
                .and_then(|c| u32::try_from(c).ok());
            let Some(first) = first else { break };
            match (items.get(i + 1), items.get(i + 2)) {
                (Some(Object::Array(ws)), _) => {
                    let start = out.list.len();
                    out.list.extend(ws.iter().map(width));
                    if !ws.is_empty() {
                        let last =
                            first.saturating_add(u32::try_from(ws.len() - 1).unwrap_or(u32::MAX));
                        out.ranges.push((first, last, Width::From(start)));
                    }
                    i += 2;
                }
                (Some(last), Some(w)) => {
                    let last = last.as_i64().and_then(|c| u32::try_from(c).ok());
                    if let Some(last) = last.filter(|l| *l >= first) {
                        out.ranges.push((first, last, Width::Const(width(w))));
                    }
                    i += 3;
                }
                _ => break,
            }
        }
        out.ranges.sort_by_key(|r| r.0);
        Ok(out)
    }

    fn of(&self, cid: u32) -> f64 {
        let i = self.ranges.partition_point(|r| r.0 <= cid);
        let hit = self.ranges[..i].iter().rev().take(8).find(|r| cid <= r.1);
        match hit {
            Some((_, _, Width::Const(w))) => *w,
            Some((lo, _, Width::From(start))) => start
                .checked_add((cid - lo) as usize)
                .and_then(|j| self.list.get(j))
                .copied()
                .unwrap_or(self.default),
            None => self.default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names_become_text() {
        assert_eq!(glyph_text(b"numbersign"), "#");
        assert_eq!(glyph_text(b"Aacute"), "\u{c1}");
        assert_eq!(glyph_text(b"uni00740064"), "td");
        assert_eq!(glyph_text(b"u1F600"), "\u{1F600}");
        assert_eq!(glyph_text(b"t.sc"), "t");
        assert_eq!(glyph_text(b"f_f_i"), "ffi");
        assert_eq!(glyph_text(b"quoteright"), "\u{2019}");
        assert_eq!(glyph_text(b"g123"), "");
        assert_eq!(glyph_text(b"uniD800"), "");
        assert_eq!(glyph_text(b"uni12"), "");
        assert_eq!(glyph_text(b"\xff\xfe"), "");
    }

    #[test]
    fn glyph_names_are_sorted_and_encodings_agree_on_ascii() {
        assert!(GLYPH_NAMES
            .windows(2)
            .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
        for c in 0x41..0x5b {
            assert_eq!(WIN_ANSI[c], c as u16);
            assert_eq!(STANDARD[c], c as u16);
            assert_eq!(MAC_ROMAN[c], c as u16);
        }
        assert_eq!(WIN_ANSI[0x80], 0x20ac);
        assert_eq!(STANDARD[0x27], 0x2019);
        assert_eq!(MAC_ROMAN[0x8a], 0xe4);
    }

    #[test]
    fn standard_widths_match_the_afm_files() {
        // A code's text has a width of its own only when it is one character.
        let w = |f, c: &str| match CodeText::from_string(c.into()) {
            CodeText::One(ch) => afm_char_width(f, ch),
            _ => None,
        };
        assert_eq!(w(Standard::Helvetica, "ff"), None);
        assert_eq!(w(Standard::Helvetica, ""), None);
        assert_eq!(w(Standard::Helvetica, "#"), Some(556.0));
        assert_eq!(w(Standard::Helvetica, "t"), Some(278.0));
        assert_eq!(w(Standard::TimesRoman, "d"), Some(500.0));
        assert_eq!(w(Standard::TimesRoman, "#"), Some(500.0));
        assert_eq!(w(Standard::HelveticaBold, "W"), Some(944.0));
        assert_eq!(w(Standard::Courier, "i"), Some(600.0));
        assert!(afm::CHARS.windows(2).all(|p| p[0] < p[1]));
    }

    #[test]
    fn cid_widths_take_both_forms_and_bad_values() {
        let w = CidWidths {
            default: 1000.0,
            ranges: vec![(3, 5, Width::From(0)), (10, u32::MAX, Width::Const(250.0))],
            list: vec![1.0, 2.0],
        };
        assert_eq!(w.of(3), 1.0);
        assert_eq!(w.of(4), 2.0);
        assert_eq!(w.of(5), 1000.0);
        assert_eq!(w.of(7), 1000.0);
        assert_eq!(w.of(u32::MAX), 250.0);
    }
}
