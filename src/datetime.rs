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

impl Text {
    #[inline(always)]
    fn new() -> Text {
        Text { buf: [0; 48], n: 0 }
    }

    /// `YYYY-MM-DD` of a day count from 2000-01-01; true for a BC year
    /// (printed as its positive number, year 0 being 1 BC).
    #[inline(always)]
    fn date(&mut self, days: i64) -> bool {
        let (year, month, day) = civil_from_days(days + PG_EPOCH_DAYS);
        let bc = year <= 0;
        let shown_year = if bc { 1 - year } else { year };
        if (1000..10_000).contains(&shown_year) {
            self.pad2((shown_year / 100) as u32);
            self.pad2((shown_year % 100) as u32);
        } else {
            self.number(shown_year as u64, 4);
        }
        self.byte(b'-');
        self.pad2(month);
        self.byte(b'-');
        self.pad2(day);
        bc
    }

    /// `HH:MM:SS[.ffffff]` of microseconds into the day (the fraction
    /// without trailing zeros; 24:00:00 is possible for `time`).
    #[inline(always)]
    fn clock(&mut self, time: i64) {
        let secs = (time / 1_000_000) as u32;
        self.pad2(secs / 3600);
        self.byte(b':');
        self.pad2(secs / 60 % 60);
        self.byte(b':');
        self.pad2(secs % 60);
        self.fraction((time % 1_000_000) as u32);
    }

    /// `.ffffff` of microseconds without trailing zeros; nothing for 0.
    #[inline(always)]
    fn fraction(&mut self, micros: u32) {
        if micros != 0 {
            let (mut fraction, mut digits) = (micros, 6);
            while fraction.is_multiple_of(10) {
                fraction /= 10;
                digits -= 1;
            }
            self.byte(b'.');
            self.number(fraction as u64, digits);
        }
    }

    /// A UTC offset in seconds east: `+HH[:MM[:SS]]` only as precise as
    /// needed (DateStyle ISO), or with minutes always (`+HH:MM[:SS]`, ISO 8601).
    #[inline(always)]
    fn offset(&mut self, offset: i32, minutes_always: bool) {
        self.byte(if offset >= 0 { b'+' } else { b'-' });
        let a = offset.unsigned_abs();
        let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
        if h >= 100 {
            self.number(h as u64, 2);
        } else {
            self.pad2(h);
        }
        if minutes_always || m != 0 || s != 0 {
            self.byte(b':');
            self.pad2(m);
        }
        if s != 0 {
            self.byte(b':');
            self.pad2(s);
        }
    }

    #[inline(always)]
    fn bc(&mut self, bc: bool) {
        if bc {
            self.buf[self.n..self.n + 3].copy_from_slice(b" BC");
            self.n += 3;
        }
    }

    #[inline(always)]
    fn append_to(&self, out: &mut Vec<u8>) {
        crate::json::push_bytes(out, &self.buf[..self.n]);
    }
}

/// PostgreSQL's timestamp limits: 4714-11-24 BC to 294276-12-31 AD, in UTC.
fn in_timestamp_range(timestamp: i64) -> bool {
    const MIN: i64 = -211_813_488_000_000_000;
    const END: i64 = 9_223_371_331_200_000_000;
    (MIN..END).contains(&timestamp)
}

/// Appends the ISO text of `timestamp` (microseconds from 2000-01-01, as
/// stored) shifted by `utc_offset` seconds, with the offset printed when
/// given (timestamptz). Returns false, writing nothing, for values outside
/// the range PostgreSQL can store (the caller uses the output function).
pub fn iso_timestamp(out: &mut Vec<u8>, timestamp: i64, utc_offset: Option<i32>) -> bool {
    if !in_timestamp_range(timestamp) {
        return false;
    }
    let local = timestamp + utc_offset.unwrap_or(0) as i64 * 1_000_000;
    let mut t = Text::new();
    let bc = t.date(local.div_euclid(DAY_US));
    t.byte(b' ');
    t.clock(local.rem_euclid(DAY_US));
    if let Some(offset) = utc_offset {
        t.offset(offset, false);
    }
    t.bc(bc);
    t.append_to(out);
    true
}

