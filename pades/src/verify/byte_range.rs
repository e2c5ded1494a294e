//! The byte range a signature covers: its gap is exactly this signature's `/Contents`, it
//! ends a revision, and that revision holds this very signature dictionary (no wrapping).

use super::*;

/// The revision a signature covers: the final document, one of the history's revisions, or a
/// prefix opened for it.
pub(super) enum Signed<'h, 'a> {
    Known(&'h Document<'a>),
    Opened(Document<'a>),
}

impl<'a> std::ops::Deref for Signed<'_, 'a> {
    type Target = Document<'a>;
    fn deref(&self) -> &Document<'a> {
        match self {
            Self::Known(d) => d,
            Self::Opened(d) => d,
        }
    }
}

/// The signature dictionary must sit, unchanged, in the revision its byte range closes, and its
/// `/Contents` string must be the gap: inside that object, not a copy elsewhere.
pub(super) fn placement<'h, 'a, 's>(
    doc: &'h Document<'a>,
    history: &'h std::cell::OnceCell<History<'a, 's>>,
    stop: &'s dyn Fn() -> bool,
    r: Option<ObjRef>,
    sig: &Dict,
    ranges: &[std::ops::Range<usize>],
) -> Result<Signed<'h, 'a>, String> {
    let r = r.ok_or("the signature dictionary is a direct object; it must be indirect")?;
    let end = ranges[1].end;
    let gap = ranges[0].end..ranges[1].start;
    let known = if end == doc.data().len() {
        Some(doc)
    } else {
        // The covered part ends with `%%EOF` and at most one end-of-line (checked already).
        let covered = &doc.data()[..end];
        let eol = covered
            .iter()
            .rev()
            .take(2)
            .filter(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let marker = end.saturating_sub(eol + 5);
        history
            .get_or_init(|| History::new(doc, stop))
            .revision_at_marker(marker)
            .filter(|d| d.data().len() >= end)
    };
    let signed = match known {
        Some(d) => Signed::Known(d),
        None => Signed::Opened(
            Document::open(&doc.data()[..end])
                .map_err(|e| format!("the revision the signature covers does not read: {e}"))?,
        ),
    };
    let then = signed
        .resolve(r)
        .ok()
        .and_then(|o| o.as_dict().cloned())
        .ok_or("the signature dictionary is not part of the revision it signs")?;
    if then.get(b"Contents") != sig.get(b"Contents")
        || then.get(b"ByteRange") != sig.get(b"ByteRange")
    {
        return Err(
            "the signature dictionary differs from the one in the revision it signs".into(),
        );
    }
    if let Some(XrefEntry::InFile { offset, .. }) = signed.entry(r.num) {
        let inside = offset < gap.start
            && !doc.data()[offset..gap.start]
                .windows(6)
                .any(|w| w == b"endobj");
        if !inside {
            return Err(
                "the /ByteRange gap is not inside the signature dictionary (signature wrapping?)"
                    .into(),
            );
        }
    }
    Ok(signed)
}

pub(super) type Ranges = Vec<std::ops::Range<usize>>;

pub(super) fn check_byte_range(
    input: &[u8],
    br: &[i64],
    contents: &[u8],
) -> Result<(Ranges, Coverage), String> {
    let u: Vec<usize> = br.iter().filter_map(|&v| usize::try_from(v).ok()).collect();
    if br.len() != 4 || u.len() != 4 {
        return Err(format!(
            "/ByteRange {br:?} is not four non-negative integers"
        ));
    }
    let (a, b, c, d) = (u[0], u[1], u[2], u[3]);
    if a != 0 {
        return Err("/ByteRange does not start at byte 0".into());
    }
    let end = c
        .checked_add(d)
        .filter(|&e| e <= input.len())
        .ok_or(format!(
            "/ByteRange ends at {} but the file has {} bytes",
            c.saturating_add(d),
            input.len()
        ))?;
    if b >= c || b < 2 {
        return Err("/ByteRange parts overlap or are empty".into());
    }
    if input[b] != b'<' || input[c - 1] != b'>' {
        return Err("the /ByteRange gap is not a hexadecimal string".into());
    }
    let gap = &input[b + 1..c - 1];
    let hex: Vec<u8> = gap
        .iter()
        .copied()
        .filter(|x| !crate::pdf::object::is_whitespace(*x))
        .collect();
    if hex.len() % 2 != 0 || hex.len() / 2 != contents.len() {
        return Err("the /ByteRange gap is not the /Contents string".into());
    }
    let decoded = hex.chunks(2).map(|p| {
        let s = std::str::from_utf8(p).ok()?;
        u8::from_str_radix(s, 16).ok()
    });
    if !decoded.zip(contents).all(|(x, y)| x == Some(*y)) {
        return Err(
            "the /ByteRange gap holds other bytes than /Contents (signature wrapping?)".into(),
        );
    }
    let coverage = if end == input.len() {
        Coverage::WholeFile
    } else {
        // The covered part must end a revision: `%%EOF` and at most an end-of-line.
        let covered = &input[..end];
        let trimmed = covered
            .strip_suffix(b"\r\n")
            .or_else(|| covered.strip_suffix(b"\n"))
            .or_else(|| covered.strip_suffix(b"\r"))
            .unwrap_or(covered);
        if !trimmed.ends_with(b"%%EOF") {
            return Err(format!(
                "the signed range ends at byte {end}, which is not the end of a revision"
            ));
        }
        Coverage::Revision { end }
    };
    Ok((vec![0..b, c..end], coverage))
}
