//! A sans-IO parser of server-sent events (the WHATWG `text/event-stream` format): bytes in
//! as they arrive, in chunks cut anywhere, the `data` of each complete event out.
//!
//! Lines end in LF, CRLF or CR (a CRLF split between two chunks counts once). A blank line
//! dispatches the event; `data:` lines are joined with `\n` (one space after the colon is
//! dropped); comments (`:`) and the fields `event`, `id` and `retry` are ignored, which is
//! all a chat-completions stream needs. Unlike the spec, an event not closed by a blank line
//! when the stream ends is still dispatched by [`SseParser::finish`]: some servers omit it.

use std::collections::VecDeque;

/// Splits a byte stream into server-sent events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// The incomplete line at the end of what was pushed.
    line: Vec<u8>,
    /// The previous chunk ended in CR: an LF starting the next one is part of that CRLF.
    after_cr: bool,
    /// The event being collected.
    data: String,
    /// Whether the event being collected has a `data` field (possibly empty).
    has_data: bool,
    /// Complete events not yet taken.
    events: VecDeque<String>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Takes the next `bytes` of the stream.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        if let Some(&first) = rest.first().filter(|_| self.after_cr) {
            if first == b'\n' {
                rest = &rest[1..];
            }
            self.after_cr = false;
        }
        while let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            self.end_line();
            let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
            if rest[end] == b'\r' && end + 1 == rest.len() {
                self.after_cr = true;
            }
            rest = &rest[end + 1 + usize::from(crlf)..];
        }
        self.line.extend_from_slice(rest);
    }

    /// Ends the stream: a last line and event without their terminators are kept.
    pub(crate) fn finish(&mut self) {
        if !self.line.is_empty() {
            self.end_line();
        }
        self.dispatch();
    }

    /// The `data` of the next complete event, oldest first.
    pub(crate) fn poll_event(&mut self) -> Option<String> {
        self.events.pop_front()
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = String::from_utf8_lossy(&line);
        if line.is_empty() {
            self.dispatch();
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        // An empty field name is a comment; other fields do not matter here.
        if field == "data" {
            if self.has_data {
                self.data.push('\n');
            }
            self.data.push_str(value);
            self.has_data = true;
        }
    }

    fn dispatch(&mut self) {
        if self.has_data {
            self.events.push_back(std::mem::take(&mut self.data));
            self.has_data = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_of(chunks: &[&[u8]]) -> Vec<String> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            events.extend(std::iter::from_fn(|| parser.poll_event()));
        }
        parser.finish();
        events.extend(std::iter::from_fn(|| parser.poll_event()));
        events
    }

    const STREAM: &str = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\nid: 7\ndata: line1\ndata:line2\n\n\
                          data: caf\u{e9} \u{1f600}\n\ndata: [DONE]\n\n";
    const EVENTS: [&str; 4] = ["{\"a\":1}", "line1\nline2", "caf\u{e9} \u{1f600}", "[DONE]"];

    #[test]
    fn parses_a_whole_stream() {
        assert_eq!(events_of(&[STREAM.as_bytes()]), EVENTS);
    }

    #[test]
    fn same_events_for_every_split_into_two_chunks() {
        let bytes = STREAM.as_bytes();
        for split in 0..=bytes.len() {
            let (a, b) = bytes.split_at(split);
            assert_eq!(events_of(&[a, b]), EVENTS, "split at {split}");
        }
    }

    #[test]
    fn same_events_fed_byte_by_byte() {
        let chunks: Vec<&[u8]> = STREAM.as_bytes().chunks(1).collect();
        assert_eq!(events_of(&chunks), EVENTS);
    }

    #[test]
    fn crlf_and_cr_line_endings_even_when_split() {
        let crlf = STREAM.replace('\n', "\r\n");
        let cr = STREAM.replace('\n', "\r");
        for text in [crlf, cr] {
            let bytes = text.as_bytes();
            for split in 0..=bytes.len() {
                let (a, b) = bytes.split_at(split);
                assert_eq!(events_of(&[a, b]), EVENTS, "{text:?} split at {split}");
            }
        }
    }

    #[test]
    fn table_of_edge_cases() {
        let cases: [(&str, &[&str]); 6] = [
            ("data\n\n", &[""]),
            ("data:  two spaces\n\n", &[" two spaces"]),
            ("event: only\n\n", &[]),
            ("data: unterminated", &["unterminated"]),
            ("data: a\n\n\n\ndata: b\n\n", &["a", "b"]),
            (":comment\ndata: x\n:more\n\n", &["x"]),
        ];
        for (text, expected) in cases {
            assert_eq!(events_of(&[text.as_bytes()]), expected, "{text:?}");
        }
    }
}
