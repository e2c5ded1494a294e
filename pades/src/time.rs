//! Time as a value: the engine never reads a clock; callers pass the time in.

/// Seconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct UnixTime(pub i64);

/// Milliseconds since the Unix epoch by the system clock (0 for a clock before 1970): the one
/// place the workspace reads the time of day. The engine never calls it; callers pass times in.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl UnixTime {
    /// The system clock, now (for callers: the engine itself never reads the clock).
    pub fn now() -> Self {
        Self::from_ms(now_ms())
    }

    /// The second that `ms` milliseconds since the epoch fall in.
    pub fn from_ms(ms: i64) -> Self {
        Self(ms.div_euclid(1000))
    }

    /// The civil date and time `(year, month, day, hour, minute, second)` in UTC.
    pub fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (
            y,
            m,
            d,
            (secs / 3600) as u32,
            (secs / 60 % 60) as u32,
            (secs % 60) as u32,
        )
    }

    /// Build from civil UTC fields (no range checks beyond what the arithmetic needs).
    pub fn from_civil(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Self {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Self(days * 86_400 + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss))
    }

    /// A PDF date string `D:YYYYMMDDHHmmSS+00'00'` (ISO 32000-2 §7.9.4).
    pub fn pdf_date(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("D:{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}+00'00'")
    }

    /// RFC 3339 form, `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// Parse a PDF date string, tolerating missing trailing fields and any time-zone form.
    pub fn parse_pdf_date(s: &[u8]) -> Option<Self> {
        let s = s.strip_prefix(b"D:").unwrap_or(s);
        let num = |r: std::ops::Range<usize>, default: u32| -> Option<u32> {
            match s.get(r) {
                Some(d) if d.iter().all(u8::is_ascii_digit) => {
                    std::str::from_utf8(d).ok()?.parse().ok()
                }
                Some(_) => None,
                None => Some(default),
            }
        };
        let y = i64::from(num(0..4, 0)?);
        if s.len() < 4 {
            return None;
        }
        let (mo, d, h, mi, sec) = (
            num(4..6, 1)?,
            num(6..8, 1)?,
            num(8..10, 0)?,
            num(10..12, 0)?,
            num(12..14, 0)?,
        );
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        let mut t = Self::from_civil(y, mo, d, h, mi, sec).0;
        if let Some(&sign) = s.get(14) {
            if sign == b'+' || sign == b'-' {
                let digits: Vec<u8> = s[15..].iter().copied().filter(u8::is_ascii_digit).collect();
                let oh = digits
                    .get(0..2)
                    .and_then(|d| std::str::from_utf8(d).ok()?.parse::<i64>().ok())
                    .unwrap_or(0);
                let om = digits
                    .get(2..4)
                    .and_then(|d| std::str::from_utf8(d).ok()?.parse::<i64>().ok())
                    .unwrap_or(0);
                let off = oh * 3600 + om * 60;
                t += if sign == b'+' { -off } else { off };
            }
        }
        Some(Self(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = UnixTime(1_795_942_800); // 2026-11-29T09:00:00Z
        assert_eq!(t.rfc3339(), "2026-11-29T09:00:00Z");
        assert_eq!(t.pdf_date(), "D:20261129090000+00'00'");
        assert_eq!(UnixTime::parse_pdf_date(t.pdf_date().as_bytes()), Some(t));
        assert_eq!(
            UnixTime::parse_pdf_date(b"D:20261129160000+07'00'"),
            Some(t)
        );
        assert_eq!(UnixTime(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(UnixTime(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
    }
}
