//! The stamp's fonts: DejaVu Sans and DejaVu Sans Bold (bundled, see `pades/fonts/README.md`),
//! their metrics for layout, and their embedding as subsets.
//!
//! Each face used is embedded as a composite font (ISO 32000-1 §9.7), the form PDF/A and
//! every reader handle best for TrueType outlines with arbitrary characters:
//!
//! ```text
//! Type0 /Encoding /Identity-H /ToUnicode (CMap: CID -> text, for search and copy)
//!   └ CIDFontType2 /CIDToGIDMap /Identity /W (widths) /CIDSystemInfo Adobe-Identity-0
//!       └ FontDescriptor /FontName TAG+DejaVuSans, metrics, /CIDSet, /FontFile2 (the subset)
//! ```
//!
//! The subset keeps only the glyphs used; `subsetter` renumbers them (0 is `.notdef`, the rest
//! in ascending order of their number in the full font), and the renumbered glyph is the CID
//! that the content stream shows (two bytes, big-endian). The subset tag (`ABCDEF+`) is derived
//! from the face and the glyph set, so the same text always gives the same bytes.
//!
//! Characters map to glyphs one to one through the font's `cmap` (no shaping, kerning or
//! ligatures): enough for Latin text, and what the ToUnicode map then inverts exactly.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Filter, Name, Rect, Str};
use ttf_parser::{Face, GlyphId};

use super::pdfobj::{body_of, pdf_ref, Objects};
use super::StampError;
use crate::pdf::object::ObjRef;

static REGULAR_DATA: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD_DATA: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// One of the two bundled faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Weight {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

/// A bundled face, parsed once.
pub(crate) struct FontFace {
    data: &'static [u8],
    face: Face<'static>,
    /// PostScript name (without subset tag).
    name: &'static str,
    weight: Weight,
    /// Font units per em (2048 for DejaVu).
    units: f64,
    /// Glyph and advance width (thousandths of an em) of every printable ASCII character,
    /// indexed by its code minus 0x20: nearly all stamp text, looked up without the `cmap`.
    ascii: [(GlyphId, f64); ASCII.len()],
}

/// The printable ASCII characters, U+0020 to U+007E: every subset holds their glyphs.
const ASCII: [char; 95] = {
    let mut out = [' '; 95];
    let mut i = 0;
    while i < 95 {
        out[i] = (0x20 + i as u8) as char;
        i += 1;
    }
    out
};

