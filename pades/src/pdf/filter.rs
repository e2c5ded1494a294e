//! Stream filters needed to read cross-reference and object streams (ISO 32000-2 §7.4.4 Flate,
//! with the PNG predictors of §7.4.4.4). Content streams are never decoded by the signer.

use std::io::Read;

use super::object::{Dict, Object};
use crate::error::{Error, LimitError, Result, SyntaxError};

/// Largest decoded size of an xref or object stream.
pub(crate) const MAX_DECODED: usize = 64 * 1024 * 1024;

/// Decode `raw` according to the `/Filter` and `/DecodeParms` of `dict`.
///
/// Supports no filter and `/FlateDecode` (alone or in a one-element array), with PNG predictors.
pub(crate) fn decode(dict: &Dict, raw: &[u8], offset: usize) -> Result<Vec<u8>> {
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
        None => raw.to_vec(),
        Some(b"FlateDecode") => inflate(raw, offset)?,
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

fn inflate(raw: &[u8], offset: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut z = flate2::read::ZlibDecoder::new(raw).take(MAX_DECODED as u64 + 1);
    z.read_to_end(&mut out)
        .map_err(|e| Error::syntax(offset, SyntaxError::Decode(e.to_string())))?;
    if out.len() > MAX_DECODED {
        return Err(Error::Limit(LimitError::Decompressed {
            limit: MAX_DECODED,
        }));
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
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    for row in data.chunks(row_len + 1) {
        if row.len() < 2 {
            break;
        }
        let (tag, src) = (row[0], &row[1..]);
        let mut cur = src.to_vec();
        cur.resize(row_len, 0);
        for i in 0..row_len {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = match tag {
                0 => cur[i],
                1 => cur[i].wrapping_add(a),
                2 => cur[i].wrapping_add(b),
                3 => cur[i].wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => cur[i].wrapping_add(paeth(a, b, c)),
                _ => {
                    return Err(Error::syntax(
                        offset,
                        SyntaxError::Decode(format!("unknown PNG predictor tag {tag}")),
                    ))
                }
            };
        }
        out.extend_from_slice(&cur[..src.len().min(row_len)]);
        prev = cur;
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
}
