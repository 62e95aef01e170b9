//! Offers as real peers write them (addresses and ids changed), one constant each.
//! Written with `\n`; [`crlf`](super::crlf) gives the `\r\n` form peers put on the wire.

/// baresip 3.x: Opus first, a `b=` line, an SSRC and rtcp-rsize it does not need answered.
pub(super) const BARESIP: &str = "v=0
o=- 1707301251 3410716931 IN IP4 192.168.1.50
s=-
c=IN IP4 192.168.1.50
t=0 0
m=audio 10266 RTP/AVP 96 0 8 101
b=AS:64
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=ssrc:3024564110 cname:4c1e2d3a-7f5e-4a8b-9c1d-2e3f4a5b6c7d
a=rtcp-rsize
a=ptime:20
";

/// sipp's built-in `uac_pcap` scenario, keywords substituted as sipp does (`\n` only).
pub(super) const SIPP_UAC_PCAP: &str = "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
";

/// Asterisk 20 (chan_pjsip): G.711 first, then GSM and Opus.
pub(super) const ASTERISK: &str = "v=0
o=- 1637235553 1637235555 IN IP4 10.0.0.5
s=Asterisk
c=IN IP4 10.0.0.5
t=0 0
m=audio 17632 RTP/AVP 0 8 3 111 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:3 GSM/8000
a=rtpmap:111 opus/48000/2
a=fmtp:111 useinbandfec=1
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
";

/// A Cisco CUBE-style offer: codecs voxgate lacks first, Opus on 114, G.711 later, and
/// session-level `b=` lines between `c=` and `t=`; the media `c=` overrides the session's.
pub(super) const CISCO: &str = "v=0
o=CiscoSystemsSIP-GW-UserAgent 2817 5627 IN IP4 172.16.1.10
s=SIP Call
c=IN IP4 172.16.1.10
b=TIAS:64000
b=AS:64
t=0 0
m=audio 24580 RTP/AVP 9 124 114 0 8 116 18 101 19
c=IN IP4 172.16.1.20
b=TIAS:64000
a=rtpmap:9 G722/8000
a=rtpmap:124 ISAC/16000
a=rtpmap:114 opus/48000/2
a=fmtp:114 maxplaybackrate=16000;sprop-maxcapturerate=16000;maxaveragebitrate=64000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:116 iLBC/8000
a=fmtp:116 mode=20
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtpmap:19 CN/8000
a=ptime:20
a=rtcp:24581
";

/// A softphone offering video first, then audio with its own `c=`.
pub(super) const VIDEO_AND_AUDIO: &str = "v=0
o=linphone 3317 1840 IN IP4 192.0.2.7
s=Talk
c=IN IP4 192.0.2.7
t=0 0
a=ice-pwd:4ce5bd1e9d5d1a7a
m=video 9078 RTP/AVP 96 97
a=rtpmap:96 VP8/90000
a=rtpmap:97 H264/90000
a=fmtp:97 profile-level-id=42801F
a=rtcp-fb:* nack pli
m=audio 7078 RTP/AVP 0 8 101
c=IN IP4 192.0.2.8
a=rtpmap:101 telephone-event/8000
";

/// An SRTP-only offer (SDES): nothing voxgate can take.
pub(super) const SAVP_ONLY: &str = "v=0
o=- 20518 0 IN IP4 203.0.113.1
s=-
c=IN IP4 203.0.113.1
t=0 0
m=audio 16000 RTP/SAVP 0 8 101
a=rtpmap:101 telephone-event/8000
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
";

/// A best-effort SRTP offer: the secure stream first, the plain one second.
pub(super) const SAVP_THEN_AVP: &str = "v=0
o=- 20518 0 IN IP4 203.0.113.1
s=-
c=IN IP4 203.0.113.1
t=0 0
m=audio 16000 RTP/SAVP 0 101
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR
a=rtpmap:101 telephone-event/8000
m=audio 16002 RTP/AVP 0 101
a=rtpmap:101 telephone-event/8000
";

/// Asterisk putting the call on hold: a re-INVITE with `a=sendonly`.
pub(super) const HOLD_SENDONLY: &str = "v=0
o=- 1637235553 1637235556 IN IP4 10.0.0.5
s=Asterisk
c=IN IP4 10.0.0.5
t=0 0
m=audio 17632 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=ptime:20
a=sendonly
";

/// The RFC 2543 hold still sent by old gateways: `c=0.0.0.0`, no direction attribute.
pub(super) const HOLD_ZERO_ADDRESS: &str = "v=0
o=gw 1 2 IN IP4 198.51.100.9
s=-
c=IN IP4 0.0.0.0
t=0 0
m=audio 5004 RTP/AVP 8
";

/// Hold with `a=inactive` at session level.
pub(super) const HOLD_INACTIVE: &str = "v=0
o=- 7 8 IN IP4 198.51.100.9
s=-
c=IN IP4 198.51.100.9
t=0 0
a=inactive
m=audio 5004 RTP/AVP 0
";

/// A WebRTC-style offer over an IPv6 address with `RTP/AVPF`, which voxgate takes.
pub(super) const AVPF_IPV6: &str = "v=0
o=- 4611731400430051336 2 IN IP6 2001:db8::1
s=-
c=IN IP6 2001:db8::1
t=0 0
m=audio 40000 RTP/AVPF 111 0
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=recvonly
";

/// Offers voxgate has nothing for: a G.729-only stream, and an image (T.38) stream.
pub(super) const G729_AND_T38: &str = "v=0
o=- 1 1 IN IP4 198.51.100.2
s=-
c=IN IP4 198.51.100.2
t=0 0
m=audio 4000 RTP/AVP 18
a=rtpmap:18 G729/8000
m=image 4002 udptl t38
a=T38FaxVersion:0
";
