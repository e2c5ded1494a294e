//! `segel log`: checkpoints, entries and inclusion proofs, checked; saved proofs checked offline.

use segel_client::logcheck::ProvenEntry;
use segel_client::ClientError;

use crate::args::{Conn, LogCommand};
use crate::{exit, online};

/// Hex text as bytes.
fn unhex(s: &str) -> Result<Vec<u8>, ClientError> {
    let s = s.trim();
    hex::decode(s).map_err(|_| ClientError::NotHex {
        text: s.to_string(),
    })
}

/// An entry, as the JSON `segel log entry` and `segel verify --json` print.
pub(crate) fn entry_json(e: &ProvenEntry) -> serde_json::Value {
    let r = &e.record;
    serde_json::json!({
        "index": e.index,
        "leaf_hash": hex::encode(e.leaf_hash),
        "time_ms": r.time_ms,
        "agency": r.agency,
        "caller": r.caller,
        "certificate_sha256": hex::encode(r.certificate_sha256),
        "message_digest": hex::encode(r.message_digest),
        "signature_sha256": hex::encode(r.signature_sha256),
        "document_sha256": hex::encode(r.document_sha256),
        "document_source": r.document_source.as_str(),
        "document_ref": r.document_ref,
        "document_ref_hmac": r.document_ref_hmac.map(hex::encode),
        "document_id_sha256": r.document_id_sha256.hash().map(hex::encode),
        "tree_size": e.checkpoint.checkpoint.size,
        "proof_checked": true,
    })
}

/// Run a `segel log` command; the exit code.
pub(crate) fn run_log(conn: &Conn, what: LogCommand) -> u8 {
    match what {
        LogCommand::Checkpoint => online(conn, |client| async move {
            let cp = client.checkpoint().await?;
            print!("{}", cp.note);
            eprintln!(
                "checkpoint of {} entries, signed by {} (checked, consistent with the newest seen)",
                cp.checkpoint.size,
                client.view().await.verifier_key()
            );
            Ok(exit::OK)
        }),
        LogCommand::Entry {
            index,
            document_sha256,
            signature_sha256,
            file,
            document_ref,
            document_id,
        } => online(conn, |client| async move {
            use segel_client::online::EntryKey as Key;
            let key = match (index, document_sha256, signature_sha256, file) {
                _ if document_ref.is_some() => Key::DocumentRef(document_ref.unwrap_or_default()),
                _ if document_id.is_some() => Key::DocumentId(document_id.unwrap_or_default()),
                (Some(i), ..) => Key::Index(i),
                (_, Some(h), ..) => Key::DocumentSha256(unhex(&h)?),
                (_, _, Some(h), _) => Key::SignatureSha256(unhex(&h)?),
                (_, _, _, Some(f)) => {
                    let data = segel_client::read_file(&f)?;
                    Key::DocumentSha256(pades::sha256(&data).to_vec())
                }
                _ => return Ok(exit::USAGE),
            };
            let entries = client.entries(key).await?;
            let list: Vec<serde_json::Value> = entries.iter().map(entry_json).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
            Ok(if entries.is_empty() {
                eprintln!("segel: no such entry in this log");
                exit::NOT_PASSED
            } else {
                exit::OK
            })
        }),
        LogCommand::Proof { index } => online(conn, |client| async move {
            let entries = client
                .entries(segel_client::online::EntryKey::Index(index))
                .await?;
            let Some(e) = entries.first() else {
                eprintln!("segel: no entry {index} in this log");
                return Ok(exit::NOT_PASSED);
            };
            let proof = ProofFile {
                index: e.index,
                record: base64_encode(&e.encoded),
                leaf_hash: hex::encode(e.leaf_hash),
                tree_size: e.checkpoint.checkpoint.size,
                hashes: e.proof.iter().map(hex::encode).collect(),
                checkpoint: e.checkpoint.note.clone(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&proof).unwrap_or_default()
            );
            Ok(exit::OK)
        }),
        LogCommand::Check { proof } => match check_proof_file(conn, &proof) {
            Ok(msg) => {
                println!("{msg}");
                exit::OK
            }
            Err(e) => {
                eprintln!("segel: {}: {e}", proof.display());
                exit::NOT_PASSED
            }
        },
    }
}

/// A saved inclusion proof (`segel log proof`), checkable offline.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofFile {
    index: u64,
    /// The encoded record, base64.
    record: String,
    leaf_hash: String,
    tree_size: u64,
    hashes: Vec<String>,
    /// The signed checkpoint note.
    checkpoint: String,
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

fn check_proof_file(conn: &Conn, path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let p: ProofFile = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let key = conn
        .log_key
        .clone()
        .or_else(|| std::env::var("SEGEL_LOG_KEY").ok())
        .ok_or(
            "give the log's key with --log-key (or SEGEL_LOG_KEY): without it the \
                checkpoint's signature means nothing",
        )?;
    let view = segel_client::logcheck::LogView::new(&key, None).map_err(|e| e.to_string())?;
    let cp = view.check_note(&p.checkpoint).map_err(|e| e.to_string())?;
    let record = base64_decode(&p.record).ok_or("the record is not base64")?;
    let hashes = p
        .hashes
        .iter()
        .map(|h| unhex(h).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let entry = segel_client::logcheck::UncheckedEntry {
        index: p.index,
        leaf_hash: unhex(&p.leaf_hash).map_err(|e| e.to_string())?,
        record,
    };
    let proof = segel_client::logcheck::InclusionProof {
        leaf_index: p.index,
        tree_size: p.tree_size,
        hashes,
    };
    let e = view
        .check_entry(&entry, &proof, &cp)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "entry {} (agency {}, document {}) is in the log of {} entries whose checkpoint is signed by {}",
        e.index,
        e.record.agency,
        hex::encode(e.record.document_sha256),
        cp.checkpoint.size,
        key
    ))
}
