//! What a batch reports: one result per file, and the whole batch as JSON or CSV.

use std::path::PathBuf;
use std::time::Duration;

use super::BatchOptions;

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
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.outcome)).count()
    }

    /// The report as JSON.
    pub fn to_json(&self, opts: &BatchOptions) -> String {
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|r| {
                let (status, index, reason) = outcome_fields(&r.outcome);
                serde_json::json!({
                    "file": r.file.display().to_string(),
                    "output": r.output.display().to_string(),
                    "status": status,
                    "log_index": index,
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
            "interrupted": self.interrupted,
            "seconds": self.elapsed.as_secs_f64(),
            "files": files,
        });
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }

    /// The report as CSV (`file,output,status,log_index,reason,bytes,ms`).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("file,output,status,log_index,reason,bytes,ms\n");
        for r in &self.files {
            let (status, index, reason) = outcome_fields(&r.outcome);
            s.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                csv_field(&r.file.display().to_string()),
                csv_field(&r.output.display().to_string()),
                status,
                index.map(|i| i.to_string()).unwrap_or_default(),
                csv_field(&reason),
                r.bytes,
                r.elapsed.as_millis()
            ));
        }
        s
    }
}

fn outcome_fields(o: &Outcome) -> (&'static str, Option<u64>, String) {
    match o {
        Outcome::Signed { log_index } => ("signed", Some(*log_index), String::new()),
        Outcome::Skipped { reason } => ("skipped", None, reason.clone()),
        Outcome::Failed { reason } => ("failed", None, reason.clone()),
    }
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
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain.pdf"), "plain.pdf");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