impl FontFace {
    /// The face of `weight`. The first call parses the font's table directory (cheap:
    /// ttf-parser reads tables lazily); later calls return the same face.
    pub(crate) fn get(weight: Weight) -> &'static FontFace {
        static REGULAR: OnceLock<FontFace> = OnceLock::new();
        static BOLD: OnceLock<FontFace> = OnceLock::new();
        let (cell, data, name) = match weight {
            Weight::Regular => (&REGULAR, REGULAR_DATA, "DejaVuSans"),
            Weight::Bold => (&BOLD, BOLD_DATA, "DejaVuSans-Bold"),
        };
        cell.get_or_init(|| {
            let face = Face::parse(data, 0).expect("the bundled DejaVu font parses");
            let units = f64::from(face.units_per_em().max(16));
            let ascii = ASCII.map(|ch| {
                let g = face.glyph_index(ch).unwrap_or(GlyphId(0));
                let advance = f64::from(face.glyph_hor_advance(g).unwrap_or(0)) * 1000.0 / units;
                (g, advance)
            });
            FontFace {
                data,
                face,
                name,
                weight,
                units,
                ascii,
            }
        })
    }

    /// The glyph of `ch`, or [`StampError::MissingGlyph`] naming it and `text`.
    pub(crate) fn glyph(&self, ch: char, text: &str) -> Result<GlyphId, StampError> {
        self.glyph_index(ch)
            .filter(|g| g.0 != 0)
            .ok_or_else(|| StampError::MissingGlyph {
                ch,
                code: u32::from(ch),
                text: text.chars().take(200).collect(),
            })
    }

    /// The glyph of `ch` in the `cmap` (from the ASCII table for printable ASCII).
    fn glyph_index(&self, ch: char) -> Option<GlyphId> {
        match self.ascii.get((ch as usize).wrapping_sub(0x20)) {
            Some(&(g, _)) => Some(g),
            None => self.face.glyph_index(ch),
        }
    }

    /// Advance width of `ch` in thousandths of an em; `.notdef`'s for a character without a
    /// glyph.
    fn char_advance(&self, ch: char) -> f64 {
        match self.ascii.get((ch as usize).wrapping_sub(0x20)) {
            Some(&(_, advance)) => advance,
            None => self.advance(self.face.glyph_index(ch).unwrap_or(GlyphId(0))),
        }
    }

    /// Checks that every character of `text` has a glyph.
    pub(crate) fn check(&self, text: &str) -> Result<(), StampError> {
        text.chars()
            .try_for_each(|c| self.glyph(c, text).map(|_| ()))
    }

    /// Advance width of `glyph` in thousandths of an em (PDF glyph space).
    fn advance(&self, glyph: GlyphId) -> f64 {
        f64::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0 / self.units
    }

    /// Width of `text` at `size` points. Characters without a glyph count as `.notdef`'s
    /// width (callers check glyphs first).
    pub(crate) fn width(&self, text: &str, size: f64) -> f64 {
        let em: f64 = text.chars().map(|c| self.char_advance(c)).sum();
        em * size / 1000.0
    }

    /// Ascender above the baseline, in points at `size`.
    pub(crate) fn ascent(&self, size: f64) -> f64 {
        f64::from(self.face.ascender()) / self.units * size
    }

    /// Descender below the baseline (negative), in points at `size`.
    pub(crate) fn descent(&self, size: f64) -> f64 {
        f64::from(self.face.descender()) / self.units * size
    }

    fn scaled(&self, v: i16) -> f32 {
        (f64::from(v) * 1000.0 / self.units).round() as f32
    }
}

/// The characters drawn with one face; becomes an embedded subset.
#[derive(Debug, Clone)]
pub(crate) struct GlyphSet {
    weight: Weight,
    /// Glyph number in the full font -> the first character drawn with it.
    glyphs: BTreeMap<u16, char>,
    /// Whether every character added is printable ASCII.
    ascii_only: bool,
}

impl GlyphSet {
    /// An empty set for `weight`.
    pub(crate) fn new(weight: Weight) -> GlyphSet {
        GlyphSet {
            weight,
            glyphs: BTreeMap::new(),
            ascii_only: true,
        }
    }

    /// Adds the glyphs of `text`.
    ///
    /// # Errors
    /// [`StampError::MissingGlyph`] for a character the face lacks.
    pub(crate) fn add(&mut self, text: &str) -> Result<(), StampError> {
        let face = FontFace::get(self.weight);
        for ch in text.chars() {
            let g = face.glyph(ch, text)?;
            self.glyphs.entry(g.0).or_insert(ch);
            self.ascii_only &= (' '..='~').contains(&ch);
        }
        Ok(())
    }

    /// Whether no glyph was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.glyphs.is_empty()
    }

    /// Fixes the subset's numbering: `.notdef` is CID 0, then the glyphs in ascending order.
    ///
    /// The subset also holds every printable ASCII character's glyph, whether drawn or not: a
    /// stamp whose text is ASCII (nearly every Indonesian name and title) then always has the
    /// same glyphs, so its parts are made once and kept (see [`Subset::parts`]), and a new
    /// official's name costs no subsetting or compression. The subset of text in ASCII alone
    /// is the same every time, so it is made once per face and shared.
    pub(crate) fn finish(self) -> Subset {
        let face = FontFace::get(self.weight);
        if self.ascii_only {
            let (glyphs, remapper) = ascii_subset(self.weight);
            return Subset {
                face,
                glyphs: Arc::clone(glyphs),
                remapper: Arc::clone(remapper),
            };
        }
        let (glyphs, remapper) = numbered(face, self.glyphs);
        Subset {
            face,
            glyphs,
            remapper,
        }
    }
}

