//! Reading the cross-reference data (ISO 32000-2 §7.5.4 tables, §7.5.8 streams) into the
//! document's rows, each checked and charged to the budget as it is stored.

use super::*;

/// One cross-reference row in 16 bytes: the object number with the kind in its top two bits,
/// then the generation or index, then the offset or object stream number.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    num_kind: u32,
    a: u32,
    b: u64,
}

const KIND_SHIFT: u32 = 30;
const NUM_MASK: u32 = (1 << KIND_SHIFT) - 1;

impl Row {
    pub(super) fn new(num: u32, entry: XrefEntry) -> Self {
        // Object numbers stay below MAX_OBJECTS < 2^23, so the kind bits are free.
        let (kind, a, b) = match entry {
            XrefEntry::Free => (0, 0, 0),
            XrefEntry::InFile { offset, gen } => (1, u32::from(gen), offset as u64),
            XrefEntry::Compressed { stream, index } => (2, index, u64::from(stream)),
        };
        Self {
            num_kind: kind << KIND_SHIFT | (num & NUM_MASK),
            a,
            b,
        }
    }

    pub(super) fn num(self) -> u32 {
        self.num_kind & NUM_MASK
    }

    pub(super) fn entry(self) -> XrefEntry {
        match self.num_kind >> KIND_SHIFT {
            1 => XrefEntry::InFile {
                // Both were checked when the row was read: an offset inside the file, a
                // generation below 65536.
                offset: self.b as usize,
                gen: self.a as u16,
            },
            2 => XrefEntry::Compressed {
                stream: self.b as u32,
                index: self.a,
            },
            _ => XrefEntry::Free,
        }
    }
}

impl<'a> Document<'a> {
    pub(super) fn check_offset(&self, value: i64) -> Result<usize> {
        usize::try_from(value)
            .ok()
            .filter(|&o| o < self.data.len())
            .ok_or(Error::Xref(XrefError::OffsetOutOfRange {
                offset: value.unsigned_abs(),
                len: self.data.len(),
            }))
    }

    /// Read one section at `offset`; record entries not yet known; return its trailer.
    pub(super) fn read_section(&mut self, offset: usize) -> Result<(XrefKind, Dict)> {
        let mut p = Parser::new(self.data, offset);
        if p.eat_keyword(b"xref") {
            let mut table = Vec::new();
            loop {
                p.skip_ws();
                if p.eat_keyword(b"trailer") {
                    break;
                }
                let start = p.parse_uint()?;
                let count = p.parse_uint()?;
                if start.saturating_add(count) > MAX_OBJECTS {
                    return Err(Error::Limit(LimitError::Count {
                        what: "an xref subsection's object range",
                        value: start.saturating_add(count),
                    }));
                }
                for i in 0..count {
                    let at = p.pos();
                    let off = p.parse_uint()?;
                    let gen = p.parse_uint()?;
                    p.skip_ws();
                    let kind = self.data.get(p.pos()).copied();
                    p.set_pos(p.pos() + 1);
                    let num = (start + i) as u32;
                    let gen = u16::try_from(gen)
                        .map_err(|_| Error::xref_malformed(at, "generation number above 65535"))?;
                    let entry = match kind {
                        Some(b'n') => XrefEntry::InFile {
                            offset: self.check_offset(off as i64)?,
                            gen,
                        },
                        Some(b'f') => XrefEntry::Free,
                        _ => {
                            return Err(Error::xref_malformed(
                                at,
                                "xref entry is neither 'n' nor 'f'",
                            ))
                        }
                    };
                    table.push(Row::new(num, entry));
                }
                self.budget.charge_rows(count)?;
            }
            let trailer = p.parse_object();
            self.budget.charge_object(p.pos() - offset)?;
            let trailer = match trailer? {
                Object::Dict(d) => d,
                other => {
                    return Err(Error::xref_malformed(
                        p.pos(),
                        format!("trailer is a {}, not a dictionary", other.type_name()),
                    ))
                }
            };
            // Hybrid file: a table entry in use wins, then the /XRefStm entries, then free
            // entries of the table (ISO 32000-2 §7.5.8.4).
            for &row in &table {
                if !matches!(row.entry(), XrefEntry::Free) {
                    self.entries.push(row);
                }
            }
            if let Some(xs) = trailer.get(b"XRefStm") {
                let xs = xs
                    .as_i64()
                    .ok_or_else(|| Error::xref_malformed(offset, "/XRefStm is not an offset"))?;
                let xs = self.check_offset(xs)?;
                self.read_xref_stream(xs)?;
            }
            self.entries.extend_from_slice(&table);
            Ok((XrefKind::Table, trailer))
        } else {
            let dict = self.read_xref_stream(offset)?;
            Ok((XrefKind::Stream, dict))
        }
    }

