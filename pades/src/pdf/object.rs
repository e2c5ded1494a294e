//! The PDF object model (ISO 32000-2 §7.3) and its serialisation.
//!
//! Objects keep only what the signer and verifier need: streams are kept as a dictionary plus the
//! byte range of their (still encoded) data in the buffer they were parsed from, so a stream is
//! never copied or decoded unless a caller asks for it.

use std::fmt;
use std::ops::Range;

/// An indirect reference `N G R` (ISO 32000-2 §7.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    /// Object number.
    pub num: u32,
    /// Generation number.
    pub gen: u16,
}

impl ObjRef {
    /// A reference to object `num` with generation `gen`.
    pub const fn new(num: u32, gen: u16) -> Self {
        Self { num, gen }
    }
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.num, self.gen)
    }
}

/// A PDF object.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A real number.
    Real(f64),
    /// A string, literal `(..)` or hexadecimal `<..>`, decoded to its bytes.
    String(Vec<u8>),
    /// A name `/..`, decoded (without the slash, `#xx` escapes resolved).
    Name(Vec<u8>),
    /// An array `[..]`.
    Array(Vec<Object>),
    /// A dictionary `<<..>>`.
    Dict(Dict),
    /// A stream: its dictionary and where its encoded data lies.
    Stream(Stream),
    /// An indirect reference `N G R`.
    Reference(ObjRef),
}

impl Object {
    /// The dictionary of a `Dict` or of a `Stream`.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Object::Dict(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// The value of an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The bytes of a name.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The bytes of a string.
    pub fn as_string(&self) -> Option<&[u8]> {
        match self {
            Object::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The target of a reference.
    pub fn as_ref(&self) -> Option<ObjRef> {
        match self {
            Object::Reference(r) => Some(*r),
            _ => None,
        }
    }

    /// A short name of the object's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Object::Null => "null",
            Object::Bool(_) => "boolean",
            Object::Integer(_) => "integer",
            Object::Real(_) => "real",
            Object::String(_) => "string",
            Object::Name(_) => "name",
            Object::Array(_) => "array",
            Object::Dict(_) => "dictionary",
            Object::Stream(_) => "stream",
            Object::Reference(_) => "reference",
        }
    }

    /// Append the PDF syntax of this object to `out`.
    ///
    /// Streams cannot be written this way (their data is not held); writing one writes only its
    /// dictionary, which callers never do: the engine never rewrites existing streams.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Object::Null => out.extend_from_slice(b"null"),
            Object::Bool(true) => out.extend_from_slice(b"true"),
            Object::Bool(false) => out.extend_from_slice(b"false"),
            Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Object::Real(r) => write_real(*r, out),
            Object::String(s) => write_string(s, out),
            Object::Name(n) => write_name(n, out),
            Object::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Object::Dict(d) => d.write(out),
            Object::Stream(s) => s.dict.write(out),
            Object::Reference(r) => out.extend_from_slice(r.to_string().as_bytes()),
        }
    }
}

/// A stream object: dictionary plus the byte range of its encoded data.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The stream dictionary.
    pub dict: Dict,
    /// Where the encoded data lies, in the buffer the stream was parsed from.
    pub data: Range<usize>,
}

/// A dictionary, keeping its keys in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dict {
    entries: Vec<(Vec<u8>, Object)>,
}

impl Dict {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value under `key` (without slash), if present and not `null`.
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !matches!(v, Object::Null))
    }

    /// Set `key` to `value`, replacing an earlier value in place or appending.
    pub fn set(&mut self, key: &[u8], value: Object) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key.to_vec(), value));
        }
    }

    /// Take the value under `key` out, leaving `null` in its place (so that a later
    /// [`Dict::set`] puts the key back where it was).
    pub fn take(&mut self, key: &[u8]) -> Option<Object> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| std::mem::replace(v, Object::Null))
            .filter(|v| !matches!(v, Object::Null))
    }

    /// Remove `key`.
    pub fn remove(&mut self, key: &[u8]) {
        self.entries.retain(|(k, _)| k != key);
    }

    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `/Type` is the name `ty`.
    pub fn has_type(&self, ty: &[u8]) -> bool {
        self.get(b"Type").and_then(Object::as_name) == Some(ty)
    }

    /// Append `key`, known not to be present yet.
    pub(crate) fn push_new(&mut self, key: Vec<u8>, value: Object) {
        self.entries.push((key, value));
    }

    pub(crate) fn push_unchecked(&mut self, key: Vec<u8>, value: Object) {
        // A repeated key: ISO 32000-2 §7.3.7 leaves it undefined; we keep the first (as
        // pdf.js and qpdf do) so that a later duplicate cannot shadow what others see.
        if self.entries.iter().any(|(k, _)| *k == key) {
            return;
        }
        self.entries.push((key, value));
    }

    /// Append the PDF syntax of this dictionary to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"<<");
        for (k, v) in &self.entries {
            write_name(k, out);
            if !matches!(
                v,
                Object::Name(_) | Object::String(_) | Object::Array(_) | Object::Dict(_)
            ) {
                out.push(b' ');
            }
            v.write(out);
        }
        out.extend_from_slice(b">>");
    }
}

/// Is `b` PDF white space (ISO 32000-2 Table 1)?
pub(crate) fn is_whitespace(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

/// Is `b` a PDF delimiter (ISO 32000-2 Table 2)?
pub(crate) fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn write_real(r: f64, out: &mut Vec<u8>) {
    if r.is_finite() && r.fract() == 0.0 && r.abs() < 1e15 {
        out.extend_from_slice(format!("{}", r as i64).as_bytes());
    } else if r.is_finite() {
        // Display for f64 never uses an exponent and prints the shortest exact form.
        out.extend_from_slice(format!("{r}").as_bytes());
    } else {
        out.push(b'0');
    }
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        if b == b'#' || !(0x21..=0x7e).contains(&b) || is_delimiter(b) {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

fn write_string(s: &[u8], out: &mut Vec<u8>) {
    if s.iter().all(|&b| (0x20..=0x7e).contains(&b)) {
        out.push(b'(');
        for &b in s {
            if matches!(b, b'(' | b')' | b'\\') {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b')');
    } else {
        out.push(b'<');
        out.extend_from_slice(hex::encode_upper(s).as_bytes());
        out.push(b'>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_compact_syntax() {
        let mut d = Dict::new();
        d.set(b"Type", Object::Name(b"Sig".to_vec()));
        d.set(b"N", Object::Integer(-3));
        d.set(b"R", Object::Reference(ObjRef::new(4, 0)));
        d.set(
            b"A",
            Object::Array(vec![Object::Real(0.5), Object::Real(12.0)]),
        );
        d.set(b"S", Object::String(b"a(b)\\".to_vec()));
        d.set(b"H", Object::String(vec![0, 255]));
        d.set(b"Odd Name", Object::Bool(true));
        let mut out = Vec::new();
        d.write(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "<</Type/Sig/N -3/R 4 0 R/A[0.5 12]/S(a\\(b\\)\\\\)/H<00FF>/Odd#20Name true>>"
        );
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let mut d = Dict::new();
        d.push_unchecked(b"K".to_vec(), Object::Integer(1));
        d.push_unchecked(b"K".to_vec(), Object::Integer(2));
        assert_eq!(d.get(b"K"), Some(&Object::Integer(1)));
    }
}
