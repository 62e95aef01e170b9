//! The lexer for `Digest name=value, name="quoted value", ...` and the writer of quoted
//! strings, shared by challenges and credentials.
//!
//! Grammar (after RFC 3261 §25.1 `challenge`/`credentials` and RFC 7235 §2.1; folded
//! lines are joined first, so LWS is spaces and tabs):
//!
//! ```text
//! value         = LWS* scheme [ 1*LWS param-list ]
//! param-list    = [ param ] *( LWS* "," LWS* [ param ] )   ; empty elements allowed
//! param         = token LWS* "=" LWS* ( quoted-string / bare-value )
//! quoted-string = DQUOTE *( qdtext / "\" CHAR ) DQUOTE
//! bare-value    = 1*( any char but LWS, "," and DQUOTE )
//! ```
//!
//! `bare-value` is wider than RFC 3261's `token` on purpose: some servers write base64
//! nonces (with `/` and `=`) without quotes. It may not start with `=`.

use std::borrow::Cow;

use crate::SipError;

use super::{AuthErrorKind, MAX_PARAMS, MAX_VALUE_LEN, err};

/// One `name=value` parameter; the value is unquoted and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Param {
    /// The name in lower case (names are case-insensitive, RFC 7235 §2.1).
    pub(crate) name: String,
    /// The value without quotes or `\` escapes.
    pub(crate) value: String,
}

/// The parameters of one `Digest` challenge or credentials value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Params {
    list: Vec<Param>,
}

impl Params {
    /// Parses a whole value: checks size and characters, the `Digest` scheme, then the list.
    pub(crate) fn parse_digest(value: &str) -> Result<Self, SipError> {
        if value.len() > MAX_VALUE_LEN {
            return Err(err(AuthErrorKind::TooLarge));
        }
        let value = unfold(value);
        if value.chars().any(is_forbidden_control) {
            return Err(err(AuthErrorKind::BadCharacter));
        }
        let mut cursor = Cursor { rest: &value };
        cursor.skip_ws();
        let scheme = cursor.take_while(is_token_char);
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(err(AuthErrorKind::UnsupportedScheme));
        }
        // The scheme is followed by whitespace, or by nothing at all (a bare `Digest`,
        // which the caller then finds has no realm or nonce).
        if !cursor.rest.is_empty() && cursor.skip_ws() == 0 {
            return Err(err(AuthErrorKind::BadChallenge));
        }
        let mut params = Self::default();
        while let Some(param) = cursor.next_param()? {
            params.push(param)?;
        }
        Ok(params)
    }

    /// The value of `name` (case-insensitive), if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    fn push(&mut self, param: Param) -> Result<(), SipError> {
        if self.get(&param.name).is_some() {
            return Err(err(AuthErrorKind::DuplicateParam));
        }
        if self.list.len() >= MAX_PARAMS {
            return Err(err(AuthErrorKind::TooLarge));
        }
        self.list.push(param);
        Ok(())
    }
}

/// What is left of the value to lex.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// Skips spaces and tabs; returns how many bytes it skipped.
    fn skip_ws(&mut self) -> usize {
        self.take_while(|c| c == ' ' || c == '\t').len()
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at_checked(end).unwrap_or((self.rest, ""));
        self.rest = rest;
        taken
    }

    /// Consumes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// The next parameter, skipping empty list elements; `None` at the end of the value.
    fn next_param(&mut self) -> Result<Option<Param>, SipError> {
        loop {
            self.skip_ws();
            if !self.eat(',') {
                break;
            }
        }
        if self.rest.is_empty() {
            return Ok(None);
        }
        let name = self.take_while(is_token_char);
        self.skip_ws();
        if name.is_empty() || !self.eat('=') {
            return Err(err(AuthErrorKind::BadChallenge));
        }
        self.skip_ws();
        let value = if self.eat('"') {
            self.quoted_rest()?
        } else {
            let bare = self.take_while(|c| !matches!(c, ' ' | '\t' | ',' | '"'));
            // `=` may end a bare base64 value but not start one (`realm==x` is a typo).
            if bare.is_empty() || bare.starts_with('=') {
                return Err(err(AuthErrorKind::BadChallenge));
            }
            bare.to_owned()
        };
        // After a value comes the end, or a comma (whitespace first is fine).
        self.skip_ws();
        if !self.rest.is_empty() && !self.rest.starts_with(',') {
            return Err(err(AuthErrorKind::BadChallenge));
        }
        Ok(Some(Param {
            name: name.to_ascii_lowercase(),
            value,
        }))
    }

    /// The rest of a quoted string whose opening quote was consumed, unescaped.
    fn quoted_rest(&mut self) -> Result<String, SipError> {
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = self.rest.get(at + 1..).unwrap_or("");
                    return Ok(out);
                }
                // quoted-pair: the next character stands for itself.
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                _ => out.push(c),
            }
        }
        Err(err(AuthErrorKind::UnterminatedQuote))
    }
}

/// Joins folded lines: RFC 3261 §7.3.1 lets a header value continue on a line starting with
/// whitespace, and `CRLF 1*WSP` means one run of whitespace. A CR or LF not followed by
/// whitespace stays, and is refused as a control character.
fn unfold(value: &str) -> Cow<'_, str> {
    if value.contains("\r\n") {
        Cow::Owned(value.replace("\r\n ", " ").replace("\r\n\t", "\t"))
    } else {
        Cow::Borrowed(value)
    }
}

