//! Object syntax (ISO 32000-2 §7.2, §7.3): a recursive-descent parser over a byte slice.
//!
//! The parser never recurses deeper than [`MAX_DEPTH`](super::MAX_DEPTH), never builds more than
//! [`MAX_VALUES_FLOOR`] plus one per [`BYTES_PER_VALUE`] bytes of its buffer values in one
//! object (each value takes 40 bytes of memory while held, so a long array of one-digit numbers
//! would otherwise hold 20 times its size), and reports every error with its byte offset.

use super::object::{is_delimiter, is_whitespace, Dict, ObjRef, Object, Stream};
use super::MAX_DEPTH;
use crate::error::{Error, LimitError, Result, SyntaxError};

/// Values one object may hold, whatever the buffer size (just under 2^19, so that an array this
/// long never doubles its storage to 2^20 entries).
pub(crate) const MAX_VALUES_FLOOR: usize = 500_000;
/// One more value per this many bytes of the buffer.
pub(crate) const BYTES_PER_VALUE: usize = 40;

/// A cursor over PDF bytes.
#[derive(Debug, Clone)]
pub(crate) struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to positions in error messages (for decoded object streams, 0 otherwise).
    base: usize,
    /// Values built in the current object, against `max_values`.
    values: usize,
    max_values: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Self {
        Self {
            buf,
            pos,
            base: 0,
            values: 0,
            max_values: MAX_VALUES_FLOOR + buf.len() / BYTES_PER_VALUE,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn err(&self, kind: SyntaxError) -> Error {
        Error::syntax(self.base + self.pos, kind)
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Skip white space and comments.
    pub(crate) fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_whitespace(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\r' || c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// If the next token is `kw`, consume it.
    pub(crate) fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        self.skip_ws();
        let end = self.pos + kw.len();
        if self.buf.get(self.pos..end) == Some(kw)
            && self
                .buf
                .get(end)
                .is_none_or(|&b| is_whitespace(b) || is_delimiter(b))
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_keyword(&mut self, kw: &'static str) -> Result<()> {
        if self.eat_keyword(kw.as_bytes()) {
            Ok(())
        } else {
            Err(self.err(SyntaxError::Expected(kw)))
        }
    }

    /// Parse an unsigned integer token.
    pub(crate) fn parse_uint(&mut self) -> Result<u64> {
        self.skip_ws();
        let start = self.pos;
        let mut v: u64 = 0;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| self.err(SyntaxError::NumberOutOfRange))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.err(SyntaxError::Expected("an unsigned integer")));
        }
        Ok(v)
    }

    /// Parse `N G obj`, returning the reference.
    pub(crate) fn parse_obj_header(&mut self) -> Result<ObjRef> {
        let num = self.parse_uint()?;
        let gen = self.parse_uint()?;
        self.expect_keyword("obj")?;
        let num = u32::try_from(num).map_err(|_| self.err(SyntaxError::NumberOutOfRange))?;
        let gen = u16::try_from(gen).map_err(|_| self.err(SyntaxError::NumberOutOfRange))?;
        Ok(ObjRef::new(num, gen))
    }

    /// Parse any direct object (streams are handled by the caller, see [`Parser::parse_stream_tail`]).
    pub(crate) fn parse_object(&mut self) -> Result<Object> {
        self.values = 0;
        self.parse_at_depth(0)
    }

    fn parse_at_depth(&mut self, depth: usize) -> Result<Object> {
        if depth > MAX_DEPTH {
            return Err(Error::Limit(LimitError::Nesting {
                offset: self.base + self.pos,
            }));
        }
        self.values += 1;
        if self.values > self.max_values {
            return Err(Error::Limit(LimitError::Count {
                what: "the number of values in one object",
                value: self.values as u64,
            }));
        }
        self.skip_ws();
        let b = self
            .peek()
            .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
        match b {
            b'/' => {
                self.pos += 1;
                Ok(Object::Name(self.parse_name_body()?))
            }
            b'(' => {
                self.pos += 1;
                Ok(Object::String(self.parse_literal_string()?))
            }
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Ok(Object::Dict(self.parse_dict_body(depth)?))
            }
            b'<' => {
                self.pos += 1;
                Ok(Object::String(self.parse_hex_string()?))
            }
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(_) => items.push(self.parse_at_depth(depth + 1)?),
                        None => return Err(self.err(SyntaxError::UnexpectedEnd)),
                    }
                }
                Ok(Object::Array(items))
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.parse_number_or_ref(),
            _ => {
                if self.eat_keyword(b"true") {
                    Ok(Object::Bool(true))
                } else if self.eat_keyword(b"false") {
                    Ok(Object::Bool(false))
                } else if self.eat_keyword(b"null") {
                    Ok(Object::Null)
                } else {
                    Err(self.err(SyntaxError::UnexpectedByte(b)))
                }
            }
        }
    }

    fn parse_dict_body(&mut self, depth: usize) -> Result<Dict> {
        let mut dict = Dict::new();
        // Keys already seen, once the dictionary is long enough for a linear search per key to
        // cost more than a set (a dictionary of K keys must not take K² to read).
        let mut keys: Option<std::collections::HashSet<Vec<u8>>> = None;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(dict);
                }
                Some(b'/') => {
                    self.pos += 1;
                    let key = self.parse_name_body()?;
                    let value = self.parse_at_depth(depth + 1)?;
                    if dict.len() < 16 {
                        dict.push_unchecked(key, value);
                    } else {
                        let keys = keys
                            .get_or_insert_with(|| dict.iter().map(|(k, _)| k.to_vec()).collect());
                        // A repeated key keeps its first value (see `Dict::push_unchecked`).
                        if keys.insert(key.clone()) {
                            dict.push_new(key, value);
                        }
                    }
                }
                Some(b) => return Err(self.err(SyntaxError::UnexpectedByte(b))),
                None => return Err(self.err(SyntaxError::UnexpectedEnd)),
            }
        }
    }

    /// A name's bytes borrowed from the buffer when it has no `#xx` escape (the common case),
    /// decoded otherwise. Used by the allocation-free skimming paths.
    pub(crate) fn parse_name_cow(&mut self) -> Result<std::borrow::Cow<'a, [u8]>> {
        let start = self.pos;
        let mut end = start;
        while self
            .buf
            .get(end)
            .is_some_and(|&c| !is_whitespace(c) && !is_delimiter(c) && c != b'#')
        {
            end += 1;
        }
        if self.buf.get(end) == Some(&b'#') {
            return self.parse_name_body().map(std::borrow::Cow::Owned);
        }
        self.pos = end;
        Ok(std::borrow::Cow::Borrowed(&self.buf[start..end]))
    }

    fn parse_name_body(&mut self) -> Result<Vec<u8>> {
        let mut name = Vec::new();
        while let Some(b) = self.peek() {
            if is_whitespace(b) || is_delimiter(b) {
                break;
            }
            if b == b'#' {
                let hi = self.buf.get(self.pos + 1).and_then(|&c| hex_val(c));
                let lo = self.buf.get(self.pos + 2).and_then(|&c| hex_val(c));
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        name.push(h << 4 | l);
                        self.pos += 3;
                        continue;
                    }
                    _ => {
                        return Err(
                            self.err(SyntaxError::Expected("two hex digits after # in a name"))
                        )
                    }
                }
            }
            name.push(b);
            self.pos += 1;
        }
        Ok(name)
    }

    fn parse_literal_string(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut nesting = 0usize;
        loop {
            let b = self
                .peek()
                .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
            self.pos += 1;
            match b {
                b'(' => {
                    nesting += 1;
                    out.push(b);
                }
                b')' if nesting == 0 => return Ok(out),
                b')' => {
                    nesting -= 1;
                    out.push(b);
                }
                b'\\' => {
                    let e = self
                        .peek()
                        .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
                    self.pos += 1;
                    let (byte, used) = escaped(e, self.buf.get(self.pos..).unwrap_or_default());
                    self.pos += used;
                    out.extend(byte);
                }
                b'\r' => {
                    // An end-of-line in a string is read as a single LF (§7.3.4.2).
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
    }

    fn parse_hex_string(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        loop {
            let b = self
                .peek()
                .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
            self.pos += 1;
            if b == b'>' {
                if let Some(h) = high {
                    out.push(h << 4);
                }
                return Ok(out);
            }
            if is_whitespace(b) {
                continue;
            }
            let v = hex_val(b).ok_or_else(|| {
                Error::syntax(self.base + self.pos - 1, SyntaxError::UnexpectedByte(b))
            })?;
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
    }

    fn parse_number_or_ref(&mut self) -> Result<Object> {
        let start = self.pos;
        let mut end = start;
        while self
            .buf
            .get(end)
            .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'))
        {
            end += 1;
        }
        let tok = &self.buf[start..end];
        self.pos = end;
        let is_int = !tok.contains(&b'.');
        if is_int {
            let s =
                std::str::from_utf8(tok).map_err(|_| self.err(SyntaxError::NumberOutOfRange))?;
            let v: i64 = s
                .parse()
                .map_err(|_| Error::syntax(self.base + start, SyntaxError::NumberOutOfRange))?;
            // `N G R`: look ahead for a generation number and `R`.
            if v >= 0 && tok.iter().all(u8::is_ascii_digit) {
                let save = self.pos;
                self.skip_ws();
                if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    if let Ok(gen) = self.parse_uint() {
                        if self.eat_keyword(b"R") {
                            if let (Ok(num), Ok(gen)) = (u32::try_from(v), u16::try_from(gen)) {
                                return Ok(Object::Reference(ObjRef::new(num, gen)));
                            }
                            return Err(Error::syntax(
                                self.base + start,
                                SyntaxError::NumberOutOfRange,
                            ));
                        }
                    }
                }
                self.pos = save;
            }
            Ok(Object::Integer(v))
        } else {
            let s =
                std::str::from_utf8(tok).map_err(|_| self.err(SyntaxError::NumberOutOfRange))?;
            // Tolerate "-.5" and "5." (both valid PDF); reject "1.2.3", "--1" and the like.
            let v: f64 = s
                .parse()
                .map_err(|_| Error::syntax(self.base + start, SyntaxError::NumberOutOfRange))?;
            if !v.is_finite() {
                return Err(Error::syntax(
                    self.base + start,
                    SyntaxError::NumberOutOfRange,
                ));
            }
            Ok(Object::Real(v))
        }
    }

    /// Skip one value without building it (no allocation). Used to read one or two keys of a
    /// dictionary cheaply, e.g. `/Type` and `/Kids` of every page tree node.
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::Limit(LimitError::Nesting {
                offset: self.base + self.pos,
            }));
        }
        self.skip_ws();
        let b = self
            .peek()
            .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
        match b {
            b'(' => {
                self.pos += 1;
                let mut nesting = 0usize;
                loop {
                    let c = self
                        .peek()
                        .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
                    self.pos += 1;
                    match c {
                        b'\\' => self.pos += 1,
                        b'(' => nesting += 1,
                        b')' if nesting == 0 => return Ok(()),
                        b')' => nesting -= 1,
                        _ => {}
                    }
                }
            }
            b'<' if self.buf.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'>') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                            self.pos += 2;
                            return Ok(());
                        }
                        Some(b'/') => {
                            self.skip_value(depth + 1)?;
                            self.skip_value(depth + 1)?;
                        }
                        Some(c) => return Err(self.err(SyntaxError::UnexpectedByte(c))),
                        None => return Err(self.err(SyntaxError::UnexpectedEnd)),
                    }
                }
            }
            b'<' => {
                let end = self.buf[self.pos..]
                    .iter()
                    .position(|&c| c == b'>')
                    .ok_or_else(|| self.err(SyntaxError::UnexpectedEnd))?;
                self.pos += end + 1;
                Ok(())
            }
            b'[' => {
                self.pos += 1;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        Some(_) => self.skip_value(depth + 1)?,
                        None => return Err(self.err(SyntaxError::UnexpectedEnd)),
                    }
                }
            }
            b'/' => {
                self.pos += 1;
                self.skip_regular();
                Ok(())
            }
            _ => {
                // Numbers and keywords (true, false, null, R): a run of regular characters.
                let start = self.pos;
                self.skip_regular();
                if self.pos == start {
                    return Err(self.err(SyntaxError::UnexpectedByte(b)));
                }
                // `N G R` is one value.
                if self.buf[start..self.pos].iter().all(u8::is_ascii_digit) {
                    let save = self.pos;
                    self.skip_ws();
                    let gen_start = self.pos;
                    self.skip_regular();
                    let is_gen = self.pos > gen_start
                        && self.buf[gen_start..self.pos].iter().all(u8::is_ascii_digit);
                    if !(is_gen && self.eat_keyword(b"R")) {
                        self.pos = save;
                    }
                }
                Ok(())
            }
        }
    }

    fn skip_regular(&mut self) {
        while self
            .peek()
            .is_some_and(|c| !is_whitespace(c) && !is_delimiter(c))
        {
            self.pos += 1;
        }
    }

    /// Inside a dictionary (after `<<`): the next key, or `None` at `>>`. The key is the raw
    /// name (with `#xx` escapes decoded only when present).
    pub(crate) fn next_key(&mut self) -> Result<Option<std::borrow::Cow<'a, [u8]>>> {
        self.skip_ws();
        match self.peek() {
            Some(b'>') if self.buf.get(self.pos + 1) == Some(&b'>') => {
                self.pos += 2;
                Ok(None)
            }
            Some(b'/') => {
                self.pos += 1;
                self.parse_name_cow().map(Some)
            }
            Some(c) => Err(self.err(SyntaxError::UnexpectedByte(c))),
            None => Err(self.err(SyntaxError::UnexpectedEnd)),
        }
    }

    /// Parse a value that should be a name, without allocating; `None` for any other value
    /// (which is skipped).
    pub(crate) fn parse_name_value(&mut self) -> Result<Option<std::borrow::Cow<'a, [u8]>>> {
        self.skip_ws();
        if self.peek() == Some(b'/') {
            self.pos += 1;
            self.parse_name_cow().map(Some)
        } else {
            self.skip_value(1).map(|()| None)
        }
    }

    /// If the next token is `<<`, consume it.
    pub(crate) fn eat_dict_open(&mut self) -> bool {
        self.skip_ws();
        if self.buf.get(self.pos..self.pos + 2) == Some(b"<<") {
            self.pos += 2;
            true
        } else {
            false
        }
    }

    /// After a dictionary inside `N G obj`, parse `stream ... endstream` if present.
    ///
    /// `length` is the resolved `/Length`. Returns the data range. The end must be followed by
    /// `endstream` (after optional EOL), otherwise the length is wrong and we refuse.
    pub(crate) fn parse_stream_tail(
        &mut self,
        length: Option<i64>,
    ) -> Result<Option<std::ops::Range<usize>>> {
        let save = self.pos;
        if !self.eat_keyword(b"stream") {
            self.pos = save;
            return Ok(None);
        }
        // `stream` is followed by CRLF or LF (a lone CR is tolerated, as most readers do).
        match (self.peek(), self.buf.get(self.pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) | (Some(b'\r'), _) => self.pos += 1,
            _ => return Err(self.err(SyntaxError::Expected("end of line after 'stream'"))),
        }
        let start = self.pos;
        let len = length
            .and_then(|l| usize::try_from(l).ok())
            .ok_or_else(|| self.err(SyntaxError::BadStreamLength))?;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err(SyntaxError::BadStreamLength))?;
        self.pos = end;
        if !self.eat_keyword(b"endstream") {
            return Err(Error::syntax(
                self.base + start,
                SyntaxError::BadStreamLength,
            ));
        }
        Ok(Some(start..end))
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parse one object from `buf` (used by the fuzz target and tests).
pub(crate) fn parse_one(buf: &[u8]) -> Result<Object> {
    Parser::new(buf, 0).parse_object()
}

