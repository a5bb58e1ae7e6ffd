//! timestamp/timestamptz text in DateStyle ISO, the default, computed here
//! rather than by `timestamp2tm` + `EncodeDateTime` (a third of a row's
//! rendering time in the benchmark's mixed table).
//!
//! The same text as `timestamp_out`/`timestamptz_out`: `YYYY-MM-DD
//! HH:MM:SS[.ffffff]` (years padded to 4 digits, longer when larger; the
//! fraction without trailing zeros), then for timestamptz the UTC offset
//! (`+HH`, `+HH:MM` or `+HH:MM:SS`, only as precise as needed), then ` BC`
//! for years before 1 AD (year 0 is 1 BC). Dates are proleptic Gregorian, as
//! in PostgreSQL. Used only where the offset cannot vary: timestamp, or
//! timestamptz in a time zone with a single UTC offset.

/// Microseconds per day.
const DAY_US: i64 = 86_400_000_000;
/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's timestamp epoch.
const PG_EPOCH_DAYS: i64 = 10_957;

/// (year, month, day) of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, valid far beyond PostgreSQL's timestamp range).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The text is built in a stack buffer (at most 41 bytes: a 6-digit year,
/// the fraction, a `+HHH:MM:SS` offset and ` BC`) and appended once.
struct Text {
    buf: [u8; 48],
    n: usize,
}

impl Text {
    #[inline]
    fn byte(&mut self, b: u8) {
        self.buf[self.n] = b;
        self.n += 1;
    }

    /// Two digits of `v` (< 100).
    #[inline]
    fn pad2(&mut self, v: u32) {
        let i = v as usize * 2;
        self.buf[self.n..self.n + 2].copy_from_slice(&crate::json::DIGIT_PAIRS[i..i + 2]);
        self.n += 2;
    }

    /// `v` in decimal, at least `width` digits.
    fn number(&mut self, v: u64, width: usize) {
        let mut digits = [0u8; 20];
        let mut k = digits.len();
        let mut v = v;
        loop {
            k -= 1;
            digits[k] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 && digits.len() - k >= width {
                break;
            }
        }
        let len = digits.len() - k;
        self.buf[self.n..self.n + len].copy_from_slice(&digits[k..]);
        self.n += len;
    }
}

/// Appends the ISO text of `timestamp` (microseconds from 2000-01-01, as
/// stored) shifted by `utc_offset` seconds, with the offset printed when
/// given (timestamptz). Returns false, writing nothing, for values outside
/// the range PostgreSQL can store (the caller uses the output function).
pub fn iso_timestamp(out: &mut Vec<u8>, timestamp: i64, utc_offset: Option<i32>) -> bool {
    // PostgreSQL's limits: 4714-11-24 BC to 294276-12-31 AD, in UTC.
    const MIN: i64 = -211_813_488_000_000_000;
    const END: i64 = 9_223_371_331_200_000_000;
    if !(MIN..END).contains(&timestamp) {
        return false;
    }
    let local = timestamp + utc_offset.unwrap_or(0) as i64 * 1_000_000;
    let days = local.div_euclid(DAY_US);
    let time = local.rem_euclid(DAY_US);
    let (year, month, day) = civil_from_days(days + PG_EPOCH_DAYS);
    let bc = year <= 0;
    let shown_year = if bc { 1 - year } else { year };
    let mut t = Text { buf: [0; 48], n: 0 };
    if (1000..10_000).contains(&shown_year) {
        t.pad2((shown_year / 100) as u32);
        t.pad2((shown_year % 100) as u32);
    } else {
        t.number(shown_year as u64, 4);
    }
    t.byte(b'-');
    t.pad2(month);
    t.byte(b'-');
    t.pad2(day);
    t.byte(b' ');
    let secs = (time / 1_000_000) as u32;
    t.pad2(secs / 3600);
    t.byte(b':');
    t.pad2(secs / 60 % 60);
    t.byte(b':');
    t.pad2(secs % 60);
    let mut fraction = (time % 1_000_000) as u32;
    if fraction != 0 {
        let mut digits = 6;
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            digits -= 1;
        }
        t.byte(b'.');
        t.number(fraction as u64, digits);
    }
    if let Some(offset) = utc_offset {
        t.byte(if offset >= 0 { b'+' } else { b'-' });
        let a = offset.unsigned_abs();
        let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
        if h >= 100 {
            t.number(h as u64, 2);
        } else {
            t.pad2(h);
        }
        if m != 0 || s != 0 {
            t.byte(b':');
            t.pad2(m);
        }
        if s != 0 {
            t.byte(b':');
            t.pad2(s);
        }
    }
    if bc {
        t.buf[t.n..t.n + 3].copy_from_slice(b" BC");
        t.n += 3;
    }
    crate::json::push_bytes(out, &t.buf[..t.n]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(t: i64, offset: Option<i32>) -> String {
        let mut out = Vec::new();
        assert!(iso_timestamp(&mut out, t, offset));
        String::from_utf8(out).unwrap()
    }

    const S: i64 = 1_000_000;
    const D: i64 = 86_400 * S;

    #[test]
    fn iso_text() {
        assert_eq!(ts(0, None), "2000-01-01 00:00:00");
        assert_eq!(ts(0, Some(0)), "2000-01-01 00:00:00+00");
        assert_eq!(ts(-1, Some(0)), "1999-12-31 23:59:59.999999+00");
        assert_eq!(ts(500_000, None), "2000-01-01 00:00:00.5");
        assert_eq!(ts(120_000, None), "2000-01-01 00:00:00.12");
        assert_eq!(ts(1, None), "2000-01-01 00:00:00.000001");
        assert_eq!(ts(59 * D + 12 * 3600 * S, None), "2000-02-29 12:00:00");
        assert_eq!(ts(0, Some(19_800)), "2000-01-01 05:30:00+05:30");
        assert_eq!(ts(0, Some(-10_800)), "1999-12-31 21:00:00-03");
        assert_eq!(ts(0, Some(1_172)), "2000-01-01 00:19:32+00:19:32");
        assert_eq!(ts(-730_119 * D, None), "0001-01-01 00:00:00");
        assert_eq!(ts(-730_120 * D, None), "0001-12-31 00:00:00 BC");
        assert_eq!(ts(-730_120 * D, Some(0)), "0001-12-31 00:00:00+00 BC");
        assert_eq!(ts(2_921_940 * D, None), "10000-01-01 00:00:00");
        assert_eq!(ts(-36_524 * D + 3 * S + 4_500, Some(-3_600)), "1899-12-31 23:00:03.0045-01");
        assert_eq!(ts(-693_961 * D, None), "0099-12-31 00:00:00");
        assert_eq!(ts(-726_468 * D, None), "0010-12-31 00:00:00");
        assert_eq!(ts(-729_755 * D, None), "0001-12-31 00:00:00");
        assert_eq!(ts(-730_485 * D, None), "0001-01-01 00:00:00 BC");
        assert_eq!(ts(-2_451_545 * D, None), "4714-11-24 00:00:00 BC");
        assert_eq!(ts(106_751_982 * D + 4 * 3600 * S, Some(0)), "294276-12-31 04:00:00+00");
        assert_eq!(ts(7 * S + 123_456, Some(-(15 * 3600 + 59 * 60 + 59))), "1999-12-31 08:00:08.123456-15:59:59");
    }

    #[test]
    fn out_of_range_is_refused() {
        let mut out = Vec::new();
        assert!(!iso_timestamp(&mut out, i64::MAX, Some(0)));
        assert!(!iso_timestamp(&mut out, i64::MIN, None));
        assert!(out.is_empty());
    }
}
