//! The `grpc-timeout` header: a positive integer of at most 8 digits followed
//! by a unit (`H`, `M`, `S`, `m`, `u`, `n`).

use std::time::Duration;

/// The largest value the header can carry in any unit.
const MAX_VALUE: u64 = 99_999_999;

/// Parses a `grpc-timeout` value; `None` if it is malformed.
pub(crate) fn parse(value: &[u8]) -> Option<Duration> {
    let (unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let amount = digits.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
    Some(match unit {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Encodes a timeout in the finest unit that fits in 8 digits, rounding up so
/// that the server never sees a shorter deadline than the caller set.
pub(crate) fn encode(timeout: Duration) -> String {
    let nanos = timeout.as_nanos();
    let units: [(u128, char); 6] = [
        (1, 'n'),
        (1_000, 'u'),
        (1_000_000, 'm'),
        (1_000_000_000, 'S'),
        (60_000_000_000, 'M'),
        (3_600_000_000_000, 'H'),
    ];
    for (per_unit, unit) in units {
        let amount = nanos.div_ceil(per_unit);
        if amount <= u128::from(MAX_VALUE) {
            return format!("{amount}{unit}");
        }
    }
    format!("{MAX_VALUE}H")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse(b"3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse(b"1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse(b"250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse(b"7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse(b"99999999n"), Some(Duration::from_nanos(99_999_999)));
        assert_eq!(parse(b"0m"), Some(Duration::ZERO));
    }

    #[test]
    fn malformed_values_are_rejected() {
        for bad in [&b""[..], b"S", b"1", b"123456789S", b"1s", b"-1S", b"1.5S", b" 1S", b"1 S"] {
            assert_eq!(parse(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn encoding_picks_a_unit_that_fits_and_never_shortens() {
        assert_eq!(encode(Duration::from_nanos(5)), "5n");
        assert_eq!(encode(Duration::from_millis(100)), "100000u");
        assert_eq!(encode(Duration::from_secs(1)), "1000000u");
        assert_eq!(encode(Duration::from_secs(3600 * 24)), "86400000m");
        assert_eq!(encode(Duration::from_secs(3600 * 24 * 365)), "31536000S");
        assert_eq!(encode(Duration::MAX), "99999999H");
        for timeout in [Duration::from_nanos(123_456_789_123), Duration::from_secs(500_000_000)] {
            assert!(parse(encode(timeout).as_bytes()).unwrap() >= timeout);
        }
    }
}
