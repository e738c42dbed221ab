//! Durations as people write them in `teams.toml` and `TEAMS_*` variables: `"90s"`, `"10m"`,
//! `"1h30m"`, `"500ms"`.
//!
//! A bare number is rejected on purpose: `timeout = 10` could mean seconds or minutes, and guessing
//! wrong turns a one-hour limit into a ten-second one. Units must come largest first and at most
//! once each, so every value has one obvious reading.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A span of time written with units (`h`, `m`, `s`, `ms`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

/// The examples every duration error shows, so the fix is in the message.
const DURATION_EXAMPLES: &str = "\"90s\", \"10m\", \"1h30m\" or \"2h\"";

/// Units from largest to smallest, with their length in milliseconds.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

impl Duration {
    pub fn from_std(duration: std::time::Duration) -> Self {
        Duration(duration)
    }

    pub fn as_std(self) -> std::time::Duration {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl From<Duration> for std::time::Duration {
    fn from(duration: Duration) -> Self {
        duration.0
    }
}

/// Why a string is not a duration; the message reads after "invalid duration "…": ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}; write a number followed by a unit, e.g. {DURATION_EXAMPLES}")]
pub struct DurationError {
    reason: String,
}

impl DurationError {
    fn new(reason: impl Into<String>) -> Self {
        DurationError {
            reason: reason.into(),
        }
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(DurationError::new("it is empty"));
        }
        if text.starts_with('-') {
            return Err(DurationError::new("it is negative"));
        }
        if text.contains(char::is_whitespace) {
            return Err(DurationError::new("it contains spaces"));
        }
        let mut rest = text;
        let mut total_ms: u64 = 0;
        // Index into UNITS of the last unit seen: the next one must be strictly smaller.
        let mut last_unit: Option<usize> = None;
        while !rest.is_empty() {
            let digits_len = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits_len == 0 {
                return Err(DurationError::new(format!(
                    "`{rest}` does not start with a number"
                )));
            }
            let (digits, after) = rest.split_at(digits_len);
            let unit_len = after
                .find(|c: char| !c.is_ascii_alphabetic())
                .unwrap_or(after.len());
            let (unit, after) = after.split_at(unit_len);
            if unit.is_empty() {
                return Err(DurationError::new(format!("`{digits}` has no unit")));
            }
            let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
                return Err(DurationError::new(format!(
                    "`{unit}` is not a unit (use h, m, s or ms)"
                )));
            };
            if last_unit.is_some_and(|last| index <= last) {
                return Err(DurationError::new(format!(
                    "`{unit}` comes after a unit that is not larger"
                )));
            }
            last_unit = Some(index);
            let amount: u64 = digits
                .parse()
                .map_err(|_| DurationError::new(format!("`{digits}` is too large")))?;
            total_ms = amount
                .checked_mul(UNITS[index].1)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(|| DurationError::new("it is too large"))?;
            rest = after;
        }
        Ok(Duration(std::time::Duration::from_millis(total_ms)))
    }
}

impl fmt::Display for Duration {
    /// The shortest form with the largest units (`5400s` prints as `1h30m`), so `config show`
    /// reads the same whichever way the value was written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX);
        if ms == 0 {
            return f.write_str("0s");
        }
        for (name, size) in UNITS {
            if ms >= size {
                write!(f, "{}{name}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<std::time::Duration, DurationError> {
        text.parse::<Duration>().map(Duration::as_std)
    }

    #[test]
    fn accepts_units_and_combinations() {
        let secs = std::time::Duration::from_secs;
        assert_eq!(parse("90s").unwrap(), secs(90));
        assert_eq!(parse("10m").unwrap(), secs(600));
        assert_eq!(parse("2h").unwrap(), secs(7200));
        assert_eq!(parse("1h30m").unwrap(), secs(5400));
        assert_eq!(parse("1h0m5s").unwrap(), secs(3605));
        assert_eq!(parse("0s").unwrap(), secs(0));
        assert_eq!(
            parse("1s500ms").unwrap(),
            std::time::Duration::from_millis(1500)
        );
    }

    #[test]
    fn rejects_ambiguous_or_malformed_text_with_examples() {
        for bad in [
            "10",
            "-5m",
            "10 minutes",
            "",
            "m",
            "1.5h",
            "10min",
            "30m1h",
            "1m1m",
            " 10m",
            "99999999999999999999s",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                err.to_string().contains("\"1h30m\""),
                "{bad:?}: message lacks examples: {err}"
            );
        }
        assert!(parse("10").unwrap_err().to_string().contains("no unit"));
        assert!(parse("-5m").unwrap_err().to_string().contains("negative"));
        assert!(
            parse("10 minutes")
                .unwrap_err()
                .to_string()
                .contains("spaces")
        );
        assert!(
            parse("m")
                .unwrap_err()
                .to_string()
                .contains("not start with a number")
        );
        assert!(
            parse("30m1h")
                .unwrap_err()
                .to_string()
                .contains("not larger")
        );
    }

    #[test]
    fn displays_canonically() {
        let show = |text: &str| text.parse::<Duration>().unwrap().to_string();
        assert_eq!(show("5400s"), "1h30m");
        assert_eq!(show("90s"), "1m30s");
        assert_eq!(show("60m"), "1h");
        assert_eq!(show("0m"), "0s");
        assert_eq!(show("1500ms"), "1s500ms");
        // Display output parses back to the same value.
        for text in ["1h30m", "10s", "2h5m7s250ms"] {
            assert_eq!(show(&show(text)), show(text));
        }
    }
}
