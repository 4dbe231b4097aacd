//! Timestamps: parsing the text forms event logs use, and the parts the Sigma time
//! modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`) compare.

use sigil_core::TimePart;

/// A point in time, in microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH[:]MM]` (what EVTX, Sysmon and most
/// JSON logs write). A timestamp without an offset is taken as UTC.
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    let b = text.trim().as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        s.iter().try_fold(0i64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (hour, minute) = (num(&b[11..13])?, num(&b[14..16])?);
    if b[13] != b':' || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut rest = &b[16..];
    let mut second = 0;
    let mut micros = 0;
    if let [b':', s1, s2, tail @ ..] = rest {
        second = num(&[*s1, *s2])?;
        rest = tail;
        if let [b'.' | b',', tail @ ..] = rest {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            let frac = &tail[..digits];
            for i in 0..6 {
                micros = micros * 10 + frac.get(i).map_or(0, |&d| i64::from(d - b'0'));
            }
            rest = &tail[digits..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_secs = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let digits: Vec<u8> = tail.iter().copied().filter(|&c| c != b':').collect();
            let (h, m) = match digits.len() {
                2 => (num(&digits)?, 0),
                4 => (num(&digits[..2])?, num(&digits[2..])?),
                _ => return None,
            };
            let secs = h * 3600 + m * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The ISO 8601 week number (1..=53) of a day number.
fn iso_week(days: i64) -> i64 {
    // 1970-01-01 was a Thursday; ISO weekdays run Monday = 1 .. Sunday = 7.
    let weekday = (days + 3).rem_euclid(7) + 1;
    // The week belongs to the year of its Thursday.
    let thursday = days - weekday + 4;
    let (year, _, _) = civil_from_days(thursday);
    let jan1 = days_from_civil(year, 1, 1);
    (thursday - jan1) / 7 + 1
}

/// The part of a timestamp (in UTC) a time modifier compares.
pub fn time_part(micros: Micros, part: TimePart) -> i64 {
    let secs = micros.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    match part {
        TimePart::Minute => of_day / 60 % 60,
        TimePart::Hour => of_day / 3600,
        TimePart::Day => day,
        TimePart::Week => iso_week(days),
        TimePart::Month => month,
        TimePart::Year => year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_timestamps() {
        let a = parse_timestamp("2019-04-27T15:57:25.868863Z").unwrap();
        assert_eq!(a, 1_556_380_645_868_863);
        assert_eq!(
            parse_timestamp("2019-04-27 15:57:25.868").unwrap(),
            1_556_380_645_868_000
        );
        assert_eq!(parse_timestamp("2019-04-27T17:57:25.868863+02:00"), Some(a));
        assert_eq!(
            parse_timestamp("2019-04-27T15:57"),
            Some(1_556_380_620_000_000)
        );
        assert_eq!(parse_timestamp("not a time"), None);
        assert_eq!(parse_timestamp("2019-13-27T15:57:25Z"), None);
    }

    #[test]
    fn parts() {
        let t = parse_timestamp("2021-01-03T22:41:05Z").unwrap();
        assert_eq!(time_part(t, TimePart::Minute), 41);
        assert_eq!(time_part(t, TimePart::Hour), 22);
        assert_eq!(time_part(t, TimePart::Day), 3);
        assert_eq!(time_part(t, TimePart::Month), 1);
        assert_eq!(time_part(t, TimePart::Year), 2021);
        // 2021-01-03 is a Sunday in ISO week 53 of 2020.
        assert_eq!(time_part(t, TimePart::Week), 53);
        let t = parse_timestamp("2021-01-04T00:00:00Z").unwrap();
        assert_eq!(time_part(t, TimePart::Week), 1);
        let t = parse_timestamp("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(time_part(t, TimePart::Year), 1969);
    }
}
