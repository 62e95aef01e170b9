//! The words of an email spec: addresses, domain and host names, display names, lists.

use super::{MAX_ACCEPTED, config_error};
use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};

/// `local@domain`, no spaces or control characters, at most 254 characters (RFC 5321's
/// path limit), the local part at most 64; the domain comes back lower-cased.
pub(super) fn address(field: &str, text: &str) -> Result<String, ApiError> {
    let well_formed = text.rsplit_once('@').filter(|(local, domain)| {
        text.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    match well_formed {
        Some((local, domain)) => Ok(format!("{local}@{}", domain.to_lowercase())),
        None => Err(ApiError::invalid(
            ErrorCode::EmailInvalidAddress,
            format!(
                "{field}: {:?} is not an email address (local@domain)",
                clip(text)
            ),
        )),
    }
}

/// A DNS name of at least two labels of `a-z0-9-` (none starting or ending with `-`), at
/// most 253 characters; lower-cased first.
pub(super) fn domain(text: &str) -> Result<String, ApiError> {
    let name = text.to_lowercase();
    if name.len() <= 253 && name.contains('.') && is_dns_name(&name) {
        Ok(name)
    } else {
        Err(config_error(format!(
            "accepted_domains: {:?} is not a domain name (e.g. example.com)",
            clip(text)
        )))
    }
}

fn is_dns_name(name: &str) -> bool {
    name.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// A server: a host name (one or more DNS labels) or an IP address, lower-cased; no
/// scheme, port, brackets or spaces.
pub(super) fn host(field: &str, text: &str) -> Result<String, ApiError> {
    let name = text.to_lowercase();
    if name.parse::<std::net::IpAddr>().is_ok() || (name.len() <= 253 && is_dns_name(&name)) {
        Ok(name)
    } else {
        Err(config_error(format!(
            "{field}: {:?} is not a host name or IP address (no scheme or port)",
            clip(text)
        )))
    }
}

pub(super) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(super) fn display_name(name: String) -> Result<String, ApiError> {
    if (1..=100).contains(&name.chars().count()) && !name.chars().any(char::is_control) {
        Ok(name)
    } else {
        Err(config_error(
            "from_name must be 1-100 characters without control characters",
        ))
    }
}

/// At most [`MAX_ACCEPTED`] entries, each checked by `check`, duplicates dropped.
pub(super) fn list(
    field: &str,
    entries: Option<Vec<String>>,
    check: impl Fn(&str) -> Result<String, ApiError>,
) -> Result<Vec<String>, ApiError> {
    let entries = entries.unwrap_or_default();
    if entries.len() > MAX_ACCEPTED {
        return Err(config_error(format!(
            "{field} has {} entries; at most {MAX_ACCEPTED}",
            entries.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = check(&entry)?;
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}