/// `glyphs` with printable ASCII's glyphs added (a glyph keeps the character it was drawn
/// with first), and their numbering in the subset.
fn numbered(
    face: &FontFace,
    mut glyphs: BTreeMap<u16, char>,
) -> (Arc<BTreeMap<u16, char>>, Arc<subsetter::GlyphRemapper>) {
    for (ch, &(g, _)) in ASCII.iter().zip(&face.ascii) {
        if g.0 != 0 {
            glyphs.entry(g.0).or_insert(*ch);
        }
    }
    let mut remapper = subsetter::GlyphRemapper::new();
    for &g in glyphs.keys() {
        remapper.remap(g);
    }
    (Arc::new(glyphs), Arc::new(remapper))
}

/// The glyphs and numbering of a subset for text in printable ASCII alone, per face. Each
/// printable ASCII character has a glyph of its own in DejaVu, so whatever ASCII text was
/// drawn, this is what [`numbered`] gives.
fn ascii_subset(weight: Weight) -> &'static SharedGlyphs {
    static REGULAR: OnceLock<SharedGlyphs> = OnceLock::new();
    static BOLD: OnceLock<SharedGlyphs> = OnceLock::new();
    let cell = match weight {
        Weight::Regular => &REGULAR,
        Weight::Bold => &BOLD,
    };
    cell.get_or_init(|| numbered(FontFace::get(weight), BTreeMap::new()))
}

/// A subset's glyphs (glyph -> character) and their numbering, shared.
type SharedGlyphs = (Arc<BTreeMap<u16, char>>, Arc<subsetter::GlyphRemapper>);

/// A face's subset: the glyphs kept and their new numbers (CIDs).
pub(crate) struct Subset {
    face: &'static FontFace,
    glyphs: Arc<BTreeMap<u16, char>>,
    remapper: Arc<subsetter::GlyphRemapper>,
}

