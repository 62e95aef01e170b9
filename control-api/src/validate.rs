//! Checks on text that comes in from outside (request bodies, queries, carrier forms),
//! shared by the HTTP layer and the domain modules that validate their own fields.
//!
//! PostgreSQL cannot store a NUL character in text at all, so no id, name or text may hold
//! one on either store: one rule at the door instead of a storage failure deep inside.

use crate::error::{ApiError, ErrorCode};

/// Refuses a query string whose values decode to a NUL character (`%00`) with `code`.
/// PostgreSQL cannot store NUL in text at all, so no id, name or text may hold one, on
/// either store: one rule at the door instead of a storage failure deep inside.
pub(crate) fn refuse_nul_in_query(query: &str, code: ErrorCode) -> Result<(), ApiError> {
    if query.contains("%00") {
        Err(nul_refused(code))
    } else {
        Ok(())
    }
}

/// Refuses a JSON body with a NUL character (`\u0000`) in any string or key with `code`;
/// text that is not JSON passes, for the body's parser to refuse in its own words. The
/// scan is a substring search; only a body that has the escape is parsed twice.
pub(crate) fn refuse_nul_in_json(body: &[u8], code: ErrorCode) -> Result<(), ApiError> {
    const ESCAPE: &[u8] = b"\\u0000";
    if !body.windows(ESCAPE.len()).any(|w| w == ESCAPE) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) if holds_nul(&value) => Err(nul_refused(code)),
        _ => Ok(()),
    }
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(key, v)| key.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fn nul_refused(code: ErrorCode) -> ApiError {
    ApiError::invalid(code, "text may not contain a NUL character (\\u0000, %00)")
}

/// Checks a free-text or id field from a body or query: at most `max` characters and no
/// control characters; `code` otherwise.
pub(crate) fn plain_text(
    code: ErrorCode,
    field: &str,
    value: &str,
    max: usize,
) -> Result<(), ApiError> {
    if value.chars().count() <= max && !value.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            code,
            format!("{field} must be at most {max} characters, without control characters"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_has_a_length_and_no_control_characters() {
        assert!(plain_text(ErrorCode::InvalidBody, "name", "main line", 16).is_ok());
        assert_eq!(
            plain_text(ErrorCode::InvalidBody, "name", "a\0b", 16).map_err(|e| e.code()),
            Err("INVALID_BODY")
        );
        assert!(plain_text(ErrorCode::InvalidBody, "name", "toolong", 3).is_err());
    }

    #[test]
    fn nul_characters_are_refused_in_queries_and_json() {
        let code = |r: Result<(), ApiError>| r.map_err(|e| e.code());
        assert_eq!(
            code(refuse_nul_in_query(
                "call_id=%14%F3%00%C2",
                ErrorCode::InvalidQuery
            )),
            Err("INVALID_QUERY")
        );
        assert!(refuse_nul_in_query("call_id=a%2500b&x=%20", ErrorCode::InvalidQuery).is_ok());
        for bad in [
            r#"{"to":"+46\u0000"}"#,
            r#"{"a":{"b":["x","\u0000"]}}"#,
            r#"{"k\u0000":1}"#,
        ] {
            assert_eq!(
                code(refuse_nul_in_json(bad.as_bytes(), ErrorCode::InvalidBody)),
                Err("INVALID_BODY"),
                "{bad}"
            );
        }
        // The escaped backslash followed by "u0000" is six plain characters.
        for ok in [r#"{"to":"\\u0000"}"#, r#"{"to":"+46"}"#, "not json \\u0000"] {
            assert!(
                refuse_nul_in_json(ok.as_bytes(), ErrorCode::InvalidBody).is_ok(),
                "{ok}"
            );
        }
    }
}
