//! numeric's on-disk form -> the text `numeric_out` prints.
//!
//! A numeric is a varlena whose payload starts with a 16-bit header, in one
//! of three forms (PostgreSQL's `utils/adt/numeric.c`): special (NaN, and
//! from 14 on the infinities), short (sign, display scale and weight packed
//! in the header) or long (sign and display scale in the header, then a
//! 16-bit weight). Base-10000 digits follow, most significant first; `weight`
//! is the power of 10000 of the first digit, `dscale` the number of decimal
//! digits printed after the point. The text depends on no setting.

/// A numeric's header, read.
enum Header<'a> {
    /// NaN or an infinity: its text.
    Special(&'static [u8]),
    Finite {
        negative: bool,
        dscale: i32,
        weight: i32,
        digits: &'a [u8],
    },
}

/// Reads the header of a numeric's payload (None: not well formed).
#[inline(always)]
fn header(payload: &[u8]) -> Option<Header<'_>> {
    const SIGN_MASK: u16 = 0xC000;
    const NEG: u16 = 0x4000;
    const SHORT: u16 = 0x8000;
    const SPECIAL: u16 = 0xC000;
    let header = u16::from_ne_bytes([*payload.first()?, *payload.get(1)?]);
    Some(match header & SIGN_MASK {
        // NaN; PostgreSQL 14 added the infinities (unused bits before).
        SPECIAL => Header::Special(match header & 0xF000 {
            0xC000 => b"NaN".as_slice(),
            0xD000 => b"Infinity",
            0xF000 => b"-Infinity",
            _ => return None,
        }),
        SHORT => {
            let weight = if header & 0x0040 != 0 { (header & 0x003F) as i32 | !0x3F } else { (header & 0x003F) as i32 };
            let dscale = ((header & 0x1F80) >> 7) as i32;
            Header::Finite { negative: header & 0x2000 != 0, dscale, weight, digits: &payload[2..] }
        }
        sign => {
            let weight = i16::from_ne_bytes([*payload.get(2)?, *payload.get(3)?]) as i32;
            Header::Finite { negative: sign == NEG, dscale: (header & 0x3FFF) as i32, weight, digits: &payload[4..] }
        }
    })
}

/// Appends `numeric_out`'s text for a numeric's on-disk bytes (the varlena
/// payload, header excluded): sign, the integer digits without leading zeros
/// (a lone `0` when there are none), then `dscale` fraction digits. Returns
/// false when the bytes are not a well-formed numeric (the caller then uses
/// the output function).
pub fn numeric_text(out: &mut Vec<u8>, payload: &[u8]) -> bool {
    let (negative, dscale, weight, digits) = match header(payload) {
        None => return false,
        Some(Header::Special(text)) => {
            out.extend_from_slice(text);
            return true;
        }
        Some(Header::Finite { negative, dscale, weight, digits }) => (negative, dscale, weight, digits),
    };
    if digits.len() % 2 != 0 {
        return false;
    }
    // The digits are read in order: `d` counts up from the first printed
    // group (negative ones are the zeros between the point and the first
    // stored digit; past the stored digits come zeros). Only printed digits
    // are checked (above 9999 means a corrupt value).
    let mut stored = digits.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]]));
    let mut bad = false;
    let mut digit = |d: i32| -> u16 {
        if d < 0 {
            return 0;
        }
        match stored.next() {
            Some(v) if v > 9999 => {
                bad = true;
                0
            }
            v => v.unwrap_or(0),
        }
    };
    // Sign, integer digits, point, fraction digits rounded up to whole groups.
    let max = 1 + (weight.max(0) as usize + 1) * 4 + 1 + dscale as usize + 4;
    out.reserve(max);
    let base = out.len();
    // SAFETY: `reserve` made room for `max` bytes after `base`; the writes
    // below stay within that bound (sign, at most weight + 1 integer groups
    // or a lone 0, the point, and whole fraction groups covering dscale), and
    // the length set at the end covers only bytes written.
    unsafe {
        let start = out.as_mut_ptr().add(base);
        let mut p = start;
        /// Fixed-size pieces: each copy compiles to a store, not a libc call.
        #[inline(always)]
        unsafe fn put<const N: usize>(p: &mut *mut u8, bytes: [u8; N]) {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), *p, N);
            *p = p.add(N);
        }
        if negative {
            put(&mut p, *b"-");
        }
        let mut d;
        if weight < 0 {
            d = weight + 1;
            put(&mut p, *b"0");
        } else {
            // The first group drops its leading zeros; the others print 4 digits.
            let first = digit(0);
            let skip = match first {
                1000.. => 0,
                100.. => 1,
                10.. => 2,
                _ => 3,
            };
            for &b in &four_digits(first)[skip..] {
                put(&mut p, [b]);
            }
            d = 1;
            while d <= weight {
                put(&mut p, four_digits(digit(d)));
                d += 1;
            }
        }
        let mut len = p.offset_from(start) as usize;
        if dscale > 0 {
            put(&mut p, *b".");
            len += 1 + dscale as usize;
            let mut i = 0;
            while i < dscale {
                put(&mut p, four_digits(digit(d)));
                d += 1;
                i += 4;
            }
        }
        // The last group may carry digits beyond the display scale: `len`
        // stops before them.
        debug_assert!(len <= p.offset_from(start) as usize && len <= max);
        if bad {
            return false;
        }
        out.set_len(base + len);
    }
    true
}

/// The four decimal digits of a base-10000 digit.
#[inline]
fn four_digits(v: u16) -> [u8; 4] {
    let pairs = crate::json::DIGIT_PAIRS;
    let (hi, lo) = ((v / 100) as usize * 2, (v % 100) as usize * 2);
    [pairs[hi], pairs[hi + 1], pairs[lo], pairs[lo + 1]]
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
