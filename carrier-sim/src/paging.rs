//! History paging, shared by `GET /a1/sms`, `/a1/calls` and `/a1/numbers` (doc §2.3).
//!
//! `start` means "before this date", `end` "after this date"; items come newest first, at
//! most `limit` (default and maximum 100) per page, as `{"data":[...],"next":"<ts>"}`.
//! `next` is the timestamp of the last item on the page and is present only when more
//! items remain; the client passes it back as `start` (the official CLI does exactly that).

use serde_json::{Value, json};

use crate::clock::Stamp;
use crate::error::SimError;
use crate::form::Fields;

/// The most items one page holds.
pub(crate) const MAX_LIMIT: usize = 100;

/// One page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    /// Only items strictly before this.
    start: Option<Stamp>,
    /// Only items strictly after this.
    end: Option<Stamp>,
    limit: usize,
}

impl Page {
    /// Reads `start`, `end` and `limit`; 400 for unparsable values. A `limit` above 100 is
    /// capped at 100.
    pub(crate) fn from_query(query: &Fields) -> Result<Self, SimError> {
        let stamp = |key: &str| -> Result<Option<Stamp>, SimError> {
            query
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| Stamp::parse(v).ok_or_else(|| bad(key)))
                .transpose()
        };
        let limit = match query.get("limit").filter(|v| !v.is_empty()) {
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n > 0 => n.min(MAX_LIMIT),
                _ => return Err(bad("limit")),
            },
            None => MAX_LIMIT,
        };
        Ok(Self {
            start: stamp("start")?,
            end: stamp("end")?,
            limit,
        })
    }

    /// Pages `items` (each with its ordering timestamp, in any order).
    pub(crate) fn apply(&self, mut items: Vec<(Stamp, Value)>) -> Value {
        items.retain(|(at, _)| {
            self.start.is_none_or(|start| *at < start) && self.end.is_none_or(|end| *at > end)
        });
        items.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        let more = items.len() > self.limit;
        items.truncate(self.limit);
        let next = items.last().map(|(at, _)| at.naive());
        let data: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
        match next {
            Some(next) if more => json!({"data": data, "next": next}),
            _ => json!({"data": data}),
        }
    }
}

fn bad(key: &str) -> SimError {
    SimError::BadRequest(format!("Invalid {key}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    fn query(pairs: &[(&str, &str)]) -> Fields {
        Fields::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn pages_follow_next_to_the_end() {
        let clock = Clock::default();
        let items: Vec<(Stamp, Value)> = (0..250).map(|i| (clock.now(), json!(i))).collect();
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let mut pairs = vec![("limit", "100")];
            if let Some(s) = &start {
                pairs.push(("start", s.as_str()));
            }
            let page = Page::from_query(&query(&pairs)).expect("page");
            let out = page.apply(items.clone());
            let data = out["data"].as_array().expect("data").clone();
            seen.extend(data.iter().filter_map(Value::as_i64));
            match out.get("next").and_then(Value::as_str) {
                Some(next) => start = Some(next.to_owned()),
                None => break,
            }
        }
        let expected: Vec<i64> = (0..250).rev().collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn limits() {
        assert_eq!(
            Page::from_query(&query(&[("limit", "500")]))
                .map(|p| p.limit)
                .ok(),
            Some(100)
        );
        assert!(Page::from_query(&query(&[("limit", "0")])).is_err());
        assert!(Page::from_query(&query(&[("limit", "x")])).is_err());
        assert!(Page::from_query(&query(&[("start", "soon")])).is_err());
    }
}
