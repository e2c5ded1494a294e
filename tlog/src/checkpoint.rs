//! C2SP `tlog-checkpoint`: the signed body of a log's tree head.
//!
//! ```text
//! <origin>\n            e.g. "segel.example.go.id/log"
//! <tree size>\n         ASCII decimal, no leading zeros
//! <root hash>\n         standard base64 of 32 bytes
//! [<extension line>\n]* optional, opaque
//! ```

use base64::Engine as _;

use crate::error::NoteError;
use crate::hash::Hash;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A checkpoint: origin, size and root of the tree, plus extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (its unique name).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Tree hash of those leaves.
    pub root: Hash,
    /// Extension lines, without their newline.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note text of this checkpoint (ends with a newline).
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parse the text of a checkpoint note (the part before the signatures).
    ///
    /// # Errors
    /// [`NoteError::Checkpoint`] naming the faulty line.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text.strip_suffix('\n').ok_or(NoteError::Checkpoint(
            "the text does not end with a newline",
        ))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(NoteError::Checkpoint("empty origin line"))?;
        let size_line = lines
            .next()
            .ok_or(NoteError::Checkpoint("no tree size line"))?;
        let size_ok = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        let size = size_line
            .parse()
            .ok()
            .filter(|_| size_ok)
            .ok_or(NoteError::Checkpoint(
                "the tree size is not a decimal number without leading zeros",
            ))?;
        let root_line = lines
            .next()
            .ok_or(NoteError::Checkpoint("no root hash line"))?;
        let root: Hash = B64
            .decode(root_line)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(NoteError::Checkpoint(
                "the root hash is not base64 of 32 bytes",
            ))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::Checkpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }
}
