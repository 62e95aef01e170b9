//! The message content after `DATA` (RFC 5321 §4.1.1.4, §4.5.2): lines up to the one that
//! is a single `.`, with dot-stuffing removed, stored with CRLF line ends.
//!
//! Bare LF line ends are tolerated (and stored as CRLF): many scripts send them. The
//! content is never buffered beyond the size limit: past it, the rest is read and dropped
//! so that the client's next command is found, and the message is refused with `552`.

/// How much of an unfinished line is held back before it is taken as content: enough for
/// any line end or terminator to be recognized, small enough that a 100 KB line without a
/// line end costs nothing.
const MAX_PARTIAL: usize = 4096;

/// How the content ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DataEnd {
    /// The message, within the limit.
    Complete(Vec<u8>),
    /// The message was larger than the limit; its content was dropped.
    TooBig,
}

/// Reads message content out of the session's input buffer.
#[derive(Debug)]
pub(crate) struct DataReader {
    max: usize,
    content: Vec<u8>,
    overflow: bool,
    /// Whether the next byte starts a line (where a `.` is either stuffing or the end).
    at_line_start: bool,
}

impl DataReader {
    /// A reader for a message of at most `max` bytes.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            content: Vec::new(),
            overflow: false,
            at_line_start: true,
        }
    }

    /// Takes content out of `input`; returns how it ended once the final `.` line was
    /// read (the bytes after it stay in `input`), `None` when more input is needed.
    pub(crate) fn feed(&mut self, input: &mut Vec<u8>) -> Option<DataEnd> {
        let mut pos = 0;
        let mut end = None;
        while let Some(nl) = input[pos..].iter().position(|&b| b == b'\n') {
            let line = &input[pos..pos + nl];
            pos += nl + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if self.at_line_start && line == b"." {
                end = Some(self.finish());
                break;
            }
            self.take(line);
            self.append(b"\r\n");
            self.at_line_start = true;
        }
        if end.is_none() && input.len() - pos > MAX_PARTIAL {
            // A long line: keep the last byte back, it may be the CR of a CRLF.
            let upto = input.len() - 1;
            let partial = input[pos..upto].to_vec();
            self.take(&partial);
            self.at_line_start = false;
            pos = upto;
        }
        input.drain(..pos);
        end
    }

    /// Appends a piece of a line, removing the stuffed dot at a line's start.
    fn take(&mut self, piece: &[u8]) {
        let piece = match piece.strip_prefix(b".") {
            Some(rest) if self.at_line_start => rest,
            _ => piece,
        };
        self.append(piece);
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        if self.content.len() + bytes.len() > self.max {
            self.overflow = true;
            self.content = Vec::new();
        } else {
            self.content.extend_from_slice(bytes);
        }
    }

    fn finish(&mut self) -> DataEnd {
        if self.overflow {
            DataEnd::TooBig
        } else {
            DataEnd::Complete(std::mem::take(&mut self.content))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` one after another; returns the end and what is left over.
    fn read(max: usize, chunks: &[&[u8]]) -> (Option<DataEnd>, Vec<u8>) {
        let mut reader = DataReader::new(max);
        let mut input = Vec::new();
        for chunk in chunks {
            input.extend_from_slice(chunk);
            if let Some(end) = reader.feed(&mut input) {
                return (Some(end), input);
            }
        }
        (None, input)
    }

    /// Input chunks, how the content ends, what is left over.
    type Case<'a> = (&'a [&'a [u8]], Option<DataEnd>, &'a [u8]);

    fn complete(bytes: &[u8]) -> Option<DataEnd> {
        Some(DataEnd::Complete(bytes.to_vec()))
    }

    #[test]
    fn content() {
        let long = [b'x'; 10_000];
        let long_line = [&long[..], b"\r\n.\r\n"].concat();
        let cases: &[Case<'_>] = &[
            (&[b"a\r\nb\r\n.\r\n"], complete(b"a\r\nb\r\n"), b""),
            (&[b".\r\n"], complete(b""), b""),
            (&[b"a\nb\n.\nQUIT\n"], complete(b"a\r\nb\r\n"), b"QUIT\n"),
            (&[b"..x\r\n...\r\n.\r\n"], complete(b".x\r\n..\r\n"), b""),
            (&[b"a\r", b"\n.", b"\r\n"], complete(b"a\r\n"), b""),
            (&[b"a.\r\n. \r\n.\r\n"], complete(b"a.\r\n \r\n"), b""),
            (&[b"no end\r\n"], None, b""),
            (&[b"a\r\n.\r\nQUIT\r\n"], complete(b"a\r\n"), b"QUIT\r\n"),
            (&[&long_line], complete(&[&long[..], b"\r\n"].concat()), b""),
            (
                &[&long[..5000], &long[5000..], b"\r\n.\r\n"],
                complete(&[&long[..], b"\r\n"].concat()),
                b"",
            ),
        ];
        for (chunks, end, rest) in cases {
            let (got, left) = read(1 << 20, chunks);
            assert_eq!(&got, end, "{chunks:?}");
            assert_eq!(&left, rest);
        }
    }

    #[test]
    fn a_dot_inside_a_long_line_is_content() {
        let mut line = vec![b'x'; 5000];
        line.extend_from_slice(b"\r\n");
        let (got, _) = read(1 << 20, &[&line[..4999], b"x\r\n.\r\n"]);
        assert_eq!(got, complete(&line));
    }

    #[test]
    fn over_the_limit_reads_to_the_end_and_keeps_nothing() {
        let (got, left) = read(10, &[b"0123456789\r\n", b"more\r\n.\r\nNOOP\r\n"]);
        assert_eq!(got, Some(DataEnd::TooBig));
        assert_eq!(left, b"NOOP\r\n");
        let (got, _) = read(12, &[b"0123456789\r\n.\r\n"]);
        assert_eq!(got, complete(b"0123456789\r\n"));
    }
}
