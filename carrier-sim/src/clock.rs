//! Timestamps and ids as 46elks writes them.
//!
//! 46elks timestamps are naive UTC with microseconds and no zone: `2018-02-14T09:52:07.302000`.
//! The one exception is an SMS's `delivered`, written `2017-03-14T09:52:10Z` (doc §2.1).
//! No date crate is in the workspace, so the civil-date conversion is done here (Howard
//! Hinnant's `days_from_civil`/`civil_from_days`).
//!
//! Paging passes the `created` of the last item back as `start` ("before this date"), so two
//! items must never share a timestamp: [`Clock::now`] is strictly increasing.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant in UTC, in microseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Stamp(i64);

const MICROS_PER_SEC: i64 = 1_000_000;
const SECS_PER_DAY: i64 = 86_400;

impl Stamp {
    /// `2018-02-14T09:52:07.302000`: how 46elks writes `created`, `start`, `allocated`.
    pub(crate) fn naive(self) -> String {
        let (date, secs, micros) = self.split();
        format!("{date}T{}.{micros:06}", hms(secs))
    }

    /// `2017-03-14T09:52:10Z`: how 46elks writes an SMS's `delivered`.
    pub(crate) fn zulu(self) -> String {
        let (date, secs, _) = self.split();
        format!("{date}T{}Z", hms(secs))
    }

    /// Parses what clients send as `start`/`end`: `YYYY-MM-DD`, optionally followed by `T` or
    /// a space, `HH:MM:SS`, a fraction of up to 6 digits, and `Z`.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_suffix('Z').unwrap_or(text);
        let (date, time) = match text.split_once(['T', ' ']) {
            Some((date, time)) => (date, Some(time)),
            None => (text, None),
        };
        let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
        let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let mut micros = days_from_civil(y, m, d) * SECS_PER_DAY * MICROS_PER_SEC;
        if let Some(time) = time {
            micros += parse_time(time)?;
        }
        Some(Self(micros))
    }

    /// How long after `earlier` this is (zero if it is not later).
    pub(crate) fn since(self, earlier: Self) -> Duration {
        Duration::from_micros(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    fn split(self) -> (String, i64, i64) {
        let secs = self.0.div_euclid(MICROS_PER_SEC);
        let micros = self.0.rem_euclid(MICROS_PER_SEC);
        let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        (
            format!("{y:04}-{m:02}-{d:02}"),
            secs.rem_euclid(SECS_PER_DAY),
            micros,
        )
    }
}

fn hms(secs_of_day: i64) -> String {
    let (h, rest) = (secs_of_day / 3600, secs_of_day % 3600);
    format!("{h:02}:{:02}:{:02}", rest / 60, rest % 60)
}

/// `HH:MM:SS[.ffffff]` as microseconds into the day.
fn parse_time(time: &str) -> Option<i64> {
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, frac),
        None => (time, ""),
    };
    let mut parts = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, m) = (parts.next()??, parts.next()??);
    let s = parts.next().flatten().unwrap_or(0);
    if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0..61).contains(&s) {
        return None;
    }
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_micros = format!("{frac:0<6}").parse::<i64>().ok()?;
    Some(((h * 60 + m) * 60 + s) * MICROS_PER_SEC + frac_micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Wall-clock UTC that never repeats: each call returns a later stamp than the last.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    last: Mutex<i64>,
}

impl Clock {
    /// Now, or one microsecond after the previous stamp if the clock has not moved.
    pub(crate) fn now(&self) -> Stamp {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        *last = wall.max(*last + 1);
        Stamp(*last)
    }
}

/// A fresh id: `prefix` and 32 lower-case hex digits, like `s70df59406a1b4643b96f3f91e0bfb7b0`
/// (SMS `s`, calls `c`, numbers `n`, accounts `u`; doc §2.2).
pub(crate) fn new_id(prefix: char) -> String {
    format!("{prefix}{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_46elks() {
        let stamp = Stamp::parse("2018-02-14T09:52:07.302000").expect("parse");
        assert_eq!(stamp.naive(), "2018-02-14T09:52:07.302000");
        assert_eq!(stamp.zulu(), "2018-02-14T09:52:07Z");
        assert_eq!(Stamp(0).naive(), "1970-01-01T00:00:00.000000");
        assert_eq!(
            Stamp(951_782_400 * MICROS_PER_SEC).naive(),
            "2000-02-29T00:00:00.000000"
        );
    }

    #[test]
    fn parses_what_clients_send() {
        let table = [
            ("2017-03-14T09:52:10Z", "2017-03-14T09:52:10.000000"),
            ("2017-03-14 09:52:10.5", "2017-03-14T09:52:10.500000"),
            ("2017-03-14", "2017-03-14T00:00:00.000000"),
            ("2024-12-31T23:59:59.999999", "2024-12-31T23:59:59.999999"),
        ];
        for (text, naive) in table {
            assert_eq!(Stamp::parse(text).map(Stamp::naive).as_deref(), Some(naive));
        }
        for bad in [
            "",
            "yesterday",
            "2017-13-01",
            "2017-03-14T25:00:00",
            "2017-03-14T1:2:3.1234567",
        ] {
            assert_eq!(Stamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn clock_is_strictly_increasing() {
        let clock = Clock::default();
        let stamps: Vec<_> = (0..1000).map(|_| clock.now()).collect();
        assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ids_have_prefix_and_32_hex_digits() {
        let id = new_id('s');
        assert_eq!(id.len(), 33);
        assert!(id.starts_with('s'));
        assert!(
            id[1..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
