//! The signing core's and the log's results, and their one conversion into protobuf replies.
//!
//! The core answers in the types here (a signed document and where it was logged, a checkpoint,
//! proofs); the handlers turn them into the wire's messages with `From` and the two reply
//! builders of a signed document ([`SignedPdf::into_reply`], [`SignedPdf::into_stream`]).

use std::sync::Arc;

use segel_proto::v1 as pb;

/// The largest chunk of a streamed reply.
const CHUNK: usize = 1 << 20;

/// A log entry as the API serves it: its index and its encoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEntry {
    /// The entry's index.
    pub index: u64,
    /// The encoded record (the tlog entry format).
    pub record: Vec<u8>,
}

impl From<LoggedEntry> for pb::LogEntry {
    fn from(e: LoggedEntry) -> Self {
        Self {
            index: e.index,
            leaf_hash: tlog::leaf_hash(&e.record).to_vec(),
            record: e.record,
        }
    }
}

/// A signed checkpoint note and the log's verifier key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The C2SP checkpoint note, verbatim.
    pub note: String,
    /// The C2SP verifier key string.
    pub verifier_key: String,
}

impl From<Checkpoint> for pb::Checkpoint {
    fn from(c: Checkpoint) -> Self {
        Self {
            note: c.note,
            verifier_key: c.verifier_key,
        }
    }
}

/// The proof that an entry is in the tree of a size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The entry.
    pub leaf_index: u64,
    /// The tree size.
    pub tree_size: u64,
    /// The audit path.
    pub hashes: Vec<tlog::Hash>,
}

impl From<InclusionProof> for pb::InclusionProof {
    fn from(p: InclusionProof) -> Self {
        Self {
            leaf_index: p.leaf_index,
            tree_size: p.tree_size,
            hashes: p.hashes.iter().map(|h| h.to_vec()).collect(),
        }
    }
}

/// The proof that a tree of one size extends the tree of a smaller one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older size.
    pub old_size: u64,
    /// The newer size.
    pub new_size: u64,
    /// The proof's hashes.
    pub hashes: Vec<tlog::Hash>,
}

impl From<ConsistencyProof> for pb::ConsistencyProof {
    fn from(p: ConsistencyProof) -> Self {
        Self {
            old_size: p.old_size,
            new_size: p.new_size,
            hashes: p.hashes.iter().map(|h| h.to_vec()).collect(),
        }
    }
}

/// Where a signature was logged: its entry, and a checkpoint with the entry's proof in it.
#[derive(Debug, Clone)]
pub struct LoggedAt {
    /// The entry.
    pub entry: LoggedEntry,
    /// A checkpoint that includes it.
    pub checkpoint: Checkpoint,
    /// The entry's proof in that checkpoint.
    pub proof: InclusionProof,
    /// From the previous checkpoint to `checkpoint`, for an entry logged just now.
    pub consistency: Option<ConsistencyProof>,
}

/// A signed document: the caller's bytes, the update to append, and where it was logged.
#[derive(Debug, Clone)]
pub struct SignedPdf {
    /// The document as the caller sent it.
    pub pdf: bytes::Bytes,
    /// The incremental update that signs it.
    pub update: bytes::Bytes,
    /// Its log entry and proof.
    pub at: LoggedAt,
    /// The document id of its visible seal (none for an invisible signature).
    pub document_id: Option<pades::stamp::DocumentId>,
}

