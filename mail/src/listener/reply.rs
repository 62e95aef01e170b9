//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC 2034).

/// One SMTP reply: a three-digit code and one or more text lines, each of which starts
/// with the enhanced status code when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply code (`250`, `354`, `550`, ...).
    pub code: u16,
    /// The text lines, without the code and without line ends.
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply: `code status text` (`250 2.0.0 OK`); `code text` when `status`
    /// is empty.
    pub fn new(code: u16, status: &str, text: &str) -> Self {
        if status.is_empty() {
            return Self::plain(code, text);
        }
        Self {
            code,
            lines: vec![format!("{status} {text}")],
        }
    }

    /// A [`super::Verdict::Reject`] as a reply. A refusal must be 4xx or 5xx (anything else
    /// would tell the client the mail was taken): other codes become `451 4.3.0`.
    pub fn refusal(code: u16, status: &str, text: &str) -> Self {
        if (400..600).contains(&code) {
            Self::new(code, status, text)
        } else {
            Self::new(451, "4.3.0", "Local error in processing")
        }
    }

    /// A one-line reply without an enhanced status code (the greeting and `354`, for
    /// which RFC 2034 defines none).
    pub fn plain(code: u16, text: &str) -> Self {
        Self {
            code,
            lines: vec![text.to_owned()],
        }
    }

    /// Whether the reply refuses something (4xx or 5xx).
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// The reply as it goes on the wire: `250-first` ... `250 last`, each ending in CRLF
    /// (RFC 5321 §4.2.1).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            out.extend_from_slice(format!("{}{sep}{line}\r\n", self.code).as_bytes());
        }
        if self.lines.is_empty() {
            out.extend_from_slice(format!("{}\r\n", self.code).as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form() {
        let cases = [
            (Reply::new(250, "2.0.0", "OK"), "250 2.0.0 OK\r\n"),
            (Reply::plain(354, "Go ahead"), "354 Go ahead\r\n"),
            (Reply::new(550, "", "No"), "550 No\r\n"),
            (Reply::refusal(550, "5.1.1", "No"), "550 5.1.1 No\r\n"),
            (
                Reply::refusal(250, "2.0.0", "OK"),
                "451 4.3.0 Local error in processing\r\n",
            ),
            (
                Reply {
                    code: 250,
                    lines: vec!["voxgate".into(), "SIZE 10".into()],
                },
                "250-voxgate\r\n250 SIZE 10\r\n",
            ),
            (
                Reply {
                    code: 250,
                    lines: vec![],
                },
                "250\r\n",
            ),
        ];
        for (reply, wire) in cases {
            assert_eq!(String::from_utf8_lossy(&reply.to_bytes()), wire);
        }
    }
}
