//! Open and click tracking and unsubscribe links (`/t/open/{id}`, `/t/click/{id}`,
//! `/t/unsubscribe/{id}`, open routes: the token is the proof).
//!
//! Tokens are 100 random bits; only their SHA-256 is stored. Tracked messages
//! (`send_tracked`) get a 1x1 GIF at the end of the HTML body and every `http(s)` link of
//! the HTML rewritten to a click redirect; the text body is left as written. Every message
//! but a reply carries `List-Unsubscribe` (RFC 2369) with one-click POST (RFC 8058). A GET
//! of the unsubscribe link only shows a confirmation form, because mail scanners follow
//! links; the POST (the form, or a one-click client) suppresses the address.
//!
//! The HTML rewriting looks for `href="..."` / `href='...'` attributes; it is not an HTML
//! parser, and links it does not recognize are simply not tracked.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use voxgate_mail::compose::Outgoing;

use super::audit::{self, Subject};
use super::suppress;
use crate::auth::hash_key;
use crate::error::{ApiError, ErrorCode};
use crate::ids::new_id;
use crate::state::AppState;

/// The transparent 1x1 GIF served for opens.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x01, 0x44, 0x00, 0x3b,
];

/// A token to store with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token (only its hash is stored).
    pub token: String,
    /// `open`, `click` or `unsubscribe`.
    pub kind: &'static str,
    /// The click target.
    pub url: Option<String>,
}

fn token(kind: &'static str, url: Option<String>) -> Token {
    Token {
        token: new_id("t"),
        kind,
        url,
    }
}

/// Makes the message's tokens: the unsubscribe link (always) and, when `tracked`, the
/// open pixel and click redirects, rewriting `message.html`. Gives the tokens and the
/// unsubscribe URL.
pub fn prepare(state: &AppState, message: &mut Outgoing, tracked: bool) -> (Vec<Token>, String) {
    let base = state.email().public_url.trim_end_matches('/').to_owned();
    let unsubscribe = token("unsubscribe", None);
    let unsubscribe_url = format!("{base}/t/unsubscribe/{}", unsubscribe.token);
    let mut tokens = vec![unsubscribe];
    if tracked && let Some(html) = message.html.take() {
        let (mut html, clicks) = rewrite_links(&html, |url| {
            let click = token("click", Some(url.to_owned()));
            let href = format!("{base}/t/click/{}", click.token);
            (href, click)
        });
        tokens.extend(clicks);
        let open = token("open", None);
        let pixel = format!(
            "<img src=\"{base}/t/open/{}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">",
            open.token
        );
        match html.rfind("</body>") {
            Some(at) => html.insert_str(at, &pixel),
            None => html.push_str(&pixel),
        }
        tokens.push(open);
        message.html = Some(html);
    }
    (tokens, unsubscribe_url)
}

/// Links tracked per message; later ones are left as written (each costs a stored token).
const MAX_TRACKED_LINKS: usize = 500;

/// Rewrites every `href` with an `http(s)` URL (the first [`MAX_TRACKED_LINKS`]) through
/// `make`, which gives the new URL and a value to collect. One pass over the text.
fn rewrite_links<T>(html: &str, mut make: impl FnMut(&str) -> (String, T)) -> (String, Vec<T>) {
    // ASCII lower-casing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() + 64);
    let mut made = Vec::new();
    let mut at = 0;
    while made.len() < MAX_TRACKED_LINKS
        && let Some(href) = find_href(&lower, at)
    {
        let Some(len) = html[href.value_start..].find(href.quote) else {
            break;
        };
        let end = href.value_start + len;
        out.push_str(&html[at..href.value_start]);
        let url = &html[href.value_start..end];
        let lower_url = &lower[href.value_start..end];
        if lower_url.starts_with("http://") || lower_url.starts_with("https://") {
            let (new, value) = make(&decode_entities(url));
            out.push_str(&new);
            made.push(value);
        } else {
            out.push_str(url);
        }
        at = end;
    }
    out.push_str(&html[at..]);
    (out, made)
}

struct Href {
    value_start: usize,
    quote: char,
}

/// The next `href = "` (or `'`) at or after `from` in lower-cased text.
fn find_href(lower: &str, from: usize) -> Option<Href> {
    let bytes = lower.as_bytes();
    let mut from = from;
    while let Some(found) = lower[from..].find("href") {
        let mut i = from + found + 4;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                return Some(Href {
                    value_start: i + 1,
                    quote: char::from(bytes[i]),
                });
            }
        }
        from = from + found + 4;
    }
    None
}

/// `&amp;` in an attribute is `&` in the URL.
fn decode_entities(url: &str) -> String {
    url.replace("&amp;", "&")
}

/// Stores the tokens of message `message`.
pub async fn store_tokens(
    state: &AppState,
    message: &str,
    tokens: &[Token],
) -> Result<(), ApiError> {
    for t in tokens {
        state
            .store()
            .email()
            .insert_tracking(&hash_key(&t.token), message, t.kind, t.url.as_deref())
            .await?;
    }
    Ok(())
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "unknown link").into_response()
}

