//! Staged PAdES signing (ETSI EN 319 142-1 baseline B-B) by incremental update.
//!
//! ```text
//!  input bytes ──prepare()──▶ Prepared ──digest()──▶ [u8; 32]
//!                              │                        │ SignerIdentity::signed_attributes
//!                              │                        ▼
//!                              │                  Signer::sign (file key, HSM, remote)
//!                              │                        │ SignerIdentity::content_info
//!                              └────────embed(cms)◀─────┘
//!                                         │
//!                                         ▼
//!                                     SignedPdf = input ++ tail
//! ```
//! [`sign`] runs all stages with a [`Signer`]; a caller that signs elsewhere runs them one by one.

use std::collections::HashSet;
use std::ops::Range;
use std::rc::Rc;

use crate::cms::{sha256, SignerIdentity};
use crate::error::{Error, FieldError, LimitError, Result, StructureError};
use crate::pdf::object::{Dict, ObjRef, Object};
use crate::pdf::update::Update;
use crate::pdf::Document;
use crate::signer::Signer;
use crate::time::UnixTime;

/// Depth limit for page tree and form field trees.
const MAX_TREE_DEPTH: usize = 64;
/// Most page tree nodes walked.
const MAX_PAGE_NODES: usize = 1_000_000;
/// Most form fields walked when looking for names.
const MAX_FIELDS: usize = 100_000;
/// Bytes of fully qualified field names every document may have, on top of one per input
/// byte.
pub const NAMES_FLOOR: usize = 1 << 20;
/// Extra `/Contents` room if a first estimate did not fit.
const RETRY_SLACK: usize = 1024;

/// What to sign and how to describe the signature.
#[derive(Debug, Clone)]
pub struct SignatureRequest {
    /// Name of the signature field; an existing empty signature field of that name is signed,
    /// otherwise a new one is made. `None`: a new field `Signature1`, `Signature2`, ….
    pub field: Option<String>,
    /// Page (1-based) that carries the new field's widget.
    pub page: u32,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// Claimed signing time, written as `/M`.
    pub time: UnixTime,
    /// Make this a certification signature with DocMDP permissions `/P` 1 (no changes), 2 (form
    /// filling and signing) or 3 (also annotations). It must be the document's first signature.
    pub certify: Option<u8>,
}

impl SignatureRequest {
    /// A request with defaults (new field on page 1) at `time`.
    pub fn new(time: UnixTime) -> Self {
        Self {
            field: None,
            page: 1,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            time,
            certify: None,
        }
    }
}

/// A document with its signature placeholder in place and its byte range fixed.
pub struct Prepared<'a> {
    input: &'a [u8],
    /// Computed once, on the first call of [`Prepared::digest`].
    digest: std::cell::OnceCell<[u8; 32]>,
    /// SHA-256 state after the input bytes, shared by the byte-range digest and the hash of the
    /// whole signed file, so that the input is hashed once.
    input_state: std::cell::OnceCell<aws_lc_rs::digest::Context>,
    tail: Vec<u8>,
    /// Absolute position of the hex digits inside `/Contents <...>`.
    contents: Range<usize>,
    byte_range: [usize; 4],
    field: String,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("input_len", &self.input.len())
            .field("tail_len", &self.tail.len())
            .field("byte_range", &self.byte_range)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

/// A signed document: the unchanged input followed by the update.
#[derive(Debug)]
pub struct SignedPdf<'a> {
    input: &'a [u8],
    tail: Vec<u8>,
    field: String,
    byte_range: [usize; 4],
    message_digest: [u8; 32],
    signature: Vec<u8>,
    document_sha256: [u8; 32],
    input_sha256: [u8; 32],
}

impl<'a> SignedPdf<'a> {
    /// The update alone, owned (the signed file is the input followed by it), for a caller that
    /// keeps the input elsewhere and writes the file later.
    pub fn into_tail(self) -> Vec<u8> {
        self.tail
    }

