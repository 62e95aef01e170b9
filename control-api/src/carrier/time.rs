//! 46elks timestamps: naive UTC with microseconds and no zone, `2018-02-14T09:52:07.302000`,
//! except SMS `delivered`, which carries a `Z` (`2017-03-14T09:52:10Z`) (reference §2.1).
//! Both parse to Unix milliseconds; voxgate writes the naive form when it pages (`start`).

use crate::ids::Millis;

/// Parses either 46elks form (and a space for the `T`, or a `+00:00` zone) into Unix
/// milliseconds; `None` for anything else.
pub fn parse(text: &str) -> Option<Millis> {
    let text = text.trim();
    let text = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))
        .unwrap_or(text);
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-');
    let (year, month, day) = (
        number(d.next()?, 4)?,
        number(d.next()?, 2)?,
        number(d.next()?, 2)?,
    );
    let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = clock.splitn(3, ':');
    let (hour, minute, second) = (
        number(t.next()?, 2)?,
        number(t.next()?, 2)?,
        number(t.next()?, 2)?,
    );
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
        || fraction.len() > 9
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let millis = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis)
}

/// `ms` in the carrier's naive form, `2018-02-14T09:52:07.302000`.
pub fn format(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let micros = ms.rem_euclid(1000) * 1000;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `ms` with a `Z`, as 46elks writes SMS `delivered`.
pub fn format_z(ms: Millis) -> String {
    let mut text = format(ms);
    text.truncate(19);
    text.push('Z');
    text
}

fn number(text: &str, width: usize) -> Option<i64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::rfc3339;

    #[test]
    fn both_carrier_forms_parse() {
        let table = [
            (
                "2018-02-14T09:52:07.302000",
                Some("2018-02-14T09:52:07.302Z"),
            ),
            ("2017-03-14T09:52:10Z", Some("2017-03-14T09:52:10.000Z")),
            (
                "2024-02-29 23:59:59.999999",
                Some("2024-02-29T23:59:59.999Z"),
            ),
            (
                "2024-05-04T13:37:42.3141+00:00",
                Some("2024-05-04T13:37:42.314Z"),
            ),
            ("1970-01-01T00:00:00", Some("1970-01-01T00:00:00.000Z")),
            ("2023-02-29T00:00:00", None),
            ("2018-13-01T00:00:00", None),
            ("2018-02-14", None),
            ("2018-02-14T9:52:07", None),
            ("2018-02-14T09:52:07.30a", None),
            ("", None),
            ("\u{0}", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse(text).map(rfc3339).as_deref(), expected, "{text:?}");
        }
    }

    #[test]
    fn formatting_round_trips() {
        for ms in [0, 1_518_601_927_302, 1_795_412_998_123, 951_782_400_000] {
            assert_eq!(parse(&format(ms)), Some(ms), "{}", format(ms));
            assert_eq!(parse(&format_z(ms)), Some(ms - ms % 1000));
        }
        assert_eq!(format(1_518_601_927_302), "2018-02-14T09:52:07.302000");
        assert_eq!(format_z(1_489_485_130_000), "2017-03-14T09:52:10Z");
    }
}
