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

/// Writes microseconds since the Unix epoch as RFC 3339 in UTC, with six fractional
/// digits (`2019-04-27T15:57:25.868863Z`), the inverse of [`parse_timestamp_micros`].
pub fn format_timestamp_micros(micros: i64) -> String {
    let (date, frac) = civil_seconds(micros);
    format!("{date}.{frac:06}Z")
}

/// Writes microseconds since the Unix epoch as RFC 3339 in UTC, to the second (the
/// fraction dropped, not rounded): `2019-04-27T15:57:25Z`.
pub fn format_timestamp_seconds(micros: i64) -> String {
    let (date, _) = civil_seconds(micros);
    format!("{date}Z")
}

/// The date and time of day of `micros` to the second (`2019-04-27T15:57:25`), and the
/// microseconds past that second.
fn civil_seconds(micros: i64) -> (String, i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s % 3600 / 60,
        s % 60
    );
    (date, frac)
}

/// A window of time: events from `from` (inclusive) until `until` (exclusive), in
/// microseconds since the Unix epoch; an open side is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// The first instant in the window.
    pub from: Option<i64>,
    /// The first instant after the window.
    pub until: Option<i64>,
}

/// A chunk is skipped only when its first and last events lie this far outside the window:
/// an event's time is its provider's clock, which can be off by a time-zone offset (14
/// hours at most) until it is synchronised at boot, so events a little out of order must
/// not be lost with their chunk.
pub const CHUNK_SKIP_MARGIN_MICROS: i64 = 24 * 3600 * 1_000_000;

impl TimeWindow {
    /// The window of `--from` and `--to` as a user writes them: RFC 3339 date-times (UTC
    /// unless an offset is given) or dates (`2019-04-27`: from the start of the day, to its
    /// end). The error says which bound is not understood.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, String> {
        let bound = |flag: &str, text: &str, end: bool| -> Result<i64, String> {
            parse_bound(text, end).ok_or_else(|| {
                format!(
                    "{flag} `{text}` is not a date-time (RFC 3339, e.g. 2019-04-27T15:00:00Z or \
                     2019-04-27T17:00:00+02:00) or a date (2019-04-27)"
                )
            })
        };
        let window = Self {
            from: from.map(|t| bound("--from", t, false)).transpose()?,
            until: to.map(|t| bound("--to", t, true)).transpose()?,
        };
        if let (Some(from), Some(until)) = (window.from, window.until)
            && until <= from
        {
            return Err("--to is before --from: the window holds no time".to_string());
        }
        Ok(window)
    }

    /// Whether the window is open on both sides (it holds every event).
    pub fn is_unbounded(&self) -> bool {
        self.from.is_none() && self.until.is_none()
    }

    /// Whether an event at `time` lies in the window; an event without a time lies in no
    /// bounded window.
    pub fn contains(&self, time: Option<i64>) -> bool {
        if self.is_unbounded() {
            return true;
        }
        time.is_some_and(|t| self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t < u))
    }

    /// Whether events between `first` and `last` (either order) lie so far outside the
    /// window ([`CHUNK_SKIP_MARGIN_MICROS`]) that their chunk need not be read.
    pub fn rules_out(&self, first: i64, last: i64) -> bool {
        let (lo, hi) = (first.min(last), first.max(last));
        let before = self
            .from
            .is_some_and(|f| hi.saturating_add(CHUNK_SKIP_MARGIN_MICROS) < f);
        let after = self
            .until
            .is_some_and(|u| lo.saturating_sub(CHUNK_SKIP_MARGIN_MICROS) >= u);
        before || after
    }
}

/// A bound of a window: a date-time, or a date (its start, or for an `end` bound the start
/// of the next day).
fn parse_bound(text: &str, end: bool) -> Option<i64> {
    let t = text.trim();
    if let Some(micros) = parse_timestamp_micros(t) {
        // An end written as an instant is in the window.
        return Some(if end { micros + 1 } else { micros });
    }
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day) + i64::from(end);
    days.checked_mul(86_400_000_000)
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
    fn formats_what_it_parses() {
        for t in [
            "1970-01-01T00:00:00.000000Z",
            "2019-04-27T15:57:25.868863Z",
            "2000-02-29T23:59:59.999999Z",
            "1969-12-31T23:59:59.000000Z",
        ] {
            let micros = parse_timestamp_micros(t).expect("valid");
            assert_eq!(format_timestamp_micros(micros), t);
        }
    }

    #[test]
    fn formats_to_the_second_by_dropping_the_fraction() {
        for (t, whole) in [
            ("1970-01-01T00:00:00.000000Z", "1970-01-01T00:00:00Z"),
            ("2019-04-27T15:57:25.868863Z", "2019-04-27T15:57:25Z"),
            ("2000-02-29T23:59:59.999999Z", "2000-02-29T23:59:59Z"),
            ("1969-12-31T23:59:59.500000Z", "1969-12-31T23:59:59Z"),
        ] {
            let micros = parse_timestamp_micros(t).expect("valid");
            assert_eq!(format_timestamp_seconds(micros), whole);
        }
    }

    #[test]
    fn windows_from_dates_and_instants() {
        let day = 86_400_000_000;
        let w = TimeWindow::parse(Some("2019-04-27"), Some("2019-04-27")).expect("valid");
        let start = parse_timestamp_micros("2019-04-27T00:00:00Z");
        assert_eq!(w.from, start);
        assert_eq!(w.until, start.map(|s| s + day));
        assert!(w.contains(parse_timestamp_micros("2019-04-27T23:59:59.999999Z")));
        assert!(!w.contains(parse_timestamp_micros("2019-04-28T00:00:00Z")));
        assert!(!w.contains(None));
        let w = TimeWindow::parse(None, Some("2019-04-27T12:00:00+02:00")).expect("valid");
        assert!(w.contains(parse_timestamp_micros("2019-04-27T10:00:00Z")));
        assert!(!w.contains(parse_timestamp_micros("2019-04-27T10:00:00.000001Z")));
        assert!(TimeWindow::default().contains(None));
        for (from, to) in [
            (Some("yesterday"), None),
            (None, Some("2019-02-30x")),
            (Some("2019-05-01"), Some("2019-04-01")),
        ] {
            assert!(TimeWindow::parse(from, to).is_err(), "{from:?} {to:?}");
        }
    }

    #[test]
    fn chunks_are_ruled_out_only_well_outside_the_window() {
        let hour = 3_600_000_000;
        let w = TimeWindow {
            from: Some(100 * hour),
            until: Some(101 * hour),
        };
        assert!(w.rules_out(10 * hour, 20 * hour));
        assert!(w.rules_out(200 * hour, 150 * hour));
        // Within the margin of a day: read.
        assert!(!w.rules_out(70 * hour, 80 * hour));
        assert!(!w.rules_out(110 * hour, 120 * hour));
        // Spanning the window: read.
        assert!(!w.rules_out(10 * hour, 200 * hour));
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
