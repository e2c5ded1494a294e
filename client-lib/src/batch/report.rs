//! What a batch reports: one result per file, and the whole batch as JSON or CSV.

use std::path::PathBuf;
use std::time::Duration;

use super::BatchOptions;
use crate::logcheck::ProvenEntry;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signed now; the log index of its entry.
    Signed {
        /// Log index.
        log_index: u64,
    },
    /// Its output already existed and verified.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not signed.
    Failed {
        /// Why, with what to do next where that helps.
        reason: String,
    },
    /// Never started: the batch was stopped (Ctrl-C) first. A rerun signs it.
    NotStarted,
}

/// Where and when a file's signature was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    /// The entry's index.
    pub index: u64,
    /// The entry's time, Unix milliseconds (the server's clock when it was logged).
    pub time_ms: i64,
}

impl Logged {
    /// The index and time of `entry`.
    pub fn of(entry: &ProvenEntry) -> Self {
        Self {
            index: entry.index,
            time_ms: entry.record.time_ms,
        }
    }
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// Path relative to the input folder.
    pub file: PathBuf,
    /// Output path.
    pub output: PathBuf,
    /// Outcome.
    pub outcome: Outcome,
    /// Size of the output when signed or skipped.
    pub bytes: u64,
    /// Its log entry: for a file signed now, the one the server answered with; for a skipped
    /// one, the entry of the output's document hash, looked up in the log (none when the log
    /// holds no entry of it, or the lookup failed: the reason says which).
    pub logged: Option<Logged>,
    /// With a visible seal, for a file signed now: the document id its QR code links to
    /// (`{verify_url}/d/{document_id}`).
    pub document_id: Option<String>,
    /// Time spent on it.
    pub elapsed: Duration,
}

/// A whole batch.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One result per input file, in path order.
    pub files: Vec<FileResult>,
    /// True when the batch was stopped before every file was tried.
    pub interrupted: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl Summary {
    /// Files signed now.
    pub fn signed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Signed { .. }))
    }
    /// Files skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }
    /// Files not signed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    /// Files never started (the batch was stopped first).
    pub fn not_started(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.outcome)).count()
    }

    /// The report as JSON.
    pub fn to_json(&self, opts: &BatchOptions) -> String {
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|r| {
                let (status, signed_in, reason) = outcome_fields(&r.outcome);
                serde_json::json!({
                    "file": r.file.display().to_string(),
                    "output": r.output.display().to_string(),
                    "status": status,
                    "log_index": r.logged.map(|l| l.index),
                    "logged_at": r.logged.map(logged_at),
                    "signed_in": signed_in,
                    "document_id": r.document_id,
                    "reason": reason,
                    "bytes": r.bytes,
                    "ms": r.elapsed.as_millis() as u64,
                })
            })
            .collect();
        let v = serde_json::json!({
            "agency": opts.agency,
            "input": opts.input.display().to_string(),
            "output": opts.output.display().to_string(),
            "digest_only": opts.digest_only,
            "signed": self.signed(),
            "skipped": self.skipped(),
            "failed": self.failed(),
            "not_started": self.not_started(),
            "interrupted": self.interrupted,
            "seconds": self.elapsed.as_secs_f64(),
            "files": files,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }

    /// The report as CSV
    /// (`file,output,status,log_index,logged_at,signed_in,reason,bytes,ms,document_id`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from(
            "file,output,status,log_index,logged_at,signed_in,reason,bytes,ms,document_id\n",
        );
        for r in &self.files {
            let (status, signed_in, reason) = outcome_fields(&r.outcome);
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                csv_field(&r.file.display().to_string()),
                csv_field(&r.output.display().to_string()),
                status,
                r.logged.map(|l| l.index.to_string()).unwrap_or_default(),
                r.logged.map(logged_at).unwrap_or_default(),
                signed_in.unwrap_or_default(),
                csv_field(&reason),
                r.bytes,
                r.elapsed.as_millis(),
                r.document_id.as_deref().unwrap_or_default()
            ));
        }
        s
    }
}

/// Which run wrote a signed output: this one, or an earlier one whose output a rerun found
/// and kept.
pub const THIS_RUN: &str = "this run";
/// See [`THIS_RUN`].
pub const EARLIER_RUN: &str = "earlier run";

/// Status, which run signed it, and reason.
fn outcome_fields(o: &Outcome) -> (&'static str, Option<&'static str>, String) {
    match o {
        Outcome::Signed { .. } => ("signed", Some(THIS_RUN), String::new()),
        Outcome::Skipped { reason } => ("skipped", Some(EARLIER_RUN), reason.clone()),
        Outcome::Failed { reason } => ("failed", None, reason.clone()),
        Outcome::NotStarted => (
            "not started",
            None,
            "the batch was stopped before this file started (rerun to continue)".into(),
        ),
    }
}

fn logged_at(l: Logged) -> String {
    pades::UnixTime::from_ms(l.time_ms).rfc3339()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids_are_reported_for_sealed_files() {
        let file = |name: &str, document_id: Option<&str>| FileResult {
            file: name.into(),
            output: format!("out/{name}").into(),
            outcome: Outcome::Signed { log_index: 3 },
            bytes: 10,
            logged: Some(Logged {
                index: 3,
                time_ms: 0,
            }),
            document_id: document_id.map(str::to_string),
            elapsed: Duration::ZERO,
        };
        let summary = Summary {
            files: vec![
                file("a.pdf", Some("AbCdEfGhIjKlMnOpQrStUv")),
                file("b.pdf", None),
            ],
            interrupted: false,
            elapsed: Duration::from_secs(1),
        };
        let opts = BatchOptions::new("dev", "in".as_ref(), "out".as_ref());
        let json: serde_json::Value = serde_json::from_str(&summary.to_json(&opts)).expect("json");
        assert_eq!(json["files"][0]["document_id"], "AbCdEfGhIjKlMnOpQrStUv");
        assert!(json["files"][1]["document_id"].is_null());
        let csv = summary.to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].ends_with(",ms,document_id"), "{}", lines[0]);
        assert!(
            lines[1].ends_with(",AbCdEfGhIjKlMnOpQrStUv"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",0,"), "{}", lines[2]);
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain.pdf"), "plain.pdf");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
