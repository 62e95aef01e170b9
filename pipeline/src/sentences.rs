//! Cuts the brain's streamed text into pieces the mouth can speak.
//!
//! Text-to-speech needs whole phrases to sound natural, but waiting for the brain to finish
//! would add its whole generation time to the reply latency. So text is cut at sentence ends
//! (`.`, `!`, `?`, `;`, `:` or a newline, followed by whitespace) as soon as one arrives, and
//! a long clause is cut at a comma, so the first audio can start after the first phrase.
//! Decimal points (`3.5`) and the like are not sentence ends: a terminator only counts once
//! the whitespace after it has arrived.

/// A comma ends a piece only when the piece is at least this long (characters).
const LONG_CLAUSE: usize = 60;

/// Accumulates streamed text and yields speakable pieces.
#[derive(Debug, Default, Clone)]
pub struct SentenceSplitter {
    buf: String,
}

impl SentenceSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds streamed text.
    pub fn push(&mut self, text: &str) {
        self.buf.push_str(text);
    }

    /// The next complete piece, trimmed, if one is ready.
    pub fn next_piece(&mut self) -> Option<String> {
        let cut = self.find_cut()?;
        let piece: String = self.buf.drain(..cut).collect();
        let piece = piece.trim();
        if piece.is_empty() {
            self.next_piece()
        } else {
            Some(piece.to_owned())
        }
    }

    /// Whatever is left at the end of the stream, trimmed; `None` if only whitespace.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buf);
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_owned())
    }

    /// Byte index just past a terminator that is followed by whitespace.
    fn find_cut(&self) -> Option<usize> {
        let mut chars = self.buf.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let next_is_space = chars.peek().is_some_and(|(_, n)| n.is_whitespace());
            let ends = match c {
                '\n' => true,
                '.' | '!' | '?' | ';' | ':' => next_is_space,
                ',' => next_is_space && i >= LONG_CLAUSE,
                _ => false,
            };
            if ends {
                return Some(i + c.len_utf8());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> Vec<String> {
        let mut s = SentenceSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c);
            while let Some(p) = s.next_piece() {
                out.push(p);
            }
        }
        out.extend(s.finish());
        out
    }

    #[test]
    fn table() {
        let table: &[(&[&str], &[&str])] = &[
            (
                &["Hello there. How", " are you?"],
                &["Hello there.", "How are you?"],
            ),
            (
                &["It costs 3", ".5 kronor. Ok"],
                &["It costs 3.5 kronor.", "Ok"],
            ),
            (&["Wait", "!", " ", "No"], &["Wait!", "No"]),
            (&["One\nTwo"], &["One", "Two"]),
            (&["short, clause. "], &["short, clause."]),
            (
                &["This is a rather long clause that goes on and on for a while, and then more"],
                &[
                    "This is a rather long clause that goes on and on for a while,",
                    "and then more",
                ],
            ),
            (&["  ", ". ", "   "], &["."]),
            (
                &["Smörgåsbord är gott. Ja!"],
                &["Smörgåsbord är gott.", "Ja!"],
            ),
        ];
        for (chunks, want) in table {
            assert_eq!(split(chunks), *want, "{chunks:?}");
        }
    }

    #[test]
    fn a_sentence_is_ready_before_the_stream_ends() {
        let mut s = SentenceSplitter::new();
        s.push("Sure. ");
        assert_eq!(s.next_piece().as_deref(), Some("Sure."));
        s.push("I can");
        assert_eq!(s.next_piece(), None);
    }
}