impl SignedPdf {
    /// The reply's fields but the document's bytes.
    fn metadata(
        at: LoggedAt,
        document_id: Option<pades::stamp::DocumentId>,
    ) -> pb::SignPdfResponse {
        pb::SignPdfResponse {
            signed_pdf: bytes::Bytes::new(),
            update: bytes::Bytes::new(),
            entry: Some(at.entry.into()),
            checkpoint: Some(at.checkpoint.into()),
            inclusion_proof: Some(at.proof.into()),
            consistency_proof: at.consistency.map(Into::into),
            document_id: document_id.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    /// The unary reply: the update alone when `update_only` (the caller has the document),
    /// else the whole signed document.
    pub fn into_reply(self, update_only: bool) -> pb::SignPdfResponse {
        let mut meta = Self::metadata(self.at, self.document_id);
        if update_only {
            meta.update = self.update;
        } else {
            let mut pdf = Vec::with_capacity(self.pdf.len() + self.update.len());
            pdf.extend_from_slice(&self.pdf);
            pdf.extend_from_slice(&self.update);
            meta.signed_pdf = pdf.into();
        }
        meta
    }

    /// The streamed reply: the metadata first, then the signed document in chunks (slices of
    /// the two buffers, no copies); with `update_only`, the update alone in the metadata and
    /// no chunks.
    pub fn into_stream(
        self,
        update_only: bool,
    ) -> impl tokio_stream::Stream<Item = pb::SignPdfStreamResponse> + Send {
        use pb::sign_pdf_stream_response::Part;
        let mut meta = Self::metadata(self.at, self.document_id);
        let (pdf, update) = if update_only {
            meta.update = self.update;
            (bytes::Bytes::new(), bytes::Bytes::new())
        } else {
            (self.pdf, self.update)
        };
        let meta = Arc::new(meta);
        let n_pdf = pdf.len().div_ceil(CHUNK);
        let n = n_pdf + update.len().div_ceil(CHUNK) + 1;
        tokio_stream::StreamExt::map(tokio_stream::iter(0..n), move |i| {
            let part = if i == 0 {
                Part::Metadata((*meta).clone())
            } else if i <= n_pdf {
                let from = (i - 1) * CHUNK;
                Part::Chunk(pdf.slice(from..(from + CHUNK).min(pdf.len())))
            } else {
                let from = (i - 1 - n_pdf) * CHUNK;
                Part::Chunk(update.slice(from..(from + CHUNK).min(update.len())))
            };
            pb::SignPdfStreamResponse { part: Some(part) }
        })
    }
}

/// A signed digest: the CMS for the caller's `/Contents`, and where it was logged.
#[derive(Debug, Clone)]
pub struct SignedDigest {
    /// DER CMS SignedData (detached).
    pub cms: Vec<u8>,
    /// Its log entry and proof.
    pub at: LoggedAt,
}

impl From<SignedDigest> for pb::SignDigestResponse {
    fn from(s: SignedDigest) -> Self {
        Self {
            cms: s.cms,
            entry: Some(s.at.entry.into()),
            checkpoint: Some(s.at.checkpoint.into()),
            inclusion_proof: Some(s.at.proof.into()),
            consistency_proof: s.at.consistency.map(Into::into),
        }
    }
}

impl From<&crate::config::Agency> for pb::Agency {
    fn from(a: &crate::config::Agency) -> Self {
        Self {
            id: a.id.clone(),
            name: a.name.clone(),
            certificate_chain: a.chain.clone(),
            stamp: a.stamp.as_ref().map(pb::StampSettings::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(pdf: usize, update: usize) -> SignedPdf {
        let entry = LoggedEntry {
            index: 4,
            record: b"record".to_vec(),
        };
        SignedPdf {
            pdf: vec![1; pdf].into(),
            update: vec![2; update].into(),
            at: LoggedAt {
                entry,
                checkpoint: Checkpoint {
                    note: "note".into(),
                    verifier_key: "vkey".into(),
                },
                proof: InclusionProof {
                    leaf_index: 4,
                    tree_size: 5,
                    hashes: vec![[3; 32]],
                },
                consistency: None,
            },
            document_id: None,
        }
    }

    #[test]
    fn unary_replies_carry_the_document_or_the_update() {
        let whole = signed(10, 3).into_reply(false);
        assert_eq!(
            &whole.signed_pdf[..],
            &[[1; 10].as_slice(), &[2; 3]].concat()[..]
        );
        assert!(whole.update.is_empty());
        let entry = whole.entry.expect("entry");
        assert_eq!(entry.leaf_hash, tlog::leaf_hash(b"record").to_vec());
        assert_eq!(
            whole.inclusion_proof.expect("proof").hashes,
            vec![vec![3; 32]]
        );
        assert_eq!(whole.document_id, "");
        let update = signed(10, 3).into_reply(true);
        assert!(update.signed_pdf.is_empty());
        assert_eq!(&update.update[..], &[2; 3]);
        let id = pades::stamp::DocumentId::parse("AbCdEfGhIjKlMnOpQrStUv").expect("id");
        let sealed = SignedPdf {
            document_id: Some(id),
            ..signed(10, 3)
        };
        assert_eq!(
            sealed.into_reply(true).document_id,
            "AbCdEfGhIjKlMnOpQrStUv"
        );
    }

    #[tokio::test]
    async fn streamed_replies_are_metadata_then_chunks_of_the_document_and_update() {
        use pb::sign_pdf_stream_response::Part;
        use tokio_stream::StreamExt;
        let parts: Vec<_> = signed(CHUNK + 1, 5).into_stream(false).collect().await;
        assert_eq!(parts.len(), 4);
        let sizes: Vec<usize> = parts
            .iter()
            .map(|p| match &p.part {
                Some(Part::Chunk(c)) => c.len(),
                Some(Part::Metadata(m)) => {
                    assert!(m.update.is_empty() && m.signed_pdf.is_empty());
                    0
                }
                None => usize::MAX,
            })
            .collect();
        assert_eq!(sizes, vec![0, CHUNK, 1, 5]);
        let only: Vec<_> = signed(CHUNK + 1, 5).into_stream(true).collect().await;
        match &only[..] {
            [pb::SignPdfStreamResponse {
                part: Some(Part::Metadata(m)),
            }] => assert_eq!(m.update.len(), 5),
            other => panic!("one metadata message, got {other:?}"),
        }
    }
}