/// The ISO 8601 text `to_json` writes for a timestamp, `YYYY-MM-DDTHH:MM:SS[.f]`,
/// with `Z` when `utc` (a timestamptz, printed in UTC whatever the session's
/// time zone), then ` BC` for BC years. Infinities as `infinity` /
/// `-infinity`. False, writing nothing, outside PostgreSQL's range.
pub fn json_timestamp(out: &mut Vec<u8>, timestamp: i64, utc: bool) -> bool {
    match timestamp {
        i64::MAX => out.extend_from_slice(b"infinity"),
        i64::MIN => out.extend_from_slice(b"-infinity"),
        _ if !in_timestamp_range(timestamp) => return false,
        _ => {
            let mut t = Text::new();
            let bc = t.date(timestamp.div_euclid(DAY_US));
            t.byte(b'T');
            t.clock(timestamp.rem_euclid(DAY_US));
            if utc {
                t.byte(b'Z');
            }
            t.bc(bc);
            t.append_to(out);
        }
    }
    true
}

/// A date (days from 2000-01-01) as `YYYY-MM-DD[ BC]`, or `infinity` /
/// `-infinity`. False, writing nothing, outside PostgreSQL's range.
pub fn json_date(out: &mut Vec<u8>, days: i32) -> bool {
    // 4714-11-24 BC (Julian day 0) to 5874897-12-31.
    const MIN: i32 = -2_451_545;
    const END: i32 = 2_145_031_949;
    match days {
        i32::MAX => out.extend_from_slice(b"infinity"),
        i32::MIN => out.extend_from_slice(b"-infinity"),
        _ if !(MIN..END).contains(&days) => return false,
        _ => {
            let mut t = Text::new();
            let bc = t.date(days as i64);
            t.bc(bc);
            t.append_to(out);
        }
    }
    true
}

/// A time of day (microseconds, up to 24:00:00) as `HH:MM:SS[.f]`, and for
/// timetz its offset (`zone_west` in seconds west of UTC, as stored) as
/// `+HH:MM[:SS]`. False, writing nothing, outside the valid range.
pub fn json_time(out: &mut Vec<u8>, micros: i64, zone_west: Option<i32>) -> bool {
    if !(0..=DAY_US).contains(&micros) || zone_west.is_some_and(|z| z.unsigned_abs() > 15 * 3600 + 59 * 60 + 59) {
        return false;
    }
    let mut t = Text::new();
    t.clock(micros);
    if let Some(west) = zone_west {
        t.offset(-west, true);
    }
    t.append_to(out);
    true
}