    fn read_xref_stream(&mut self, offset: usize) -> Result<Dict> {
        let mut p = Parser::new(self.data, offset);
        p.parse_obj_header()
            .map_err(|_| Error::Xref(XrefError::NotXref { offset }))?;
        let dict = p.parse_object();
        self.budget.charge_object(p.pos() - offset)?;
        let dict = match dict? {
            Object::Dict(d) if d.has_type(b"XRef") => d,
            _ => return Err(Error::Xref(XrefError::NotXref { offset })),
        };
        // The /Length of an xref stream must be direct (§7.5.8.2).
        let len = dict.get(b"Length").and_then(Object::as_i64);
        let range = p
            .parse_stream_tail(len)?
            .ok_or_else(|| Error::xref_malformed(offset, "xref stream has no stream data"))?;
        let decoded = self.decode(&dict, range, offset)?;
        let w: Vec<usize> = dict
            .get(b"W")
            .and_then(Object::as_array)
            .and_then(|a| {
                a.iter()
                    .map(|o| o.as_i64().and_then(|v| usize::try_from(v).ok()))
                    .collect::<Option<Vec<_>>>()
            })
            .filter(|w| w.len() == 3 && w.iter().all(|&x| x <= 8))
            .ok_or_else(|| {
                Error::xref_malformed(offset, "/W must be an array of three widths 0..8")
            })?;
        let size = dict
            .get(b"Size")
            .and_then(Object::as_i64)
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| Error::xref_malformed(offset, "xref stream without a valid /Size"))?;
        let index: Vec<u64> = match dict.get(b"Index") {
            None => vec![0, size],
            Some(Object::Array(a)) => a
                .iter()
                .map(|o| o.as_i64().and_then(|v| u64::try_from(v).ok()))
                .collect::<Option<Vec<_>>>()
                .filter(|v| v.len() % 2 == 0)
                .ok_or_else(|| {
                    Error::xref_malformed(offset, "/Index must hold pairs of integers")
                })?,
            Some(_) => return Err(Error::xref_malformed(offset, "/Index is not an array")),
        };
        let row = w[0] + w[1] + w[2];
        if row == 0 {
            return Err(Error::xref_malformed(offset, "/W sums to zero"));
        }
        let mut rows = decoded.chunks_exact(row);
        for pair in index.chunks_exact(2) {
            let (start, count) = (pair[0], pair[1]);
            if start.saturating_add(count) > MAX_OBJECTS {
                return Err(Error::Limit(LimitError::Count {
                    what: "an xref stream's object range",
                    value: start.saturating_add(count),
                }));
            }
            // Charged before the rows are stored: no more than the data holds.
            self.budget.charge_rows(count.min(rows.len() as u64))?;
            for i in 0..count {
                let r = rows.next().ok_or_else(|| {
                    Error::xref_malformed(offset, "xref stream data is shorter than /Index says")
                })?;
                let field = |k: usize, default: u64| -> u64 {
                    let from = w[..k].iter().sum::<usize>();
                    if w[k] == 0 {
                        default
                    } else {
                        r[from..from + w[k]]
                            .iter()
                            .fold(0u64, |acc, &b| acc << 8 | u64::from(b))
                    }
                };
                let num = (start + i) as u32;
                let entry = match field(0, 1) {
                    0 => XrefEntry::Free,
                    1 => XrefEntry::InFile {
                        offset: self
                            .check_offset(i64::try_from(field(1, 0)).unwrap_or(i64::MAX))?,
                        gen: u16::try_from(field(2, 0))
                            .map_err(|_| Error::xref_malformed(offset, "generation above 65535"))?,
                    },
                    2 => XrefEntry::Compressed {
                        stream: u32::try_from(field(1, 0)).map_err(|_| {
                            Error::xref_malformed(offset, "object stream number out of range")
                        })?,
                        index: u32::try_from(field(2, 0)).map_err(|_| {
                            Error::xref_malformed(offset, "object stream index out of range")
                        })?,
                    },
                    // Unknown types are to be treated as null references (§7.5.8.3).
                    _ => XrefEntry::Free,
                };
                self.entries.push(Row::new(num, entry));
            }
        }
        Ok(dict)
    }
}