    /// The two parts to write one after the other: the original bytes and the update.
    pub fn parts(&self) -> [&[u8]; 2] {
        [self.input, &self.tail]
    }

    /// The appended update alone.
    pub fn tail(&self) -> &[u8] {
        &self.tail
    }

    /// Total length.
    pub fn len(&self) -> usize {
        self.input.len() + self.tail.len()
    }

    /// Always false: a signed PDF has bytes.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The whole file in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        v.extend_from_slice(self.input);
        v.extend_from_slice(&self.tail);
        v
    }

    /// Name of the signed field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The `/ByteRange` written.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// SHA-256 of the whole signed file (input and update).
    pub fn document_sha256(&self) -> [u8; 32] {
        self.document_sha256
    }

    /// SHA-256 of the input alone (from the same pass over it as the signature's digest).
    pub fn input_sha256(&self) -> [u8; 32] {
        self.input_sha256
    }

    /// SHA-256 of the signed byte ranges (the CMS messageDigest).
    pub fn message_digest(&self) -> [u8; 32] {
        self.message_digest
    }

    /// The signature value (empty when the CMS was embedded from outside with
    /// [`Prepared::embed`]).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

impl<'a> Prepared<'a> {
    /// The `/ByteRange` `[0 a b c]`.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    /// Bytes reserved for the CMS structure.
    pub fn capacity(&self) -> usize {
        self.contents.len() / 2
    }

    /// Name of the field being signed.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// SHA-256 over the byte range: the input, then the update around `/Contents` (computed
    /// once).
    pub fn digest(&self) -> [u8; 32] {
        *self.digest.get_or_init(|| self.compute_digest())
    }

    /// SHA-256 of the input alone, from the same pass over it as [`Prepared::digest`] and the
    /// signed file's hash (a caller that names a document by its content needs no pass of its
    /// own).
    pub fn input_sha256(&self) -> [u8; 32] {
        let mut out = [0; 32];
        out.copy_from_slice(self.input_state().finish().as_ref());
        out
    }

    fn input_state(&self) -> aws_lc_rs::digest::Context {
        self.input_state
            .get_or_init(|| {
                let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
                ctx.update(self.input);
                ctx
            })
            .clone()
    }