/// `GET /t/open/{id}`: counts the open (the first is audited) and serves the pixel.
pub async fn open(state: &AppState, id: &str) -> Response {
    match hit(state, id, "open").await {
        Ok(Some(_)) => {
            let mut response = PIXEL.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, max-age=0"),
            );
            response
        }
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

/// `GET /t/click/{id}`: counts the click and redirects to the link's target.
pub async fn click(state: &AppState, id: &str) -> Response {
    match hit(state, id, "click").await {
        Ok(Some(url)) => match HeaderValue::from_str(&url) {
            Ok(location) => {
                let mut response = StatusCode::FOUND.into_response();
                response.headers_mut().insert(header::LOCATION, location);
                response
            }
            Err(_) => not_found(),
        },
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

/// Counts a hit on an `open` or `click` token; gives the click target (empty for opens),
/// `None` for an unknown token or one of another kind.
async fn hit(state: &AppState, id: &str, kind: &str) -> Result<Option<String>, ApiError> {
    if id.len() > 64 {
        return Ok(None);
    }
    let email = state.store().email();
    let Some(tracking) = email.hit_tracking(&hash_key(id), state.now_ms()).await? else {
        return Ok(None);
    };
    if tracking.kind != kind {
        return Ok(None);
    }
    let Some(message) = email.message_by_id(&tracking.message).await? else {
        return Ok(None);
    };
    let event = if kind == "open" { "opened" } else { "clicked" };
    // Every click is worth a line; an open only the first time (mail clients re-fetch).
    if kind == "click" || tracking.hits == 1 {
        audit::record(
            state,
            &message.circle_id,
            event,
            Subject {
                element_id: Some(&message.element_id),
                message: Some(&message.id),
                address: message.recipients.to.first().map(String::as_str),
            },
            json!({"url": tracking.url, "hits": tracking.hits}),
        )
        .await?;
    }
    Ok(Some(tracking.url.unwrap_or_default()))
}

/// `GET /t/unsubscribe/{id}`: a confirmation form (nothing changes on a GET).
pub async fn unsubscribe_page(id: &str) -> Response {
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    let page = format!(
        "<!doctype html><html><body><form method=\"post\" action=\"{safe}\">\
         <p>Stop receiving these messages?</p>\
         <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// `POST /t/unsubscribe/{id}` (RFC 8058 one-click, or the form): suppresses the message's
/// recipient. A message to several recipients needs `address=` naming one of them.
pub async fn unsubscribe(state: &AppState, id: &str, address: Option<&str>) -> Response {
    match unsubscribe_inner(state, id, address).await {
        Ok(Some(address)) => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<!doctype html><p>{} will get no more messages.</p>",
                html_escape(&address)
            ),
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

async fn unsubscribe_inner(
    state: &AppState,
    id: &str,
    address: Option<&str>,
) -> Result<Option<String>, ApiError> {
    if id.len() > 64 {
        return Ok(None);
    }
    let email = state.store().email();
    let Some(tracking) = email.hit_tracking(&hash_key(id), state.now_ms()).await? else {
        return Ok(None);
    };
    let Some(message) = email.message_by_id(&tracking.message).await? else {
        return Ok(None);
    };
    if tracking.kind != "unsubscribe" {
        return Ok(None);
    }
    let recipients: Vec<&String> = message.recipients.all().collect();
    let chosen = match address.map(str::to_lowercase) {
        Some(given) => recipients
            .iter()
            .find(|r| ***r == given)
            .map(|r| (*r).clone()),
        None if recipients.len() == 1 => recipients.first().map(|r| (*r).clone()),
        None => None,
    };
    let Some(address) = chosen else {
        return Err(ApiError::invalid(
            ErrorCode::EmailUnsubscribeAddress,
            "this message went to several recipients: say which address (address=...)",
        ));
    };
    suppress::unsubscribed(
        state,
        &message.circle_id,
        &message.element_id,
        &message.id,
        &address,
    )
    .await?;
    Ok(Some(address))
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rewritten_and_others_kept() {
        let html = "<a href=\"https://x.se/a?b=1&amp;c=2\">x</a> <A HREF = 'http://y.se'>y</A> \
                    <a href=\"mailto:z@x.se\">z</a> <a href=\"/rel\">r</a> href=\"unclosed";
        let (out, seen) = rewrite_links(html, |url| (format!("T({url})"), url.to_owned()));
        assert_eq!(seen, ["https://x.se/a?b=1&c=2", "http://y.se"]);
        assert!(out.contains("href=\"T(https://x.se/a?b=1&c=2)\""), "{out}");
        assert!(out.contains("HREF = 'T(http://y.se)'"), "{out}");
        assert!(
            out.contains("mailto:z@x.se") && out.contains("\"/rel\""),
            "{out}"
        );
        assert!(out.ends_with("href=\"unclosed"), "{out}");
    }

    #[test]
    fn the_pixel_is_a_gif() {
        assert!(PIXEL.starts_with(b"GIF89a") && PIXEL.ends_with(b";"));
    }
}
