//! The parser: text to [`SessionDescription`] (RFC 4566 §5), lenient in form, strict in
//! the lines a call depends on. See the [module docs](super) for what is refused.

use super::description::{
    Attribute, Connection, Line, MediaDescription, Origin, SessionDescription,
};
use super::fields::{
    direction, media_attribute, parse_connection, parse_media, parse_origin, split_attribute,
};
use super::{MAX_MEDIA, MAX_SDP_LEN, SdpErrorKind};
use crate::SipError;
use crate::codec::Direction;

impl SessionDescription {
    /// Parses a description. Lines may end in `\n` or `\r\n`; blank lines and whitespace
    /// around values are ignored; unknown lines and attributes are kept.
    pub fn parse(text: &str) -> Result<Self, SipError> {
        if text.len() > MAX_SDP_LEN {
            return Err(SdpErrorKind::TooLarge.at(0));
        }
        let mut builder = Builder::default();
        for (index, raw) in text.split('\n').enumerate() {
            let number = u32::try_from(index.saturating_add(1)).unwrap_or(u32::MAX);
            builder.line_number = number;
            builder.line(raw).map_err(|kind| kind.at(number))?;
        }
        builder.finish()
    }

    /// Parses a description from bytes, refusing bytes that are not UTF-8 with
    /// [`SdpErrorKind::NotUtf8`] at the line of the first bad byte.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, SipError> {
        if bytes.len() > MAX_SDP_LEN {
            return Err(SdpErrorKind::TooLarge.at(0));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(e) => {
                let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let newlines = before.iter().filter(|b| **b == b'\n').count();
                let line = u32::try_from(newlines.saturating_add(1)).unwrap_or(u32::MAX);
                Err(SdpErrorKind::NotUtf8.at(line))
            }
        }
    }
}

/// The description as it is read, line by line.
#[derive(Default)]
struct Builder {
    /// The 1-based number of the line being read.
    line_number: u32,
    seen_version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    connection: Option<Connection>,
    direction: Option<Direction>,
    lines: Vec<Line>,
    attributes: Vec<Attribute>,
    media: Vec<MediaDescription>,
    /// The line number of each `m=` line, for errors found after the section is read.
    media_lines: Vec<u32>,
}

impl Builder {
    /// Reads one raw line (without its `\n`).
    fn line(&mut self, raw: &str) -> Result<(), SdpErrorKind> {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.chars().any(|c| c.is_control() && c != '\t') {
            return Err(SdpErrorKind::BadCharacter);
        }
        let text = raw.trim();
        if text.is_empty() {
            return Ok(());
        }
        let (kind, value) = split_type(text).ok_or(SdpErrorKind::BadLine)?;
        if !self.seen_version {
            if kind != 'v' {
                return Err(SdpErrorKind::MissingVersion);
            }
            if value != "0" {
                return Err(SdpErrorKind::BadVersion);
            }
            self.seen_version = true;
            return Ok(());
        }
        self.typed_line(kind, value)
    }

    /// Reads a line after `v=0`.
    fn typed_line(&mut self, kind: char, value: &str) -> Result<(), SdpErrorKind> {
        match kind {
            'v' => Err(SdpErrorKind::DuplicateLine),
            'o' if self.origin.is_some() => Err(SdpErrorKind::DuplicateLine),
            'o' => {
                self.origin = Some(parse_origin(value)?);
                Ok(())
            }
            's' if self.session_name.is_some() => Err(SdpErrorKind::DuplicateLine),
            's' => {
                self.session_name = Some(value.to_owned());
                Ok(())
            }
            'c' => self.connection_line(value),
            'm' => self.media_line(value),
            'a' => {
                let attribute = split_attribute(value);
                match self.media.last_mut() {
                    Some(media) => media_attribute(media, attribute),
                    None => {
                        self.session_attribute(attribute);
                        Ok(())
                    }
                }
            }
            _ => {
                let line = Line {
                    kind,
                    value: value.to_owned(),
                };
                match self.media.last_mut() {
                    Some(media) => media.lines.push(line),
                    None => self.lines.push(line),
                }
                Ok(())
            }
        }
    }