    fn compute_digest(&self) -> [u8; 32] {
        let mut ctx = self.input_state();
        let base = self.input.len();
        ctx.update(&self.tail[..self.contents.start - 1 - base]);
        ctx.update(&self.tail[self.contents.end + 1 - base..]);
        let mut out = [0; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Put the DER CMS into the placeholder.
    ///
    /// # Errors
    /// [`Error::ContentsTooSmall`] if it does not fit (prepare again with more room).
    pub fn embed(mut self, cms: &[u8]) -> Result<SignedPdf<'a>> {
        if cms.len() > self.capacity() {
            return Err(Error::ContentsTooSmall {
                needed: cms.len(),
                available: self.capacity(),
            });
        }
        let base = self.input.len();
        let hex = hex::encode_upper(cms);
        let at = self.contents.start - base;
        self.tail[at..at + hex.len()].copy_from_slice(hex.as_bytes());
        let message_digest = self.digest();
        let input_sha256 = self.input_sha256();
        let mut whole = self.input_state();
        whole.update(&self.tail);
        let mut document_sha256 = [0; 32];
        document_sha256.copy_from_slice(whole.finish().as_ref());
        Ok(SignedPdf {
            document_sha256,
            input_sha256,
            input: self.input,
            tail: self.tail,
            field: self.field,
            byte_range: self.byte_range,
            message_digest,
            signature: Vec::new(),
        })
    }
}

/// Sign `input` with `signer` as `identity`: all stages in one call.
///
/// The `/Contents` room is computed from the real CMS size, and if a signer ever returns a longer
/// structure than announced, the document is prepared again with more room instead of failing.
///
/// # Errors
/// Everything [`prepare`] refuses; [`Error::Certificate`] if the key does not match the
/// certificate; [`Error::Signer`] if the key operation fails.
pub fn sign<'a>(
    input: &'a [u8],
    request: &SignatureRequest,
    signer: &dyn Signer,
    identity: &SignerIdentity,
) -> Result<SignedPdf<'a>> {
    if signer.public_key() != identity.public_key() {
        return Err(Error::Certificate {
            index: 0,
            reason: "the private key does not belong to this certificate".into(),
        });
    }
    let mut capacity = identity.content_info_len(signer.algorithm(), signer.signature_len());
    for _ in 0..2 {
        let prepared = prepare(input, request, capacity)?;
        let attrs = identity.signed_attributes(&prepared.digest());
        let signature = signer.sign(&attrs)?;
        let cms = identity.content_info(&attrs, signer.algorithm(), &signature);
        match prepared.embed(&cms) {
            Err(Error::ContentsTooSmall { needed, .. }) => capacity = needed + RETRY_SLACK,
            Ok(mut signed) => {
                signed.signature = signature;
                return Ok(signed);
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::ContentsTooSmall {
        needed: capacity,
        available: capacity - RETRY_SLACK,
    })
}

/// Prepare the incremental update: signature dictionary with a zeroed `/Contents` of
/// `contents_capacity` bytes, field and widget, updated page, form and catalog; `/ByteRange`
/// fixed.
///
/// Reads only the trailer, the catalog, the page tree path to the chosen page, that page, and
/// the form fields.
///
/// # Errors
/// Not a PDF, broken cross-reference data, encrypted, certified with no changes allowed, page
/// tree cycles, bad field names, an already signed field, or a document that needs more than
/// its work budget to read ([`crate::pdf::budget`]).
pub fn prepare<'a>(
    input: &'a [u8],
    request: &SignatureRequest,
    contents_capacity: usize,
) -> Result<Prepared<'a>> {
    let scope = crate::pdf::budget::Scope::enter(input.len());
    let prepared = prepare_document(input, request, contents_capacity)?;
    // Nothing is prepared from a reading that the budget cut short.
    scope.check()?;
    Ok(prepared)
}

