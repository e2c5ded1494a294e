//! The stages after preparing: the digest over the byte range, embedding the CMS into the
//! placeholder, and [`sign`], which runs every stage with a [`Signer`].

use super::{prepare, Input, Prepared, SignatureRequest, SignedPdf};
use crate::cms::SignerIdentity;
use crate::error::{Error, Result};
use crate::signer::Signer;

/// Extra `/Contents` room if a first estimate did not fit.
const RETRY_SLACK: usize = 1024;

impl<I: Input> Prepared<I> {
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
                ctx.update(self.input.bytes());
                ctx
            })
            .clone()
    }

    fn compute_digest(&self) -> [u8; 32] {
        let mut ctx = self.input_state();
        let base = self.input.bytes().len();
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
    pub fn embed(mut self, cms: &[u8]) -> Result<SignedPdf<I>> {
        if cms.len() > self.capacity() {
            return Err(Error::ContentsTooSmall {
                needed: cms.len(),
                available: self.capacity(),
            });
        }
        let base = self.input.bytes().len();
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
/// The `/Contents` room is computed from the real CMS size, and if a signer returns a longer
/// structure than announced, the document is prepared again with more room instead of failing.
///
/// # Errors
/// Everything [`prepare`] refuses; [`Error::Certificate`] if the key does not match the
/// certificate; [`Error::Signer`] if the key operation fails.
pub fn sign<I: Input>(
    input: I,
    request: &SignatureRequest,
    signer: &dyn Signer,
    identity: &SignerIdentity,
) -> Result<SignedPdf<I>> {
    if signer.public_key() != identity.public_key() {
        return Err(Error::Certificate {
            index: 0,
            reason: "the private key does not belong to this certificate".into(),
        });
    }
    let mut capacity = identity.content_info_len(signer.algorithm(), signer.signature_len());
    for _ in 0..2 {
        let prepared = prepare(input.bytes(), request, capacity)?;
        let attrs = identity.signed_attributes(&prepared.digest());
        let signature = signer.sign(&attrs)?;
        let cms = identity.content_info(&attrs, signer.algorithm(), &signature);
        match prepared.embed(&cms) {
            Err(Error::ContentsTooSmall { needed, .. }) => capacity = needed + RETRY_SLACK,
            Ok(signed) => {
                // The same signed document, holding `input` as given.
                let SignedPdf {
                    tail,
                    field,
                    byte_range,
                    message_digest,
                    document_sha256,
                    input_sha256,
                    ..
                } = signed;
                return Ok(SignedPdf {
                    input,
                    tail,
                    field,
                    byte_range,
                    message_digest,
                    signature,
                    document_sha256,
                    input_sha256,
                });
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::ContentsTooSmall {
        needed: capacity,
        available: capacity - RETRY_SLACK,
    })
}
