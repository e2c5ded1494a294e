//! A lazily read PDF: cross-reference sections (ISO 32000-2 §7.5.4, §7.5.8), the trailer, and
//! objects resolved on demand.
//!
//! Opening a document reads only the cross-reference data, walking `/Prev` (and `/XRefStm` in
//! hybrid files) from the last `startxref`. Objects are parsed when asked for, so the cost of
//! signing does not grow with the number of objects in the file. Every xref entry that is used is
//! checked: the object header at the recorded offset must name the same object, or the document
//! is refused — the engine never "repairs" a file.
//!
//! Reading is bounded: every object read, byte inflated and cross-reference row stored is
//! charged to the open's [budget](super::budget), and resolving a reference that leads back to an object
//! being resolved (a `/Length` or an object stream that needs itself) is refused.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::budget::Budget;
use super::filter;
use super::object::{Dict, ObjRef, Object};
use super::parse::{stream, Parser};
use crate::error::{Error, LimitError, NotPdfReason, Result, SyntaxError, XrefError};

/// How far from the end of the file `startxref` is looked for (allows trailing garbage).
const STARTXREF_WINDOW: usize = 64 * 1024;
/// At most this many cross-reference sections (`/Prev` links).
const MAX_SECTIONS: usize = 10_000;
/// Largest object number accepted, plus one (ISO 32000-2 Annex C).
pub(crate) const MAX_OBJECTS: u64 = 8_388_607;
/// Most references resolved inside one another (an object's `/Length`, the object stream that
/// holds it, that stream's `/Length`, …); real files need three or four.
const MAX_RESOLVE_DEPTH: usize = 16;

/// Where an object lives, per the cross-reference data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefEntry {
    /// A free entry.
    Free,
    /// An object at a byte offset.
    InFile {
        /// Byte offset of `N G obj`.
        offset: usize,
        /// Generation number.
        gen: u16,
    },
    /// An object inside an object stream.
    Compressed {
        /// Object number of the object stream.
        stream: u32,
        /// Index inside the stream.
        index: u32,
    },
}

/// What kind of cross-reference section a file ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XrefKind {
    /// A classic `xref` table.
    Table,
    /// A cross-reference stream (PDF 1.5+).
    Stream,
}

/// A parsed, lazily resolved PDF document.
#[derive(Debug)]
pub struct Document<'a> {
    data: &'a [u8],
    /// Sorted by object number, one entry each (the newest section's), after `open`.
    entries: Vec<Row>,
    trailer: Dict,
    startxref: usize,
    last_kind: XrefKind,
    version: (u8, u8),
    objstm_cache: RefCell<HashMap<u32, Rc<ObjectStream>>>,
    /// Every cross-reference section read, newest first.
    sections: Vec<Section>,
    /// What reading may still cost (shared with every document of the same scope).
    budget: Rc<Budget>,
    /// The references being resolved, outermost first (cycle and depth check).
    resolving: RefCell<Vec<ObjRef>>,
}

/// One cross-reference row in 16 bytes: the object number with the kind in its top two bits,
/// then the generation or index, then the offset or object stream number.
#[derive(Debug, Clone, Copy)]
struct Row {
    num_kind: u32,
    a: u32,
    b: u64,
}

const KIND_SHIFT: u32 = 30;
const NUM_MASK: u32 = (1 << KIND_SHIFT) - 1;

impl Row {
    fn new(num: u32, entry: XrefEntry) -> Self {
        // Object numbers stay below MAX_OBJECTS < 2^23, so the kind bits are free.
        let (kind, a, b) = match entry {
            XrefEntry::Free => (0, 0, 0),
            XrefEntry::InFile { offset, gen } => (1, u32::from(gen), offset as u64),
            XrefEntry::Compressed { stream, index } => (2, index, u64::from(stream)),
        };
        Self {
            num_kind: kind << KIND_SHIFT | (num & NUM_MASK),
            a,
            b,
        }
    }