fn prepare_document<'a>(
    input: &'a [u8],
    request: &SignatureRequest,
    contents_capacity: usize,
) -> Result<Prepared<'a>> {
    let doc = Document::open(input)?;
    let root_ref = doc
        .trailer()
        .get(b"Root")
        .and_then(Object::as_ref)
        .ok_or(Error::Structure(StructureError::NoRoot))?;
    let catalog = doc.resolve_dict(&Object::Reference(root_ref), "the catalog (/Root)")?;
    if !catalog.has_type(b"Catalog") && catalog.get(b"Pages").is_none() {
        return Err(Error::structure("/Root is not a catalog"));
    }
    check_docmdp(&doc, &catalog)?;

    let mut update = Update::new(&doc);

    // The form: where it lives and which fields it has.
    let form = FormLocation::find(&doc, &catalog)?;
    let existing = collect_fields(&doc, &form.fields)?;

    if let Some(p) = request.certify {
        if !(1..=3).contains(&p) {
            return Err(Error::Field(FieldError::BadCertification(format!(
                "DocMDP /P must be 1, 2 or 3, not {p}"
            ))));
        }
        if existing.iter().any(|f| f.is_signature && f.has_value) || catalog.get(b"Perms").is_some()
        {
            return Err(Error::Field(FieldError::BadCertification(
                "the document is already signed; a certification signature must be the first"
                    .into(),
            )));
        }
    }
    let mut catalog_edits: Vec<(&[u8], Object)> = Vec::new();

    let field_name = match &request.field {
        Some(n) => {
            check_field_name(n)?;
            n.clone()
        }
        None => (1..)
            .map(|i| format!("Signature{i}"))
            .find(|n| !existing.iter().any(|f| f.name == *n))
            .unwrap_or_else(|| "Signature".into()),
    };

    let sig_ref = update.allocate();
    let target = existing.iter().find(|f| f.name == field_name);
    match target {
        Some(f) if !f.is_signature => {
            return Err(Error::Field(FieldError::NotSignatureField(field_name)))
        }
        Some(f) if f.has_value => return Err(Error::Field(FieldError::AlreadySigned(field_name))),
        Some(f) => {
            // Sign into the existing empty field: only the field dictionary changes.
            let mut d = doc.resolve_dict(&Object::Reference(f.r), "the signature field")?;
            d.set(b"V", Object::Reference(sig_ref));
            update.put_object(f.r, &Object::Dict(d));
            if form.sig_flags != 3 {
                if let Some(edit) = form.write_with(&mut update, None) {
                    catalog_edits.push(edit);
                }
            }
        }
        None => {
            let (page_ref, page) = find_page(&doc, &catalog, request.page)?;
            let widget_ref = update.allocate();
            let ap_ref = update.allocate();
            let mut w = Dict::new();
            w.set(b"Type", Object::Name(b"Annot".to_vec()));
            w.set(b"Subtype", Object::Name(b"Widget".to_vec()));
            w.set(b"FT", Object::Name(b"Sig".to_vec()));
            w.set(b"T", Object::String(field_name.as_bytes().to_vec()));
            w.set(b"V", Object::Reference(sig_ref));
            w.set(b"F", Object::Integer(132)); // Print | Locked
            w.set(b"P", Object::Reference(page_ref));
            w.set(b"Rect", rect0());
            let mut ap = Dict::new();
            ap.set(b"N", Object::Reference(ap_ref));
            w.set(b"AP", Object::Dict(ap));
            update.put_object(widget_ref, &Object::Dict(w));
            // An empty appearance: PDF/A wants every widget to have one.
            update.put(
                ap_ref,
                b"<</Type/XObject/Subtype/Form/BBox[0 0 0 0]/Length 0>>stream\n\nendstream"
                    .to_vec(),
            );
            add_to_array(&mut update, &doc, page_ref, &page, b"Annots", widget_ref)?;
            if let Some(edit) = form.write_with(&mut update, Some(widget_ref)) {
                catalog_edits.push(edit);
            }
        }
    }

    // The signature dictionary, with fixed-width placeholders.
    let mut sig = Vec::new();
    sig.extend_from_slice(
        b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/ByteRange",
    );
    let br_at = sig.len();
    sig.extend_from_slice(BYTE_RANGE_PLACEHOLDER.as_bytes());
    sig.extend_from_slice(b"/Contents <");
    let contents_at = sig.len();
    sig.resize(sig.len() + contents_capacity * 2, b'0');
    sig.push(b'>');
    let mut rest = Dict::new();
    rest.set(b"M", Object::String(request.time.pdf_date().into_bytes()));
    for (key, value) in [
        (&b"Reason"[..], &request.reason),
        (b"Location", &request.location),
        (b"ContactInfo", &request.contact_info),
        (b"Name", &request.name),
    ] {
        if let Some(v) = value {
            rest.set(key, Object::String(text_string(v)));
        }
    }
    if let Some(p) = request.certify {
        // ISO 32000-2 §12.8.2.2: a signature reference with the DocMDP transform.
        let mut params = Dict::new();
        params.set(b"Type", Object::Name(b"TransformParams".to_vec()));
        params.set(b"P", Object::Integer(i64::from(p)));
        params.set(b"V", Object::Name(b"1.2".to_vec()));
        let mut sigref = Dict::new();
        sigref.set(b"Type", Object::Name(b"SigRef".to_vec()));
        sigref.set(b"TransformMethod", Object::Name(b"DocMDP".to_vec()));
        sigref.set(b"TransformParams", Object::Dict(params));
        rest.set(b"Reference", Object::Array(vec![Object::Dict(sigref)]));
        let mut perms = Dict::new();
        perms.set(b"DocMDP", Object::Reference(sig_ref));
        catalog_edits.push((b"Perms", Object::Dict(perms)));
    }
    if !catalog_edits.is_empty() {
        let mut cat = catalog;
        for (k, v) in catalog_edits {
            cat.set(k, v);
        }
        update.put_object(root_ref, &Object::Dict(cat));
    }
    let mut rest_bytes = Vec::new();
    rest.write(&mut rest_bytes);
    // Drop the `<<` `>>` of the helper dictionary.
    sig.extend_from_slice(&rest_bytes[2..rest_bytes.len() - 2]);
    sig.extend_from_slice(b">>");
    update.put(sig_ref, sig);

    let fresh_id = {
        let tail_start = input.len().saturating_sub(1024);
        let mut seed = input[tail_start..].to_vec();
        seed.extend_from_slice(&(input.len() as u64).to_be_bytes());
        seed.extend_from_slice(&request.time.0.to_be_bytes());
        let h = sha256(&seed);
        let mut id = [0u8; 16];
        id.copy_from_slice(&h[..16]);
        id
    };
    let mut tail = update.finish(fresh_id)?;
    let body = tail
        .body_offsets
        .iter()
        .find(|(r, _)| *r == sig_ref)
        .map(|(_, o)| *o)
        .ok_or_else(|| Error::structure("signature dictionary missing from the update"))?;
    let base = input.len();
    let contents = base + body + contents_at..base + body + contents_at + contents_capacity * 2;
    let total = base + tail.bytes.len();
    let byte_range = [
        0,
        contents.start - 1,
        contents.end + 1,
        total - (contents.end + 1),
    ];
    let br = format!("[0 {} {} {}]", byte_range[1], byte_range[2], byte_range[3]);
    let br = format!("{br:<width$}", width = BYTE_RANGE_PLACEHOLDER.len());
    let at = body + br_at;
    tail.bytes[at..at + br.len()].copy_from_slice(br.as_bytes());
    Ok(Prepared {
        input,
        digest: std::cell::OnceCell::new(),
        input_state: std::cell::OnceCell::new(),
        tail: tail.bytes,
        contents,
        byte_range,
        field: field_name,
    })
}