/// An interval in ISO 8601 as IntervalStyle `iso_8601` writes it:
/// `P1Y2M3DT4H5M6.789S`, each field signed on its own, zero fields left
/// out, `PT0S` when all are zero.
pub fn iso8601_interval(out: &mut Vec<u8>, months: i32, days: i32, micros: i64) {
    // PostgreSQL 17's infinite intervals: every field at its limit.
    if (months, days, micros) == (i32::MAX, i32::MAX, i64::MAX) {
        return out.extend_from_slice(b"infinity");
    }
    if (months, days, micros) == (i32::MIN, i32::MIN, i64::MIN) {
        return out.extend_from_slice(b"-infinity");
    }
    if months == 0 && days == 0 && micros == 0 {
        out.extend_from_slice(b"PT0S");
        return;
    }
    let field = |out: &mut Vec<u8>, v: i64, unit: u8| {
        if v != 0 {
            crate::json::push_i64(out, v);
            out.push(unit);
        }
    };
    out.push(b'P');
    field(out, (months / 12) as i64, b'Y');
    field(out, (months % 12) as i64, b'M');
    field(out, days as i64, b'D');
    if micros != 0 {
        out.push(b'T');
        let hours = micros / 3_600_000_000;
        let minutes = micros / 60_000_000 % 60;
        let sec_us = micros % 60_000_000;
        field(out, hours, b'H');
        field(out, minutes, b'M');
        if sec_us != 0 {
            if sec_us < 0 {
                out.push(b'-');
            }
            let a = sec_us.unsigned_abs();
            let mut t = Text::new();
            t.number(a / 1_000_000, 1);
            t.fraction((a % 1_000_000) as u32);
            t.append_to(out);
            out.push(b'S');
        }
    }
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

    fn text(f: impl FnOnce(&mut Vec<u8>) -> bool) -> Option<String> {
        let mut out = Vec::new();
        if f(&mut out) {
            Some(String::from_utf8(out).unwrap())
        } else {
            assert!(out.is_empty());
            None
        }
    }

    #[test]
    fn json_dates_and_times() {
        let jt = |t, utc| text(|o| json_timestamp(o, t, utc));
        assert_eq!(jt(0, true).as_deref(), Some("2000-01-01T00:00:00Z"));
        assert_eq!(jt(-1, false).as_deref(), Some("1999-12-31T23:59:59.999999"));
        assert_eq!(jt(-730_120 * D + 4_500, true).as_deref(), Some("0001-12-31T00:00:00.0045Z BC"));
        assert_eq!(jt(i64::MAX, true).as_deref(), Some("infinity"));
        assert_eq!(jt(i64::MIN, false).as_deref(), Some("-infinity"));
        assert_eq!(jt(i64::MAX - 1, false), None);
        let jd = |d| text(|o| json_date(o, d));
        assert_eq!(jd(0).as_deref(), Some("2000-01-01"));
        assert_eq!(jd(-730_120).as_deref(), Some("0001-12-31 BC"));
        assert_eq!(jd(-2_451_545).as_deref(), Some("4714-11-24 BC"));
        assert_eq!(jd(-2_451_546), None);
        assert_eq!(jd(2_145_031_948).as_deref(), Some("5874897-12-31"));
        assert_eq!(jd(i32::MAX).as_deref(), Some("infinity"));
        assert_eq!(jd(i32::MIN).as_deref(), Some("-infinity"));
        let tt = |t, z| text(|o| json_time(o, t, z));
        assert_eq!(tt(0, None).as_deref(), Some("00:00:00"));
        assert_eq!(tt(D, None).as_deref(), Some("24:00:00"));
        assert_eq!(tt(D + 1, None), None);
        assert_eq!(tt(3_723 * S + 40, Some(-19_800)).as_deref(), Some("01:02:03.00004+05:30"));
        assert_eq!(tt(1, Some(0)).as_deref(), Some("00:00:00.000001+00:00"));
        assert_eq!(tt(1, Some(3_661)).as_deref(), Some("00:00:00.000001-01:01:01"));
    }

    #[test]
    fn intervals_in_iso_8601() {
        let iv = |m, d, us| {
            let mut out = Vec::new();
            iso8601_interval(&mut out, m, d, us);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(iv(0, 0, 0), "PT0S");
        assert_eq!(iv(14, 3, 4 * 3600 * S + 5 * 60 * S + 6_789_000), "P1Y2M3DT4H5M6.789S");
        assert_eq!(iv(-14, 3, -(4 * 3600 * S + 5 * 60 * S + 6_789_000)), "P-1Y-2M3DT-4H-5M-6.789S");
        assert_eq!(iv(0, 0, -500_000), "PT-0.5S");
        assert_eq!(iv(12, 0, 0), "P1Y");
        assert_eq!(iv(0, -1, 0), "P-1D");
        assert_eq!(iv(0, 0, 60 * S), "PT1M");
        assert_eq!(iv(0, 0, 100 * 3600 * S + 1), "PT100H0.000001S");
        assert_eq!(iv(i32::MAX, i32::MAX, i64::MAX), "infinity");
        assert_eq!(iv(i32::MIN, i32::MIN, i64::MIN), "-infinity");
    }
}