impl Subset {
    /// `text` as a string of two-byte CIDs (Identity-H) for `Tj`.
    ///
    /// # Errors
    /// [`StampError::MissingGlyph`] for a character not in the subset.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u8>, StampError> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let g = self.face.glyph(ch, text)?;
            let cid = self
                .remapper
                .get(g.0)
                .ok_or_else(|| StampError::MissingGlyph {
                    ch,
                    code: u32::from(ch),
                    text: text.chars().take(200).collect(),
                })?;
            out.extend_from_slice(&cid.to_be_bytes());
        }
        Ok(out)
    }

    /// The face.
    pub(crate) fn face(&self) -> &'static FontFace {
        self.face
    }

    /// The subset tag: six capital letters from a hash of the face and the glyph set.
    fn tag(&self) -> String {
        // FNV-1a, 64 bits: stable across platforms and releases, enough to tell subsets apart.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |b: u8| {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        };
        self.face.name.bytes().for_each(&mut eat);
        for g in self.glyphs.keys() {
            g.to_be_bytes().into_iter().for_each(&mut eat);
        }
        (0..6)
            .map(|i| char::from(b'A' + ((h >> (i * 10)) % 26) as u8))
            .collect()
    }

    /// Writes the font's objects: the Type0 font dictionary's reference and every object
    /// (font, CID font, descriptor, font file, CIDSet, ToUnicode map).
    ///
    /// # Errors
    /// [`StampError::Template`] if the subsetter rejects the bundled font (it does not; the
    /// error is kept rather than a panic).
    pub(crate) fn objects(
        &self,
        alloc: &mut dyn FnMut() -> ObjRef,
    ) -> Result<(ObjRef, Objects), StampError> {
        let face = self.face;
        let [type0, cid, descriptor, file, cid_set, cmap] = std::array::from_fn(|_| alloc());
        let base = format!("{}+{}", self.tag(), face.name);
        let mut objects = Vec::with_capacity(6);

        let mut c = Chunk::new();
        c.type0_font(pdf_ref(type0))
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(pdf_ref(cid))
            .to_unicode(pdf_ref(cmap));
        objects.push((type0, body_of(&c, type0)));

        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let parts = self.parts()?;
        let widths = &parts.widths;
        let mut c = Chunk::new();
        {
            let mut font = c.cid_font(pdf_ref(cid));
            font.subtype(CidFontType::Type2)
                .base_font(Name(base.as_bytes()))
                .system_info(info)
                .font_descriptor(pdf_ref(descriptor))
                .default_width(widths.first().copied().unwrap_or(0.0))
                .cid_to_gid_map_predefined(Name(b"Identity"));
            font.widths().consecutive(0, widths.iter().copied());
        }
        objects.push((cid, body_of(&c, cid)));

        let f = &face.face;
        let bbox = f.global_bounding_box();
        let cap = f.capital_height().unwrap_or(f.ascender());
        let (flags, stem) = match face.weight {
            Weight::Regular => (FontFlags::NON_SYMBOLIC, 80.0),
            Weight::Bold => (FontFlags::NON_SYMBOLIC | FontFlags::FORCE_BOLD, 140.0),
        };
        let mut c = Chunk::new();
        c.font_descriptor(pdf_ref(descriptor))
            .name(Name(base.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                face.scaled(bbox.x_min),
                face.scaled(bbox.y_min),
                face.scaled(bbox.x_max),
                face.scaled(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(face.scaled(f.ascender()))
            .descent(face.scaled(f.descender()))
            .cap_height(face.scaled(cap))
            .stem_v(stem)
            .cid_set(pdf_ref(cid_set))
            .font_file2(pdf_ref(file));
        objects.push((descriptor, body_of(&c, descriptor)));

        let program = &parts.program;
        let mut c = Chunk::new();
        c.stream(pdf_ref(file), &program.packed)
            .filter(Filter::FlateDecode)
            .pair(
                Name(b"Length1"),
                i32::try_from(program.length).unwrap_or(i32::MAX),
            );
        objects.push((file, body_of(&c, file)));

        // CIDSet: one bit per CID, most significant bit first; every CID 0..n is present.
        let n = widths.len();
        let mut bits = vec![0u8; n.div_ceil(8)];
        for i in 0..n {
            bits[i / 8] |= 0x80 >> (i % 8);
        }
        let mut c = Chunk::new();
        c.stream(pdf_ref(cid_set), &bits);
        objects.push((cid_set, body_of(&c, cid_set)));

        let mut c = Chunk::new();
        c.cmap(pdf_ref(cmap), &parts.to_unicode)
            .name(Name(b"Custom"))
            .system_info(info);
        objects.push((cmap, body_of(&c, cmap)));

        Ok((type0, objects))
    }
}

/// A subset's font program, Flate-compressed.
struct Program {
    /// The compressed program.
    packed: Vec<u8>,
    /// The program's length before compression (`/Length1`).
    length: usize,
}

/// What a subset's objects hold besides references: the same for the same glyphs and
/// characters, so it is made once and kept.
struct Parts {
    /// The font program.
    program: Program,
    /// Widths of CIDs 0..n, in the subset's order (thousandths of an em, rounded).
    widths: Vec<f32>,
    /// The ToUnicode CMap (CID -> the character drawn with it).
    to_unicode: Vec<u8>,
}

/// Most subsets' parts kept in memory (some 20 kilobytes each).
const KEPT_PARTS: usize = 32;

impl Subset {
    /// The subset's parts. Subsetting and compressing are most of the cost of drawing a
    /// stamp, and a signing service draws the same words again and again (one agency, one
    /// official, names in printable ASCII, which every subset holds), so the last
    /// [`KEPT_PARTS`] are kept, keyed by face, glyphs and their characters.
    fn parts(&self) -> Result<Arc<Parts>, StampError> {
        type Kept = VecDeque<(Weight, Vec<(u16, char)>, Arc<Parts>)>;
        static KEPT: Mutex<Kept> = Mutex::new(VecDeque::new());
        let key: Vec<(u16, char)> = self.glyphs.iter().map(|(&g, &c)| (g, c)).collect();
        let weight = self.face.weight;
        let lock = || KEPT.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, p)) = lock().iter().find(|(w, k, _)| *w == weight && *k == key) {
            return Ok(Arc::clone(p));
        }
        let program = subsetter::subset(self.face.data, 0, &self.remapper)
            .map_err(|e| StampError::Template(format!("font subset of {}: {e}", self.face.name)))?;
        let widths = self
            .remapper
            .remapped_gids()
            .map(|g| self.face.advance(GlyphId(g)).round() as f32)
            .collect();
        let info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let mut map = UnicodeCmap::new(Name(b"Custom"), info);
        for (&g, &ch) in self.glyphs.iter() {
            if let Some(new) = self.remapper.get(g) {
                map.pair(new, ch);
            }
        }
        // The shared ASCII subset serves nearly every stamp: it is compressed as small as
        // possible, once. Others are made when a new name needs them: fast.
        // Decided by the glyphs and characters (the cache key), so that the same key always
        // gives the same bytes, whichever text made it first.
        let shared = *self.glyphs == *ascii_subset(weight).0;
        let packed = if shared {
            deflate_best(&program)
        } else {
            deflate(&program)
        };
        let parts = Arc::new(Parts {
            program: Program {
                packed,
                length: program.len(),
            },
            widths,
            to_unicode: map.finish().into_vec(),
        });
        let mut kept = lock();
        if kept.len() >= KEPT_PARTS {
            kept.pop_front();
        }
        kept.push_back((weight, key, Arc::clone(&parts)));
        Ok(parts)
    }
}