const BYTE_RANGE_PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";

fn rect0() -> Object {
    Object::Array(vec![Object::Integer(0); 4])
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, otherwise UTF-16BE with BOM.
fn text_string(s: &str) -> Vec<u8> {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.as_bytes().to_vec()
    } else {
        let mut v = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        v
    }
}

fn check_field_name(n: &str) -> Result<()> {
    let ok =
        !n.is_empty() && n.len() <= 64 && !n.contains('.') && n.chars().all(|c| !c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Field(FieldError::BadName(n.to_string())))
    }
}

/// Refuse documents whose certification signature forbids changes (ISO 32000-2 §12.8.2.2).
fn check_docmdp(doc: &Document<'_>, catalog: &Dict) -> Result<()> {
    let Some(perms) = catalog.get(b"Perms") else {
        return Ok(());
    };
    let perms = doc.resolve_dict(perms, "/Perms")?;
    let Some(docmdp) = perms.get(b"DocMDP") else {
        return Ok(());
    };
    let sig = doc.resolve_dict(docmdp, "/Perms /DocMDP")?;
    let refs = match sig.get(b"Reference").map(|r| doc.deref(r)).transpose()? {
        Some(Object::Array(a)) => a,
        _ => return Ok(()),
    };
    for r in refs {
        let sr = doc.resolve_dict(&r, "a signature reference dictionary")?;
        if sr.get(b"TransformMethod").and_then(Object::as_name) != Some(b"DocMDP") {
            continue;
        }
        let p = match sr.get(b"TransformParams") {
            Some(tp) => doc
                .resolve_dict(tp, "/TransformParams")?
                .get(b"P")
                .and_then(Object::as_i64)
                .unwrap_or(2),
            None => 2,
        };
        if p == 1 {
            return Err(Error::CertifiedNoChanges);
        }
    }
    Ok(())
}

