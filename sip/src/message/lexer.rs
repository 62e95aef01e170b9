//! The head of a datagram cut into a start line and header fields, before `rsip` sees it.
//!
//! `rsip` parses one canonical form: `\r\n` line ends, long header names, one value per
//! header line. Real peers and RFC 4475's torture messages send more than that, all of it
//! valid RFC 3261: folded lines (§7.3.1), compact names (§7.3.3), several comma-separated
//! values in one Via or Contact line (§7.3.1), and bare `\n` from sloppy stacks. This lexer
//! turns any of those into the canonical form, and refuses, with a typed kind, what no
//! canonical form can fix: a head that is not UTF-8, a header line without a colon, a name
//! that is not a token, too many or too long lines.

use super::MessageErrorKind;

/// The most header fields a message may carry after splitting comma lists.
pub(crate) const MAX_HEADERS: usize = 128;

/// The longest header line (after unfolding) voxgate reads.
pub(crate) const MAX_LINE: usize = 8 * 1024;

/// The head of a message: its start line and its header fields in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head<'a> {
    /// The request or status line, without its line end.
    pub(crate) start: &'a str,
    /// `(long name, value)` pairs, values trimmed, one per value of a comma list.
    pub(crate) fields: Vec<(&'static str, String)>,
    /// Header fields with names voxgate has no long form for, kept as sent.
    pub(crate) other: Vec<(String, String)>,
    /// The order of every field: `Ok(i)` is `fields[i]`, `Err(i)` is `other[i]`.
    pub(crate) order: Vec<Result<usize, usize>>,
}

/// Splits `datagram` into its head and its body at the first empty line.
pub(crate) fn split(datagram: &[u8]) -> Result<(&str, &[u8]), MessageErrorKind> {
    let (head, body) = find_blank_line(datagram).ok_or(MessageErrorKind::NoHeaderEnd)?;
    let head = std::str::from_utf8(head).map_err(|_| MessageErrorKind::NotUtf8)?;
    Ok((head, body))
}

/// The head and the body around the first `\r\n\r\n` (or `\n\n`).
fn find_blank_line(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let crlf = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4));
    let lf = data.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    let (at, len) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            if b.0 < a.0 {
                b
            } else {
                a
            }
        }
        (a, b) => a.or(b)?,
    };
    Some((data.get(..at)?, data.get(at + len..)?))
}

/// Lexes a head (see the module docs).
pub(crate) fn lex(head: &str) -> Result<Head<'_>, MessageErrorKind> {
    lex_with(head, Strictness::Refuse)
}

/// Lexes what can be read of a head, skipping header lines [`lex`] would refuse (no colon, a
/// name that is not a token, a control character, too long) and the fields past the limit:
/// enough to copy the identifying headers of a request into its refusal. `None` when not
/// even the start line reads.
pub(crate) fn lex_lenient(head: &str) -> Option<Head<'_>> {
    lex_with(head, Strictness::Skip).ok()
}

/// What [`lex_with`] does with a header line it cannot read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Refuse the head.
    Refuse,
    /// Leave the line out (and stop at the field limit).
    Skip,
}

fn lex_with(head: &str, strictness: Strictness) -> Result<Head<'_>, MessageErrorKind> {
    let mut lines = unfold(head);
    let start = lines.next().ok_or(MessageErrorKind::EmptyMessage)?;
    let start = start.map_err(|()| MessageErrorKind::BadHeaderLine)?;
    let start = start.as_borrowed().ok_or(MessageErrorKind::BadStartLine)?;
    if start.is_empty() {
        return Err(MessageErrorKind::EmptyMessage);
    }
    if start.bytes().any(is_forbidden_control) {
        return Err(MessageErrorKind::BadStartLine);
    }
    let mut parsed = Head {
        start,
        fields: Vec::new(),
        other: Vec::new(),
        order: Vec::new(),
    };
    for line in lines {
        let read = line
            .map_err(|()| MessageErrorKind::BadHeaderLine)
            .and_then(|line| {
                let (name, value) = header_line(line.as_str())?;
                push_field(&mut parsed, name, value)
            });
        match (read, strictness) {
            (Ok(()), _) => {}
            (Err(kind), Strictness::Refuse) => return Err(kind),
            (Err(MessageErrorKind::TooManyHeaders), Strictness::Skip) => break,
            (Err(_), Strictness::Skip) => {}
        }
    }
    Ok(parsed)
}