    fn connection_line(&mut self, value: &str) -> Result<(), SdpErrorKind> {
        let connection = parse_connection(value).ok_or(SdpErrorKind::BadConnection)?;
        let slot = match self.media.last_mut() {
            Some(media) => &mut media.connection,
            None => &mut self.connection,
        };
        if slot.is_some() {
            return Err(SdpErrorKind::DuplicateLine);
        }
        *slot = Some(connection);
        Ok(())
    }

    fn media_line(&mut self, value: &str) -> Result<(), SdpErrorKind> {
        if self.origin.is_none() {
            return Err(SdpErrorKind::MissingOrigin);
        }
        if self.media.len() >= MAX_MEDIA {
            return Err(SdpErrorKind::TooManyMedia);
        }
        self.media.push(parse_media(value)?);
        self.media_lines.push(self.line_number);
        Ok(())
    }

    fn session_attribute(&mut self, attribute: Attribute) {
        match direction(&attribute.name) {
            Some(direction) => self.direction = Some(direction),
            None => self.attributes.push(attribute),
        }
    }

    /// Checks what can only be checked once every line is read and builds the description.
    fn finish(mut self) -> Result<SessionDescription, SipError> {
        if !self.seen_version {
            return Err(SdpErrorKind::MissingVersion.at(0));
        }
        let origin = self.origin.ok_or(SdpErrorKind::MissingOrigin.at(0))?;
        for (media, line) in self.media.iter().zip(&self.media_lines) {
            if media.port != 0 && media.connection.or(self.connection).is_none() {
                return Err(SdpErrorKind::MissingConnection.at(*line));
            }
        }
        // RFC 4566 §5 requires a `t=` line; peers that forget it mean "unbounded".
        if !self.lines.iter().any(|line| line.kind == 't') {
            self.lines.push(Line {
                kind: 't',
                value: "0 0".to_owned(),
            });
        }
        // The writer emits lines in RFC 4566 order; sorting here keeps parse(write(d)) == d.
        self.lines.sort_by_key(|line| session_rank(line.kind));
        for media in &mut self.media {
            media.lines.sort_by_key(|line| media_rank(line.kind));
        }
        let session_name = self.session_name.filter(|name| !name.is_empty());
        Ok(SessionDescription {
            origin,
            session_name: session_name.unwrap_or_else(|| "-".to_owned()),
            connection: self.connection,
            direction: self.direction,
            lines: self.lines,
            attributes: self.attributes,
            media: self.media,
        })
    }
}

/// Where a session-level line goes in RFC 4566 §5 order; below [`SESSION_RANK_C`] it
/// comes before the `c=` line.
pub(super) fn session_rank(kind: char) -> u8 {
    match kind {
        'i' => 0,
        'u' => 1,
        'e' => 2,
        'p' => 3,
        'b' => 4,
        't' | 'r' => 5,
        'z' => 6,
        'k' => 7,
        _ => 8,
    }
}

/// Session-level lines ranked below this come before `c=`.
pub(super) const SESSION_RANK_C: u8 = 4;

/// Where a media-level line goes in RFC 4566 §5 order; rank 0 (`i=`) comes before `c=`.
pub(super) fn media_rank(kind: char) -> u8 {
    match kind {
        'i' => 0,
        'b' => 1,
        'k' => 2,
        _ => 3,
    }
}

/// `x=value` as its type letter and trimmed value.
fn split_type(text: &str) -> Option<(char, &str)> {
    let (kind, value) = text.split_once('=')?;
    let mut chars = kind.chars();
    match (chars.next(), chars.next()) {
        (Some(kind), None) if kind.is_ascii_alphabetic() => Some((kind, value.trim())),
        _ => None,
    }
}
