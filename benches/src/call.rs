//! One simulated caller: the script it follows and what is measured on its call.
//!
//! A caller waits for the greeting to play out, then takes turns until its time is up:
//! it speaks a recorded clip in real time, keeps the line open with silence (as a phone
//! line carries), and waits until the agent's reply has played out plus a natural pause
//! before speaking again. Every `barge_in_every`-th turn it does not wait: 400 ms into the
//! reply it speaks its next clip over the agent.
//!
//! Measured at the edge, from what was sent and what arrived:
//! - **voice-to-voice**: end of the caller's speech (its last loud 20 ms frame left the
//!   carrier) to the first reply audio received;
//! - **barge-in reaction**: onset of the speech spoken over the agent to the flush
//!   (`interrupt` / `clear`) received;
//! - **underruns**: the agent's audio played at 1x from its first arrival (after a 60 ms
//!   carrier playout buffer) runs dry before the next piece arrives.

use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::leg::{CallLog, CallerLeg, Heard};

/// A clip encoded in the call's wire format, with its speech offsets.
#[derive(Debug, Clone)]
pub struct WireClip {
    /// Where it comes from.
    pub name: String,
    /// The encoded audio.
    pub bytes: Vec<u8>,
    /// Offset of the speech onset.
    pub onset: Duration,
    /// Offset of the end of speech.
    pub end: Duration,
}

/// How a caller behaves.
#[derive(Debug, Clone, Copy)]
pub struct Script {
    /// How long the call lasts: no turn starts after this.
    pub duration: Duration,
    /// Every n-th turn barges in on the reply; 0 for never.
    pub barge_in_every: usize,
    /// Pause after the agent's reply has played, before speaking again.
    pub pause: Duration,
    /// Longest wait for anything.
    pub patience: Duration,
}

/// Audio buffered by the carrier before it starts playing a reply.
const PLAYOUT_DELAY: Duration = Duration::from_millis(60);
/// How far into a reply a barge-in starts.
const BARGE_IN_AFTER: Duration = Duration::from_millis(400);

/// What one call measured.
#[derive(Debug, Clone, Default)]
pub struct CallOutcome {
    /// The server had no slot.
    pub refused: bool,
    /// Why the call failed, if it did.
    pub failed: Option<String>,
    /// Voice-to-voice of each answered turn.
    pub voice_to_voice: Vec<Duration>,
    /// Turns spoken that got no reply in time.
    pub unanswered: usize,
    /// Turns whose reply began before the caller had finished speaking (the VAD ended the
    /// turn in a pause inside the utterance).
    pub early_replies: usize,
    /// Barge-in reaction of each barge-in that was answered by a flush.
    pub barge_in: Vec<Duration>,
    /// Barge-ins that got no flush.
    pub barge_in_missed: usize,
    /// Times the agent's playout ran dry mid-reply.
    pub underruns: usize,
    /// Total time it was dry.
    pub underrun_time: Duration,
    /// 20 ms frames that arrived after their playout time.
    pub late_frames: usize,
    /// Agent audio received.
    pub agent_audio: Duration,
    /// Protocol violations seen by the carrier.
    pub violations: usize,
}

/// A turn as spoken.
#[derive(Debug, Clone, Copy)]
struct Spoken {
    /// The caller's speech onset (for barge-ins) and end, on the wall clock.
    onset: Instant,
    end: Instant,
    barge_in: bool,
}

/// Runs `script` on `leg`, speaking `clips` from index `seed` on, and measures the call.
pub async fn run<L: CallerLeg>(
    leg: L,
    clips: &[WireClip],
    script: Script,
    seed: usize,
) -> CallOutcome {
    let start = Instant::now();
    let mut spoken = Vec::new();
    let result = talk(&leg, clips, script, seed, start, &mut spoken).await;
    let log = leg.finish().await;
    let mut outcome = measure(&log, &spoken, script.patience);
    if let Err(e) = result {
        outcome.failed = Some(format!("{e:#}"));
    }
    outcome
}

async fn talk<L: CallerLeg>(
    leg: &L,
    clips: &[WireClip],
    script: Script,
    seed: usize,
    start: Instant,
    spoken: &mut Vec<Spoken>,
) -> anyhow::Result<()> {
    // The greeting.
    wait_until(leg, script.patience, "the greeting", || {
        leg.audio_since(start) && played(leg, start, script.pause)
    })
    .await?;
    let mut turn = 0;
    let mut barge_in = false;
    while start.elapsed() < script.duration && !leg.closed() {
        let clip = &clips[(seed + turn) % clips.len()];
        turn += 1;
        let at = leg.stream(&clip.bytes).await?;
        let onset = at + clip.onset;
        spoken.push(Spoken {
            onset,
            end: at + clip.end,
            barge_in,
        });
        let barged = barge_in;
        let context = || {
            let kind = if barged { ", a barge-in" } else { "" };
            format!("turn {turn} ({}{kind})", clip.name)
        };
        // The reply to a barge-in is what comes after the flush it caused; any other
        // reply is what comes once the caller started speaking (it may start before the
        // caller has finished, when the VAD ends the turn in a pause).
        let reply_from = || match leg.last_flush() {
            Some(flush) if barged && flush >= onset => flush,
            _ => onset,
        };
        barge_in = script.barge_in_every > 0 && turn % script.barge_in_every == 0;
        if barge_in {
            // Speak over the reply once it is playing.
            wait_until(leg, script.patience, "reply", || {
                leg.audio_since(reply_from())
            })
            .await
            .with_context(context)?;
            let first = Instant::now();
            while first.elapsed() < BARGE_IN_AFTER {
                leg.stream(leg.silence()).await?;
            }
        } else {
            wait_until(leg, script.patience, "reply", || {
                let from = reply_from();
                leg.audio_since(from) && played(leg, from, script.pause)
            })
            .await
            .with_context(context)?;
        }
    }
    Ok(())
}

