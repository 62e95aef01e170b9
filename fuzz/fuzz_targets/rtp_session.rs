//! The RTP session takes any datagram on its RTP and RTCP ports without panicking, and
//! RTCP compound parsing never panics.

#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use voxgate_media::rtp::Ssrc;
use voxgate_sip::codec::{AudioCodec, Direction, MediaParams};
use voxgate_sip::rtp::rtcp::Compound;
use voxgate_sip::rtp::{RtpConfig, RtpSession};

fuzz_target!(|data: &[u8]| {
    if let Ok(compound) = Compound::parse(data) {
        for _ in compound.packets() {}
    }
    let params = MediaParams {
        codec: AudioCodec::Pcmu,
        payload_type: 0,
        dtmf_payload_type: Some(101),
        ptime_ms: 20,
        remote: "127.0.0.1:4000".parse().expect("addr"),
        direction: Direction::SendRecv,
    };
    let now = Instant::now();
    let mut session = RtpSession::new(RtpConfig::default(), &params, Ssrc(7), 1, 1, now)
        .expect("session");
    let from = "127.0.0.1:4000".parse().expect("addr");
    let mut buf = [0u8; 1500];
    for (i, chunk) in data.chunks(172).enumerate() {
        let at = now + Duration::from_millis(20 * i as u64);
        session.handle_rtp(at, from, chunk);
        session.handle_rtcp(at, from, chunk);
        session.handle_timeout(at);
        while let Some(event) = session.poll_event() {
            if let voxgate_sip::rtp::RtpEvent::CallerAudio(frame) = event {
                session.recycle(frame);
            }
        }
        while session.poll_transmit(at, &mut buf).is_some() {}
    }
});
