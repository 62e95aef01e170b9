//! Fixed, seeded call workloads for instruction counting (`scripts/bench instructions`).
//!
//! Each workload is one call-minute of the per-call hot path on a virtual clock, with the
//! same input every time, so that `valgrind --tool=callgrind` counts the same instructions
//! on an idle machine and a busy one:
//!
//! - [`Workload::ElksG711`]: the 46elks leg as the call task runs it: caller `audio`
//!   messages (μ-law, base64 JSON) through the sans-IO [`Session`], 8 -> 16 kHz, VAD chunks
//!   (earshot), the [`TurnController`]; at each end of turn a 1.5 s reply streamed back
//!   through the session (paced by its buffer cap, μ-law encoded, base64 JSON), and barge-in
//!   when the caller speaks over it.
//! - [`Workload::SipRtp`]: the SIP leg's media: RTP datagrams parsed, through the jitter
//!   buffer (G.711 decode), resampled, VAD and turn taking; the reply encoded and
//!   packetized as RTP.
//! - [`Workload::MediaFrame`]: the per-frame media primitives alone: decode, resample up
//!   and back down, encode.
//!
//! The caller speaks real recorded speech (the Asterisk prompts `scripts/setup` installs)
//! with pauses between prompts. Inputs are prepared before the measured function runs;
//! the runner counts only inside it (`--toggle-collect`), so the figures are the hot path's.
//!
//! These compose the call task's stages in its order; the task itself reads the wall
//! clock, so it cannot run on a virtual clock until it is a sans-IO core (the call-core
//! issue), when the ElksG711 workload will drive that core instead.

use std::hint::black_box;
use std::time::{Duration, Instant};

use voxgate_bridge::{Event, Format, Input, Output, Session, SessionConfig};
use voxgate_media::SampleRate;
use voxgate_media::g711::Law;
use voxgate_media::jitter::{JitterBuffer, JitterConfig, PayloadDecoder};
use voxgate_media::resample::Resampler;
use voxgate_media::rtp::{RtpHeader, RtpPacket, Ssrc};
use voxgate_pipeline::engines::EarshotVadFactory;
use voxgate_pipeline::providers::{Vad, VadFactory};
use voxgate_pipeline::turn::{TurnConfig, TurnController, TurnOutput};

/// One call-minute of 20 ms frames.
pub const FRAMES: usize = 3000;
/// The call-seconds each workload stands for.
pub const CALL_SECONDS: u64 = 60;
const FRAME: Duration = Duration::from_millis(20);
/// Samples in a 20 ms frame at 8 kHz.
const FRAME_8K: usize = 160;
/// The agent's reply: 1.5 s.
const REPLY_FRAMES: usize = 75;

/// A workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// The 46elks leg, G.711 both ways.
    ElksG711,
    /// The SIP leg's RTP media, G.711.
    SipRtp,
    /// The per-frame media primitives.
    MediaFrame,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Self; 3] = [Self::ElksG711, Self::SipRtp, Self::MediaFrame];

    /// The name in reports and the baseline.
    pub fn name(self) -> &'static str {
        match self {
            Self::ElksG711 => "elks-g711",
            Self::SipRtp => "sip-rtp",
            Self::MediaFrame => "media-frame",
        }
    }
}

/// A deliberate per-frame regression, for showing what the gate catches.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Regression {
    /// None: the hot path as it is.
    #[default]
    None,
    /// One extra heap copy of every caller frame (costs about 0.1-0.4 %: below the gate).
    Copy,
    /// Every caller frame resampled twice (the classic double-conversion bug).
    Resample,
}

/// What a run did, to show it exercised the whole path (and to keep it from being
/// optimized away).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Caller frames processed.
    pub frames_in: usize,
    /// Agent frames sent.
    pub frames_out: usize,
    /// Ends of turn.
    pub turns: usize,
    /// Barge-ins.
    pub barge_ins: usize,
}