/// RFC 3261 §25.1 `token` characters.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// Control characters no header value may hold (tab is whitespace, not a control here).
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// Checks that `value` can be written into a header: no control characters. A quoted string
/// can carry `"` and `\` escaped, but a CR or LF would end the header (header injection).
pub(crate) fn check_writable(value: &str) -> Result<(), SipError> {
    if value.chars().any(|c| c.is_control()) {
        return Err(err(AuthErrorKind::UnsafeValue));
    }
    Ok(())
}

/// Checks that `value` is a non-empty RFC 3261 token (a method, an algorithm name).
pub(crate) fn check_token(value: &str) -> Result<(), SipError> {
    if value.is_empty() || !value.chars().all(is_token_char) {
        return Err(err(AuthErrorKind::UnsafeValue));
    }
    Ok(())
}

/// Writes `value` as a quoted string, escaping `"` and `\` (RFC 3261 §25.1 quoted-pair).
pub(crate) fn write_quoted(f: &mut std::fmt::Formatter<'_>, value: &str) -> std::fmt::Result {
    use std::fmt::Write as _;
    f.write_char('"')?;
    for c in value.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::tests::kind;

    fn lex(value: &str) -> Result<Vec<(String, String)>, AuthErrorKind> {
        let params = Params::parse_digest(value).map_err(kind)?;
        Ok(params.list.into_iter().map(|p| (p.name, p.value)).collect())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn lexes_lists() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("Digest a=1", &[("a", "1")]),
            ("Digest A=1, Nonce=2", &[("a", "1"), ("nonce", "2")]),
            (
                "Digest a=1,\r\n b=\"x\r\n\ty\"",
                &[("a", "1"), ("b", "x\ty")],
            ),
            ("Digest\r\n  a=1", &[("a", "1")]),
            ("digest a=1,b=\"2\"", &[("a", "1"), ("b", "2")]),
            (
                "  DIGEST\ta = 1 ,\t b =  \"x y\"  ",
                &[("a", "1"), ("b", "x y")],
            ),
            ("Digest a=\"1,2\", b=3", &[("a", "1,2"), ("b", "3")]),
            ("Digest a=\"say \\\"hi\\\"\"", &[("a", "say \"hi\"")]),
            ("Digest a=\"back\\\\slash\"", &[("a", "back\\slash")]),
            ("Digest a=\"\"", &[("a", "")]),
            ("Digest ,a=1,,, b=2,", &[("a", "1"), ("b", "2")]),
            ("Digest nonce=YWJj/ZA==", &[("nonce", "YWJj/ZA==")]),
            ("Digest a=\"ünïcode\"", &[("a", "ünïcode")]),
            ("Digest", &[]),
            ("Digest   ", &[]),
        ];
        for (input, expected) in table {
            assert_eq!(lex(input), Ok(pairs(expected)), "{input:?}");
        }
    }

    #[test]
    fn refuses_malformed_lists() {
        let long = format!("Digest a=\"{}\"", "x".repeat(MAX_VALUE_LEN));
        let many = format!(
            "Digest {}",
            (0..=MAX_PARAMS)
                .map(|i| format!("p{i}=1"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let table: &[(&str, AuthErrorKind)] = &[
            ("Basic realm=\"x\"", AuthErrorKind::UnsupportedScheme),
            ("", AuthErrorKind::UnsupportedScheme),
            ("Digestrealm=x", AuthErrorKind::UnsupportedScheme),
            ("Digest,realm=x", AuthErrorKind::BadChallenge),
            ("Digest a=\"open", AuthErrorKind::UnterminatedQuote),
            (
                "Digest a=\"ends in escape\\",
                AuthErrorKind::UnterminatedQuote,
            ),
            ("Digest a", AuthErrorKind::BadChallenge),
            ("Digest a=", AuthErrorKind::BadChallenge),
            ("Digest a=,b=1", AuthErrorKind::BadChallenge),
            ("Digest a==1", AuthErrorKind::BadChallenge),
            ("Digest =1", AuthErrorKind::BadChallenge),
            ("Digest a=1 b=2", AuthErrorKind::BadChallenge),
            ("Digest a=\"1\"b=2", AuthErrorKind::BadChallenge),
            ("Digest a=1, A=2", AuthErrorKind::DuplicateParam),
            ("Digest a=\"x\r\ny\"", AuthErrorKind::BadCharacter),
            ("Digest a=1\r\nVia: x", AuthErrorKind::BadCharacter),
            ("Digest a=1\n b=2", AuthErrorKind::BadCharacter),
            ("Digest a=\0", AuthErrorKind::BadCharacter),
            ("Digest a=1\u{7f}", AuthErrorKind::BadCharacter),
            (&long, AuthErrorKind::TooLarge),
            (&many, AuthErrorKind::TooLarge),
        ];
        for (input, expected) in table {
            assert_eq!(lex(input), Err(*expected), "{input:?}");
        }
    }

    #[test]
    fn quoted_writer_escapes_what_the_lexer_unescapes() {
        struct Q<'a>(&'a str);
        impl std::fmt::Display for Q<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write_quoted(f, self.0)
            }
        }
        for value in ["", "plain", "a \"quote\"", "back\\slash\\", "comma, inside"] {
            let written = format!("Digest v={}", Q(value));
            assert_eq!(lex(&written), Ok(pairs(&[("v", value)])), "{written}");
        }
    }

    #[test]
    fn writable_and_token_checks() {
        assert!(check_writable("sip:bob@example.com;transport=tcp").is_ok());
        assert!(check_writable("a\r\nVia: evil").is_err());
        assert!(check_token("REGISTER").is_ok());
        assert!(check_token("").is_err());
        assert!(check_token("REG ISTER").is_err());
    }
}