/// Where the interactive form lives, so that it can be updated with the fewest rewritten
/// objects: an indirect `/AcroForm` or `/Fields` array is rewritten alone; the catalog only
/// when the form is direct or missing.
#[derive(Debug)]
pub(crate) struct FormLocation {
    acroform_ref: Option<ObjRef>,
    acroform: Option<Dict>,
    pub(crate) fields: Vec<Object>,
    fields_ref: Option<ObjRef>,
    sig_flags: i64,
}

impl FormLocation {
    pub(crate) fn find(doc: &Document<'_>, catalog: &Dict) -> Result<Self> {
        let (acroform_ref, mut acroform) = match catalog.get(b"AcroForm") {
            None => (None, None),
            Some(Object::Reference(r)) => match doc.resolve(*r)? {
                Object::Dict(d) => (Some(*r), Some(d)),
                Object::Null => (None, None),
                other => {
                    return Err(Error::structure(format!(
                        "/AcroForm is a {}, not a dictionary",
                        other.type_name()
                    )))
                }
            },
            Some(Object::Dict(d)) => (None, Some(d.clone())),
            Some(other) => {
                return Err(Error::structure(format!(
                    "/AcroForm is a {}, not a dictionary",
                    other.type_name()
                )))
            }
        };
        // A direct /Fields array is moved out of the form (not copied: it can be long), and
        // put back by `write_with`.
        let (fields, fields_ref) = match acroform.as_ref().and_then(|a| a.get(b"Fields")) {
            None => (Vec::new(), None),
            Some(Object::Reference(r)) => match doc.resolve(*r)? {
                Object::Array(a) => (a, Some(*r)),
                _ => return Err(Error::structure("/AcroForm /Fields is not an array")),
            },
            Some(Object::Array(_)) => match acroform.as_mut().and_then(|a| a.take(b"Fields")) {
                Some(Object::Array(a)) => (a, None),
                _ => (Vec::new(), None),
            },
            Some(_) => return Err(Error::structure("/AcroForm /Fields is not an array")),
        };
        let sig_flags = acroform
            .as_ref()
            .and_then(|a| a.get(b"SigFlags"))
            .and_then(Object::as_i64)
            .unwrap_or(0);
        Ok(Self {
            acroform_ref,
            acroform,
            fields,
            fields_ref,
            sig_flags,
        })
    }