/// The caller's side: one call-minute of 8 kHz speech (prompts and pauses).
///
/// # Errors
///
/// When the Asterisk prompts are not installed (`scripts/setup`).
pub fn caller_audio() -> anyhow::Result<Vec<i16>> {
    let prompts = voxgate_testdata::asterisk::prompts()?;
    let mut out = Vec::with_capacity(FRAMES * FRAME_8K);
    let mut speech = prompts.iter().filter(|p| p.is_speech).cycle();
    while out.len() < FRAMES * FRAME_8K {
        let prompt = speech
            .next()
            .ok_or_else(|| anyhow::anyhow!("no speech prompts"))?;
        let audio = prompt.audio()?;
        anyhow::ensure!(audio.sample_rate == 8000, "{}: not 8 kHz", prompt.name);
        out.extend_from_slice(&audio.samples);
        out.resize(out.len() + 1500 * 8, 0); // a 1.5 s pause for the agent's reply
    }
    out.truncate(FRAMES * FRAME_8K);
    Ok(out)
}

/// The agent's reply: a 1.5 s two-tone at 8 kHz (the fixed mouth's kind of audio).
fn reply_audio() -> Vec<i16> {
    (0..REPLY_FRAMES * FRAME_8K)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let v = (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.5 * (2.0 * std::f64::consts::PI * 660.0 * t).sin();
            (6000.0 * v) as i16
        })
        .collect()
}

/// Runs `workload` over `caller` (from [`caller_audio`]), with `regression` on top.
///
/// # Errors
///
/// When a stage refuses its input (a bug: the inputs are well-formed).
pub fn run(workload: Workload, caller: &[i16], regression: Regression) -> anyhow::Result<Tally> {
    let reply = reply_audio();
    match workload {
        Workload::ElksG711 => {
            let messages = elks_messages(caller)?;
            measured_elks_g711(&messages, &reply, regression)
        }
        Workload::SipRtp => {
            let datagrams = rtp_datagrams(caller)?;
            measured_sip_rtp(&datagrams, &reply, regression)
        }
        Workload::MediaFrame => {
            let mut codes = vec![0u8; caller.len()];
            Law::Ulaw.encode(caller, &mut codes)?;
            measured_media_frame(&codes, regression)
        }
    }
}

