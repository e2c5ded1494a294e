//! Stream filters needed to read cross-reference and object streams (ISO 32000-2 §7.4.4 Flate,
//! with the PNG predictors of §7.4.4.4). Content streams are never decoded by the signer.

use super::object::{Dict, Object};
use crate::error::{Error, LimitError, Result, SyntaxError};

/// Largest decoded size of an xref or object stream.
pub(crate) const MAX_DECODED: usize = 64 * 1024 * 1024;

/// Decode `raw` according to the `/Filter` and `/DecodeParms` of `dict`, refusing more than
/// `max_out` bytes of output.
///
/// Supports no filter and `/FlateDecode` (alone or in a one-element array), with PNG predictors.
/// The work is linear in the bytes present: predictor parameters are checked against the
/// decoded data (a row cannot be longer than the data).
pub(crate) fn decode(dict: &Dict, raw: &[u8], offset: usize, max_out: usize) -> Result<Vec<u8>> {
    let filter = match dict.get(b"Filter") {
        None => None,
        Some(Object::Name(n)) => Some(n.clone()),
        Some(Object::Array(a)) if a.len() == 1 => a[0].as_name().map(<[u8]>::to_vec),
        Some(Object::Array(a)) if a.is_empty() => None,
        Some(_) => {
            return Err(Error::Unsupported(format!(
                "stream at byte {offset} uses a filter chain; only /FlateDecode is read"
            )))
        }
    };
    let parms = match dict.get(b"DecodeParms") {
        Some(Object::Dict(d)) => Some(d.clone()),
        Some(Object::Array(a)) => a.first().and_then(Object::as_dict).cloned(),
        _ => None,
    };
    let data = match filter.as_deref() {
        None if raw.len() > max_out => {
            return Err(Error::Limit(LimitError::Decompressed { limit: max_out }))
        }
        None => raw.to_vec(),
        Some(b"FlateDecode") => inflate(raw, offset, max_out)?,
        Some(other) => {
            return Err(Error::Unsupported(format!(
                "stream at byte {offset} uses /{}; only /FlateDecode is read",
                String::from_utf8_lossy(other)
            )))
        }
    };
    match parms {
        Some(p) => unpredict(data, &p, offset),
        None => Ok(data),
    }
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
            let grow = (out.len() / 2).clamp(64 * 1024, max_out + 1 - out.len());
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