/// One logical header line cut into its name and its trimmed value.
fn header_line(text: &str) -> Result<(&str, &str), MessageErrorKind> {
    if text.len() > MAX_LINE {
        return Err(MessageErrorKind::HeaderTooLong);
    }
    // RFC 3261 §25.1: header values are TEXT-UTF8 and LWS; no octet of a head is a control
    // character but HTAB (CR and LF only end lines).
    if text.bytes().any(is_forbidden_control) {
        return Err(MessageErrorKind::BadHeaderLine);
    }
    let (name, value) = text
        .split_once(':')
        .ok_or(MessageErrorKind::BadHeaderLine)?;
    let name = name.trim_end_matches([' ', '\t']);
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(MessageErrorKind::BadHeaderName);
    }
    Ok((name, value.trim_matches([' ', '\t'])))
}

/// A control character no line of a head may hold: all but HTAB.
fn is_forbidden_control(b: u8) -> bool {
    b.is_ascii_control() && b != b'\t'
}

/// Adds one header line's values to `head`.
fn push_field(head: &mut Head<'_>, name: &str, value: &str) -> Result<(), MessageErrorKind> {
    match long_name(name) {
        Some(long) => {
            let values: Vec<&str> = if splits_on_commas(long) {
                split_commas(value)
            } else {
                vec![value]
            };
            for value in values {
                head.order.push(Ok(head.fields.len()));
                head.fields.push((long, tighten(long, value)));
            }
        }
        None => {
            head.order.push(Err(head.other.len()));
            head.other.push((name.to_owned(), value.to_owned()));
        }
    }
    if head.order.len() > MAX_HEADERS {
        return Err(MessageErrorKind::TooManyHeaders);
    }
    Ok(())
}

/// A logical header line: borrowed when it was one physical line, owned when folded.
enum Line<'a> {
    Borrowed(&'a str),
    Owned(String),
}

impl<'a> Line<'a> {
    fn as_str(&self) -> &str {
        match self {
            Self::Borrowed(s) => s,
            Self::Owned(s) => s,
        }
    }

    fn as_borrowed(&self) -> Option<&'a str> {
        match self {
            Self::Borrowed(s) => Some(s),
            Self::Owned(_) => None,
        }
    }
}

/// The head's logical lines: physical lines (`\r\n` or `\n`) with continuation lines
/// (starting with SP or HTAB) joined to the line before by one space (RFC 3261 §7.3.1).
/// A continuation with no line before it is an error (`Err(())`).
fn unfold(head: &str) -> impl Iterator<Item = Result<Line<'_>, ()>> {
    let mut physical = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .peekable();
    std::iter::from_fn(move || {
        let first = physical.next()?;
        if first.starts_with([' ', '\t']) {
            return Some(Err(()));
        }
        let mut line = Line::Borrowed(first);
        while let Some(next) = physical.next_if(|l| l.starts_with([' ', '\t'])) {
            let mut joined = line.as_str().trim_end_matches([' ', '\t']).to_owned();
            joined.push(' ');
            joined.push_str(next.trim_start_matches([' ', '\t']));
            line = Line::Owned(joined);
        }
        Some(Ok(line))
    })
}

/// RFC 3261 §25.1 `token` characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// The long form of a header name `rsip` knows (compact forms of RFC 3261 §7.3.3 and
/// RFC 3515/3265 included), case-insensitively; `None` for everything else.
fn long_name(name: &str) -> Option<&'static str> {
    const NAMES: &[(&str, &str)] = &[
        ("i", "Call-ID"),
        ("m", "Contact"),
        ("e", "Content-Encoding"),
        ("l", "Content-Length"),
        ("c", "Content-Type"),
        ("f", "From"),
        ("s", "Subject"),
        ("k", "Supported"),
        ("t", "To"),
        ("v", "Via"),
        ("o", "Event"),
    ];
    const LONG: &[&str] = &[
        "Accept",
        "Allow",
        "Authorization",
        "Call-ID",
        "Contact",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Event",
        "Expires",
        "From",
        "Max-Forwards",
        "Min-Expires",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Require",
        "Record-Route",
        "Require",
        "Retry-After",
        "Route",
        "Server",
        "Subject",
        "Supported",
        "To",
        "Unsupported",
        "User-Agent",
        "Via",
        "WWW-Authenticate",
    ];
    if let Some(&(_, long)) = NAMES.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)) {
        return Some(long);
    }
    LONG.iter().copied().find(|l| l.eq_ignore_ascii_case(name))
}

