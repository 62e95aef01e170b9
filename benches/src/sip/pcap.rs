//! The caller's speech for `voxgate-bench sip`: the RTP payload of a libpcap capture
//! (SIPp's `g711a.pcap` by default), as one G.711 byte stream.
//!
//! SIPp's stock capture carries 30 ms packets, and voxgate takes 20 ms packets only (see
//! `docs/sip.md`): the harness therefore keeps the encoded speech and re-frames it, rather
//! than replaying the packets as they were captured.

use anyhow::Context as _;
use voxgate_media::rtp::RtpPacket;

/// Link types of the capture's packets (`LINKTYPE_*` in libpcap).
const LINK_NULL: u32 = 0;
const LINK_ETHERNET: u32 = 1;
const LINK_RAW: u32 = 101;
const LINK_LINUX_SLL: u32 = 113;
/// Ethernet type of IPv4, and of an 802.1Q VLAN tag in front of it.
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: u16 = 0x8100;
/// IP protocol number of UDP.
const IPPROTO_UDP: u8 = 17;

/// One capture's audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedAudio {
    /// The RTP payload type of its packets (8 for PCMA, 0 for PCMU).
    pub payload_type: u8,
    /// The payloads of the packets of that type, in capture order.
    pub bytes: Vec<u8>,
}

/// The RTP audio of a libpcap file's IPv4/UDP packets: those with the first RTP packet's
/// payload type, concatenated.
///
/// # Errors
///
/// When the file is not a libpcap capture of a known link type, or holds no RTP.
pub fn read(capture: &[u8]) -> anyhow::Result<CapturedAudio> {
    let header = capture.get(..24).context("not a pcap file: too short")?;
    let magic = u32_at(header, 0, true);
    let little = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        _ => anyhow::bail!("not a libpcap file (magic {magic:#010x})"),
    };
    let link = u32_at(header, 20, little);
    let mut audio: Option<CapturedAudio> = None;
    let mut offset = 24;
    while let Some(record) = capture.get(offset..offset + 16) {
        let len = u32_at(record, 8, little) as usize;
        let data = capture
            .get(offset + 16..offset + 16 + len)
            .context("truncated pcap record")?;
        offset += 16 + len;
        let Some(packet) = udp_payload(link, data).and_then(|p| RtpPacket::parse(p).ok()) else {
            continue;
        };
        let pt = packet.header.payload_type;
        let audio = audio.get_or_insert_with(|| CapturedAudio {
            payload_type: pt,
            bytes: Vec::new(),
        });
        if audio.payload_type == pt {
            audio.bytes.extend_from_slice(packet.payload);
        }
    }
    audio.context("no RTP in the capture")
}

fn u32_at(bytes: &[u8], at: usize, little: bool) -> u32 {
    let b: [u8; 4] = bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    if little {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }
}

/// The UDP payload of one captured frame, if it is IPv4/UDP.
fn udp_payload(link: u32, frame: &[u8]) -> Option<&[u8]> {
    let ip = match link {
        LINK_ETHERNET => {
            let mut at = 12;
            let mut ethertype = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
            if ethertype == ETHERTYPE_VLAN {
                at += 4;
                ethertype = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
            }
            (ethertype == ETHERTYPE_IPV4).then_some(frame.get(at + 2..)?)?
        }
        LINK_LINUX_SLL => frame.get(16..)?,
        LINK_NULL => frame.get(4..)?,
        LINK_RAW => frame,
        _ => return None,
    };
    let version_ihl = *ip.first()?;
    let ihl = usize::from(version_ihl & 0x0f) * 4;
    if version_ihl >> 4 != 4 || *ip.get(9)? != IPPROTO_UDP {
        return None;
    }
    let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
    let udp = ip.get(ihl..total.min(ip.len()))?;
    udp.get(8..)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian Ethernet capture of `packets` (each one RTP datagram).
    fn capture(packets: &[Vec<u8>]) -> Vec<u8> {
        // magic, version 2.4, zone, accuracy, snap length, link type.
        let mut out = 0xa1b2_c3d4u32.to_le_bytes().to_vec();
        out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&65535u32.to_le_bytes());
        out.extend_from_slice(&LINK_ETHERNET.to_le_bytes());
        for rtp in packets {
            let mut frame = vec![0u8; 12];
            frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
            let total = (20 + 8 + rtp.len()) as u16;
            let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, IPPROTO_UDP];
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip.resize(20, 0);
            frame.extend_from_slice(&ip);
            frame.extend_from_slice(&[0x1f, 0x40, 0x1f, 0x42, 0, 0, 0, 0]);
            frame.extend_from_slice(rtp);
            for v in [0u32, 0, frame.len() as u32, frame.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&frame);
        }
        out
    }

    fn rtp(pt: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7];
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn payloads_of_the_first_type_are_joined() {
        let file = capture(&[rtp(8, &[1, 2, 3]), rtp(101, &[9, 9, 9, 9]), rtp(8, &[4, 5])]);
        let audio = read(&file).expect("reads");
        assert_eq!(
            audio,
            CapturedAudio {
                payload_type: 8,
                bytes: vec![1, 2, 3, 4, 5]
            }
        );
    }

    #[test]
    fn bad_files_are_refused() {
        assert!(read(b"short").is_err());
        assert!(read(&[0u8; 40]).is_err());
        assert!(read(&capture(&[])).is_err(), "no RTP");
        let mut cut = capture(&[rtp(8, &[1, 2, 3])]);
        cut.truncate(cut.len() - 2);
        assert!(read(&cut).is_err(), "truncated record");
    }

    #[test]
    fn sipps_capture_is_20_ms_framable_alaw() {
        let Ok(file) = std::fs::read("/usr/share/sip-tester/g711a.pcap") else {
            return; // SIPp's captures are not installed here.
        };
        let audio = read(&file).expect("reads");
        assert_eq!(audio.payload_type, 8);
        assert!(audio.bytes.len() > 8000 * 5, "{} bytes", audio.bytes.len());
    }
}