    /// Write the form with `/SigFlags 3` and `new_field` added. Returns the catalog entry to
    /// set when the form is new or direct (the caller rewrites the catalog once).
    fn write_with(
        self,
        update: &mut Update<'_, '_>,
        new_field: Option<ObjRef>,
    ) -> Option<(&'static [u8], Object)> {
        let mut fields = self.fields;
        if let Some(f) = new_field {
            // One more, not twice as many (the array can be long).
            fields.reserve_exact(1);
            fields.push(Object::Reference(f));
        }
        let mut form = self.acroform.unwrap_or_default();
        match (self.fields_ref, new_field) {
            (Some(r), Some(_)) => update.put_object(r, &Object::Array(fields)),
            (Some(_), None) => {}
            (None, _) => form.set(b"Fields", Object::Array(fields)),
        }
        let form_changed = self.fields_ref.is_none() || self.sig_flags != 3;
        if !form_changed {
            return None;
        }
        form.set(b"SigFlags", Object::Integer(self.sig_flags | 3));
        match self.acroform_ref {
            Some(r) => {
                update.put_object(r, &Object::Dict(form));
                None
            }
            None => {
                let r = update.allocate();
                update.put_object(r, &Object::Dict(form));
                Some((b"AcroForm", Object::Reference(r)))
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct FieldInfo {
    pub(crate) r: ObjRef,
    pub(crate) name: String,
    pub(crate) is_signature: bool,
    pub(crate) has_value: bool,
}

/// A field still to walk: its reference, its parent's fully qualified name (shared with its
/// siblings), the `/FT` it inherits, its depth.
type PendingField = (ObjRef, Rc<str>, Option<Rc<[u8]>>, usize);

/// Walk the field tree (ISO 32000-2 §12.7.4) collecting fully qualified names of terminal fields.
///
/// Every object is resolved at most twice (once as a kid, once as a field): a kid reached again
/// is not read again (a field reached twice is a loop). Parent names are shared, not copied per
/// kid, and the fully qualified names built are bounded in total by [`NAMES_FLOOR`] plus the
/// input size.
pub(crate) fn collect_fields(doc: &Document<'_>, roots: &[Object]) -> Result<Vec<FieldInfo>> {
    let names_limit = NAMES_FLOOR.saturating_add(doc.data().len());
    let mut names_total = 0usize;
    let mut out = Vec::new();
    // Fields pushed for walking (a repeat is a loop), and kids found to be widgets.
    let mut seen = HashSet::new();
    let mut widgets = HashSet::new();
    let mut stack: Vec<PendingField> = Vec::new();
    let push_field = |seen: &mut HashSet<ObjRef>, r: ObjRef| -> Result<()> {
        if !seen.insert(r) {
            return Err(Error::structure(format!(
                "the form field tree loops at {r}"
            )));
        }
        if seen.len() > MAX_FIELDS {
            return Err(Error::Limit(LimitError::Count {
                what: "the number of form fields",
                value: seen.len() as u64,
            }));
        }
        Ok(())
    };
    for r in roots.iter().rev().filter_map(Object::as_ref) {
        push_field(&mut seen, r)?;
        stack.push((r, Rc::from(""), None, 0));
    }
    while let Some((r, prefix, inherited_ft, depth)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(Error::structure(format!(
                "the form field tree is nested deeper than {MAX_TREE_DEPTH} levels (at {r})"
            )));
        }
        let d = match doc.resolve(r)? {
            Object::Dict(d) => d,
            _ => continue,
        };
        let partial = d.get(b"T").and_then(Object::as_string).map(decode_text);
        let name: Rc<str> = match (&partial, prefix.is_empty()) {
            (Some(p), true) => Rc::from(p.as_str()),
            (Some(p), false) => Rc::from(format!("{prefix}.{p}")),
            (None, _) => prefix,
        };
        if partial.is_some() {
            names_total = names_total.saturating_add(name.len());
            if names_total > names_limit {
                return Err(Error::Limit(LimitError::Budget {
                    what: "bytes of fully qualified form field names",
                    limit: names_limit as u64,
                }));
            }
        }
        let ft: Option<Rc<[u8]>> = d
            .get(b"FT")
            .and_then(Object::as_name)
            .map(Rc::from)
            .or(inherited_ft);
        let kids: Vec<Object> = match d.get(b"Kids").map(|k| doc.deref(k)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => Vec::new(),
        };
        // Kids that have /T are fields; kids without are widgets of this field.
        let mut field_kids = Vec::new();
        for kr in kids.iter().filter_map(Object::as_ref) {
            if widgets.contains(&kr) {
                continue;
            }
            if seen.contains(&kr) {
                return Err(Error::structure(format!(
                    "the form field tree loops at {kr}"
                )));
            }
            let is_field = doc
                .resolve(kr)
                .ok()
                .and_then(|o| o.as_dict().map(|d| d.get(b"T").is_some()))
                .unwrap_or(false);
            if is_field {
                push_field(&mut seen, kr)?;
                field_kids.push(kr);
            } else {
                widgets.insert(kr);
            }
        }
        if field_kids.is_empty() {
            if partial.is_some() {
                out.push(FieldInfo {
                    r,
                    name: name.to_string(),
                    is_signature: ft.as_deref() == Some(b"Sig"),
                    has_value: d.get(b"V").is_some(),
                });
            }
        } else {
            for k in field_kids.into_iter().rev() {
                stack.push((k, name.clone(), ft.clone(), depth + 1));
            }
        }
    }
    Ok(out)
}

/// Decode a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding ≈ Latin-1).
pub(crate) fn decode_text(s: &[u8]) -> String {
    if let Some(rest) = s.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = s.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        s.iter().map(|&b| b as char).collect()
    }
}

/// Find page `n` (1-based). The whole page tree is walked (its nodes, not the pages' content),
/// so that a loop anywhere in it is refused, not only on the way to the chosen page.
fn find_page(doc: &Document<'_>, catalog: &Dict, n: u32) -> Result<(ObjRef, Dict)> {
    let root_ref = catalog
        .get(b"Pages")
        .and_then(Object::as_ref)
        .ok_or_else(|| Error::structure("the catalog has no /Pages reference"))?;
    let mut visited = HashSet::new();
    let mut found = None;
    let mut count: u32 = 0;
    // Depth-first, in document order: a stack of (node, depth).
    let mut stack = vec![(root_ref, 0usize)];
    while let Some((r, depth)) = stack.pop() {
        if !visited.insert(r) {
            return Err(Error::Structure(StructureError::PageTreeCycle(
                r.to_string(),
            )));
        }
        if depth > MAX_TREE_DEPTH {
            return Err(Error::structure(format!(
                "the page tree is nested deeper than {MAX_TREE_DEPTH} levels (at {r})"
            )));
        }
        if visited.len() > MAX_PAGE_NODES {
            return Err(Error::Limit(LimitError::Count {
                what: "the number of page tree nodes",
                value: visited.len() as u64,
            }));
        }
        let node = doc
            .skim_node(r)?
            .ok_or_else(|| Error::structure(format!("page tree node {r} is not a dictionary")))?;
        // The root is a page tree node even if its /Type is missing.
        let is_pages = node.pages || (depth == 0 && node.kids.is_some());
        if !is_pages {
            count += 1;
            if count == n {
                let page = doc.resolve_dict(&Object::Reference(r), "the page")?;
                found = Some((r, page));
            }
            continue;
        }
        let kids = match node.kids.as_ref().map(|k| doc.deref(k)).transpose()? {
            Some(Object::Array(a)) => a,
            _ => {
                return Err(Error::structure(format!(
                    "page tree node {r} has no /Kids array"
                )))
            }
        };
        for kid in kids.iter().rev() {
            let kr = kid.as_ref().ok_or_else(|| {
                Error::structure(format!("a /Kids entry of {r} is not a reference"))
            })?;
            stack.push((kr, depth + 1));
        }
    }
    found.ok_or(Error::Structure(StructureError::NoSuchPage {
        requested: n,
        count,
    }))
}

/// Append `item` to the array under `key` of object `owner` (dictionary `dict`), rewriting the
/// array object if it is indirect, otherwise the owner.
fn add_to_array(
    update: &mut Update<'_, '_>,
    doc: &Document<'_>,
    owner: ObjRef,
    dict: &Dict,
    key: &[u8],
    item: ObjRef,
) -> Result<()> {
    match dict.get(key) {
        Some(Object::Reference(r)) => {
            let mut arr = match doc.resolve(*r)? {
                Object::Array(a) => a,
                Object::Null => Vec::new(),
                other => {
                    return Err(Error::structure(format!(
                        "/{} of {owner} is a {}, not an array",
                        String::from_utf8_lossy(key),
                        other.type_name()
                    )))
                }
            };
            arr.push(Object::Reference(item));
            update.put_object(*r, &Object::Array(arr));
        }
        other => {
            let mut arr = match other {
                Some(Object::Array(a)) => a.clone(),
                None => Vec::new(),
                Some(o) => {
                    return Err(Error::structure(format!(
                        "/{} of {owner} is a {}, not an array",
                        String::from_utf8_lossy(key),
                        o.type_name()
                    )))
                }
            };
            arr.push(Object::Reference(item));
            let mut d = dict.clone();
            d.set(key, Object::Array(arr));
            update.put_object(owner, &Object::Dict(d));
        }
    }
    Ok(())
}
