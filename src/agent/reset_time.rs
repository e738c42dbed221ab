//! Reading "when does the limit reset" out of an agent's usage-limit message.
//!
//! A usage limit does not count as an attempt (spec §4.3): the backend is paused until the time
//! the agent printed, so guessing it well saves hours of idle backoff. The CLIs print it in three
//! shapes, all handled here without a date library:
//! - a unix timestamp: Claude's `Claude AI usage limit reached|1750708800` and its
//!   `rate_limit_event.resetsAt`;
//! - a relative duration: Codex's `try again in 2 days 17 hours 14 minutes`;
//! - a local clock time, maybe with a date: Claude's `resets 3pm (Europe/Paris)`, `resets Apr 23
//!   at 4pm`, Codex's `try again at Jul 5th, 2026 8:19 PM`. These are read in the local time zone
//!   of this machine (the CLIs print the user's zone, which is normally the same).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix timestamps outside this range are not reset times (e.g. a PID or a token count).
const PLAUSIBLE_UNIX: std::ops::Range<u64> = 1_000_000_000..10_000_000_000;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The reset time stated in `text`, if any. `utc_offset_secs` is the local zone's offset (see
/// [`local_utc_offset_secs`]); it is a parameter so tests do not depend on the machine's zone.
pub fn parse_reset_time(text: &str, now: SystemTime, utc_offset_secs: i64) -> Option<SystemTime> {
    let lower = text.to_ascii_lowercase();
    unix_timestamp(&lower)
        .or_else(|| relative(&lower).map(|after| now + after))
        .or_else(|| clock_time(&lower, now, utc_offset_secs))
}

/// The local zone's offset from UTC at `at`, in seconds east of UTC (0 when unknown).
pub fn local_utc_offset_secs(at: SystemTime) -> i64 {
    let Ok(since_epoch) = at.duration_since(UNIX_EPOCH) else {
        return 0;
    };
    let Ok(secs) = libc::time_t::try_from(since_epoch.as_secs()) else {
        return 0;
    };
    // SAFETY: `localtime_r` only reads `secs` and writes into `tm`, both valid for the call; an
    // all-zero `tm` is a valid value of this plain C struct.
    let (ok, tm) = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        let ok = !libc::localtime_r(&secs, &mut tm).is_null();
        (ok, tm)
    };
    if !ok {
        return 0;
    }
    #[cfg_attr(
        target_pointer_width = "64",
        expect(
            clippy::useless_conversion,
            reason = "`c_long` is only `i64` on 64-bit targets"
        )
    )]
    let offset = i64::from(tm.tm_gmtoff);
    offset
}

fn unix_timestamp(lower: &str) -> Option<SystemTime> {
    for marker in [
        "|",
        "resetsat\":",
        "resets_at\":",
        "resets_at=",
        "resets_at: ",
    ] {
        for (pos, _) in lower.match_indices(marker) {
            let rest = lower[pos + marker.len()..].trim_start();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let Ok(mut secs) = digits.parse::<u64>() else {
                continue;
            };
            if digits.len() == 13 {
                secs /= 1000; // milliseconds
            }
            if PLAUSIBLE_UNIX.contains(&secs) {
                return Some(UNIX_EPOCH + Duration::from_secs(secs));
            }
        }
    }
    None
}

