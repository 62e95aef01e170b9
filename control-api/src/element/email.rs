//! The `email` element's spec: one mailbox. Its operations (send, receive, outbox,
//! suppression, audit) belong to the email issue; this validates what they will stand on:
//! `address` is required and must look like `local@domain` (`EMAIL_INVALID_ADDRESS`);
//! other fields are kept as given, for the operations to define.

use serde_json::Value;

use super::Validated;
use crate::e164::clip;
use crate::error::ApiError;

/// Validates an email spec.
pub(super) fn validate(spec: &Value) -> Result<Validated, ApiError> {
    let Value::Object(fields) = spec else {
        return Err(ApiError::invalid(
            "EMAIL_INVALID_CONFIG",
            "an email spec is a JSON object",
        ));
    };
    let address = fields.get("address").and_then(Value::as_str).unwrap_or("");
    if !is_address(address) {
        return Err(ApiError::invalid(
            "EMAIL_INVALID_ADDRESS",
            format!("{:?} is not an email address (local@domain)", clip(address)),
        ));
    }
    Ok(Validated {
        spec: spec.clone(),
        warnings: Vec::new(),
    })
}

/// `local@domain.tld`, no spaces, at most 254 characters (RFC 5321's path limit).
fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn addresses() {
        for ok in ["a@b.se", "first.last+tag@mail.example.com"] {
            validate(&json!({"address": ok})).expect(ok);
        }
        for bad in [
            json!({}),
            json!({"address": "nobody"}),
            json!({"address": "a b@c.se"}),
            json!({"address": "a@localhost"}),
            json!({"address": "@b.se"}),
            json!("a@b.se"),
        ] {
            let Err(err) = validate(&bad) else {
                panic!("{bad} was accepted");
            };
            assert!(err.code().starts_with("EMAIL_INVALID"), "{bad}");
        }
    }
}
