//! Stream filters (ISO 32000-2 §7.4): `/FlateDecode` with the PNG predictors of §7.4.4.4, and
//! the text filters `/ASCIIHexDecode` and `/ASCII85Decode` (§7.4.2, §7.4.3), alone or chained
//! (at most [`MAX_FILTERS`]). The signer decodes cross-reference and object streams; the stamp
//! placement also reads content streams and CMaps, which producers such as reportlab write
//! as `[/ASCII85Decode /FlateDecode]`.

use std::borrow::Cow;

use super::object::{Dict, Object};
use crate::error::{Error, LimitError, Result, SyntaxError};

/// Largest decoded size of an xref or object stream.
pub(crate) const MAX_DECODED: usize = 64 * 1024 * 1024;
/// Most filters in one stream's chain.
const MAX_FILTERS: usize = 4;

/// Decode `raw` according to the `/Filter` and `/DecodeParms` of `dict`, refusing more than
/// `max_out` bytes of output.
///
/// Supports no filter, and chains of `/FlateDecode` (with PNG predictors), `/ASCIIHexDecode`
/// and `/ASCII85Decode` (or their abbreviations). The work is linear in the bytes present:
/// predictor parameters are checked against the decoded data (a row cannot be longer than the
/// data), and the text filters never grow their input.
pub(crate) fn decode(dict: &Dict, raw: &[u8], offset: usize, max_out: usize) -> Result<Vec<u8>> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) if a.len() <= MAX_FILTERS => a
            .iter()
            .map(|f| {
                f.as_name().ok_or_else(|| {
                    Error::Unsupported(format!(
                        "stream at byte {offset} has a /Filter entry that is a {}",
                        f.type_name()
                    ))
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(Error::Unsupported(format!(
            "stream at byte {offset} uses a filter chain longer than {MAX_FILTERS} or not an array"
        )))
        }
    };
    let parms: Vec<Option<&Dict>> = match dict.get(b"DecodeParms") {
        Some(Object::Dict(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => Vec::new(),
    };
    if filters.is_empty() {
        if raw.len() > max_out {
            return Err(Error::Limit(LimitError::Decompressed { limit: max_out }));
        }
        return match parms.first().copied().flatten() {
            Some(p) => unpredict(raw.to_vec(), p, offset),
            None => Ok(raw.to_vec()),
        };
    }
    let mut data: Cow<'_, [u8]> = Cow::Borrowed(raw);
    for (i, f) in filters.iter().enumerate() {
        let out = match *f {
            b"FlateDecode" | b"Fl" => {
                let out = inflate(&data, offset, max_out)?;
                match parms.get(i).copied().flatten() {
                    Some(p) => unpredict(out, p, offset)?,
                    None => out,
                }
            }
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&data),
            b"ASCII85Decode" | b"A85" => ascii85(&data, offset)?,
            other => {
                return Err(Error::Unsupported(format!(
                    "stream at byte {offset} uses /{}; only /FlateDecode, /ASCIIHexDecode and /ASCII85Decode are read",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        if out.len() > max_out {
            return Err(Error::Limit(LimitError::Decompressed { limit: max_out }));
        }
        data = Cow::Owned(out);
    }
    Ok(data.into_owned())
}

/// `/ASCIIHexDecode`: hex digit pairs up to `>`, white space ignored, an odd last digit
/// followed by 0. Other bytes are skipped, as readers do.
fn ascii_hex(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 2);
    let mut hi: Option<u8> = None;
    for &b in raw {
        let v = match b {
            b'>' => break,
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => continue,
        };
        match hi.take() {
            Some(h) => out.push(h << 4 | v),
            None => hi = Some(v),
        }
    }
    if let Some(h) = hi {
        out.push(h << 4);
    }
    out
}

/// `/ASCII85Decode`: groups of five characters `!`..`u` to four bytes, `z` for four zero
/// bytes, up to `~>`; a final partial group of n characters gives n - 1 bytes.
fn ascii85(raw: &[u8], offset: usize) -> Result<Vec<u8>> {
    let bad = |what: &str| Error::syntax(offset, SyntaxError::Decode(format!("ASCII85: {what}")));
    let mut out = Vec::with_capacity(raw.len() / 5 * 4 + 4);
    let mut group = [0u8; 5];
    let mut n = 0;
    for &b in raw {
        match b {
            b'~' => break,
            b'z' if n == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                group[n] = b - b'!';
                n += 1;
                if n == 5 {
                    let v = group.iter().fold(0u64, |a, &d| a * 85 + u64::from(d));
                    let v = u32::try_from(v).map_err(|_| bad("a group exceeds 2^32"))?;
                    out.extend_from_slice(&v.to_be_bytes());
                    n = 0;
                }
            }
            b if super::object::is_whitespace(b) => {}
            _ => return Err(bad("a byte outside the alphabet")),
        }
    }
    match n {
        0 => {}
        1 => return Err(bad("a final group of one character")),
        _ => {
            for d in group.iter_mut().skip(n) {
                *d = 84;
            }
            let v = group.iter().fold(0u64, |a, &d| a * 85 + u64::from(d));
            let v = u32::try_from(v).map_err(|_| bad("a group exceeds 2^32"))?;
            out.extend_from_slice(&v.to_be_bytes()[..n - 1]);
        }
    }
    Ok(out)
}

fn inflate(raw: &[u8], offset: usize, max_out: usize) -> Result<Vec<u8>> {
    // The output grows by half its size at a time (not doubled), so that what is held stays
    // within 1.5 times what was inflated.
    let mut z = flate2::Decompress::new(true);
    let mut out: Vec<u8> = Vec::new();
    loop {
        if out.len() == out.capacity() {
            if out.len() > max_out {
                return Err(Error::Limit(LimitError::Decompressed { limit: max_out }));
            }
            // Not `clamp`: with little left to inflate the upper bound is below 64 KiB.
            let grow = (out.len() / 2).max(64 * 1024).min(max_out + 1 - out.len());
            out.reserve_exact(grow);
        }
        let consumed = z.total_in() as usize;
        let before = out.len();
        let status = z
            .decompress_vec(&raw[consumed..], &mut out, flate2::FlushDecompress::None)
            .map_err(|e| Error::syntax(offset, SyntaxError::Decode(e.to_string())))?;
        match status {
            flate2::Status::StreamEnd => break,
            // No progress with room to spare: the data ends before the stream does (a missing
            // checksum, a cut stream); what was inflated is kept, as readers do.
            _ if out.len() == before
                && z.total_in() as usize == consumed
                && out.len() < out.capacity() =>
            {
                break
            }
            _ => {}
        }
    }
    if out.len() > max_out {
        return Err(Error::Limit(LimitError::Decompressed { limit: max_out }));
    }
    Ok(out)
}

fn unpredict(data: Vec<u8>, parms: &Dict, offset: usize) -> Result<Vec<u8>> {
    let get = |k: &[u8], d: i64| parms.get(k).and_then(Object::as_i64).unwrap_or(d);
    let predictor = get(b"Predictor", 1);
    if predictor == 1 {
        return Ok(data);
    }
    if predictor < 10 {
        return Err(Error::Unsupported(format!(
            "stream at byte {offset} uses TIFF predictor {predictor}"
        )));
    }
    let colors = get(b"Colors", 1);
    let bpc = get(b"BitsPerComponent", 8);
    let columns = get(b"Columns", 1);
    let bad = || {
        Error::syntax(
            offset,
            SyntaxError::Decode("bad predictor parameters".into()),
        )
    };
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 20).contains(&columns)
    {
        return Err(bad());
    }
    let bpp = ((colors * bpc + 7) / 8) as usize;
    let row_len = ((colors * bpc * columns + 7) / 8) as usize;
    if data.is_empty() {
        return Ok(data);
    }
    // Each row is a tag byte and `row_len` bytes: a row longer than the data is a lie about
    // the data, and walking it would cost far more than the bytes present.
    if row_len >= data.len() {
        return Err(Error::syntax(
            offset,
            SyntaxError::Decode(format!(
                "a predictor row of {row_len} bytes (/Columns {columns} x /Colors {colors} x \
                 /BitsPerComponent {bpc}) is longer than the {} decoded bytes",
                data.len()
            )),
        ));
    }
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    for row in data.chunks(row_len + 1) {
        if row.len() < 2 {
            break;
        }
        let (tag, src) = (row[0], &row[1..]);
        let start = out.len();
        for (i, &x) in src.iter().enumerate() {
            let a = if i >= bpp { out[start + i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            out.push(match tag {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => x.wrapping_add(paeth(a, b, c)),
                _ => {
                    return Err(Error::syntax(
                        offset,
                        SyntaxError::Decode(format!("unknown PNG predictor tag {tag}")),
                    ))
                }
            });
        }
        prev[..src.len()].copy_from_slice(&out[start..]);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = (
        (p - i16::from(a)).abs(),
        (p - i16::from(b)).abs(),
        (p - i16::from(c)).abs(),
    );
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_filters_and_chains() {
        assert_eq!(ascii_hex(b"48 65 6c6C 6\n>ff"), b"Hell`");
        assert_eq!(
            ascii85(b"87cURD]i,\"Ebo7~>", 0).expect("decodes"),
            b"Hello World"
        );
        assert_eq!(ascii85(b"z9Q~>", 0).expect("decodes"), [0, 0, 0, 0, b'L']);
        assert!(ascii85(b"s8W-\"", 0).is_err(), "above 2^32");
        assert!(ascii85(b"ab{", 0).is_err());
        let mut raw = Vec::new();
        {
            use std::io::Write;
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(b"BT (x) Tj ET").expect("deflate");
            let deflated = z.finish().expect("deflate");
            for b in deflated {
                raw.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            raw.push(b'>');
        }
        let mut d = Dict::new();
        d.set(
            b"Filter",
            Object::Array(vec![
                Object::Name(b"AHx".to_vec()),
                Object::Name(b"FlateDecode".to_vec()),
            ]),
        );
        assert_eq!(decode(&d, &raw, 0, 1000).expect("decodes"), b"BT (x) Tj ET");
        assert!(decode(&d, &raw, 0, 4).is_err(), "the output limit holds");
        d.set(
            b"Filter",
            Object::Array(vec![Object::Name(b"AHx".to_vec()); 5]),
        );
        assert!(decode(&d, &raw, 0, 1000).is_err(), "too many filters");
        d.set(b"Filter", Object::Name(b"LZWDecode".to_vec()));
        assert!(matches!(
            decode(&d, &raw, 0, 1000),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn png_up_predictor() {
        let mut parms = Dict::new();
        parms.set(b"Predictor", Object::Integer(12));
        parms.set(b"Columns", Object::Integer(2));
        // rows: [1,2] then up-delta [1,1] -> [2,3]
        let out = unpredict(vec![2, 1, 2, 2, 1, 1], &parms, 0).expect("decodes");
        assert_eq!(out, vec![1, 2, 2, 3]);
    }

    #[test]
    fn predictor_rows_cannot_exceed_the_data() {
        let mut parms = Dict::new();
        parms.set(b"Predictor", Object::Integer(12));
        parms.set(b"Columns", Object::Integer(1 << 20));
        parms.set(b"Colors", Object::Integer(32));
        parms.set(b"BitsPerComponent", Object::Integer(16));
        let err = unpredict(vec![2, 1], &parms, 7).expect_err("a 64 MiB row in 2 bytes");
        assert!(
            err.to_string().contains("longer than the 2 decoded bytes"),
            "{err}"
        );
    }
}
