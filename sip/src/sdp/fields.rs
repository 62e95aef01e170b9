//! One parser per line type: the value of `o=`, `c=`, `m=` and `a=` lines (RFC 4566 §5).
//! Each returns the kind of refusal; the line-by-line reader adds the line number.

use std::net::IpAddr;
use std::str::FromStr;

use super::description::{
    AddressType, Attribute, Connection, MediaDescription, Origin, Rtcp, RtpMap,
};
use super::{MAX_FORMATS, SdpErrorKind};
use crate::codec::Direction;

/// Whether a token is decimal digits only (no sign, no spaces, not empty).
fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A number written as decimal digits only.
fn number<T: FromStr>(text: &str) -> Option<T> {
    is_digits(text).then(|| text.parse().ok()).flatten()
}

/// `<username> <sess-id> <sess-version> IN IP4|IP6 <address>` (RFC 4566 §5.2).
pub(super) fn parse_origin(value: &str) -> Result<Origin, SdpErrorKind> {
    let bad = SdpErrorKind::BadOrigin;
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [username, session_id, version, net, addr_type, address] = fields.as_slice() else {
        return Err(bad);
    };
    if !is_digits(session_id) || !net.eq_ignore_ascii_case("IN") {
        return Err(bad);
    }
    Ok(Origin {
        username: (*username).to_owned(),
        session_id: (*session_id).to_owned(),
        session_version: number(version).ok_or(bad)?,
        address_type: address_type(addr_type).ok_or(bad)?,
        address: (*address).to_owned(),
    })
}

fn address_type(text: &str) -> Option<AddressType> {
    if text.eq_ignore_ascii_case("IP4") {
        Some(AddressType::Ip4)
    } else if text.eq_ignore_ascii_case("IP6") {
        Some(AddressType::Ip6)
    } else {
        None
    }
}

/// `IN IP4|IP6 <address>` (the value of `c=`, and the tail of `a=rtcp`).
pub(super) fn parse_connection(value: &str) -> Option<Connection> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let [net, addr_type, address] = fields.as_slice() else {
        return None;
    };
    if !net.eq_ignore_ascii_case("IN") {
        return None;
    }
    let address: IpAddr = address.parse().ok()?;
    // Multicast (and its `/ttl` suffix, which does not parse) is not for a phone call.
    if address_type(addr_type)? != AddressType::of(address) || address.is_multicast() {
        return None;
    }
    Some(Connection { address })
}

/// `<media> <port>[/<count>] <proto> <fmt> ...`; an empty format list is accepted because
/// some peers write rejected streams that way.
pub(super) fn parse_media(value: &str) -> Result<MediaDescription, SdpErrorKind> {
    let bad = SdpErrorKind::BadMedia;
    let mut fields = value.split_whitespace();
    let (Some(media), Some(port), Some(proto)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(bad);
    };
    let (port, count) = match port.split_once('/') {
        Some((port, count)) => (port, Some(number(count).ok_or(bad)?)),
        None => (port, None),
    };
    let mut section = MediaDescription::new(media, number(port).ok_or(bad)?, proto);
    section.port_count = count;
    let rtp = section.is_rtp();
    for format in fields {
        if section.formats.len() >= MAX_FORMATS {
            return Err(SdpErrorKind::TooManyFormats);
        }
        let format = if rtp {
            payload_type(format).ok_or(bad)?.to_string()
        } else {
            format.to_owned()
        };
        section.formats.push(format);
    }
    Ok(section)
}

/// An RTP payload type, 0..=127.
fn payload_type(text: &str) -> Option<u8> {
    number::<u8>(text).filter(|pt| *pt <= 127)
}

/// `<name>[:<value>]` (RFC 4566 §5.13).
pub(super) fn split_attribute(value: &str) -> Attribute {
    match value.split_once(':') {
        Some((name, value)) => Attribute {
            name: name.to_owned(),
            value: Some(value.to_owned()),
        },
        None => Attribute {
            name: value.to_owned(),
            value: None,
        },
    }
}

/// The direction an attribute name sets, if it is one of the four (RFC 4566 §6).
pub(super) fn direction(name: &str) -> Option<Direction> {
    [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ]
    .into_iter()
    .find(|d| name.eq_ignore_ascii_case(d.attribute()))
}

/// Files a media-level attribute. `a=rtpmap` and `a=fmtp` for a numeric payload type
/// must be well formed (they say what the call carries); a `ptime`, `maxptime` or `rtcp`
/// value that does not parse is only a hint lost, so the attribute is kept as it came.
pub(super) fn media_attribute(
    media: &mut MediaDescription,
    attribute: Attribute,
) -> Result<(), SdpErrorKind> {
    if let Some(direction) = direction(&attribute.name) {
        media.direction = Some(direction);
        return Ok(());
    }
    let name = attribute.name.to_ascii_lowercase();
    let value = attribute.value.as_deref().unwrap_or_default().trim();
    let (format, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .map_or((value, ""), |(f, r)| (f, r.trim()));
    let numbered = is_digits(format);
    let filed = match name.as_str() {
        "rtpmap" if numbered => {
            let pt = payload_type(format).ok_or(SdpErrorKind::BadAttribute)?;
            let map = parse_rtpmap(rest).ok_or(SdpErrorKind::BadAttribute)?;
            media.rtpmap.insert(pt, map);
            true
        }
        "fmtp" if numbered => {
            let pt = payload_type(format).ok_or(SdpErrorKind::BadAttribute)?;
            media.fmtp.insert(pt, rest.to_owned());
            true
        }
        "ptime" => store(number(value), &mut media.ptime),
        "maxptime" => store(number(value), &mut media.maxptime),
        "rtcp" => store(parse_rtcp(value), &mut media.rtcp),
        _ => false,
    };
    if !filed {
        media.attributes.push(attribute);
    }
    Ok(())
}

/// Puts a parsed value in its slot; false when it did not parse.
fn store<T>(value: Option<T>, slot: &mut Option<T>) -> bool {
    let parsed = value.is_some();
    if parsed {
        *slot = value;
    }
    parsed
}

/// `<encoding>/<clock>[/<channels>]`.
fn parse_rtpmap(text: &str) -> Option<RtpMap> {
    let mut parts = text.split('/');
    let encoding = parts
        .next()
        .filter(|e| !e.is_empty() && !e.chars().any(char::is_whitespace))?;
    let clock_rate = parts.next().and_then(number).filter(|rate| *rate > 0)?;
    let channels = match parts.next() {
        Some(channels) => Some(number(channels)?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        encoding: encoding.to_owned(),
        clock_rate,
        channels,
    })
}

/// `<port> [IN IP4|IP6 <address>]` (RFC 3605).
fn parse_rtcp(value: &str) -> Option<Rtcp> {
    let (port, rest) = value
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((value, ""));
    let connection = match rest.trim() {
        "" => None,
        rest => Some(parse_connection(rest)?),
    };
    Some(Rtcp {
        port: number(port)?,
        connection,
    })
}
