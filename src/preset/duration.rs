//! Times with their unit, as presets write them: `"0.25 h"`, `"30 min"`, `"200 d"`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of simulated time, stored in minutes.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct SimDuration {
    minutes: f64,
}

impl SimDuration {
    /// From minutes.
    pub fn from_minutes(minutes: f64) -> Self {
        SimDuration { minutes }
    }
    /// From days.
    pub fn from_days(days: f64) -> Self {
        SimDuration {
            minutes: days * 1440.0,
        }
    }
    /// In minutes.
    pub fn minutes(self) -> f64 {
        self.minutes
    }
    /// In days.
    pub fn days(self) -> f64 {
        self.minutes / 1440.0
    }

    /// Parses `"<number> <unit>"` with unit `s`, `min`, `h` or `d` (also `day(s)`,
    /// `hour(s)`, `minute(s)`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
            .ok_or_else(|| {
                format!(
                    "`{text}` has no unit: write a number and one of s, min, h, d (e.g. \"0.25 h\")"
                )
            })?;
        let (num, unit) = t.split_at(split);
        let value: f64 = num
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: `{}` is not a number", num.trim()))?;
        let scale = match unit.trim() {
            "s" | "sec" | "second" | "seconds" => 1.0 / 60.0,
            "min" | "minute" | "minutes" => 1.0,
            "h" | "hour" | "hours" => 60.0,
            "d" | "day" | "days" => 1440.0,
            other => {
                return Err(format!(
                    "`{text}`: unknown time unit `{other}` (allowed: s, min, h, d)"
                ));
            }
        };
        if !value.is_finite() {
            return Err(format!("`{text}` is not a finite time"));
        }
        Ok(SimDuration {
            minutes: value * scale,
        })
    }
}

impl std::fmt::Display for SimDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.minutes;
        if m >= 1440.0 && (m / 1440.0).fract() == 0.0 {
            write!(f, "{} d", m / 1440.0)
        } else if m >= 60.0 && (m / 60.0).fract() == 0.0 {
            write!(f, "{} h", m / 60.0)
        } else {
            write!(f, "{m} min")
        }
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "a time must be a string with a unit, e.g. \"0.25 h\", \"30 min\", \"200 d\"",
            )
        })?;
        SimDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(SimDuration::parse("0.5 h").unwrap().minutes(), 30.0);
        assert_eq!(SimDuration::parse("2d").unwrap().minutes(), 2880.0);
        assert_eq!(SimDuration::parse("1e-2 min").unwrap().minutes(), 0.01);
        assert!(SimDuration::parse("5").unwrap_err().contains("no unit"));
        assert!(
            SimDuration::parse("5 weeks")
                .unwrap_err()
                .contains("unknown time unit")
        );
        assert!(
            SimDuration::parse("x h")
                .unwrap_err()
                .contains("not a number")
        );
    }
}
