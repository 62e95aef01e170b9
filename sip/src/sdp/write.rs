//! The writer: canonical SDP in RFC 4566 §5 line order, single spaces, `\r\n` line ends.
//!
//! Modelled attributes are written before the kept ones: in each media section the
//! `a=rtpmap`/`a=fmtp` pair of each format in `m=` order, then `a=ptime`, `a=maxptime`,
//! `a=rtcp` and the direction. The parser files them back in the same fields, so a parsed
//! description survives a write and a parse unchanged.

use std::collections::BTreeSet;
use std::fmt::{self, Display, Formatter};

use super::description::{Attribute, Connection, Line, MediaDescription, SessionDescription};
use super::parse::{SESSION_RANK_C, media_rank, session_rank};

impl Display for SessionDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        f.write_str("v=0\r\n")?;
        write!(
            f,
            "o={} {} {} IN {} {}\r\n",
            o.username,
            o.session_id,
            o.session_version,
            o.address_type.as_str(),
            o.address
        )?;
        write!(f, "s={}\r\n", non_empty(&self.session_name))?;
        let lines = sorted(&self.lines, session_rank);
        let (before_c, after_c): (Vec<&Line>, Vec<&Line>) = lines
            .into_iter()
            .partition(|line| session_rank(line.kind) < SESSION_RANK_C);
        write_lines(f, &before_c)?;
        if let Some(connection) = self.connection {
            write!(f, "c={connection}\r\n")?;
        }
        write_after_c(f, &after_c)?;
        if let Some(direction) = self.direction {
            write!(f, "a={}\r\n", direction.attribute())?;
        }
        for attribute in &self.attributes {
            write!(f, "{attribute}")?;
        }
        for media in &self.media {
            write!(f, "{media}")?;
        }
        Ok(())
    }
}

/// The session lines after `c=`, with `t=0 0` in its place if a hand-built description
/// has no `t=` line (RFC 4566 §5 makes one mandatory).
fn write_after_c(f: &mut Formatter<'_>, lines: &[&Line]) -> fmt::Result {
    let t_rank = session_rank('t');
    let mut has_t = lines.iter().any(|line| line.kind == 't');
    for line in lines {
        if !has_t && session_rank(line.kind) > t_rank {
            f.write_str("t=0 0\r\n")?;
            has_t = true;
        }
        write!(f, "{}={}\r\n", line.kind, line.value)?;
    }
    if !has_t {
        f.write_str("t=0 0\r\n")?;
    }
    Ok(())
}

impl Display for MediaDescription {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.proto)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        let lines = sorted(&self.lines, media_rank);
        let (before_c, after_c): (Vec<&Line>, Vec<&Line>) = lines
            .into_iter()
            .partition(|line| media_rank(line.kind) == 0);
        write_lines(f, &before_c)?;
        if let Some(connection) = self.connection {
            write!(f, "c={connection}\r\n")?;
        }
        write_lines(f, &after_c)?;
        self.write_formats(f)?;
        if let Some(ptime) = self.ptime {
            write!(f, "a=ptime:{ptime}\r\n")?;
        }
        if let Some(maxptime) = self.maxptime {
            write!(f, "a=maxptime:{maxptime}\r\n")?;
        }
        if let Some(rtcp) = self.rtcp {
            write!(f, "a=rtcp:{}", rtcp.port)?;
            if let Some(connection) = rtcp.connection {
                write!(f, " {connection}")?;
            }
            f.write_str("\r\n")?;
        }
        if let Some(direction) = self.direction {
            write!(f, "a={}\r\n", direction.attribute())?;
        }
        for attribute in &self.attributes {
            write!(f, "{attribute}")?;
        }
        Ok(())
    }
}

impl MediaDescription {
    /// `a=rtpmap` then `a=fmtp` per payload type: first those on the `m=` line in its
    /// order, then any the peer described without listing them.
    fn write_formats(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let listed = self.payload_types();
        let unlisted = self.rtpmap.keys().chain(self.fmtp.keys()).copied();
        let mut written = BTreeSet::new();
        for pt in listed.chain(unlisted.collect::<BTreeSet<u8>>()) {
            if !written.insert(pt) {
                continue;
            }
            if let Some(map) = self.rtpmap.get(&pt) {
                write!(f, "a=rtpmap:{pt} {}/{}", map.encoding, map.clock_rate)?;
                if let Some(channels) = map.channels {
                    write!(f, "/{channels}")?;
                }
                f.write_str("\r\n")?;
            }
            match self.fmtp.get(&pt).map(String::as_str) {
                Some("") => write!(f, "a=fmtp:{pt}\r\n")?,
                Some(params) => write!(f, "a=fmtp:{pt} {params}\r\n")?,
                None => {}
            }
        }
        Ok(())
    }
}

impl Display for Connection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let kind = super::AddressType::of(self.address).as_str();
        write!(f, "IN {kind} {}", self.address)
    }
}

impl Display for Attribute {
    /// The whole `a=` line with its `\r\n`.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "a={}:{value}\r\n", self.name),
            None => write!(f, "a={}\r\n", self.name),
        }
    }
}

fn write_lines(f: &mut Formatter<'_>, lines: &[&Line]) -> fmt::Result {
    for line in lines {
        write!(f, "{}={}\r\n", line.kind, line.value)?;
    }
    Ok(())
}

/// The lines in RFC 4566 order, keeping their relative order within a rank.
fn sorted(lines: &[Line], rank: fn(char) -> u8) -> Vec<&Line> {
    let mut lines: Vec<&Line> = lines.iter().collect();
    lines.sort_by_key(|line| rank(line.kind));
    lines
}

fn non_empty(text: &str) -> &str {
    if text.is_empty() { "-" } else { text }
}