/// Splits into words, keeping digits and letters apart (`3pm` → `3`, `pm`; `8:19` stays whole).
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut kind = 0; // 0 none, 1 number (digits and ':'), 2 word
    for c in text.chars() {
        let this = if c.is_ascii_digit() || (c == ':' && kind == 1) {
            1
        } else if c.is_alphabetic() {
            2
        } else {
            0
        };
        if this != kind && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if this != 0 {
            current.push(c);
        }
        kind = this;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn unit_secs(word: &str) -> Option<u64> {
    match word {
        "d" | "day" | "days" => Some(86_400),
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(3_600),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(60),
        "s" | "sec" | "secs" | "second" | "seconds" => Some(1),
        _ => None,
    }
}

fn relative(lower: &str) -> Option<Duration> {
    for marker in [
        "try again in ",
        "retry in ",
        "retrying in ",
        "resets in ",
        "reset in ",
        "available in ",
    ] {
        let Some(pos) = lower.find(marker) else {
            continue;
        };
        let mut total = 0u64;
        let mut pending: Option<u64> = None;
        for word in words(&lower[pos + marker.len()..]) {
            if let Ok(n) = word.parse::<u64>() {
                pending = Some(n);
            } else if let (Some(n), Some(unit)) = (pending, unit_secs(&word)) {
                total += n * unit;
                pending = None;
            } else if word == "and" {
                continue;
            } else {
                break;
            }
        }
        if total > 0 {
            return Some(Duration::from_secs(total));
        }
    }
    None
}

/// A time of day in seconds after midnight, from `words[i..]`: `3 pm`, `8:19 pm`, `15:30`.
/// Returns the seconds and how many words were used.
fn time_of_day(words: &[String]) -> Option<(i64, usize)> {
    let first = words.first()?;
    let (hour, minute) = match first.split_once(':') {
        Some((h, m)) => (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?),
        None => (first.parse::<i64>().ok()?, 0),
    };
    let meridiem = words.get(1).map(String::as_str);
    let (hour, used) = match meridiem {
        Some("am") if (1..=12).contains(&hour) => (hour % 12, 2),
        Some("pm") if (1..=12).contains(&hour) => (hour % 12 + 12, 2),
        // A bare number is a time only with minutes ("15:30"); "3" alone could be anything.
        _ if first.contains(':') && hour < 24 => (hour, 1),
        _ => return None,
    };
    (minute < 60).then_some((hour * 3600 + minute * 60, used))
}

fn clock_time(lower: &str, now: SystemTime, utc_offset_secs: i64) -> Option<SystemTime> {
    let now_secs = i64::try_from(now.duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    let local_now = now_secs + utc_offset_secs;
    let (today_year, _, _) = civil_from_days(local_now.div_euclid(86_400));
    for marker in ["resets", "reset at", "try again at", "available at"] {
        let Some(pos) = lower.find(marker) else {
            continue;
        };
        let ws = words(&lower[pos + marker.len()..]);
        let mut i = 0;
        if ws.get(i).is_some_and(|w| w == "at") {
            i += 1;
        }
        // An optional date: "apr 23", "jul 5th, 2026".
        let mut date = None;
        if let Some(month) = ws
            .get(i)
            .and_then(|w| MONTHS.iter().position(|m| w.starts_with(m)))
        {
            let day = ws.get(i + 1).and_then(|w| w.parse::<u32>().ok())?;
            i += 2;
            if ws
                .get(i)
                .is_some_and(|w| ["st", "nd", "rd", "th"].contains(&w.as_str()))
            {
                i += 1;
            }
            let mut year = None;
            if let Some(y) = ws.get(i).and_then(|w| w.parse::<i64>().ok()) {
                if (2000..3000).contains(&y) {
                    year = Some(y);
                    i += 1;
                }
            }
            if ws.get(i).is_some_and(|w| w == "at") {
                i += 1;
            }
            date = Some((year, month as u32 + 1, day));
        }
        let Some((secs_of_day, _)) = time_of_day(&ws[i.min(ws.len())..]) else {
            continue;
        };
        let local = match date {
            Some((year, month, day)) => {
                let year = year.unwrap_or(today_year);
                let mut t = days_from_civil(year, month, day) * 86_400 + secs_of_day;
                // "Jan 2 at 1am" printed on Dec 31 means next year.
                if t + 86_400 < local_now {
                    t = days_from_civil(year + 1, month, day) * 86_400 + secs_of_day;
                }
                t
            }
            None => {
                let today = local_now.div_euclid(86_400) * 86_400 + secs_of_day;
                if today > local_now {
                    today
                } else if local_now - today < 120 {
                    // Codex prints minutes only ("try again at 1:18 AM", seconds cut off): a
                    // time in the last two minutes is this limit, which resets by the end of
                    // that minute, not tomorrow.
                    today + 60
                } else {
                    today + 86_400
                }
            }
        };
        let utc = u64::try_from(local - utc_offset_secs).ok()?;
        return Some(UNIX_EPOCH + Duration::from_secs(utc));
    }
    None
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let (month, day) = (i64::from(month), i64::from(day));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-06-05 12:00:00 UTC.
    fn noon() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(days_from_civil(2026, 6, 5) as u64 * 86_400 + 12 * 3600)
    }

    fn at(year: i64, month: u32, day: u32, hour: i64, minute: i64) -> SystemTime {
        let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60;
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-1, 0, 59, 11_017, 20_609, 40_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn unix_timestamps_after_a_bar_or_in_json() {
        let want = UNIX_EPOCH + Duration::from_secs(1_750_708_800);
        assert_eq!(
            parse_reset_time("Claude AI usage limit reached|1750708800", noon(), 0),
            Some(want)
        );
        assert_eq!(
            parse_reset_time(r#"{"status":"rejected","resetsAt":1750708800}"#, noon(), 0),
            Some(want)
        );
        assert_eq!(
            parse_reset_time(r#"{"resets_at":1750708800000}"#, noon(), 0),
            Some(want)
        );
        // A pipe followed by a small number is not a timestamp.
        assert_eq!(parse_reset_time("a|42", noon(), 0), None);
    }

    #[test]
    fn relative_durations() {
        let text = "You've hit your usage limit. Upgrade to Pro or try again in 2 days 17 hours \
                    14 minutes.";
        assert_eq!(
            parse_reset_time(text, noon(), 0),
            Some(noon() + Duration::from_secs(2 * 86_400 + 17 * 3600 + 14 * 60))
        );
        assert_eq!(
            parse_reset_time("Rate limited. Retrying in 30 seconds", noon(), 0),
            Some(noon() + Duration::from_secs(30))
        );
        assert_eq!(
            parse_reset_time("resets in 3h 20m", noon(), 0),
            Some(noon() + Duration::from_secs(3 * 3600 + 20 * 60))
        );
    }

    #[test]
    fn clock_times_today_or_tomorrow_in_the_local_zone() {
        // 3pm local is later today.
        assert_eq!(
            parse_reset_time("5-hour limit reached ∙ resets 3pm", noon(), 0),
            Some(at(2026, 6, 5, 15, 0))
        );
        // 9am local has passed: tomorrow.
        assert_eq!(
            parse_reset_time("usage limit reached · resets 9am (Europe/Paris)", noon(), 0),
            Some(at(2026, 6, 6, 9, 0))
        );
        // With the zone two hours east of UTC, 3pm local is 13:00 UTC.
        assert_eq!(
            parse_reset_time("resets at 3:00 PM", noon(), 7200),
            Some(at(2026, 6, 5, 13, 0))
        );
        assert_eq!(
            parse_reset_time("resets 18:45", noon(), 0),
            Some(at(2026, 6, 5, 18, 45))
        );
    }

    #[test]
    fn a_clock_time_of_the_current_minute_is_its_end_not_tomorrow() {
        let half_past_noon = noon() + Duration::from_secs(30);
        assert_eq!(
            parse_reset_time(
                "You've hit your usage limit. Upgrade to Pro or try again at 12:00 PM.",
                half_past_noon,
                0
            ),
            Some(at(2026, 6, 5, 12, 1))
        );
        // Two minutes or more ago: the next day's.
        assert_eq!(
            parse_reset_time("try again at 11:58 AM.", noon(), 0),
            Some(at(2026, 6, 6, 11, 58))
        );
    }

    #[test]
    fn clock_times_with_dates() {
        assert_eq!(
            parse_reset_time(
                "You've hit your limit · resets Apr 23 at 4pm (America/Recife)",
                noon(),
                0
            ),
            Some(at(2027, 4, 23, 16, 0)),
            "April 23 has passed in June 2026, so it is next year's"
        );
        assert_eq!(
            parse_reset_time(
                "You've hit your usage limit. Upgrade to Plus to continue using Codex, or try \
                 again at Jul 5th, 2026 8:19 PM.",
                noon(),
                0
            ),
            Some(at(2026, 7, 5, 20, 19))
        );
    }

    #[test]
    fn no_time_means_none() {
        assert_eq!(parse_reset_time("usage limit reached", noon(), 0), None);
        assert_eq!(parse_reset_time("resets soon", noon(), 0), None);
        assert_eq!(parse_reset_time("", noon(), 0), None);
    }

    #[test]
    fn local_offset_is_within_a_day() {
        let offset = local_utc_offset_secs(SystemTime::now());
        assert!(offset.abs() <= 14 * 3600, "{offset}");
    }
}