/// Flate (zlib format) at the fastest level: the stamp is drawn on every signing request.
///
/// Each thread keeps one compressor and resets it between uses: a fresh one allocates and
/// clears a few hundred kilobytes of tables, which would cost more than compressing a stamp.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    thread_local! {
        static COMPRESS: RefCell<flate2::Compress> =
            RefCell::new(flate2::Compress::new(flate2::Compression::fast(), true));
    }
    COMPRESS.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        loop {
            let done = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
            let rest = data.get(done..).unwrap_or(&[]);
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            match c.compress_vec(rest, &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => break,
                Ok(_) => {}
                // The in-memory compressor fails only on misuse (it is reset before each use).
                Err(_) => return zlib_stored(data),
            }
        }
        out
    })
}

/// Flate (zlib format) at the best level, for what is made once and serves nearly every stamp:
/// the font programs of the faces' ASCII subsets.
fn deflate_best(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut z = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::best(),
    );
    if z.write_all(data).is_err() {
        return zlib_stored(data);
    }
    z.finish().unwrap_or_else(|_| zlib_stored(data))
}

/// `data` as a zlib stream of stored (uncompressed) blocks: the fallback of [`deflate`].
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        let len = block.len() as u16;
        out.push(u8::from(blocks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_come_from_the_font() {
        let f = FontFace::get(Weight::Regular);
        // DejaVu Sans: 'i' is narrower than 'W', and a 10 pt "WWW" is three times a 10 pt "W".
        assert!(f.width("i", 10.0) < f.width("W", 10.0));
        assert!((f.width("WWW", 10.0) - 3.0 * f.width("W", 10.0)).abs() < 1e-9);
        assert!(FontFace::get(Weight::Bold).width("Budi", 9.0) > f.width("Budi", 9.0));
        assert!(f.ascent(10.0) > 0.0 && f.descent(10.0) < 0.0);
    }

    #[test]
    fn a_missing_character_is_named() {
        let e = FontFace::get(Weight::Regular)
            .check("Tanda 印")
            .expect_err("CJK is not in DejaVu Sans");
        assert_eq!(
            e,
            StampError::MissingGlyph {
                ch: '印',
                code: 0x5370,
                text: "Tanda 印".into()
            }
        );
    }

    #[test]
    fn the_subset_tag_depends_on_the_glyphs_only() {
        let set = |t: &str| {
            let mut s = GlyphSet::new(Weight::Regular);
            s.add(t).expect("glyphs");
            s.finish()
        };
        assert_eq!(set("abc").tag(), set("cba").tag());
        // Every subset holds printable ASCII: ASCII text always gives the same subset.
        assert_eq!(set("abc").tag(), set("Budi Santoso 1987").tag());
        assert_ne!(set("abcé").tag(), set("abcè").tag());
        assert_ne!(set("abc").tag(), set("abcé").tag());
        assert!(set("abc").tag().bytes().all(|b| b.is_ascii_uppercase()));
        assert_eq!(set("abc").tag().len(), 6);
    }

    fn inflate(z: &[u8]) -> Vec<u8> {
        use std::io::Read as _;
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(z)
            .read_to_end(&mut out)
            .expect("a valid zlib stream");
        out
    }

    #[test]
    fn deflate_round_trips_again_and_again() {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for data in [&b""[..], b"q Q", &big, b"BT ET"] {
            let z = deflate(data);
            assert_eq!(inflate(&z), data);
            assert_eq!(deflate(data), z, "the same bytes every time");
            assert_eq!(inflate(&zlib_stored(data)), data);
            assert_eq!(inflate(&deflate_best(data)), data);
        }
        assert!(deflate(&big).len() < big.len() / 4);
    }

    #[test]
    fn a_kept_program_is_the_one_that_would_be_made() {
        let set = |t: &str| {
            let mut s = GlyphSet::new(Weight::Bold);
            s.add(t).expect("glyphs");
            s.finish()
        };
        let first = set("Kementerian Contoh").parts().expect("parts");
        let again = set("Contoh Kementerian").parts().expect("parts");
        assert!(Arc::ptr_eq(&first, &again), "same glyphs: kept");
        // A new ASCII name has the same glyphs (printable ASCII), so it is kept too.
        let named = set("Pejabat Nomor 4711").parts().expect("parts");
        assert!(Arc::ptr_eq(&first, &named), "ASCII text: kept");
        let fresh =
            subsetter::subset(BOLD_DATA, 0, &set("Kementerian Contoh").remapper).expect("subset");
        assert_eq!(first.program.length, fresh.len());
        assert_eq!(first.program.packed, deflate_best(&fresh));
        // One width per CID, .notdef and printable ASCII included.
        assert_eq!(first.widths.len(), set("x").remapper.num_gids() as usize);
        assert!(first.widths.len() > 95);
        let other = set("Kementerian Cöntoh").parts().expect("parts");
        assert!(!Arc::ptr_eq(&first, &other));
        // A subset beyond ASCII is compressed fast (it is made while a request waits).
        let fresh =
            subsetter::subset(BOLD_DATA, 0, &set("Kementerian Cöntoh").remapper).expect("subset");
        assert_eq!(other.program.packed, deflate(&fresh));
        // A subset of DejaVu Sans is far smaller than the face.
        assert!(first.program.packed.len() < BOLD_DATA.len() / 20);
    }

    #[test]
    fn the_shared_ascii_subset_is_the_one_ascii_text_makes() {
        for weight in [Weight::Regular, Weight::Bold] {
            let face = FontFace::get(weight);
            // Every printable ASCII character has a glyph of its own.
            let glyphs: std::collections::BTreeSet<u16> =
                face.ascii.iter().map(|(g, _)| g.0).collect();
            assert_eq!(glyphs.len(), ASCII.len());
            assert!(!glyphs.contains(&0));
            for text in ["Budi Santoso", "~}| NIP. 1987 {", ""] {
                let mut map = BTreeMap::new();
                for ch in text.chars() {
                    map.entry(face.glyph(ch, text).expect("glyph").0)
                        .or_insert(ch);
                }
                let (slow, slow_numbers) = numbered(face, map);
                let mut set = GlyphSet::new(weight);
                set.add(text).expect("glyphs");
                let fast = set.finish();
                assert_eq!(*fast.glyphs, *slow, "{text}");
                assert_eq!(*fast.remapper, *slow_numbers, "{text}");
            }
        }
    }

    #[test]
    fn text_is_encoded_as_the_subsets_cids() {
        let mut s = GlyphSet::new(Weight::Regular);
        s.add("ba é").expect("glyphs");
        let s = s.finish();
        // CIDs follow the glyph numbers: 'a' (glyph 68 in DejaVu) before 'b' (69), both after
        // the space (3); every glyph up to 'a' is kept (printable ASCII), so 'a' is CID 66.
        let cid = |t: &str| s.encode(t).expect("encodes");
        assert_eq!(cid("ab"), vec![0, 66, 0, 67]);
        assert_eq!(cid(" "), vec![0, 1]);
        // Printable ASCII is always in; other characters only when added.
        assert_eq!(cid("~").len(), 2);
        assert_eq!(cid("é").len(), 2);
        assert!(s.encode("è").is_err());
        let mut t = GlyphSet::new(Weight::Regular);
        t.add("x").expect("glyphs");
        assert!(t.finish().encode("é").is_err());
    }
}
