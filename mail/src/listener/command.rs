//! Reading one SMTP command line (RFC 5321 §4.1) into a [`Command`]. Pure: no state, no
//! limits other than the syntax; the [`super::Session`] decides what a command means now.

use super::reply::Reply;

/// The commands this receiver knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `EHLO domain`.
    Ehlo(String),
    /// `HELO domain`.
    Helo(String),
    /// `MAIL FROM:<path> [SIZE=n] [BODY=..] [SMTPUTF8]`; `path` is empty for `<>`.
    Mail {
        /// The reverse-path without brackets.
        path: String,
        /// The client's `SIZE=` estimate (RFC 1870).
        size: Option<u64>,
    },
    /// `RCPT TO:<path>`.
    Rcpt(String),
    /// `DATA`.
    Data,
    /// `RSET`.
    Rset,
    /// `NOOP`.
    Noop,
    /// `QUIT`.
    Quit,
    /// `VRFY`: answered `252` (RFC 5321 §3.5.3: neither confirmed nor denied).
    Vrfy,
    /// `HELP`.
    Help,
    /// A known command this listener does not do (`EXPN`, `STARTTLS`, `AUTH`, `BDAT`, ...).
    NotImplemented,
}

/// `501 5.5.4`: the arguments are wrong.
fn syntax(text: &str) -> Reply {
    Reply::new(501, "5.5.4", text)
}

/// Parses one command line (without its line end).
pub(crate) fn parse(line: &[u8]) -> Result<Command, Reply> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Err(Reply::new(500, "5.5.2", "Command line is not UTF-8"));
    };
    let (verb, rest) = match line.split_once(' ') {
        Some((verb, rest)) => (verb, rest.trim()),
        None => (line, ""),
    };
    match verb.to_ascii_uppercase().as_str() {
        "EHLO" => domain(rest).map(Command::Ehlo),
        "HELO" => domain(rest).map(Command::Helo),
        "MAIL" => mail(rest),
        "RCPT" => rcpt(rest),
        "DATA" => bare(rest, Command::Data),
        "RSET" => bare(rest, Command::Rset),
        "QUIT" => bare(rest, Command::Quit),
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "VRFY" if rest.is_empty() => Err(syntax("VRFY needs an argument")),
        "VRFY" => Ok(Command::Vrfy),
        "EXPN" | "TURN" | "ETRN" | "STARTTLS" | "AUTH" | "BDAT" | "ATRN" => {
            Ok(Command::NotImplemented)
        }
        _ => Err(Reply::new(500, "5.5.2", "Command not recognized")),
    }
}

fn bare(rest: &str, command: Command) -> Result<Command, Reply> {
    if rest.is_empty() {
        Ok(command)
    } else {
        Err(syntax("No parameters allowed"))
    }
}

fn domain(rest: &str) -> Result<String, Reply> {
    match rest.split_whitespace().next() {
        Some(domain) => Ok(domain.to_owned()),
        None => Err(syntax("A domain name or address literal is required")),
    }
}

/// Splits `KEYWORD:<path> params` into the path (brackets and any source route removed,
/// RFC 5321 §4.1.1.3 says to ignore it) and the parameters.
fn path_and_params<'a>(rest: &'a str, keyword: &str) -> Result<(&'a str, &'a str), Reply> {
    let head = rest.get(..keyword.len()).unwrap_or_default();
    if !head.eq_ignore_ascii_case(keyword) {
        return Err(syntax(&format!("Expected {keyword}<address>")));
    }
    let after = rest[keyword.len()..].trim_start();
    let Some(inner) = after.strip_prefix('<') else {
        return Err(syntax("The address must be in angle brackets"));
    };
    let Some((path, params)) = inner.split_once('>') else {
        return Err(syntax("Missing '>' after the address"));
    };
    let path = match path.strip_prefix('@') {
        Some(route) => route.split_once(':').map_or("", |(_, mailbox)| mailbox),
        None => path,
    };
    Ok((path, params.trim()))
}