    fn num(self) -> u32 {
        self.num_kind & NUM_MASK
    }

    fn entry(self) -> XrefEntry {
        match self.num_kind >> KIND_SHIFT {
            1 => XrefEntry::InFile {
                // Both were checked when the row was read: an offset inside the file, a
                // generation below 65536.
                offset: self.b as usize,
                gen: self.a as u16,
            },
            2 => XrefEntry::Compressed {
                stream: self.b as u32,
                index: self.a,
            },
            _ => XrefEntry::Free,
        }
    }
}

/// Pops the reference being resolved when dropped.
struct Resolving<'d>(&'d RefCell<Vec<ObjRef>>);

impl Drop for Resolving<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().pop();
    }
}

/// One cross-reference section: where it is and which objects it lists.
#[derive(Debug, Clone)]
pub struct Section {
    /// Byte offset of the section (`xref` keyword or xref stream object).
    pub offset: usize,
    /// Object numbers it lists (with its `/XRefStm` in hybrid files), sorted.
    pub objects: Vec<u32>,
    /// Its trailer's `/Prev`, if any.
    pub prev: Option<i64>,
}

/// `/Type` and `/Kids` of a page tree node, read without parsing the rest.
#[derive(Debug, Default)]
pub(crate) struct NodeSkim {
    /// `/Type /Pages`.
    pub(crate) pages: bool,
    /// `/Kids`, as written (array or reference).
    pub(crate) kids: Option<Object>,
}

#[derive(Debug)]
struct ObjectStream {
    data: Vec<u8>,
    /// (object number, offset from `/First`) per index.
    offsets: Vec<(u32, u32)>,
    first: usize,
}

impl<'a> Document<'a> {
    /// Open a document: check the header, read every cross-reference section.
    ///
    /// # Errors
    /// [`Error::NotPdf`] for empty input or a missing header, [`Error::Xref`] for missing,
    /// looping or malformed cross-reference data, [`Error::Encrypted`] for encrypted files.
    pub fn open(data: &'a [u8]) -> Result<Self> {
        let version = check_header(data)?;
        // A spent budget refuses at once: a caller that opens many prefixes of a file and
        // skips the ones that fail does not scan again for each.
        let budget = Budget::current_or_new(data.len());
        budget.charge_parsed(data.len().min(STARTXREF_WINDOW))?;
        let startxref = find_startxref(data)?;
        let mut doc = Document {
            data,
            entries: Vec::new(),
            trailer: Dict::new(),
            startxref,
            last_kind: XrefKind::Table,
            version,
            objstm_cache: RefCell::new(HashMap::new()),
            budget,
            resolving: RefCell::new(Vec::new()),
            sections: Vec::new(),
        };
        let mut seen = HashSet::new();
        let mut next = Some(startxref);
        let mut first = true;
        while let Some(offset) = next {
            if !seen.insert(offset) {
                return Err(Error::Xref(XrefError::PrevCycle { offset }));
            }
            if seen.len() > MAX_SECTIONS {
                return Err(Error::Limit(LimitError::Count {
                    what: "the number of cross-reference sections",
                    value: seen.len() as u64,
                }));
            }
            let before = doc.entries.len();
            let (kind, trailer) = doc.read_section(offset)?;
            let mut listed: Vec<u32> = doc.entries[before..].iter().map(|r| r.num()).collect();
            listed.sort_unstable();
            listed.dedup();
            doc.sections.push(Section {
                offset,
                objects: listed,
                prev: trailer.get(b"Prev").and_then(Object::as_i64),
            });
            if first {
                doc.last_kind = kind;
                doc.trailer = trailer.clone();
                first = false;
            }
            next = match trailer.get(b"Prev") {
                None => None,
                Some(Object::Integer(p)) => Some(doc.check_offset(*p)?),
                Some(other) => {
                    return Err(Error::xref_malformed(
                        offset,
                        format!("/Prev is a {}, not an offset", other.type_name()),
                    ))
                }
            };
        }
        // Entries were pushed newest first; a stable sort keeps that order among equal numbers,
        // and dedup keeps the first, i.e. the newest.
        doc.entries.sort_by_key(|r| r.num());
        doc.entries.dedup_by_key(|r| r.num());
        doc.entries.shrink_to_fit();
        if doc.trailer.get(b"Encrypt").is_some() {
            return Err(Error::Encrypted);
        }
        Ok(doc)
    }

