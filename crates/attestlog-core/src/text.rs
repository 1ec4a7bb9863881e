//! The small text grammars that every attestlog format shares: canonical
//! decimal numbers and lower-case hexadecimal.
//!
//! ```text
//! decimal   = "0" / nonzero *digit        ; ASCII, no sign, no leading zeros
//! nonzero   = "1" / ... / "9"
//! lower-hex = *( digit / "a" / ... / "f" )
//! ```
//!
//! C2SP tlog-checkpoint writes tree sizes as "ASCII decimal" without
//! leading zeros, C2SP tlog-witness the old size "as an ASCII decimal with
//! no leading zeroes (unless the size is zero, in which case the encoding
//! MUST be `0`)", and tlog-tiles its levels and widths the same way; so do
//! attestlog's own formats (evidence, bundles, tlog-proofs, policies'
//! thresholds). Every such number is read by [`parse_decimal_u64`], so that
//! each format accepts exactly one spelling of each number and `n.to_string()`
//! writes it.
//!
//! Digests that attestlog reads from outside (statements, bundles, log IDs
//! in URLs) are 64 lower-case hexadecimal digits: [`decode_lower_hex_32`].
//! Note key IDs are not: C2SP signed-note accepts either case there (see
//! [`crate::note::key`]).

/// Why a text is not a canonical decimal number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is empty.
    #[error("empty where a decimal number was expected")]
    Empty,
    /// A character other than an ASCII digit (a sign, a space, ...).
    #[error("a decimal number has only the ASCII digits 0-9")]
    NotDigit,
    /// A leading zero in a number other than `0` itself.
    #[error("a decimal number has no leading zeros")]
    LeadingZero,
    /// The number is larger than the type holds.
    #[error("decimal number out of range")]
    Overflow,
}

/// Parses a canonical decimal: ASCII digits only, no sign, no leading zero
/// except `0` itself, at most [`u64::MAX`].
pub fn parse_decimal_u64(s: &str) -> Result<u64, DecimalError> {
    parse_decimal_u64_bytes(s.as_bytes())
}

/// [`parse_decimal_u64`] over bytes (for formats read as bytes).
pub fn parse_decimal_u64_bytes(s: &[u8]) -> Result<u64, DecimalError> {
    if s.is_empty() {
        return Err(DecimalError::Empty);
    }
    let n = s.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return Err(DecimalError::NotDigit);
        }
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(DecimalError::Overflow)
    })?;
    if s.len() > 1 && s[0] == b'0' {
        return Err(DecimalError::LeadingZero);
    }
    Ok(n)
}

/// Whether every character of `s` is `0`-`9` or `a`-`f` (true for "").
pub fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Decodes exactly 64 lower-case hexadecimal digits into 32 bytes.
pub fn decode_lower_hex_32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !is_lower_hex(s) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule each of the six former copies spelled out (checkpoint
    /// sizes, tile paths, evidence, policy thresholds, tlog-proofs and
    /// bundles, the witness's old size): the reference that
    /// [`parse_decimal_u64`] must agree with on every input.
    fn former_copy(s: &str) -> Option<u64> {
        if s.is_empty()
            || !s.bytes().all(|b| b.is_ascii_digit())
            || (s.len() > 1 && s.starts_with('0'))
        {
            return None;
        }
        s.parse().ok()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn decimals_round_trip(n in any::<u64>()) {
            prop_assert_eq!(parse_decimal_u64(&n.to_string()), Ok(n));
        }

        #[test]
        fn decimals_agree_with_the_former_copies(s in "[-+ 0-9a\\n]{0,22}") {
            prop_assert_eq!(parse_decimal_u64(&s).ok(), former_copy(&s));
        }

        #[test]
        fn any_string_agrees_with_the_former_copies(s in any::<String>()) {
            prop_assert_eq!(parse_decimal_u64(&s).ok(), former_copy(&s));
        }

        #[test]
        fn lower_hex_round_trips(bytes in any::<[u8; 32]>()) {
            let h = hex::encode(bytes);
            prop_assert!(is_lower_hex(&h));
            prop_assert_eq!(decode_lower_hex_32(&h), Some(bytes));
            prop_assert_eq!(decode_lower_hex_32(&h.to_ascii_uppercase()).is_some(), !h.bytes().any(|b| b.is_ascii_alphabetic()));
        }
    }

    #[test]
    fn decimals() {
        for (s, n) in [
            ("0", 0),
            ("7", 7),
            ("10", 10),
            ("18446744073709551615", u64::MAX),
        ] {
            assert_eq!(parse_decimal_u64(s), Ok(n), "{s}");
            assert_eq!(n.to_string(), s);
        }
        for (s, e) in [
            ("", DecimalError::Empty),
            ("00", DecimalError::LeadingZero),
            ("01", DecimalError::LeadingZero),
            ("0x1", DecimalError::NotDigit),
            ("+1", DecimalError::NotDigit),
            ("-1", DecimalError::NotDigit),
            (" 1", DecimalError::NotDigit),
            ("1 ", DecimalError::NotDigit),
            ("1\n", DecimalError::NotDigit),
            ("1_000", DecimalError::NotDigit),
            ("١", DecimalError::NotDigit),
            ("18446744073709551616", DecimalError::Overflow),
            ("99999999999999999999999", DecimalError::Overflow),
        ] {
            assert_eq!(parse_decimal_u64(s), Err(e), "{s:?}");
        }
        assert_eq!(
            parse_decimal_u64_bytes(b"12\xff"),
            Err(DecimalError::NotDigit)
        );
    }

    #[test]
    fn hex() {
        let h = "00ff".repeat(16);
        assert!(is_lower_hex(&h) && is_lower_hex(""));
        assert_eq!(decode_lower_hex_32(&h).map(|b| b[1]), Some(0xff));
        for bad in [
            "00FF".repeat(16),
            "00ff".repeat(15),
            format!("{}0", "00ff".repeat(16)),
            format!("{}g", &"00ff".repeat(16)[1..]),
            format!(" {}", &"00ff".repeat(16)[1..]),
        ] {
            assert_eq!(decode_lower_hex_32(&bad), None, "{bad}");
        }
    }
}
