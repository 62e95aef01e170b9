//! One datagram in, one checked `rsip` message out (or a typed refusal).

use rsip::prelude::{HeadersExt as _, ToTypedHeader as _, UntypedHeader as _};
use rsip::{Request, SipMessage};

use super::MessageErrorKind;
use super::lexer::{self, Head};

/// The largest datagram voxgate reads: the UDP maximum (RFC 3261 §18.1.1 lets a UAS refuse
/// larger messages with 513).
pub const MAX_DATAGRAM: usize = 65_535;

/// Whether `datagram` is a keep-alive (RFC 5626 §4.4.1: a double CRLF, or any run of CR/LF
/// that peers send as a ping), to be ignored rather than refused.
pub fn is_keepalive(datagram: &[u8]) -> bool {
    !datagram.is_empty() && datagram.iter().all(|b| matches!(b, b'\r' | b'\n'))
}

/// Parses one UDP datagram as a SIP message.
///
/// The head is lexed into canonical form first (folded lines joined, compact names made
/// long, comma lists split: see the module docs of `message`), the body is
/// cut to `Content-Length` (RFC 3261 §18.3: extra bytes are ignored; a body shorter than
/// the header says is refused), and then `rsip` parses it. The headers every message needs
/// (§8.1.1: Via, From, To, Call-ID, CSeq; Max-Forwards when present) must parse as their
/// typed forms, and a request's CSeq method must be its own (§8.1.1.5).
///
/// # Errors
///
/// The [`MessageErrorKind`] that says why (it converts into
/// [`SipError::Message`](crate::SipError::Message)); its
/// [`status`](MessageErrorKind::status) is the response a UAS sends for a request.
pub fn parse(datagram: &[u8]) -> Result<SipMessage, MessageErrorKind> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(MessageErrorKind::TooLarge);
    }
    let (head, body) = lexer::split(datagram)?;
    let head = lexer::lex(head.trim_start_matches(['\r', '\n']))?;
    let is_request = check_start_line(head.start)?;
    let body = cut_body(&head, body)?;
    let canonical = canonical(&head, body);
    let message =
        SipMessage::try_from(canonical.as_slice()).map_err(|_| MessageErrorKind::Syntax)?;
    check_headers(&message)?;
    match (&message, is_request) {
        (SipMessage::Request(request), true) => check_request(request)?,
        (SipMessage::Response(_), false) => {}
        _ => return Err(MessageErrorKind::BadStartLine),
    }
    Ok(message)
}

/// Checks the start line's shape and version; true for a request.
fn check_start_line(start: &str) -> Result<bool, MessageErrorKind> {
    let mut parts = start.splitn(3, ' ');
    let (first, second, third) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(MessageErrorKind::BadStartLine),
    };
    if first.starts_with("SIP/") {
        if first != "SIP/2.0" {
            return Err(MessageErrorKind::VersionNotSupported);
        }
        let code_ok = second.len() == 3 && second.bytes().all(|b| b.is_ascii_digit());
        if !code_ok || second.starts_with('0') {
            return Err(MessageErrorKind::BadStartLine);
        }
        return Ok(false);
    }
    if first.is_empty() || !first.bytes().all(is_token_byte) {
        return Err(MessageErrorKind::BadStartLine);
    }
    // Methods are case-sensitive (RFC 3261 §7.1); rsip would take `invite` as INVITE.
    if !KNOWN_METHODS.contains(&first) {
        return Err(MessageErrorKind::UnknownMethod);
    }
    if third.contains(' ') {
        return Err(MessageErrorKind::BadStartLine);
    }
    if third != "SIP/2.0" {
        return Err(if third.starts_with("SIP/") {
            MessageErrorKind::VersionNotSupported
        } else {
            MessageErrorKind::BadStartLine
        });
    }
    let scheme = second.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sip" | "sips" | "tel") => Ok(true),
        Some(s) if is_scheme(s) => Err(MessageErrorKind::UnsupportedUriScheme),
        _ => Err(MessageErrorKind::BadStartLine),
    }
}

/// The methods `rsip` has a variant for; anything else is answered 501 (§8.2.1).
const KNOWN_METHODS: &[&str] = &[
    "ACK",
    "BYE",
    "CANCEL",
    "INFO",
    "INVITE",
    "MESSAGE",
    "NOTIFY",
    "OPTIONS",
    "PRACK",
    "PUBLISH",
    "REFER",
    "REGISTER",
    "SUBSCRIBE",
    "UPDATE",
];

/// RFC 3261 §25.1 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// RFC 3986 `scheme`: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// The body as `Content-Length` says (all of it when the header is absent, as UDP allows).
fn cut_body<'a>(head: &Head<'_>, body: &'a [u8]) -> Result<&'a [u8], MessageErrorKind> {
    let mut lengths = head.fields.iter().filter(|(n, _)| *n == "Content-Length");
    let Some((_, value)) = lengths.next() else {
        return Ok(body);
    };
    if lengths.next().is_some() {
        return Err(MessageErrorKind::BadContentLength);
    }
    let declared: usize = value
        .parse()
        .map_err(|_| MessageErrorKind::BadContentLength)?;
    body.get(..declared).ok_or(MessageErrorKind::BodyTruncated)
}

/// The message in the one form `rsip` parses: `\r\n`, long names, one value per line, and a
/// `Content-Length` that matches the body.
fn canonical(head: &Head<'_>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.start.len() + 64 * head.order.len() + body.len());
    out.extend_from_slice(head.start.as_bytes());
    out.extend_from_slice(b"\r\n");
    for place in &head.order {
        let (name, value) = match *place {
            Ok(i) => match head.fields.get(i) {
                Some((name, _)) if *name == "Content-Length" => continue,
                Some((name, value)) => (*name, value.as_str()),
                None => continue,
            },
            Err(i) => match head.other.get(i) {
                Some((name, value)) => (name.as_str(), value.as_str()),
                None => continue,
            },
        };
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// The headers every message needs, in their typed forms.
fn check_headers(message: &SipMessage) -> Result<(), MessageErrorKind> {
    use MessageErrorKind as K;
    let via = message.via_header().map_err(|_| K::MissingVia)?;
    via.typed().map_err(|_| K::BadVia)?;
    let from = message.from_header().map_err(|_| K::MissingFrom)?;
    from.typed().map_err(|_| K::BadFrom)?;
    let to = message.to_header().map_err(|_| K::MissingTo)?;
    to.typed().map_err(|_| K::BadTo)?;
    let call_id = message.call_id_header().map_err(|_| K::MissingCallId)?;
    if call_id.value().trim().is_empty() {
        return Err(K::MissingCallId);
    }
    let cseq = message.cseq_header().map_err(|_| K::MissingCSeq)?;
    cseq.typed().map_err(|_| K::BadCSeq)?;
    if let Ok(max) = message.max_forwards_header() {
        max.num().map_err(|_| K::BadMaxForwards)?;
    }
    Ok(())
}

/// What only requests must satisfy: a CSeq naming their own method, below 2^31 (§8.1.1.5).
fn check_request(request: &Request) -> Result<(), MessageErrorKind> {
    let cseq = request
        .cseq_header()
        .and_then(|c| c.typed())
        .map_err(|_| MessageErrorKind::BadCSeq)?;
    if cseq.seq >= 1 << 31 {
        return Err(MessageErrorKind::BadCSeq);
    }
    if cseq.method != request.method {
        return Err(MessageErrorKind::CSeqMethodMismatch);
    }
    Ok(())
}