    /// The whole file.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The newest trailer (for a cross-reference stream: its dictionary).
    pub fn trailer(&self) -> &Dict {
        &self.trailer
    }

    /// Byte offset that the final `startxref` points to.
    pub fn startxref(&self) -> usize {
        self.startxref
    }

    /// Kind of the newest cross-reference section.
    pub fn xref_kind(&self) -> XrefKind {
        self.last_kind
    }

    /// The cross-reference sections, newest first (the `/Prev` chain from `startxref`).
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Header version `(major, minor)`.
    pub fn version(&self) -> (u8, u8) {
        self.version
    }

    /// The cross-reference entry of object `num`.
    pub fn entry(&self, num: u32) -> Option<XrefEntry> {
        self.lookup(num)
    }

    /// One past the largest object number in use.
    pub fn max_object_number(&self) -> u32 {
        self.entries
            .iter()
            .rev()
            .find(|r| !matches!(r.entry(), XrefEntry::Free))
            .map_or(0, |r| r.num().saturating_add(1))
    }

    fn lookup(&self, num: u32) -> Option<XrefEntry> {
        self.entries
            .binary_search_by_key(&num, |r| r.num())
            .ok()
            .map(|i| self.entries[i].entry())
    }

    fn check_offset(&self, value: i64) -> Result<usize> {
        usize::try_from(value)
            .ok()
            .filter(|&o| o < self.data.len())
            .ok_or(Error::Xref(XrefError::OffsetOutOfRange {
                offset: value.unsigned_abs(),
                len: self.data.len(),
            }))
    }

    /// Read one section at `offset`; record entries not yet known; return its trailer.
    fn read_section(&mut self, offset: usize) -> Result<(XrefKind, Dict)> {
        let mut p = Parser::new(self.data, offset);
        if p.eat_keyword(b"xref") {
            let mut table = Vec::new();
            loop {
                p.skip_ws();
                if p.eat_keyword(b"trailer") {
                    break;
                }
                let start = p.parse_uint()?;
                let count = p.parse_uint()?;
                if start.saturating_add(count) > MAX_OBJECTS {
                    return Err(Error::Limit(LimitError::Count {
                        what: "an xref subsection's object range",
                        value: start.saturating_add(count),
                    }));
                }
                for i in 0..count {
                    let at = p.pos();
                    let off = p.parse_uint()?;
                    let gen = p.parse_uint()?;
                    p.skip_ws();
                    let kind = self.data.get(p.pos()).copied();
                    p.set_pos(p.pos() + 1);
                    let num = (start + i) as u32;
                    let gen = u16::try_from(gen)
                        .map_err(|_| Error::xref_malformed(at, "generation number above 65535"))?;
                    let entry = match kind {
                        Some(b'n') => XrefEntry::InFile {
                            offset: self.check_offset(off as i64)?,
                            gen,
                        },
                        Some(b'f') => XrefEntry::Free,
                        _ => {
                            return Err(Error::xref_malformed(
                                at,
                                "xref entry is neither 'n' nor 'f'",
                            ))
                        }
                    };
                    table.push(Row::new(num, entry));
                }
                self.budget.charge_rows(count)?;
            }
            let trailer = p.parse_object();
            self.budget.charge_object(p.pos() - offset)?;
            let trailer = match trailer? {
                Object::Dict(d) => d,
                other => {
                    return Err(Error::xref_malformed(
                        p.pos(),
                        format!("trailer is a {}, not a dictionary", other.type_name()),
                    ))
                }
            };
            // Hybrid file: a table entry in use wins, then the /XRefStm entries, then free
            // entries of the table (ISO 32000-2 §7.5.8.4).
            for &row in &table {
                if !matches!(row.entry(), XrefEntry::Free) {
                    self.entries.push(row);
                }
            }
            if let Some(xs) = trailer.get(b"XRefStm") {
                let xs = xs
                    .as_i64()
                    .ok_or_else(|| Error::xref_malformed(offset, "/XRefStm is not an offset"))?;
                let xs = self.check_offset(xs)?;
                self.read_xref_stream(xs)?;
            }
            self.entries.extend_from_slice(&table);
            Ok((XrefKind::Table, trailer))
        } else {
            let dict = self.read_xref_stream(offset)?;
            Ok((XrefKind::Stream, dict))
        }
    }

