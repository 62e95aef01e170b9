//! [`E164`]: a phone number in E.164 form (`^\+[1-9]\d{1,14}$`). Parse, don't validate: an
//! `E164` cannot hold anything else.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ApiError, ErrorCode};

/// An E.164 phone number, e.g. `+46766860000`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    /// Parses `text`; `PHONE_INVALID_NUMBER` unless it is `+`, a digit 1-9, then 1 to 14
    /// more digits.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let valid = text.strip_prefix('+').is_some_and(|digits| {
            (2..=15).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(ApiError::invalid(
                ErrorCode::PhoneInvalidNumber,
                format!(
                    "{:?} is not an E.164 number (+ then 2 to 15 digits, not starting with 0)",
                    clip(text)
                ),
            ))
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// At most 40 characters of untrusted input, for messages.
pub(crate) fn clip(text: &str) -> &str {
    text.char_indices()
        .nth(40)
        .map_or(text, |(i, _)| &text[..i])
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_table() {
        let table = [
            ("+46766860000", true),
            ("+12", true),
            ("+123456789012345", true),
            ("+1234567890123456", false),
            ("+1", false),
            ("+0123", false),
            ("46766860000", false),
            ("+4676 686", false),
            ("+46-766", false),
            ("", false),
            ("+", false),
            ("+４６７", false),
        ];
        for (text, ok) in table {
            let parsed = E164::parse(text);
            assert_eq!(parsed.is_ok(), ok, "{text:?}");
            if let Err(e) = parsed {
                assert_eq!(e.code(), "PHONE_INVALID_NUMBER");
            }
        }
    }
}
