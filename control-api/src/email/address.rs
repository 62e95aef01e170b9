//! Mail addresses as the operations take them: [`Address`] (parse, don't validate) and
//! [`AddressList`], which is a string (`"a@x.se"` or `"a@x.se, b@y.se"`) or a list.

use serde::Deserialize;

use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};

/// Recipients per message (RFC 5321 §4.5.3.1.8 asks servers to take at least 100).
pub const MAX_RECIPIENTS: usize = 100;

/// A bare address, `local@domain`, stored lower-cased (mailbox names are case-insensitive
/// in practice; suppressions and consent must match however the address was written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

impl Address {
    /// Parses `text` (surrounding `<>` and spaces are dropped).
    ///
    /// # Errors
    ///
    /// `EMAIL_INVALID_ADDRESS` naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, ApiError> {
        let bare = text.trim();
        let bare = bare
            .strip_prefix('<')
            .and_then(|b| b.strip_suffix('>'))
            .unwrap_or(bare);
        if is_address(bare) {
            Ok(Self(bare.to_lowercase()))
        } else {
            Err(ApiError::invalid(
                ErrorCode::EmailInvalidAddress,
                format!(
                    "{field}: {:?} is not an email address (local@domain)",
                    clip(text)
                ),
            ))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `local@domain.tld`: no spaces, control characters, quotes or brackets; at most 254
/// characters (RFC 5321's path limit) with a local part of at most 64.
pub fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && is_domain(domain)
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c))
}

/// A DNS name with at least two labels of letters, digits and dashes.
pub fn is_domain(text: &str) -> bool {
    text.len() <= 253
        && text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Recipients as a client gives them: one string (comma-separated) or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AddressList {
    /// `"a@x.se"` or `"a@x.se, b@y.se"`.
    One(String),
    /// `["a@x.se", "b@y.se"]`.
    Many(Vec<String>),
}

impl Default for AddressList {
    fn default() -> Self {
        Self::Many(Vec::new())
    }
}

impl AddressList {
    /// The parsed addresses, in order, without repeats.
    ///
    /// # Errors
    ///
    /// `EMAIL_INVALID_ADDRESS` for any bad entry (naming `field`).
    pub fn parse(&self, field: &str) -> Result<Vec<Address>, ApiError> {
        let texts: Vec<&str> = match self {
            Self::One(text) => text.split(',').filter(|t| !t.trim().is_empty()).collect(),
            Self::Many(list) => list.iter().map(String::as_str).collect(),
        };
        if texts.len() > MAX_RECIPIENTS {
            return Err(ApiError::invalid(
                ErrorCode::EmailTooManyRecipients,
                format!("{field}: at most {MAX_RECIPIENTS} recipients per message"),
            ));
        }
        let mut out: Vec<Address> = Vec::with_capacity(texts.len());
        for text in texts {
            let address = Address::parse(field, text)?;
            if !out.contains(&address) {
                out.push(address);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for (text, want) in [
            ("a@b.se", "a@b.se"),
            (
                " <First.Last+tag@Mail.Example.com> ",
                "first.last+tag@mail.example.com",
            ),
        ] {
            assert_eq!(Address::parse("to", text).expect(text).as_str(), want);
        }
        for bad in [
            "",
            "nobody",
            "a b@c.se",
            "a@localhost",
            "@b.se",
            "a@b.se>",
            "a@-b.se",
            "a@b..se",
            "\"a\"@b.se",
        ] {
            assert_eq!(
                Address::parse("to", bad).map_err(|e| e.code()),
                Err("EMAIL_INVALID_ADDRESS"),
                "{bad:?}"
            );
        }
        assert_eq!(
            Address::parse("to", "x@Mail.Se").expect("ok").domain(),
            "mail.se"
        );
    }

    #[test]
    fn lists_are_strings_or_lists() {
        let one: AddressList = serde_json::from_str("\"a@x.se, B@x.se,a@x.se\"").expect("json");
        let many: AddressList = serde_json::from_str("[\"a@x.se\", \"b@x.se\"]").expect("json");
        let parsed = |l: &AddressList| -> Vec<String> {
            l.parse("to")
                .expect("ok")
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(parsed(&one), ["a@x.se", "b@x.se"]);
        assert_eq!(parsed(&many), ["a@x.se", "b@x.se"]);
        let bad: AddressList = serde_json::from_str("[\"a@x.se\", \"nope\"]").expect("json");
        assert!(bad.parse("cc").is_err());
        assert!(serde_json::from_str::<AddressList>("5").is_err());
    }
}