/// The carrier's messages: `hello`, then one μ-law `audio` message per 20 ms.
fn elks_messages(caller: &[i16]) -> anyhow::Result<Vec<String>> {
    use base64::Engine as _;
    let mut out = vec![
        r#"{"t":"hello","callid":"bench","from":"+46700000001","to":"+46766860001"}"#.to_owned(),
    ];
    let mut codes = [0u8; FRAME_8K];
    for frame in caller.chunks_exact(FRAME_8K) {
        Law::Ulaw.encode(frame, &mut codes)?;
        let data = base64::engine::general_purpose::STANDARD.encode(codes);
        out.push(format!(r#"{{"t":"audio","data":"{data}"}}"#));
    }
    Ok(out)
}

/// The caller's RTP datagrams, PCMU, 20 ms each.
fn rtp_datagrams(caller: &[i16]) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity(FRAMES);
    let mut codes = [0u8; FRAME_8K];
    for (k, frame) in caller.chunks_exact(FRAME_8K).enumerate() {
        Law::Ulaw.encode(frame, &mut codes)?;
        let header = RtpHeader::new(0, k as u16, (k * FRAME_8K) as u32, Ssrc(0x5eed));
        let mut datagram = vec![0u8; 12 + FRAME_8K];
        let len = header.write(&codes, &mut datagram)?;
        datagram.truncate(len);
        out.push(datagram);
    }
    Ok(out)
}

/// The ears' side every leg shares: 8 -> 16 kHz, VAD chunks, turn taking.
struct Listener {
    regression: Regression,
    again: Resampler,
    up: Resampler,
    up_out: Vec<i16>,
    vad: Box<dyn Vad>,
    chunk: Vec<i16>,
    filled: usize,
    heard: Duration,
    turn: TurnController,
}

impl Listener {
    fn new(regression: Regression) -> anyhow::Result<Self> {
        let up = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000)?;
        let again = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000)?;
        let vad = EarshotVadFactory::new().make(SampleRate::HZ_16000)?;
        let chunk = vec![0; vad.chunk_len()];
        Ok(Self {
            regression,
            again,
            up_out: vec![0; up.output_len()],
            up,
            vad,
            chunk,
            filled: 0,
            heard: Duration::ZERO,
            turn: TurnController::new(TurnConfig::default()),
        })
    }

    /// Acts on the turn controller's news: an end of turn starts the reply (`speaking`
    /// counts its frames sent), the caller speaking over it stops it. True on a barge-in,
    /// for the leg to flush what it queued.
    fn take_turns(&mut self, speaking: &mut Option<usize>, tally: &mut Tally) -> bool {
        let mut barged = false;
        while let Some(turn) = self.turn.poll() {
            match turn {
                TurnOutput::EndOfTurn { .. } => {
                    tally.turns += 1;
                    *speaking = Some(0);
                    self.turn.handle_agent_speaking();
                }
                TurnOutput::BargeIn { .. } if speaking.is_some() => {
                    tally.barge_ins += 1;
                    *speaking = None;
                    self.turn.handle_agent_done();
                    barged = true;
                }
                _ => {}
            }
        }
        barged
    }

    /// One 20 ms caller frame at 8 kHz.
    fn hear(&mut self, samples: &[i16]) -> anyhow::Result<()> {
        match self.regression {
            Regression::None => {}
            Regression::Copy => {
                black_box(samples.to_vec());
            }
            Regression::Resample => {
                self.again.process_into(samples, &mut self.up_out)?;
                black_box(&self.up_out);
            }
        }
        self.up.process_into(samples, &mut self.up_out)?;
        let mut rest = &self.up_out[..];
        while !rest.is_empty() {
            let take = rest.len().min(self.chunk.len() - self.filled);
            self.chunk[self.filled..self.filled + take].copy_from_slice(&rest[..take]);
            self.filled += take;
            rest = &rest[take..];
            if self.filled == self.chunk.len() {
                let len = Duration::from_micros(self.chunk.len() as u64 * 1_000_000 / 16_000);
                self.heard += len;
                let probability = self.vad.predict(&self.chunk)?;
                self.turn.handle_vad(self.heard, len, probability);
                self.filled = 0;
            }
        }
        Ok(())
    }
}

#[inline(never)]
fn measured_elks_g711(
    messages: &[String],
    reply: &[i16],
    regression: Regression,
) -> anyhow::Result<Tally> {
    let t0 = Instant::now();
    let config = SessionConfig {
        listen_format: Format::Ulaw,
        send_format: Format::Ulaw,
        ..SessionConfig::default()
    };
    let mut session = Session::new(config);
    session.start(t0);
    let mut listener = Listener::new(regression)?;
    let mut tally = Tally::default();
    let mut speaking: Option<usize> = None;
    for (k, message) in messages.iter().enumerate() {
        let now = t0 + FRAME * k as u32;
        if session.poll_timeout().is_some_and(|at| at <= now) {
            session.handle_timeout(now);
        }
        session.handle(now, Input::Text(message));
        while let Some(output) = session.poll_output() {
            match output {
                Output::Event(Event::CallerAudio(frame)) => {
                    listener.hear(frame.samples())?;
                    tally.frames_in += 1;
                    session.recycle(frame);
                }
                Output::Transmit(text) => {
                    black_box(text);
                }
                other => {
                    black_box(other);
                }
            }
        }
        if listener.take_turns(&mut speaking, &mut tally) {
            session.interrupt(now);
        }
        // Stream the reply as fast as the carrier's buffer cap lets it go out.
        while let Some(sent) = speaking {
            if sent == REPLY_FRAMES {
                speaking = None;
                listener.turn.handle_agent_done();
                break;
            }
            if !session.can_send(now) {
                break;
            }
            session.send_audio(now, &reply[sent * FRAME_8K..(sent + 1) * FRAME_8K])?;
            tally.frames_out += 1;
            speaking = Some(sent + 1);
        }
    }
    Ok(tally)
}

