//! Resolving objects on demand: by offset (checking the object header names the object), or
//! inside an object stream (§7.5.7), with reference cycles and nesting refused.

use super::*;

/// Pops the reference being resolved when dropped.
struct Resolving<'d>(&'d RefCell<Vec<ObjRef>>);

impl Drop for Resolving<'_> {
    fn drop(&mut self) {
        self.0.borrow_mut().pop();
    }
}

/// An object stream's decoded data and where each object starts in it.
#[derive(Debug)]
pub(super) struct ObjectStream {
    data: Vec<u8>,
    /// (object number, offset from `/First`) per index.
    offsets: Vec<(u32, u32)>,
    first: usize,
}

impl<'a> Document<'a> {
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
    pub(super) fn decode(
        &self,
        dict: &Dict,
        range: std::ops::Range<usize>,
        offset: usize,
    ) -> Result<Vec<u8>> {
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

    /// Decode the data of `s` (a stream read from this document: a content stream, a CMap),
    /// within what the budget still allows to be inflated.
    ///
    /// # Errors
    /// An unsupported filter, corrupt data, or a spent budget.
    pub(crate) fn stream_data(&self, s: &super::super::object::Stream) -> Result<Vec<u8>> {
        if self.data.get(s.data.clone()).is_none() {
            return Err(Error::syntax(s.data.start, SyntaxError::BadStreamLength));
        }
        self.decode(&s.dict, s.data.clone(), s.data.start)
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
