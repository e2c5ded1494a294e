//! Incremental updates (ISO 32000-2 §7.5.6): new and replaced objects appended after the
//! original bytes, with a cross-reference section of the same kind as the file's newest one
//! (a table stays a table — PDF/A-1 forbids xref streams — and a stream stays a stream).
//!
//! The original bytes are never touched: the update is a separate `tail` that follows them.

use super::document::{Document, XrefKind, MAX_OBJECTS};
use super::object::{Dict, ObjRef, Object};
use crate::error::{Error, Result};

/// An incremental update being assembled.
#[derive(Debug)]
pub struct Update<'d, 'a> {
    doc: &'d Document<'a>,
    next_num: u32,
    objects: Vec<(ObjRef, Vec<u8>)>,
    /// The objects put with [`Update::put_object`], so that a later edit of the same object
    /// (a page that gets the footer and then the seal's widget) starts from the edited one.
    edited: std::collections::HashMap<u32, Object>,
}

/// The bytes of a finished update, to be appended to the original file.
#[derive(Debug)]
pub struct Tail {
    /// The appended bytes.
    pub bytes: Vec<u8>,
    /// For each object put into the update, the offset in `bytes` where its body starts (just
    /// after `N G obj\n`), in the order the objects were put.
    pub body_offsets: Vec<(ObjRef, usize)>,
}

impl<'d, 'a> Update<'d, 'a> {
    /// Start an update on top of `doc`.
    pub fn new(doc: &'d Document<'a>) -> Self {
        let size = doc
            .trailer()
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0);
        // A /Size beyond what a PDF may number is ignored: every object in use is below
        // MAX_OBJECTS, so numbering from the highest one in use is safe.
        let size = size.min(MAX_OBJECTS as u32);
        Self {
            doc,
            next_num: size.max(doc.max_object_number()).max(1),
            objects: Vec::new(),
            edited: std::collections::HashMap::new(),
        }
    }

    /// Reserve a new object number.
    pub fn allocate(&mut self) -> ObjRef {
        let r = ObjRef::new(self.next_num, 0);
        self.next_num = self.next_num.saturating_add(1);
        r
    }

    /// Add (or replace, for an existing number) object `r` with the given body bytes.
    pub fn put(&mut self, r: ObjRef, body: Vec<u8>) {
        self.edited.remove(&r.num);
        match self.objects.iter_mut().find(|(o, _)| o.num == r.num) {
            Some(slot) => *slot = (r, body),
            None => self.objects.push((r, body)),
        }
    }

    /// Add object `r` holding `obj`.
    pub fn put_object(&mut self, r: ObjRef, obj: &Object) {
        let mut body = Vec::new();
        obj.write(&mut body);
        self.put(r, body);
        self.edited.insert(r.num, obj.clone());
    }

    /// Dictionary `r` as this update leaves it so far: the one put with
    /// [`Update::put_object`], else the document's. Every edit of an object that more than
    /// one step may change (a page) starts from here, so that no step undoes another's.
    ///
    /// # Errors
    /// As [`Document::resolve_dict`]; `what` names the object in the message.
    pub fn current_dict(&self, r: ObjRef, what: &'static str) -> Result<Dict> {
        match self.edited.get(&r.num) {
            Some(Object::Dict(d)) => Ok(d.clone()),
            _ => self.doc.resolve_dict(&Object::Reference(r), what),
        }
    }

    /// Write objects, cross-reference section and trailer.
    ///
    /// `id` is the trailer `/ID` to write when the file has none.
    ///
    /// # Errors
    /// If the trailer lacks `/Root`.
    pub fn finish(mut self, fresh_id: [u8; 16]) -> Result<Tail> {
        let input = self.doc.data();
        let base = input.len();
        let mut out = Vec::new();
        if !matches!(input.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let mut trailer = Dict::new();
        let old = self.doc.trailer();
        let root = old
            .get(b"Root")
            .cloned()
            .ok_or(Error::Structure(crate::error::StructureError::NoRoot))?;
        let xref_stream_ref = match self.doc.xref_kind() {
            XrefKind::Stream => Some(self.allocate()),
            XrefKind::Table => None,
        };
        trailer.set(b"Size", Object::Integer(i64::from(self.next_num)));
        trailer.set(b"Root", root);
        if let Some(info) = old.get(b"Info") {
            trailer.set(b"Info", info.clone());
        }
        let id = match old.get(b"ID") {
            Some(id @ Object::Array(a)) if a.len() == 2 => id.clone(),
            _ => Object::Array(vec![
                Object::String(fresh_id.to_vec()),
                Object::String(fresh_id.to_vec()),
            ]),
        };
        trailer.set(b"ID", id);
        trailer.set(b"Prev", Object::Integer(self.doc.startxref() as i64));

        let mut offsets: Vec<(u32, usize)> = Vec::new();
        let mut body_offsets = Vec::new();
        for (r, body) in &self.objects {
            offsets.push((r.num, base + out.len()));
            out.extend_from_slice(format!("{} {} obj\n", r.num, r.gen).as_bytes());
            body_offsets.push((*r, out.len()));
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref_at = base + out.len();
        match xref_stream_ref {
            None => {
                offsets.sort_unstable();
                out.extend_from_slice(b"xref\n");
                for run in runs(&offsets) {
                    out.extend_from_slice(format!("{} {}\n", run[0].0, run.len()).as_bytes());
                    for (_, off) in run {
                        out.extend_from_slice(format!("{off:010} 00000 n\r\n").as_bytes());
                    }
                }
                out.extend_from_slice(b"trailer\n");
                trailer.write(&mut out);
                out.push(b'\n');
            }
            Some(xr) => {
                offsets.push((xr.num, xref_at));
                offsets.sort_unstable();
                let width = if xref_at > u32::MAX as usize { 8 } else { 4 };
                let mut index = Vec::new();
                let mut data = Vec::new();
                for run in runs(&offsets) {
                    index.push(Object::Integer(i64::from(run[0].0)));
                    index.push(Object::Integer(run.len() as i64));
                    for (_, off) in run {
                        data.push(1u8);
                        data.extend_from_slice(&(*off as u64).to_be_bytes()[8 - width..]);
                        data.extend_from_slice(&[0, 0]);
                    }
                }
                trailer.set(b"Type", Object::Name(b"XRef".to_vec()));
                trailer.set(
                    b"W",
                    Object::Array(vec![
                        Object::Integer(1),
                        Object::Integer(width as i64),
                        Object::Integer(2),
                    ]),
                );
                trailer.set(b"Index", Object::Array(index));
                trailer.set(b"Length", Object::Integer(data.len() as i64));
                out.extend_from_slice(format!("{} {} obj\n", xr.num, xr.gen).as_bytes());
                trailer.write(&mut out);
                out.extend_from_slice(b"stream\r\n");
                out.extend_from_slice(&data);
                out.extend_from_slice(b"\r\nendstream\nendobj\n");
            }
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Ok(Tail {
            bytes: out,
            body_offsets,
        })
    }
}

/// Split sorted `(num, offset)` pairs into runs of consecutive object numbers.
fn runs(sorted: &[(u32, usize)]) -> Vec<&[(u32, usize)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || sorted[i].0 != sorted[i - 1].0 + 1 {
            out.push(&sorted[start..i]);
            start = i;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_consecutive_numbers() {
        let v = [(3, 0), (4, 0), (7, 0), (8, 0), (9, 0), (12, 0)];
        let r = runs(&v);
        assert_eq!(r.iter().map(|r| r.len()).collect::<Vec<_>>(), vec![2, 3, 1]);
    }
}
