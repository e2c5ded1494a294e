//! A minimal DER reader and writer (ITU-T X.690 §10): exactly what CMS SignedData needs.
//!
//! The reader is strict DER for lengths (definite, minimal) and keeps every element's raw bytes,
//! so that signed attributes are hashed exactly as they appear in the file.

use crate::error::{Error, Result};

/// Tag numbers used by CMS.
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    /// `[n]` context-specific, constructed.
    pub(crate) const fn ctx(n: u8) -> u8 {
        0xa0 | n
    }
    /// `[n]` context-specific, primitive.
    pub(crate) const fn ctx_prim(n: u8) -> u8 {
        0x80 | n
    }
}

/// Encode a tag-length-value.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Encode a constructed value from already encoded parts.
pub(crate) fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    out.push(tag);
    push_len(&mut out, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encode an OBJECT IDENTIFIER from its arcs.
pub(crate) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let first = arcs[0] * 40 + arcs[1];
    for &arc in std::iter::once(&first).chain(&arcs[2..]) {
        let mut tmp = Vec::new();
        let mut v = arc;
        tmp.push((v & 0x7f) as u8);
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        body.extend_from_slice(&tmp);
    }
    tlv(tag::OID, &body)
}

/// Encode a small non-negative INTEGER.
pub(crate) fn uint(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut body = bytes[skip..].to_vec();
    if body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    tlv(tag::INTEGER, &body)
}

/// A DER element: its tag, its content and its whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element<'a> {
    pub(crate) tag: u8,
    pub(crate) content: &'a [u8],
    pub(crate) raw: &'a [u8],
    /// Offset of `raw` in the outermost buffer.
    pub(crate) offset: usize,
}

/// A reader over a sequence of DER elements.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over the content of `e`.
    pub(crate) fn inside(e: &Element<'a>) -> Self {
        Self {
            buf: e.content,
            pos: 0,
            base: e.offset + (e.raw.len() - e.content.len()),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, what: &'static str) -> Error {
        Error::Der {
            offset: self.base + self.pos,
            what,
        }
    }

    /// Tag of the next element, if any.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Read the next element.
    pub(crate) fn read(&mut self) -> Result<Element<'a>> {
        let start = self.pos;
        let tag = *self
            .buf
            .get(start)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.err("multi-byte tags are not used by CMS"));
        }
        let first = *self
            .buf
            .get(start + 1)
            .ok_or_else(|| self.err("unexpected end of data"))?;
        let (len, hdr) = if first < 0x80 {
            (usize::from(first), 2)
        } else if first == 0x80 {
            return Err(self.err("indefinite length (BER) is not DER"));
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(self.err("length field longer than 4 bytes"));
            }
            let bytes = self
                .buf
                .get(start + 2..start + 2 + n)
                .ok_or_else(|| self.err("unexpected end of data in length"))?;
            if bytes[0] == 0 {
                return Err(self.err("non-minimal length encoding"));
            }
            let len = bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b));
            if len < 0x80 {
                return Err(self.err("non-minimal length encoding"));
            }
            (len, 2 + n)
        };
        let end = start
            .checked_add(hdr)
            .and_then(|s| s.checked_add(len))
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("element runs past the end of its container"))?;
        self.pos = end;
        Ok(Element {
            tag,
            content: &self.buf[start + hdr..end],
            raw: &self.buf[start..end],
            offset: self.base + start,
        })
    }

    /// Read the next element and check its tag.
    pub(crate) fn expect(&mut self, tag: u8, what: &'static str) -> Result<Element<'a>> {
        let at = self.pos;
        let e = self.read()?;
        if e.tag != tag {
            return Err(Error::Der {
                offset: self.base + at,
                what,
            });
        }
        Ok(e)
    }

    /// Read the next element if it has `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Element<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Length of the DER element at the start of `buf` (used to strip `/Contents` zero padding).
pub(crate) fn element_len(buf: &[u8]) -> Result<usize> {
    Reader::new(buf).read().map(|e| e.raw.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_and_lengths() {
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 7, 2]),
            hex_to(b"06092a864886f70d010702")
        );
        assert_eq!(uint(1), vec![2, 1, 1]);
        assert_eq!(uint(128), vec![2, 2, 0, 128]);
        let long = tlv(tag::OCTET_STRING, &[0u8; 300]);
        assert_eq!(&long[..4], &[4, 0x82, 1, 44]);
        let e = Reader::new(&long).read().expect("reads");
        assert_eq!(e.content.len(), 300);
    }

    #[test]
    fn rejects_ber_and_overruns() {
        assert!(Reader::new(&[0x30, 0x80, 0, 0]).read().is_err());
        assert!(Reader::new(&[0x30, 0x05, 1]).read().is_err());
        assert!(Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5])
            .read()
            .is_err());
        assert!(Reader::new(&[0x04, 0x85, 1, 1, 1, 1, 1]).read().is_err());
    }

    fn hex_to(s: &[u8]) -> Vec<u8> {
        s.chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).expect("ascii"), 16).expect("hex"))
            .collect()
    }
}