/// Headers whose grammar is a comma list of values that each stand alone (RFC 3261 §7.3.1:
/// "it MUST be possible to combine the multiple header field rows into one").
fn splits_on_commas(long: &str) -> bool {
    matches!(long, "Via" | "Route" | "Record-Route" | "Contact")
}

/// Splits a header value on the commas that separate list elements: not inside double
/// quotes (with backslash escapes) nor inside `<...>`.
fn split_commas(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                parts.push(value.get(start..i).unwrap_or_default().trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(value.get(start..).unwrap_or_default().trim());
    parts.retain(|p| !p.is_empty());
    parts
}

/// A structured header value in the one form `rsip` reads, which RFC 3261 §7.3.1 makes
/// equivalent to what was sent ("all linear white space, including folding, has the same
/// semantics as SP"): outside quoted strings and `<...>`, each run of SP and HTAB becomes one
/// SP, and none is left around the separators §25.1 lets white space surround (SEMI and
/// EQUAL; in Via also SLASH and COLON). A Via's sent-protocol is made upper case: its
/// tokens are case-insensitive and `rsip` knows `SIP/2.0/UDP`, not `sip/2.0/udp`.
fn tighten(long: &str, value: &str) -> String {
    let separators: &[char] = match long {
        "Via" => &[';', '=', '/', ':'],
        "From" | "To" | "Contact" | "Route" | "Record-Route" => &[';', '='],
        "CSeq" => &[],
        _ => return value.to_owned(),
    };
    let mut out = String::with_capacity(value.len());
    let (mut quoted, mut escaped, mut angle) = (false, false, false);
    let (mut space, mut after_separator) = (false, false);
    for c in value.chars() {
        if quoted || angle {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' if quoted => quoted = false,
                '>' if angle => angle = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == ' ' || c == '\t' {
            space = true;
            continue;
        }
        if separators.contains(&c) {
            after_separator = true;
        } else {
            if space && !after_separator {
                out.push(' ');
            }
            after_separator = false;
            quoted = c == '"';
            angle = c == '<';
        }
        space = false;
        out.push(c);
    }
    if long == "Via" {
        let end = out.find(' ').unwrap_or(out.len());
        if let Some(protocol) = out.get_mut(..end) {
            protocol.make_ascii_uppercase();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(head: &str) -> Vec<(String, String)> {
        let lexed = lex(head).expect("lexes");
        lexed
            .order
            .iter()
            .map(|o| match *o {
                Ok(i) => (lexed.fields[i].0.to_owned(), lexed.fields[i].1.clone()),
                Err(i) => lexed.other[i].clone(),
            })
            .collect()
    }

    #[test]
    fn folding_compact_names_and_comma_lists() {
        let table: &[(&str, &[(&str, &str)])] = &[
            (
                "OPTIONS sip:a SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1",
                &[("Via", "SIP/2.0/UDP h;branch=z9hG4bK1")],
            ),
            (
                "OPTIONS sip:a SIP/2.0\nSubject: one\n  two\n\tthree",
                &[("Subject", "one two three")],
            ),
            (
                "OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1 , SIP/2.0/UDP b",
                &[
                    ("Via", "SIP/2.0/UDP a;branch=z9hG4bK1"),
                    ("Via", "SIP/2.0/UDP b"),
                ],
            ),
            (
                "OPTIONS sip:a SIP/2.0\r\nm: \"Smith, J\" <sip:j@h;x=a,b>, <sip:k@h>",
                &[
                    ("Contact", "\"Smith, J\" <sip:j@h;x=a,b>"),
                    ("Contact", "<sip:k@h>"),
                ],
            ),
            (
                "OPTIONS sip:a SIP/2.0\r\nX-Custom : a, b\r\ncall-id: abc",
                &[("X-Custom", "a, b"), ("Call-ID", "abc")],
            ),
        ];
        for (head, want) in table {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(fields(head), want, "{head:?}");
        }
    }

    #[test]
    fn refusals_are_typed() {
        let long = format!("OPTIONS sip:a SIP/2.0\r\nSubject: {}", "x".repeat(MAX_LINE));
        let many = format!(
            "OPTIONS sip:a SIP/2.0\r\n{}",
            "Subject: x\r\n".repeat(MAX_HEADERS + 1)
        );
        let table: &[(&str, MessageErrorKind)] = &[
            ("", MessageErrorKind::EmptyMessage),
            (" INVITE sip:a SIP/2.0", MessageErrorKind::BadHeaderLine),
            (
                "INVITE sip:a SIP/2.0\r\nno colon here",
                MessageErrorKind::BadHeaderLine,
            ),
            (
                "INVITE sip:a SIP/2.0\r\nBad Name: x",
                MessageErrorKind::BadHeaderName,
            ),
            (
                "INVITE sip:a SIP/2.0\r\n: x",
                MessageErrorKind::BadHeaderName,
            ),
            (&long, MessageErrorKind::HeaderTooLong),
            (&many, MessageErrorKind::TooManyHeaders),
            (
                "INVITE sip:a SIP/2.0\r\nSubject: a\u{0}b",
                MessageErrorKind::BadHeaderLine,
            ),
            (
                "INVITE sip:a SIP/2.0\r\nSubject: a\rb",
                MessageErrorKind::BadHeaderLine,
            ),
            ("INVITE sip:a\u{7f} SIP/2.0", MessageErrorKind::BadStartLine),
        ];
        for (head, kind) in table {
            assert_eq!(lex(head).err(), Some(*kind), "{:?}", head.get(..40));
        }
    }

    #[test]
    fn structured_values_lose_the_white_space_rsip_cannot_read() {
        let table: &[(&str, &str, &str)] = &[
            (
                "Via",
                "sip / 2.0 / udp  h : 5060 ; branch = z9hG4bK1",
                "SIP/2.0/UDP h:5060;branch=z9hG4bK1",
            ),
            (
                "From",
                "\"A  ; = B\"   <sip:a@h ; x>\t; tag = 1",
                "\"A  ; = B\" <sip:a@h ; x>;tag=1",
            ),
            ("To", "Bob\t Smith <sip:b@h>", "Bob Smith <sip:b@h>"),
            ("CSeq", "1 \t INVITE", "1 INVITE"),
            ("Subject", "a  ;  b", "a  ;  b"),
        ];
        for (long, sent, want) in table {
            assert_eq!(tighten(long, sent), *want, "{long}: {sent}");
        }
    }

    #[test]
    fn a_lenient_lex_passes_over_the_lines_a_strict_one_refuses() {
        let head = format!(
            "INVITE sip:a SIP/2.0\r\nno colon\r\nBad Name: x\r\nSubject: a\u{0}\r\n\
             Subject: {}\r\nCall-ID: kept",
            "x".repeat(MAX_LINE)
        );
        assert_eq!(lex(&head).err(), Some(MessageErrorKind::BadHeaderLine));
        let lenient = lex_lenient(&head).expect("the start line reads");
        assert_eq!(lenient.fields, vec![("Call-ID", "kept".to_owned())]);
        let many = format!(
            "OPTIONS sip:a SIP/2.0\r\nCall-ID: c\r\n{}",
            "Subject: x\r\n".repeat(MAX_HEADERS * 2)
        );
        let lenient = lex_lenient(&many).expect("the start line reads");
        assert_eq!(lenient.fields.len(), MAX_HEADERS + 1, "stops at the limit");
        assert_eq!(lex_lenient(" folded start"), None);
    }

    #[test]
    fn the_head_ends_at_the_first_blank_line() {
        type Split<'a> = Result<(&'a str, &'a [u8]), MessageErrorKind>;
        let table: &[(&[u8], Split<'_>)] = &[
            (b"A\r\nB: c\r\n\r\nbody", Ok(("A\r\nB: c", b"body"))),
            (b"A\nB: c\n\nbody\r\n\r\n", Ok(("A\nB: c", b"body\r\n\r\n"))),
            (b"A\r\nB: c\r\n", Err(MessageErrorKind::NoHeaderEnd)),
            (b"A\xff\r\n\r\n", Err(MessageErrorKind::NotUtf8)),
        ];
        for (datagram, want) in table {
            assert_eq!(split(datagram), *want);
        }
    }
}
