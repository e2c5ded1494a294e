//! Per-document references for a batch (`segel batch --document-refs FILE`): each file's letter
//! number, recorded in the log (as a keyed hash) when the file is signed.
//!
//! The file has one line per document: its path relative to the input folder, then its
//! reference, separated by a tab (TSV) or a comma (CSV; a field holding a comma or a quote is
//! quoted, `""` being a quote inside it):
//!
//! ```text
//! surat/keluar-017.pdf,B-17/2026
//! "surat/keluar, lampiran.pdf",B-18/2026
//! ```
//!
//! Blank lines and lines starting with `#` are ignored, and so is a first line naming the
//! columns (`file,document_ref` or `path,document_ref`). The whole file is checked before
//! anything is signed: a line that does not parse, an empty or over-long reference, a path
//! given twice, or a path that is not a PDF of the batch is refused with its line number. The
//! same reference may be given to several files (a letter and its attachments).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::error::ClientError;

/// The longest document reference a log record holds, in bytes (UTF-8).
pub const MAX_DOCUMENT_REF: usize = 256;

/// What is wrong with one line of a references file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefProblem {
    /// Not two fields, or a quote left open.
    #[error("expected `relative/path.pdf,REFERENCE` (or a tab between them): {0}")]
    Malformed(String),
    /// The path is absolute or leaves the input folder.
    #[error("{0}: the path must be relative to the input folder, without `..`")]
    NotRelative(PathBuf),
    /// The reference is empty.
    #[error("{0}: the reference is empty")]
    EmptyRef(PathBuf),
    /// The reference is longer than [`MAX_DOCUMENT_REF`].
    #[error("{path}: the reference has {len} bytes; at most {MAX_DOCUMENT_REF} are allowed")]
    TooLong {
        /// The file.
        path: PathBuf,
        /// The reference's length in bytes.
        len: usize,
    },
    /// The path was given on an earlier line too.
    #[error("{path}: given twice (first on line {first})")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The line that gave it first.
        first: usize,
    },
    /// The path is not a PDF found in the input folder.
    #[error("{0}: no such PDF in the input folder")]
    Unknown(PathBuf),
}

/// One problem and its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct LineProblem {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong there.
    pub problem: RefProblem,
}

/// The references of a batch, by path relative to the input folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentRefs {
    /// The file they were read from (empty when parsed from text).
    file: PathBuf,
    /// Path → (reference, line it was given on).
    refs: HashMap<PathBuf, (String, usize)>,
}

impl DocumentRefs {
    /// Read and parse a references file.
    ///
    /// # Errors
    /// [`ClientError::Read`] for an unreadable file (or one not in UTF-8),
    /// [`ClientError::DocumentRefs`] with every line that is wrong.
    pub fn read(file: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(file).map_err(|source| ClientError::Read {
            path: file.to_path_buf(),
            source,
        })?;
        let mut refs = Self::parse(&text).map_err(|problems| ClientError::DocumentRefs {
            file: file.to_path_buf(),
            problems,
        })?;
        refs.file = file.to_path_buf();
        Ok(refs)
    }

