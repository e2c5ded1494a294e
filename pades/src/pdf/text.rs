//! PDF text strings (ISO 32000-2 §7.9.2.2): PDFDocEncoding, UTF-16BE with a byte order mark,
//! or UTF-8 with a byte order mark.

/// Encode `s` as a PDF text string: printable ASCII (which PDFDocEncoding shares) as is,
/// anything else as UTF-16BE with a byte order mark.
pub(crate) fn encode_text(s: &str) -> Vec<u8> {
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