    fn read_xref_stream(&mut self, offset: usize) -> Result<Dict> {
        let mut p = Parser::new(self.data, offset);
        p.parse_obj_header()
            .map_err(|_| Error::Xref(XrefError::NotXref { offset }))?;
        let dict = p.parse_object();
        self.budget.charge_object(p.pos() - offset)?;
        let dict = match dict? {
            Object::Dict(d) if d.has_type(b"XRef") => d,
            _ => return Err(Error::Xref(XrefError::NotXref { offset })),
        };
        // The /Length of an xref stream must be direct (§7.5.8.2).
        let len = dict.get(b"Length").and_then(Object::as_i64);
        let range = p
            .parse_stream_tail(len)?
            .ok_or_else(|| Error::xref_malformed(offset, "xref stream has no stream data"))?;
        let decoded = self.decode(&dict, range, offset)?;
        let w: Vec<usize> = dict
            .get(b"W")
            .and_then(Object::as_array)
            .and_then(|a| {
                a.iter()
                    .map(|o| o.as_i64().and_then(|v| usize::try_from(v).ok()))
                    .collect::<Option<Vec<_>>>()
            })
            .filter(|w| w.len() == 3 && w.iter().all(|&x| x <= 8))
            .ok_or_else(|| {
                Error::xref_malformed(offset, "/W must be an array of three widths 0..8")
            })?;
        let size = dict
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| Error::xref_malformed(offset, "xref stream without a valid /Size"))?;
        let index: Vec<u64> = match dict.get(b"Index") {
            None => vec![0, size],
            Some(Object::Array(a)) => a
                .iter()
                .map(|o| o.as_i64().and_then(|v| u64::try_from(v).ok()))
                .collect::<Option<Vec<_>>>()
                .filter(|v| v.len() % 2 == 0)
                .ok_or_else(|| {
                    Error::xref_malformed(offset, "/Index must hold pairs of integers")
                })?,
            Some(_) => return Err(Error::xref_malformed(offset, "/Index is not an array")),
        };
        let row = w[0] + w[1] + w[2];
        if row == 0 {
            return Err(Error::xref_malformed(offset, "/W sums to zero"));
        }
        let mut rows = decoded.chunks_exact(row);
        for pair in index.chunks_exact(2) {
            let (start, count) = (pair[0], pair[1]);
            if start.saturating_add(count) > MAX_OBJECTS {
                return Err(Error::Limit(LimitError::Count {
                    what: "an xref stream's object range",
                    value: start.saturating_add(count),
                }));
            }
            // Charged before the rows are stored: no more than the data holds.
            self.budget.charge_rows(count.min(rows.len() as u64))?;
            for i in 0..count {
                let r = rows.next().ok_or_else(|| {
                    Error::xref_malformed(offset, "xref stream data is shorter than /Index says")
                })?;
                let field = |k: usize, default: u64| -> u64 {
                    let from = w[..k].iter().sum::<usize>();
                    if w[k] == 0 {
                        default
                    } else {
                        r[from..from + w[k]]
                            .iter()
                            .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
                    }
                };
                let num = (start + i) as u32;
                let entry = match field(0, 1) {
                    0 => XrefEntry::Free,
                    1 => XrefEntry::InFile {
                        offset: self
                            .check_offset(i64::try_from(field(1, 0)).unwrap_or(i64::MAX))?,
                        gen: u16::try_from(field(2, 0))
                            .map_err(|_| Error::xref_malformed(offset, "generation above 65535"))?,
                    },
                    2 => XrefEntry::Compressed {
                        stream: u32::try_from(field(1, 0)).map_err(|_| {
                            Error::xref_malformed(offset, "object stream number out of range")
                        })?,
                        index: u32::try_from(field(2, 0)).map_err(|_| {
                            Error::xref_malformed(offset, "object stream index out of range")
                        })?,
                    },
                    // Unknown types are to be treated as null references (§7.5.8.3).
                    _ => XrefEntry::Free,
                };
                self.entries.push(Row::new(num, entry));
            }
        }
        Ok(dict)
    }

    /// Resolve a reference to its object. A reference to a free or missing object is `null`
    /// (ISO 32000-2 §7.3.10).
    ///
    /// # Errors
    /// When the xref entry points at something that is not that object, the object is
    /// malformed, resolving it needs itself (a `/Length` cycle), or the open's budget is spent.
    pub fn resolve(&self, r: ObjRef) -> Result<Object> {
        let _resolving = self.enter(r)?;
        match self.lookup(r.num) {
            None | Some(XrefEntry::Free) => Ok(Object::Null),
            Some(XrefEntry::InFile { offset, gen }) => {
                if gen != r.gen {
                    return Ok(Object::Null);
                }
                self.parse_indirect_at(offset, r)
            }
            Some(XrefEntry::Compressed { stream, index }) => {
                if r.gen != 0 {
                    return Ok(Object::Null);
                }
                let os = self.object_stream(stream)?;
                let &(num, rel) = os.offsets.get(index as usize).ok_or_else(|| {
                    Error::Xref(XrefError::MissingObject(format!(
                        "{r} (index {index} of object stream {stream})"
                    )))
                })?;
                if num != r.num {
                    return Err(Error::syntax(
                        0,
                        SyntaxError::WrongObject {
                            wanted: r.to_string(),
                            found: format!("{num} 0 R in object stream {stream}"),
                        },
                    ));
                }
                let start = os.first + rel as usize;
                let mut p = Parser::new(&os.data, start);
                let obj = p.parse_object();
                self.budget.charge_object(p.pos() - start)?;
                obj
            }
        }
    }

    /// Charge hashing `bytes` bytes of this document to its budget.
    ///
    /// # Errors
    /// When the budget is spent.
    pub(crate) fn charge_hash(&self, bytes: usize) -> Result<()> {
        self.budget.charge_hash(bytes)
    }

    /// Mark `r` as being resolved until the guard is dropped; refuse a reference already being
    /// resolved (a cycle) or one too many inside one another.
    fn enter(&self, r: ObjRef) -> Result<Resolving<'_>> {
        let mut stack = self.resolving.borrow_mut();
        if stack.contains(&r) || stack.len() >= MAX_RESOLVE_DEPTH {
            let mut chain: Vec<String> = stack.iter().map(ToString::to_string).collect();
            chain.push(r.to_string());
            return Err(Error::Xref(XrefError::ReferenceCycle {
                chain: chain.join(" -> "),
            }));
        }
        stack.push(r);
        Ok(Resolving(&self.resolving))
    }

    /// Read only `/Type` and `/Kids` of object `r` (a page tree node), skipping everything else
    /// without building it. `None` when the object is not a dictionary.
    ///
    /// # Errors
    /// As [`Document::resolve`].
    pub(crate) fn skim_node(&self, r: ObjRef) -> Result<Option<NodeSkim>> {
        fn skim(p: &mut Parser<'_>) -> Result<Option<NodeSkim>> {
            if !p.eat_dict_open() {
                return Ok(None);
            }
            let mut node = NodeSkim::default();
            while let Some(key) = p.next_key()? {
                match &*key {
                    b"Type" => node.pages = p.parse_name_value()?.as_deref() == Some(b"Pages"),
                    b"Kids" => node.kids = Some(p.parse_object()?),
                    _ => p.skip_value(1)?,
                }
            }
            Ok(Some(node))
        }
        match self.lookup(r.num) {
            None | Some(XrefEntry::Free) => Ok(None),
            Some(XrefEntry::InFile { offset, gen }) => {
                if gen != r.gen {
                    return Ok(None);
                }
                let mut p = self.parser_after_header(offset, r)?;
                let node = skim(&mut p);
                self.budget.charge_object(p.pos() - offset)?;
                node
            }
            Some(XrefEntry::Compressed { .. }) => match self.resolve(r)? {
                Object::Dict(d) => Ok(Some(NodeSkim {
                    pages: d.has_type(b"Pages"),
                    kids: d.get(b"Kids").cloned(),
                })),
                _ => Ok(None),
            },
        }
    }

    /// Resolve `obj` if it is a reference, else return a clone of it.
    ///
    /// # Errors
    /// As [`Document::resolve`].
    pub fn deref(&self, obj: &Object) -> Result<Object> {
        match obj {
            Object::Reference(r) => self.resolve(*r),
            other => Ok(other.clone()),
        }
    }

    /// Resolve a reference that must be a dictionary (or stream), naming `role` in the error.
    ///
    /// # Errors
    /// If it is anything else.
    pub fn resolve_dict(&self, obj: &Object, role: &'static str) -> Result<Dict> {
        match self.deref(obj)? {
            Object::Dict(d) => Ok(d),
            Object::Stream(s) => Ok(s.dict),
            other => Err(Error::structure(format!(
                "{role} should be a dictionary, found {}",
                other.type_name()
            ))),
        }
    }

    /// A parser just after the `N G obj` header at `offset`, which must name `r`.
    fn parser_after_header(&self, offset: usize, r: ObjRef) -> Result<Parser<'a>> {
        let mut p = Parser::new(self.data, offset);
        let wrong = |found: String| {
            Error::syntax(
                offset,
                SyntaxError::WrongObject {
                    wanted: r.to_string(),
                    found,
                },
            )
        };
        let found = p
            .parse_obj_header()
            .map_err(|_| wrong("no object header".into()))?;
        if found != r {
            return Err(wrong(found.to_string()));
        }
        Ok(p)
    }

    /// Parse the object `r` at `offset` (the caller has entered `r`, see [`Document::enter`]).
    fn parse_indirect_at(&self, offset: usize, r: ObjRef) -> Result<Object> {
        let mut p = self.parser_after_header(offset, r)?;
        let obj = p.parse_object();
        // Charged whether or not it parses: a caller that skips unreadable objects must not
        // be able to parse the same bytes again for free.
        self.budget.charge_object(p.pos() - offset)?;
        let obj = obj?;
        let Object::Dict(d) = obj else {
            return Ok(obj);
        };
        let save = p.pos();
        if !p.clone().eat_keyword(b"stream") {
            return Ok(Object::Dict(d));
        }
        let len = match d.get(b"Length") {
            Some(Object::Integer(l)) => Some(*l),
            // Resolved like any reference: one that leads back here is a cycle.
            Some(Object::Reference(lr)) => self.resolve(*lr)?.as_i64(),
            _ => None,
        };
        let range = p
            .parse_stream_tail(len)?
            .ok_or(Error::syntax(save, SyntaxError::BadStreamLength))?;
        Ok(stream(d, range))
    }

    /// Decode the stream data at `range` (xref or object stream), within what the budget
    /// still allows to be inflated.
    fn decode(&self, dict: &Dict, range: std::ops::Range<usize>, offset: usize) -> Result<Vec<u8>> {
        let left = self.budget.decoded_left();
        match filter::decode(
            dict,
            &self.data[range],
            offset,
            left.min(filter::MAX_DECODED),
        ) {
            Ok(data) => {
                self.budget.charge_decoded(data.len())?;
                Ok(data)
            }
            Err(Error::Limit(LimitError::Decompressed { .. })) if left < filter::MAX_DECODED => {
                // The open's budget is spent, not only this stream's cap (sticky).
                Err(self.budget.exhaust_decoded())
            }
            Err(e) => Err(e),
        }
    }

    fn object_stream(&self, num: u32) -> Result<Rc<ObjectStream>> {
        if let Some(os) = self.objstm_cache.borrow().get(&num) {
            return Ok(os.clone());
        }
        let _resolving = self.enter(ObjRef::new(num, 0))?;
        let offset = match self.lookup(num) {
            Some(XrefEntry::InFile { offset, .. }) => offset,
            _ => {
                return Err(Error::Xref(XrefError::MissingObject(format!(
                    "{num} 0 R (an object stream must be a plain object in the file)"
                ))))
            }
        };
        let s = match self.parse_indirect_at(offset, ObjRef::new(num, 0))? {
            Object::Stream(s) if s.dict.has_type(b"ObjStm") => s,
            _ => {
                return Err(Error::xref_malformed(
                    offset,
                    format!("object {num} 0 R is used as an object stream but is not one"),
                ))
            }
        };
        let data = self.decode(&s.dict, s.data.clone(), offset)?;
        let n = s.dict.get(b"N").and_then(Object::as_i64).unwrap_or(-1);
        let first = s.dict.get(b"First").and_then(Object::as_i64).unwrap_or(-1);
        let (n, first) = match (usize::try_from(n), usize::try_from(first)) {
            (Ok(n), Ok(f)) if f <= data.len() => (n, f),
            _ => {
                return Err(Error::xref_malformed(
                    offset,
                    format!(
                        "object stream /N {n} or /First {first} invalid ({} bytes decoded)",
                        data.len()
                    ),
                ))
            }
        };
        // Each pair `num offset` takes at least four bytes ("1 0 "), the last one three.
        if n > (first + 1) / 4 {
            return Err(Error::xref_malformed(
                offset,
                format!("object stream /N {n} pairs cannot fit in its /First {first} bytes"),
            ));
        }
        let mut p = Parser::new(&data[..first], 0);
        let mut offsets = Vec::with_capacity(n);
        for _ in 0..n {
            let obj = p.parse_uint()?;
            let rel = p.parse_uint()?;
            let obj = u32::try_from(obj).map_err(|_| {
                Error::xref_malformed(offset, "object stream object number out of range")
            })?;
            let rel = u32::try_from(rel)
                .ok()
                .filter(|&r| (r as usize) < data.len() - first)
                .ok_or_else(|| {
                    Error::xref_malformed(
                        offset,
                        format!("object stream offset {rel} lies past its data"),
                    )
                })?;
            offsets.push((obj, rel));
        }
        self.budget.charge_parsed(first)?;
        let os = Rc::new(ObjectStream {
            data,
            offsets,
            first,
        });
        self.objstm_cache.borrow_mut().insert(num, os.clone());
        Ok(os)
    }
}