/// Whether the audio since `since` has played out, plus `pause`.
fn played<L: CallerLeg>(leg: &L, since: Instant, pause: Duration) -> bool {
    leg.playout_end_since(since)
        .is_some_and(|end| Instant::now() >= end + pause)
}

/// Streams silence until `done` or the server closes; fails after `patience`.
async fn wait_until<L: CallerLeg>(
    leg: &L,
    patience: Duration,
    what: &str,
    done: impl Fn() -> bool,
) -> anyhow::Result<()> {
    let start = Instant::now();
    while !done() {
        if leg.closed() {
            return Ok(());
        }
        anyhow::ensure!(start.elapsed() < patience, "no {what} within {patience:?}");
        leg.stream(leg.silence()).await?;
    }
    Ok(())
}

/// The measurements of a finished call.
fn measure(log: &CallLog, spoken: &[Spoken], patience: Duration) -> CallOutcome {
    let mut out = CallOutcome {
        violations: log.violations,
        ..CallOutcome::default()
    };
    let in_window = |from: Instant, until: Instant| {
        log.heard
            .iter()
            .filter(move |h| h.at() >= from && h.at() < until)
    };
    // The greeting: everything before the caller first spoke.
    if let Some(first) = spoken.first() {
        playout(log.heard.iter().filter(|h| h.at() < first.onset), &mut out);
    }
    for h in &log.heard {
        if let Heard::Audio { len, .. } = h {
            out.agent_audio += *len;
        }
    }
    for (i, turn) in spoken.iter().enumerate() {
        let until = spoken
            .get(i + 1)
            .map_or(turn.end + patience, |next| next.onset);
        let mut from = turn.onset;
        if turn.barge_in {
            let flush = log.heard.iter().find_map(|h| match *h {
                Heard::Interrupt { at } if at >= turn.onset && at < turn.onset + patience => {
                    Some(at)
                }
                _ => None,
            });
            match flush {
                Some(at) => {
                    out.barge_in.push(at - turn.onset);
                    from = at;
                }
                None => out.barge_in_missed += 1,
            }
        }
        let reply = log.heard.iter().find_map(|h| match *h {
            Heard::Audio { at, .. } if at >= from && at < until => Some(at),
            _ => None,
        });
        match reply {
            Some(at) if at >= turn.end => out.voice_to_voice.push(at - turn.end),
            Some(_) => out.early_replies += 1,
            None => out.unanswered += 1,
        }
        playout(in_window(from, until), &mut out);
    }
    out
}

/// Plays one reply's audio at 1x: it starts `PLAYOUT_DELAY` after its first piece
/// arrives; a piece arriving after its play time is late, and the gap is an underrun. A
/// flush ends the reply (what follows is a new one).
fn playout<'a>(heard: impl Iterator<Item = &'a Heard>, out: &mut CallOutcome) {
    let mut cursor: Option<Instant> = None;
    for h in heard {
        match *h {
            Heard::Interrupt { .. } => cursor = None,
            Heard::Audio { at, len } => {
                let due = cursor.unwrap_or(at + PLAYOUT_DELAY);
                if at > due {
                    out.underruns += 1;
                    out.underrun_time += at - due;
                    out.late_frames += (len.as_millis() / 20).max(1) as usize;
                }
                cursor = Some(due.max(at) + len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leg::audio;

    fn spoken(onset: Instant, end: Instant, barge_in: bool) -> Spoken {
        Spoken {
            onset,
            end,
            barge_in,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn turns_barge_ins_and_underruns_are_measured() {
        let t0 = Instant::now();
        let spoken = [
            spoken(t0, t0 + ms(1000), false),
            spoken(t0 + ms(2000), t0 + ms(3000), true),
            spoken(t0 + ms(5000), t0 + ms(6000), false),
        ];
        let heard = vec![
            // Reply 1: 320 ms after the end of speech, two pieces in time, one late by 30 ms.
            audio(t0 + ms(1320), ms(100)),
            audio(t0 + ms(1330), ms(100)),
            audio(t0 + ms(1610), ms(40)),
            // Flushed 250 ms after the barge-in onset.
            Heard::Interrupt { at: t0 + ms(2250) },
            // Reply 2.
            audio(t0 + ms(3400), ms(500)),
            // Reply 3 starts before the caller has finished.
            audio(t0 + ms(5800), ms(500)),
        ];
        let log = CallLog {
            heard,
            violations: 0,
        };
        let out = measure(&log, &spoken, ms(5000));
        assert_eq!(out.voice_to_voice, [ms(320), ms(400)]);
        assert_eq!(out.barge_in, [ms(250)]);
        assert_eq!(
            (out.unanswered, out.barge_in_missed, out.early_replies),
            (0, 0, 1)
        );
        // Reply 1 plays from 1380: 1380-1480, 1480-1580; the third piece was due at 1580.
        assert_eq!(
            (out.underruns, out.underrun_time, out.late_frames),
            (1, ms(30), 2)
        );
        assert_eq!(out.agent_audio, ms(1240));
    }

    #[test]
    fn a_silent_server_is_counted() {
        let t0 = Instant::now();
        let spoken = [spoken(t0, t0 + ms(1000), true)];
        let out = measure(&CallLog::default(), &spoken, ms(5000));
        assert_eq!((out.unanswered, out.barge_in_missed), (1, 1));
        assert!(out.voice_to_voice.is_empty());
    }
}
