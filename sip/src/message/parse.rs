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
    let start = check_start_line(head.start)?;
    let body = cut_body(&head, body)?;
    check_head(&head)?;
    let canonical = canonical(&start.canonical, &head, body);
    let message =
        SipMessage::try_from(canonical.as_slice()).map_err(|_| MessageErrorKind::Syntax)?;
    check_headers(&message)?;
    match (&message, start.is_request) {
        (SipMessage::Request(request), true) => check_request(request)?,
        (SipMessage::Response(_), false) => {}
        _ => return Err(MessageErrorKind::BadStartLine),
    }
    Ok(message)
}

/// The SIP-Version voxgate speaks, as it is sent (RFC 3261 §7.1: "case-insensitive, but
/// implementations MUST send upper-case").
const VERSION: &str = "SIP/2.0";

/// A checked start line.
struct StartLine {
    /// A request line rather than a status line.
    is_request: bool,
    /// The line with its SIP-Version in upper case, the only form `rsip` reads.
    canonical: String,
}

/// Checks the start line's shape, version, method and Request-URI scheme, in that order: a
/// line that is not SIP at all (an HTTP request, say) is a bad start line, not an unknown
/// method.
fn check_start_line(start: &str) -> Result<StartLine, MessageErrorKind> {
    let mut parts = start.splitn(3, ' ');
    let (first, second, third) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return Err(MessageErrorKind::BadStartLine),
    };
    if is_sip_version(first) {
        if !first.eq_ignore_ascii_case(VERSION) {
            return Err(MessageErrorKind::VersionNotSupported);
        }
        let code_ok = second.len() == 3 && second.bytes().all(|b| b.is_ascii_digit());
        if !code_ok || second.starts_with('0') {
            return Err(MessageErrorKind::BadStartLine);
        }
        let canonical = format!("{VERSION} {second} {third}");
        return Ok(StartLine {
            is_request: false,
            canonical,
        });
    }
    if third.contains(' ') {
        return Err(MessageErrorKind::BadStartLine);
    }
    if !third.eq_ignore_ascii_case(VERSION) {
        return Err(if is_sip_version(third) {
            MessageErrorKind::VersionNotSupported
        } else {
            MessageErrorKind::BadStartLine
        });
    }
    if first.is_empty() || !first.bytes().all(is_token_byte) {
        return Err(MessageErrorKind::BadStartLine);
    }
    // Methods are case-sensitive (RFC 3261 §7.1); rsip would take `invite` as INVITE.
    if !KNOWN_METHODS.contains(&first) {
        return Err(MessageErrorKind::UnknownMethod);
    }
    // No `tel:` (RFC 3966): rsip 0.4 has no tel URI and reads `tel:+46701234567` as a host
    // and a port, so voxgate does not serve the scheme and says so with 416 (§8.2.2.1).
    let scheme = second.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sip" | "sips") => Ok(StartLine {
            is_request: true,
            canonical: format!("{first} {second} {VERSION}"),
        }),
        Some(s) if is_scheme(s) => Err(MessageErrorKind::UnsupportedUriScheme),
        _ => Err(MessageErrorKind::BadStartLine),
    }
}

/// Whether `part` is a SIP-Version of any number: `SIP/` in any case.
fn is_sip_version(part: &str) -> bool {
    part.get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
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
    // 1*DIGIT (§20.14): Rust's `parse` would also take a leading `+`.
    if lengths.next().is_some() || !is_digits(value) {
        return Err(MessageErrorKind::BadContentLength);
    }
    let declared: usize = value
        .parse()
        .map_err(|_| MessageErrorKind::BadContentLength)?;
    body.get(..declared).ok_or(MessageErrorKind::BodyTruncated)
}

/// `1*DIGIT`.
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Headers a message carries at most once (RFC 3261 §7.3.1: only a header whose grammar is
/// a comma list may appear on several lines). Content-Length is checked with the body.
const SINGLE: &[&str] = &["From", "To", "Call-ID", "CSeq", "Max-Forwards"];

/// What the head must satisfy before `rsip` sees it, because `rsip` would let it through:
/// no single-valued header twice, and no quoted string left open in Via, From or To (rsip
/// reads `"Alice <sip:a@h>` as the display name `"Alice`).
fn check_head(head: &Head<'_>) -> Result<(), MessageErrorKind> {
    for single in SINGLE {
        if head.fields.iter().filter(|(n, _)| n == single).count() > 1 {
            return Err(MessageErrorKind::RepeatedHeader);
        }
    }
    for (name, value) in &head.fields {
        let kind = match *name {
            "Via" => MessageErrorKind::BadVia,
            "From" => MessageErrorKind::BadFrom,
            "To" => MessageErrorKind::BadTo,
            _ => continue,
        };
        if !quotes_closed(value) {
            return Err(kind);
        }
    }
    Ok(())
}

/// Whether every quoted string in `value` ends (a backslash escapes the next character).
fn quotes_closed(value: &str) -> bool {
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    !quoted
}

/// The message in the one form `rsip` parses: the canonical `start` line, `\r\n`, long
/// names, one value per line, and a `Content-Length` that matches the body.
fn canonical(start: &str, head: &Head<'_>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(start.len() + 64 * head.order.len() + body.len());
    out.extend_from_slice(start.as_bytes());
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
    // 1*DIGIT LWS Method (§20.16); rsip would also take `+1 INVITE`.
    let number = cseq.value().split_once(' ').map(|(n, _)| n);
    if !number.is_some_and(is_digits) {
        return Err(K::BadCSeq);
    }
    if let Ok(max) = message.max_forwards_header() {
        // "an integer in the range 0-255" (§20.22).
        let hops = max.num().map_err(|_| K::BadMaxForwards)?;
        if hops > 255 || !is_digits(max.value().trim()) {
            return Err(K::BadMaxForwards);
        }
    }
    Ok(())
}

/// What only requests must satisfy: a CSeq naming their own method, below 2^31 (§8.1.1.5).
/// The method is compared as sent: methods are case-sensitive (§7.1), and rsip reads
/// `1 invite` as INVITE.
fn check_request(request: &Request) -> Result<(), MessageErrorKind> {
    let header = request
        .cseq_header()
        .map_err(|_| MessageErrorKind::BadCSeq)?;
    let cseq = header.typed().map_err(|_| MessageErrorKind::BadCSeq)?;
    if cseq.seq >= 1 << 31 {
        return Err(MessageErrorKind::BadCSeq);
    }
    let method = header.value().split_whitespace().nth(1);
    if method != Some(request.method.to_string().as_str()) {
        return Err(MessageErrorKind::CSeqMethodMismatch);
    }
    Ok(())
}