fn check_header(data: &[u8]) -> Result<(u8, u8)> {
    if data.is_empty() {
        return Err(Error::NotPdf(NotPdfReason::Empty));
    }
    if !data.starts_with(b"%PDF-") {
        let head: String = data
            .iter()
            .take(40)
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        return Err(Error::NotPdf(NotPdfReason::NoHeader(head)));
    }
    let major = data.get(5).filter(|b| b.is_ascii_digit()).map(|b| b - b'0');
    let minor = data.get(7).filter(|b| b.is_ascii_digit()).map(|b| b - b'0');
    match (major, data.get(6), minor) {
        (Some(ma), Some(b'.'), Some(mi)) => Ok((ma, mi)),
        _ => Err(Error::NotPdf(NotPdfReason::NoHeader(
            String::from_utf8_lossy(&data[..data.len().min(12)]).into_owned(),
        ))),
    }
}

/// Find the offset given by the last `startxref` in the file.
fn find_startxref(data: &[u8]) -> Result<usize> {
    let from = data.len().saturating_sub(STARTXREF_WINDOW);
    let window = &data[from..];
    let pos = window
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or(Error::Xref(XrefError::NoStartXref))?;
    let mut p = Parser::new(data, from + pos + 9);
    let off = p
        .parse_uint()
        .map_err(|_| Error::Xref(XrefError::NoStartXref))?;
    usize::try_from(off)
        .ok()
        .filter(|&o| o < data.len())
        .ok_or(Error::Xref(XrefError::OffsetOutOfRange {
            offset: off,
            len: data.len(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn tiny_pdf() -> Vec<u8> {
        let mut out = b"%PDF-1.4\n".to_vec();
        let objs = [
            "<</Type/Catalog/Pages 2 0 R>>",
            "<</Type/Pages/Kids[3 0 R]/Count 1>>",
            "<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>",
        ];
        let mut offs = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offs.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let x = out.len();
        out.extend_from_slice(b"xref\n0 4\n0000000000 65535 f \n");
        for o in offs {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n{x}\n%%EOF").as_bytes(),
        );
        out
    }

    #[test]
    fn opens_a_minimal_file() {
        let data = tiny_pdf();
        let doc = Document::open(&data).expect("opens");
        let root = doc.trailer().get(b"Root").cloned().expect("root");
        let cat = doc.resolve_dict(&root, "catalog").expect("catalog");
        assert!(cat.has_type(b"Catalog"));
        assert_eq!(doc.max_object_number(), 4);
    }

    #[test]
    fn refuses_a_wrong_offset() {
        let mut data = tiny_pdf();
        // Point object 3's entry at object 2.
        let s = String::from_utf8(data.clone()).expect("ascii");
        let off2 = s.find("2 0 obj").expect("obj 2");
        let off3 = s.find("3 0 obj").expect("obj 3");
        let needle = format!("{off3:010} 00000 n");
        let at = s.find(&needle).expect("entry");
        data[at..at + 10].copy_from_slice(format!("{off2:010}").as_bytes());
        let doc = Document::open(&data).expect("table itself is fine");
        let err = doc.resolve(ObjRef::new(3, 0)).expect_err("must refuse");
        assert!(err.to_string().contains("not 3 0 R"), "{err}");
    }

    #[test]
    fn refuses_prev_cycles_and_garbage() {
        assert!(matches!(
            Document::open(b""),
            Err(Error::NotPdf(NotPdfReason::Empty))
        ));
        assert!(matches!(
            Document::open(b"<html>502</html>"),
            Err(Error::NotPdf(NotPdfReason::NoHeader(_)))
        ));
        let data = tiny_pdf();
        let cut = &data[..data.len() * 7 / 10];
        assert!(matches!(
            Document::open(cut),
            Err(Error::Xref(XrefError::NoStartXref))
        ));
        let mut looped = tiny_pdf();
        let s = String::from_utf8(looped.clone()).expect("ascii");
        let x = s.find("xref\n").expect("xref");
        let t = s.find("/Size 4").expect("size");
        looped.splice(t..t, format!("/Prev {x}").bytes());
        // Fix the startxref value, which moved by the inserted length? It did not: startxref
        // points before the insertion.
        assert!(matches!(
            Document::open(&looped),
            Err(Error::Xref(XrefError::PrevCycle { .. }))
        ));
    }
}