#[inline(never)]
fn measured_sip_rtp(
    datagrams: &[Vec<u8>],
    reply: &[i16],
    regression: Regression,
) -> anyhow::Result<Tally> {
    let t0 = Instant::now();
    let mut jitter = JitterBuffer::new(
        JitterConfig::default(),
        PayloadDecoder::G711(Law::Ulaw),
        SampleRate::HZ_8000,
    )?;
    let mut listener = Listener::new(regression)?;
    let mut tally = Tally::default();
    let mut speaking: Option<usize> = None;
    let mut codes = [0u8; FRAME_8K];
    let mut out = [0u8; 12 + FRAME_8K];
    let mut sequence: u16 = 0;
    for (k, datagram) in datagrams.iter().enumerate() {
        let now = t0 + FRAME * k as u32;
        let packet = RtpPacket::parse(datagram)?;
        black_box(jitter.push(now, &packet));
        while let Some(frame) = jitter.poll(now) {
            listener.hear(frame.samples())?;
            tally.frames_in += 1;
            jitter.recycle(frame);
        }
        listener.take_turns(&mut speaking, &mut tally);
        // RTP is paced by the clock: one reply frame per 20 ms.
        if let Some(sent) = speaking {
            Law::Ulaw.encode(&reply[sent * FRAME_8K..(sent + 1) * FRAME_8K], &mut codes)?;
            let header = RtpHeader::new(0, sequence, u32::from(sequence) * 160, Ssrc(0xa9e7));
            sequence = sequence.wrapping_add(1);
            black_box(header.write(&codes, &mut out)?);
            tally.frames_out += 1;
            speaking = (sent + 1 < REPLY_FRAMES).then_some(sent + 1);
            if speaking.is_none() {
                listener.turn.handle_agent_done();
            }
        }
    }
    Ok(tally)
}

#[inline(never)]
fn measured_media_frame(codes: &[u8], regression: Regression) -> anyhow::Result<Tally> {
    let mut up = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000)?;
    let mut again = Resampler::new(SampleRate::HZ_8000, SampleRate::HZ_16000)?;
    let mut down = Resampler::new(SampleRate::HZ_16000, SampleRate::HZ_8000)?;
    let mut pcm = [0i16; FRAME_8K];
    let mut wide = vec![0i16; up.output_len()];
    let mut narrow = vec![0i16; down.output_len()];
    let mut back = [0u8; FRAME_8K];
    let mut tally = Tally::default();
    for frame in codes.chunks_exact(FRAME_8K) {
        Law::Ulaw.decode(frame, &mut pcm)?;
        match regression {
            Regression::None => {}
            Regression::Copy => {
                black_box(pcm.to_vec());
            }
            Regression::Resample => {
                again.process_into(&pcm, &mut wide)?;
                black_box(&wide);
            }
        }
        up.process_into(&pcm, &mut wide)?;
        down.process_into(&wide, &mut narrow)?;
        Law::Ulaw.encode(&narrow, &mut back)?;
        black_box(&back);
        tally.frames_in += 1;
        tally.frames_out += 1;
    }
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_exercises_its_whole_path() {
        let caller = caller_audio().expect("the Asterisk prompts (scripts/setup)");
        for workload in Workload::ALL {
            let tally = run(workload, &caller, Regression::None).expect("runs");
            assert!(tally.frames_in >= FRAMES - 10, "{workload:?}: {tally:?}");
            assert!(tally.frames_out > 0, "{workload:?}: {tally:?}");
            if workload != Workload::MediaFrame {
                assert!(tally.turns >= 3, "{workload:?}: {tally:?}");
            }
            for regression in [Regression::Copy, Regression::Resample] {
                let again = run(workload, &caller, regression).expect("runs");
                assert_eq!(again, tally, "{workload:?} {regression:?}: the same work");
            }
        }
    }
}
