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

mod objects;
mod xref;

use objects::ObjectStream;
use xref::Row;

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
