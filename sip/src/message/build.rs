//! Responses a UAS builds from a request (RFC 3261 §8.2.6), and the refusal of a request
//! too broken to parse.

use rsip::headers::{ContentLength, Header, Headers};
use rsip::prelude::{HasHeaders as _, HeadersExt as _, ToTypedHeader as _, UntypedHeader as _};
use rsip::{Request, Response, StatusCode};

use super::lexer;

/// A response to `request` with `status` (§8.2.6.2): the request's Via headers (all, in
/// order), From, To, Call-ID and CSeq copied, an empty body, and the standard reason phrase
/// (rsip's own phrases are Rust identifiers such as `BusyHere`).
pub fn response_to(request: &Request, status: u16) -> Response {
    let mut headers = Headers::default();
    for header in request.headers().iter() {
        let keep = matches!(
            header,
            Header::Via(_) | Header::From(_) | Header::To(_) | Header::CallId(_) | Header::CSeq(_)
        );
        if keep {
            headers.push(header.clone());
        }
    }
    headers.push(ContentLength::from(0u32).into());
    Response {
        status_code: StatusCode::Other(status, reason_phrase(status).to_owned()),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// `response` with `tag` on its To header, unless it has one (§8.2.6.2: a UAS adds a tag to
/// every response but 100 Trying, the same tag for every response of a dialog).
pub fn with_to_tag(mut response: Response, tag: &str) -> Response {
    let Ok(to) = response.to_header() else {
        return response;
    };
    let Ok(typed) = to.typed() else {
        return response;
    };
    if typed.tag().is_some() {
        return response;
    }
    let tagged = typed.with_tag(rsip::param::Tag::new(tag));
    if let Ok(to) = response.to_header_mut() {
        *to = rsip::headers::To::new(tagged.to_string());
    }
    response
}

/// The bytes of an error response (with `status`) to a datagram that did not parse, when
/// it looks enough like a request to answer: a request line, and Via, From, To, Call-ID and
/// CSeq lines, copied as sent (RFC 3261 §8.2: "the UAS MUST generate an appropriate
/// response" where it can). Header lines that do not lex (the reason for the refusal, often)
/// are passed over; of From, To, Call-ID and CSeq only the first is copied, all Vias are.
/// `None` for responses and for heads too broken to find those in.
pub fn refusal(datagram: &[u8], status: u16) -> Option<Vec<u8>> {
    let (head, _) = lexer::split(datagram).ok()?;
    let head = lexer::lex_lenient(head.trim_start_matches(['\r', '\n']))?;
    let is_response = head
        .start
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"));
    if is_response {
        return None;
    }
    let mut out = format!("SIP/2.0 {status} {}\r\n", reason_phrase(status));
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        let mut values = head
            .fields
            .iter()
            .filter(|(n, value)| *n == name && !value.is_empty())
            .map(|(_, value)| value);
        let first = values.next()?;
        out.push_str(&format!("{name}: {first}\r\n"));
        if name == "Via" {
            for value in values {
                out.push_str(&format!("{name}: {value}\r\n"));
            }
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// The reason phrase RFC 3261 §21 (and RFC 3265, 4412, 6665 for the rest) gives `status`.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        _ => "Unknown",
    }
}