/// Build a stream object from its parts.
pub(crate) fn stream(dict: Dict, data: std::ops::Range<usize>) -> Object {
    Object::Stream(Stream { dict, data })
}

/// What the escape `\e` of a literal string stands for (ISO 32000-2 §7.3.4.2), given the bytes
/// `rest` that follow `e`: the byte it makes (`None` for a line continuation) and how many bytes
/// of `rest` it takes (up to two more octal digits, the LF of a CR LF).
pub(crate) fn escaped(e: u8, rest: &[u8]) -> (Option<u8>, usize) {
    match e {
        b'n' => (Some(b'\n'), 0),
        b'r' => (Some(b'\r'), 0),
        b't' => (Some(b'\t'), 0),
        b'b' => (Some(8), 0),
        b'f' => (Some(12), 0),
        b'0'..=b'7' => {
            let mut v = u32::from(e - b'0');
            let mut used = 0;
            while used < 2 {
                match rest.get(used) {
                    Some(d @ b'0'..=b'7') => {
                        v = v * 8 + u32::from(d - b'0');
                        used += 1;
                    }
                    _ => break,
                }
            }
            (Some((v & 0xff) as u8), used)
        }
        b'\r' => (None, usize::from(rest.first() == Some(&b'\n'))),
        b'\n' => (None, 0),
        other => (Some(other), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Object {
        parse_one(s.as_bytes()).expect("parses")
    }

    #[test]
    fn parses_basic_objects() {
        assert_eq!(p("42"), Object::Integer(42));
        assert_eq!(p("-3.5"), Object::Real(-3.5));
        assert_eq!(p(".5"), Object::Real(0.5));
        assert_eq!(p("12 0 R"), Object::Reference(ObjRef::new(12, 0)));
        assert_eq!(p("/A#20B"), Object::Name(b"A B".to_vec()));
        assert_eq!(p("(a\\(b\\)c\\101)"), Object::String(b"a(b)cA".to_vec()));
        assert_eq!(p("<48 65 6c6C6f7>"), Object::String(b"Hellop".to_vec()));
        // "1 2 R" is a reference, then 3.
        assert_eq!(
            p("[1 2 R 3]"),
            Object::Array(vec![
                Object::Reference(ObjRef::new(1, 2)),
                Object::Integer(3)
            ])
        );
        assert_eq!(p("[1 2 3]").as_array().map(<[_]>::len), Some(3));
    }

    #[test]
    fn dict_and_nesting_limit() {
        let d = p("<</Type/Page/Kids[1 0 R 2 0 R]/X<</Y null>>>>");
        let d = d.as_dict().expect("dict");
        assert!(d.has_type(b"Page"));
        assert_eq!(
            d.get(b"Kids").and_then(Object::as_array).map(<[_]>::len),
            Some(2)
        );
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse_one(deep.as_bytes()),
            Err(Error::Limit(LimitError::Nesting { .. }))
        ));
    }

    #[test]
    fn values_in_one_object_are_bounded() {
        let n = MAX_VALUES_FLOOR;
        // n values: the array itself and n - 1 numbers.
        let fits = format!("[{}]", "0 ".repeat(n - 1));
        assert!(parse_one(fits.as_bytes()).is_ok());
        // 2n values in about 4n bytes: more than n + 4n / BYTES_PER_VALUE.
        let over = format!("[{}]", "0 ".repeat(2 * n));
        assert!(2 * n > MAX_VALUES_FLOOR + over.len() / BYTES_PER_VALUE);
        assert!(matches!(
            parse_one(over.as_bytes()),
            Err(Error::Limit(LimitError::Count { .. }))
        ));
    }

    #[test]
    fn skipping_ends_where_parsing_ends() {
        for src in [
            "<</Type/Page/Kids[1 0 R 2 0 R]/R(a\\)b(c)d)/H<0A 0b>/D<</X[true false null -1.5]>>>> tail",
            "(x\\(y) tail",
            "[/A#20B 3 0 R <>] tail",
            "12 0 R tail",
        ] {
            let mut a = Parser::new(src.as_bytes(), 0);
            a.parse_object().expect("parses");
            let mut b = Parser::new(src.as_bytes(), 0);
            b.skip_value(0).expect("skips");
            assert_eq!(a.pos(), b.pos(), "{src}");
        }
        let deep = "[".repeat(1000);
        assert!(Parser::new(deep.as_bytes(), 0).skip_value(0).is_err());
    }

    #[test]
    fn errors_carry_offsets() {
        match parse_one(b"<</A (unterminated") {
            Err(Error::Syntax { kind, .. }) => assert_eq!(kind, SyntaxError::UnexpectedEnd),
            other => panic!("unexpected {other:?}"),
        }
        match parse_one(b"<</A <12G4>>>") {
            Err(Error::Syntax { offset, .. }) => assert_eq!(offset, 8),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_long_dictionary_keeps_the_first_of_repeated_keys() {
        let mut text = String::from("<<");
        for i in 0..40 {
            text.push_str(&format!(" /K{i} {i}"));
        }
        text.push_str(" /K3 99 /K39 99 >>");
        let o = p(&text);
        let d = o.as_dict().expect("dict");
        assert_eq!(d.len(), 40);
        assert_eq!(d.get(b"K3"), Some(&Object::Integer(3)));
        assert_eq!(d.get(b"K39"), Some(&Object::Integer(39)));
    }
}
