//! Timestamps as sortable integers.

/// Parses an ISO 8601 / RFC 3339 date-time (`2019-04-27T15:57:25.868863Z`, also with a space
/// instead of `T`, any number of fractional digits, `Z`, `+hh:mm`, `+hhmm` or no zone, which
/// means UTC) into microseconds since the Unix epoch. `None` when it is not one.
///
/// Correlations only need to order and subtract timestamps, so an integer is all they get:
/// no calendar type crosses the crate boundary.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // 60 is a leap second; it sorts as the next minute's first, which is close enough.
    if second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0i64;
    if let Some((b'.' | b',', fraction)) = rest.split_first() {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let mut scale = 100_000;
        for &d in &fraction[..len.min(6)] {
            micros += i64::from(d - b'0') * scale;
            scale /= 10;
        }
        rest = &fraction[len..];
    }
    let offset_seconds = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), zone @ ..] => {
            let (h, m) = match zone {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => {
                    (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
                }
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                _ => return None,
            };
            let seconds = h * 3600 + m * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(1_000_000)?.checked_add(micros)
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_timestamp_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp_micros("2019-04-27T15:57:25.868863Z"),
            Some(1_556_380_645_868_863)
        );
        // Sysmon's UtcTime, milliseconds, no zone.
        assert_eq!(
            parse_timestamp_micros("2019-04-27 15:57:25.868"),
            Some(1_556_380_645_868_000)
        );
        // Nanoseconds are cut to microseconds.
        assert_eq!(
            parse_timestamp_micros("2020-10-29T08:23:18.0730001Z"),
            parse_timestamp_micros("2020-10-29T08:23:18.073Z")
        );
        assert_eq!(
            parse_timestamp_micros("2020-10-29T10:23:18+02:00"),
            parse_timestamp_micros("2020-10-29T08:23:18Z")
        );
        assert_eq!(
            parse_timestamp_micros("1969-12-31T23:59:59Z"),
            Some(-1_000_000)
        );
    }

    #[test]
    fn rejects_other_text() {
        for s in [
            "",
            "yesterday",
            "2019-13-01T00:00:00Z",
            "2019-04-27T15:57",
            "2019-04-27T15:57:25.Z",
            "2019-04-27T15:57:25 junk",
        ] {
            assert_eq!(parse_timestamp_micros(s), None, "{s}");
        }
    }
}