fn mail(rest: &str) -> Result<Command, Reply> {
    let (path, params) = path_and_params(rest, "FROM:")?;
    if !path.is_empty() && !valid_mailbox(path) {
        return Err(Reply::new(501, "5.1.7", "Bad sender address syntax"));
    }
    let mut size = None;
    for param in params.split_whitespace() {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => match value.parse::<u64>() {
                Ok(n) => size = Some(n),
                Err(_) => return Err(syntax("SIZE needs a number")),
            },
            "BODY" if ["7BIT", "8BITMIME"].contains(&value.to_ascii_uppercase().as_str()) => {}
            "BODY" => return Err(syntax("BODY is 7BIT or 8BITMIME")),
            "SMTPUTF8" if value.is_empty() => {}
            _ => return Err(Reply::new(555, "5.5.4", "Unsupported MAIL parameter")),
        }
    }
    Ok(Command::Mail {
        path: path.to_owned(),
        size,
    })
}

fn rcpt(rest: &str) -> Result<Command, Reply> {
    let (path, params) = path_and_params(rest, "TO:")?;
    if !params.is_empty() {
        return Err(Reply::new(555, "5.5.4", "Unsupported RCPT parameter"));
    }
    if !valid_mailbox(path) && !path.eq_ignore_ascii_case("postmaster") {
        return Err(Reply::new(501, "5.1.3", "Bad recipient address syntax"));
    }
    Ok(Command::Rcpt(path.to_owned()))
}

/// `local@domain` with both sides present and no spaces or controls; not a full RFC 5321
/// grammar check: the [`super::Delivery`] decides what exists.
fn valid_mailbox(path: &str) -> bool {
    let Some((local, domain)) = path.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail_cmd(path: &str, size: Option<u64>) -> Command {
        Command::Mail {
            path: path.to_owned(),
            size,
        }
    }

    #[test]
    fn commands() {
        let cases: &[(&str, Command)] = &[
            (
                "EHLO client.example",
                Command::Ehlo("client.example".into()),
            ),
            ("ehlo [127.0.0.1]", Command::Ehlo("[127.0.0.1]".into())),
            ("HELO x", Command::Helo("x".into())),
            ("MAIL FROM:<a@b.c>", mail_cmd("a@b.c", None)),
            ("mail from: <a@b.c> SIZE=100", mail_cmd("a@b.c", Some(100))),
            ("MAIL FROM:<>", mail_cmd("", None)),
            ("MAIL FROM:<@relay.x:a@b.c>", mail_cmd("a@b.c", None)),
            (
                "MAIL FROM:<a@b.c> BODY=8BITMIME SMTPUTF8",
                mail_cmd("a@b.c", None),
            ),
            ("MAIL FROM:<ö@b.c>", mail_cmd("ö@b.c", None)),
            (
                "RCPT TO:<x@voxgate.test>",
                Command::Rcpt("x@voxgate.test".into()),
            ),
            ("RCPT TO:<Postmaster>", Command::Rcpt("Postmaster".into())),
            ("DATA", Command::Data),
            ("rset", Command::Rset),
            ("NOOP anything", Command::Noop),
            ("QUIT", Command::Quit),
            ("VRFY bob", Command::Vrfy),
            ("HELP", Command::Help),
            ("STARTTLS", Command::NotImplemented),
            ("EXPN list", Command::NotImplemented),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line.as_bytes()).as_ref(), Ok(expected), "{line}");
        }
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], u16, &str)] = &[
            (b"FOO", 500, "5.5.2"),
            (b"", 500, "5.5.2"),
            (b"\xff\xfe", 500, "5.5.2"),
            (b"EHLO", 501, "5.5.4"),
            (b"MAIL TO:<a@b.c>", 501, "5.5.4"),
            (b"MAIL FROM:a@b.c", 501, "5.5.4"),
            (b"MAIL FROM:<a@b.c", 501, "5.5.4"),
            (b"MAIL FROM:<nobody>", 501, "5.1.7"),
            (b"MAIL FROM:<a@b.c> SIZE=lots", 501, "5.5.4"),
            (b"MAIL FROM:<a@b.c> BODY=BINARYMIME", 501, "5.5.4"),
            (b"MAIL FROM:<a@b.c> AUTH=<>", 555, "5.5.4"),
            (b"RCPT TO:<>", 501, "5.1.3"),
            (b"RCPT TO:<a b@c>", 501, "5.1.3"),
            (b"RCPT TO:<a@b.c> NOTIFY=NEVER", 555, "5.5.4"),
            (b"DATA now", 501, "5.5.4"),
            (b"VRFY", 501, "5.5.4"),
        ];
        for (line, code, status) in cases {
            let reply = parse(line).expect_err("an error");
            assert_eq!(reply.code, *code, "{}", String::from_utf8_lossy(line));
            assert!(reply.lines[0].starts_with(status), "{reply:?}");
        }
    }
}
