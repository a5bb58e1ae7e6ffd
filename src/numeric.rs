//! numeric's on-disk form -> the text `numeric_out` prints.
//!
//! A numeric is a varlena whose payload starts with a 16-bit header, in one
//! of three forms (PostgreSQL's `utils/adt/numeric.c`): special (NaN, and
//! from 14 on the infinities), short (sign, display scale and weight packed
//! in the header) or long (sign and display scale in the header, then a
//! 16-bit weight). Base-10000 digits follow, most significant first; `weight`
//! is the power of 10000 of the first digit, `dscale` the number of decimal
//! digits printed after the point. The text depends on no setting.

/// Appends `numeric_out`'s text for a numeric's on-disk bytes (the varlena
/// payload, header excluded): sign, the integer digits without leading zeros
/// (a lone `0` when there are none), then `dscale` fraction digits. Returns
/// false when the bytes are not a well-formed numeric (the caller then uses
/// the output function).
pub fn numeric_text(out: &mut Vec<u8>, payload: &[u8]) -> bool {
    const SIGN_MASK: u16 = 0xC000;
    const NEG: u16 = 0x4000;
    const SHORT: u16 = 0x8000;
    const SPECIAL: u16 = 0xC000;
    if payload.len() < 2 {
        return false;
    }
    let header = u16::from_ne_bytes([payload[0], payload[1]]);
    let (negative, dscale, weight, digits) = match header & SIGN_MASK {
        SPECIAL => {
            // NaN; PostgreSQL 14 added the infinities (unused bits before).
            out.extend_from_slice(match header & 0xF000 {
                0xC000 => b"NaN".as_slice(),
                0xD000 => b"Infinity",
                0xF000 => b"-Infinity",
                _ => return false,
            });
            return true;
        }
        SHORT => {
            let weight = if header & 0x0040 != 0 { (header & 0x003F) as i32 | !0x3F } else { (header & 0x003F) as i32 };
            (header & 0x2000 != 0, ((header & 0x1F80) >> 7) as i32, weight, &payload[2..])
        }
        sign => {
            if payload.len() < 4 {
                return false;
            }
            let weight = i16::from_ne_bytes([payload[2], payload[3]]) as i32;
            (sign == NEG, (header & 0x3FFF) as i32, weight, &payload[4..])
        }
    };
    if digits.len() % 2 != 0 {
        return false;
    }
    let ndigits = (digits.len() / 2) as i32;
    // Base-10000 digit `d` (0 beyond the stored ones); None when out of range.
    let digit = |d: i32| -> Option<u16> {
        if d >= 0 && d < ndigits {
            let k = d as usize * 2;
            let v = u16::from_ne_bytes([digits[k], digits[k + 1]]);
            (v <= 9999).then_some(v)
        } else {
            Some(0)
        }
    };
    // Sign, integer digits, point, fraction digits rounded up to whole groups.
    let max = 1 + (weight.max(0) as usize + 1) * 4 + 1 + dscale as usize + 4;
    out.reserve(max);
    let base = out.len();
    let mut w = Writer { spare: &mut out.spare_capacity_mut()[..max], n: 0 };
    if negative {
        w.put(b"-");
    }
    let mut d;
    if weight < 0 {
        d = weight + 1;
        w.put(b"0");
    } else {
        // The first group drops its leading zeros; the others print 4 digits.
        let Some(first) = digit(0) else { return false };
        let four = four_digits(first);
        let skip = match first {
            1000.. => 0,
            100.. => 1,
            10.. => 2,
            _ => 3,
        };
        w.put(&four[skip..]);
        d = 1;
        while d <= weight {
            let Some(dig) = digit(d) else { return false };
            w.put(&four_digits(dig));
            d += 1;
        }
    }
    let mut len = w.n;
    if dscale > 0 {
        w.put(b".");
        len = w.n + dscale as usize;
        let mut i = 0;
        while i < dscale {
            let Some(dig) = digit(d) else { return false };
            w.put(&four_digits(dig));
            d += 1;
            i += 4;
        }
    }
    // The last group may carry digits beyond the display scale: `len` stops
    // before them.
    debug_assert!(len <= w.n);
    // SAFETY: `put` initialised the first `w.n` >= `len` spare bytes.
    unsafe { out.set_len(base + len) };
    true
}

