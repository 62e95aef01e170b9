//! Cursor pagination for `list-sms` and `list-calls`: `limit` 1-100 (default 50), a
//! `direction` (`all` by default; `incoming`/`inbound` or `outgoing`/`outbound`), and an opaque `page_token` naming the last item shown (its
//! creation time and id), so pages stay exact while new items arrive.

use base64::Engine as _;
use serde::Deserialize;

use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};
use crate::ids::Millis;

/// A checked page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    /// 1-100.
    pub(crate) limit: i64,
    /// `None` for all.
    pub(crate) direction: Option<Direction>,
    /// The last item shown: (created_at, id).
    pub(crate) cursor: Option<(Millis, String)>,
}

/// Which way the listed items went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// To the number.
    In,
    /// From the number.
    Out,
}

impl Direction {
    /// The word the SMS table stores.
    pub(crate) fn sms(self) -> &'static str {
        match self {
            Self::In => "incoming",
            Self::Out => "outgoing",
        }
    }

    /// The word the calls table stores.
    pub(crate) fn call(self) -> &'static str {
        match self {
            Self::In => "inbound",
            Self::Out => "outbound",
        }
    }
}

/// `list-sms` / `list-calls` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// From a previous page's `next_page_token`.
    pub page_token: Option<String>,
    /// 1-100, default 50.
    pub limit: Option<i64>,
    /// `all` (default), `incoming` (or `inbound`), `outgoing` (or `outbound`).
    pub direction: Option<String>,
}

impl PageQuery {
    /// The checked limit, direction and cursor.
    pub(crate) fn check(&self) -> Result<Page, ApiError> {
        let limit = check_limit(self.limit)?;
        let direction = match self.direction.as_deref() {
            None | Some("all") => None,
            Some("incoming" | "inbound") => Some(Direction::In),
            Some("outgoing" | "outbound") => Some(Direction::Out),
            Some(other) => {
                return Err(ApiError::invalid(
                    ErrorCode::InvalidQuery,
                    format!(
                        "direction must be all, incoming or outgoing, not {:?}",
                        clip(other)
                    ),
                ));
            }
        };
        let cursor = self.page_token.as_deref().map(decode_token).transpose()?;
        Ok(Page {
            limit,
            direction,
            cursor,
        })
    }
}

/// The `limit` of a listing: 1-100, default 50; `INVALID_QUERY` otherwise.
pub(crate) fn check_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=100).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            format!("limit must be 1 to 100, not {limit}"),
        ))
    }
}

/// A page out of `rows` read with `limit + 1`: at most `limit` rows and, when there were
/// more, the cursor of the next page (`next` of the last row kept).
pub(crate) fn cut<T>(
    mut rows: Vec<T>,
    limit: i64,
    next: impl FnOnce(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let token = if more { rows.last().map(next) } else { None };
    (rows, token)
}

/// A page token: base64url of `{created_at}:{id}` of the last item shown.
pub(crate) fn encode_token(at: Millis, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{at}:{id}"))
}

pub(crate) fn decode_token(token: &str) -> Result<(Millis, String), ApiError> {
    let bad = || {
        ApiError::invalid(
            ErrorCode::InvalidPageToken,
            "page_token is not one this API gave",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    let valid_id = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match at.parse() {
        Ok(at) if valid_id => Ok((at, id.to_owned())),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_garbage() {
        let t = encode_token(1_795_412_998_123, "sms_abc");
        assert_eq!(
            decode_token(&t).expect("token"),
            (1_795_412_998_123, "sms_abc".to_owned())
        );
        for bad in [
            "",
            "!!!",
            "bm9jb2xvbg",
            &encode_token(1, "a b"),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("x:sms_a"),
        ] {
            assert_eq!(
                decode_token(bad).expect_err("refused").code(),
                "INVALID_PAGE_TOKEN",
                "{bad:?}"
            );
        }
    }
}