    /// The file the references were read from (empty when parsed from text).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Parse the text of a references file, checking every line (everything but whether the
    /// paths exist: see [`DocumentRefs::check_known`]).
    ///
    /// # Errors
    /// Every line that is wrong, with its line number.
    pub fn parse(text: &str) -> Result<Self, Vec<LineProblem>> {
        let mut refs: HashMap<PathBuf, (String, usize)> = HashMap::new();
        let mut problems = Vec::new();
        let mut first_content_line = true;
        // A byte-order mark, as spreadsheet programs write, is not part of the first path.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let header_allowed = std::mem::replace(&mut first_content_line, false);
            let mut fail = |problem| problems.push(LineProblem { line, problem });
            let fields = match split(raw) {
                Ok(f) => f,
                Err(m) => {
                    fail(RefProblem::Malformed(m));
                    continue;
                }
            };
            // Spaces around a field (`a.pdf, B-1/2026`) are not part of it.
            let fields: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
            let [path, reference] = fields.as_slice() else {
                fail(RefProblem::Malformed(format!(
                    "{} fields on the line",
                    fields.len()
                )));
                continue;
            };
            if header_allowed
                && matches!(path.as_str(), "file" | "path")
                && reference == "document_ref"
            {
                continue;
            }
            let path = normalise(path);
            if path.as_os_str().is_empty()
                || !path.components().all(|c| matches!(c, Component::Normal(_)))
            {
                fail(RefProblem::NotRelative(path));
                continue;
            }
            if reference.trim().is_empty() {
                fail(RefProblem::EmptyRef(path));
                continue;
            }
            if reference.len() > MAX_DOCUMENT_REF {
                fail(RefProblem::TooLong {
                    len: reference.len(),
                    path,
                });
                continue;
            }
            if let Some((_, first)) = refs.get(&path) {
                let first = *first;
                fail(RefProblem::Duplicate { path, first });
                continue;
            }
            refs.insert(path, (reference.clone(), line));
        }
        if problems.is_empty() {
            Ok(Self {
                file: PathBuf::new(),
                refs,
            })
        } else {
            Err(problems)
        }
    }

    /// Check that every path is one of `files` (the batch's PDFs, relative to the input
    /// folder).
    ///
    /// # Errors
    /// Every line naming a path that is not among them, in line order.
    pub fn check_known(&self, files: &[PathBuf]) -> Result<(), Vec<LineProblem>> {
        let known: std::collections::HashSet<&Path> = files.iter().map(PathBuf::as_path).collect();
        let mut problems: Vec<LineProblem> = self
            .refs
            .iter()
            .filter(|(p, _)| !known.contains(p.as_path()))
            .map(|(p, (_, line))| LineProblem {
                line: *line,
                problem: RefProblem::Unknown(p.clone()),
            })
            .collect();
        problems.sort_by_key(|p| p.line);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The reference of `file` (relative to the input folder), if one was given.
    pub fn get(&self, file: &Path) -> Option<&str> {
        self.refs.get(file).map(|(r, _)| r.as_str())
    }

    /// How many files have a reference.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// True when no file has one.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

/// `./a/b.pdf` and `a//b.pdf` are `a/b.pdf`.
fn normalise(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The fields of a line: split at tabs if it has one, else as CSV (quoted fields, `""` a
/// quote inside one).
fn split(line: &str) -> Result<Vec<String>, String> {
    if line.contains('\t') {
        return Ok(line.split('\t').map(str::to_string).collect());
    }
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed".into()),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("{c:?} after a closing quote")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(problems: &[LineProblem]) -> Vec<usize> {
        problems.iter().map(|p| p.line).collect()
    }

    #[test]
    fn csv_and_tsv_lines_give_each_file_its_reference() {
        let text = "file,document_ref\n\
                    surat/a.pdf,B-17/2026\n\
                    # a comment\n\
                    \n\
                    \"surat/b, lampiran.pdf\",\"B-18/2026 \"\"final\"\"\"\n\
                    ./c.pdf\tB-19/2026\r\n";
        let refs = DocumentRefs::parse(text).expect("valid");
        assert_eq!(refs.len(), 3);
        assert_eq!(refs.get(Path::new("surat/a.pdf")), Some("B-17/2026"));
        assert_eq!(
            refs.get(Path::new("surat/b, lampiran.pdf")),
            Some("B-18/2026 \"final\"")
        );
        assert_eq!(refs.get(Path::new("c.pdf")), Some("B-19/2026"));
        assert_eq!(refs.get(Path::new("d.pdf")), None);
    }

    #[test]
    fn every_bad_line_is_refused_with_its_number() {
        let long = "x".repeat(MAX_DOCUMENT_REF + 1);
        let text = format!(
            "a.pdf,B-1\n\
             a.pdf,B-2\n\
             b.pdf,{long}\n\
             c.pdf\n\
             d.pdf,\n\
             ../e.pdf,B-5\n\
             /etc/f.pdf,B-6\n\
             \"g.pdf,B-7\n\
             h.pdf,B-8,extra\n\
             i.pdf,{}\n",
            "y".repeat(MAX_DOCUMENT_REF)
        );
        let problems = DocumentRefs::parse(&text).expect_err("refused");
        assert_eq!(lines(&problems), [2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(
            problems[0].problem,
            RefProblem::Duplicate {
                path: "a.pdf".into(),
                first: 1
            }
        );
        assert_eq!(
            problems[1].problem,
            RefProblem::TooLong {
                path: "b.pdf".into(),
                len: MAX_DOCUMENT_REF + 1
            }
        );
        assert!(matches!(problems[2].problem, RefProblem::Malformed(_)));
        assert_eq!(problems[3].problem, RefProblem::EmptyRef("d.pdf".into()));
        assert_eq!(
            problems[4].problem,
            RefProblem::NotRelative("../e.pdf".into())
        );
        assert_eq!(
            problems[5].problem,
            RefProblem::NotRelative("/etc/f.pdf".into())
        );
        assert!(problems[0]
            .to_string()
            .starts_with("line 2: a.pdf: given twice"));
    }

    #[test]
    fn a_path_that_is_not_a_pdf_of_the_batch_is_refused_with_its_line() {
        let refs = DocumentRefs::parse("a.pdf,B-1\nsub/typo.pdf,B-2\nb.pdf,B-3\nzz.pdf,B-4\n")
            .expect("parses");
        let files = [
            PathBuf::from("a.pdf"),
            PathBuf::from("b.pdf"),
            PathBuf::from("sub/x.pdf"),
        ];
        let problems = refs.check_known(&files).expect_err("unknown paths");
        assert_eq!(lines(&problems), [2, 4]);
        assert_eq!(
            problems[0].problem,
            RefProblem::Unknown("sub/typo.pdf".into())
        );
        let refs = DocumentRefs::parse("a.pdf,B-1\n").expect("parses");
        refs.check_known(&files).expect("known");
    }

    #[test]
    fn a_byte_order_mark_and_spaces_around_fields_are_not_part_of_them() {
        let refs =
            DocumentRefs::parse("\u{feff}file,document_ref\na.pdf, B-2/2026 \n b.pdf ,B-3\n")
                .expect("parses");
        assert_eq!(refs.get(Path::new("a.pdf")), Some("B-2/2026"));
        assert_eq!(refs.get(Path::new("b.pdf")), Some("B-3"));
        assert_eq!(refs.len(), 2, "the header was recognised after the mark");
    }

    #[test]
    fn the_same_reference_for_several_files_is_allowed() {
        let refs = DocumentRefs::parse("a.pdf,B-1\na-lampiran.pdf,B-1\n").expect("valid");
        assert_eq!(refs.len(), 2);
    }
}