/// Writes into a vector's reserved spare capacity (no capacity check per
/// byte; the slice bounds still are).
struct Writer<'a> {
    spare: &'a mut [std::mem::MaybeUninit<u8>],
    n: usize,
}

impl Writer<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.spare[self.n].write(b);
            self.n += 1;
        }
    }
}

/// The four decimal digits of a base-10000 digit.
#[inline]
fn four_digits(v: u16) -> [u8; 4] {
    const PAIRS: &[u8; 200] =
        b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
    let (hi, lo) = ((v / 100) as usize * 2, (v % 100) as usize * 2);
    [PAIRS[hi], PAIRS[hi + 1], PAIRS[lo], PAIRS[lo + 1]]
}

#[cfg(test)]
mod tests {
    use super::numeric_text;

    fn short(negative: bool, dscale: u16, weight: i16, digits: &[u16]) -> Vec<u8> {
        let w = if weight < 0 { 0x40 | (weight as u16 & 0x3F) } else { weight as u16 };
        let header = 0x8000 | if negative { 0x2000 } else { 0 } | (dscale << 7) | w;
        let mut v = header.to_ne_bytes().to_vec();
        digits.iter().for_each(|d| v.extend_from_slice(&d.to_ne_bytes()));
        v
    }

    fn long(negative: bool, dscale: u16, weight: i16, digits: &[u16]) -> Vec<u8> {
        let header = if negative { 0x4000 } else { 0 } | dscale;
        let mut v = header.to_ne_bytes().to_vec();
        v.extend_from_slice(&weight.to_ne_bytes());
        digits.iter().for_each(|d| v.extend_from_slice(&d.to_ne_bytes()));
        v
    }

    fn text(payload: &[u8]) -> String {
        let mut out = Vec::new();
        assert!(numeric_text(&mut out, payload));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numeric_out_text() {
        assert_eq!(text(&short(false, 0, 0, &[])), "0");
        assert_eq!(text(&short(false, 3, 0, &[])), "0.000");
        assert_eq!(text(&short(false, 0, 0, &[7])), "7");
        assert_eq!(text(&short(true, 0, 0, &[1])), "-1");
        assert_eq!(text(&short(false, 0, 1, &[1])), "10000");
        assert_eq!(text(&short(false, 0, 1, &[1, 1])), "10001");
        assert_eq!(text(&short(false, 9, 1, &[1, 2345, 6789, 123, 4000])), "12345.678901234");
        assert_eq!(text(&short(false, 1, -1, &[1000])), "0.1");
        assert_eq!(text(&short(false, 5, -2, &[1000])), "0.00001");
        assert_eq!(text(&short(false, 8, -1, &[1, 2340])), "0.00012340");
        assert_eq!(text(&short(false, 3, 0, &[1, 5000])), "1.500");
        // The display scale may cut the last base-10000 digit.
        assert_eq!(text(&short(false, 2, 0, &[3, 1415])), "3.14");
        assert_eq!(text(&long(false, 0, 75, &[1])), format!("1{}", "0".repeat(300)));
        assert_eq!(text(&long(true, 300, -75, &[1])), format!("-0.{}1", "0".repeat(299)));
        assert_eq!(text(&[0x00, 0xC0]), "NaN");
        assert_eq!(text(&[0x00, 0xD0]), "Infinity");
        assert_eq!(text(&[0x00, 0xF0]), "-Infinity");
    }

    #[test]
    fn malformed_numerics_are_refused() {
        let mut out = Vec::new();
        assert!(!numeric_text(&mut out, &[]));
        assert!(!numeric_text(&mut out, &[0x00]));
        assert!(!numeric_text(&mut out, &[0x00, 0x80, 0x01]));
        assert!(!numeric_text(&mut out, &short(false, 0, 0, &[10000])));
        assert!(!numeric_text(&mut out, &[0x00, 0xE0]));
    }
}
