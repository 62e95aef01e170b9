//! The 46elks Realtime leg, over the bridge crate's simulated carrier (`SimulatedCall`).

use std::time::{Duration, Instant};

use voxgate_bridge::Format;
use voxgate_bridge::caller::{CallerConfig, ReceivedMsg, Recording, SimulatedCall};

use crate::leg::{CallLog, CallerLeg, Heard, paced};

/// One 46elks call.
#[derive(Debug)]
pub struct ElksLeg {
    caller: SimulatedCall,
    format: Format,
    silence: Vec<u8>,
}

/// How a call attempt ended before it could talk.
#[derive(Debug)]
pub enum Connect {
    /// Answered: `listening` and `sending` came.
    Answered(Box<ElksLeg>),
    /// The server said `bye` at once: no free slot.
    Refused,
}

impl ElksLeg {
    /// Opens the WebSocket at `url` and says `hello` as call `callid`.
    ///
    /// # Errors
    ///
    /// When the socket cannot be opened, or the server neither answers nor refuses.
    pub async fn connect(url: &str, callid: &str) -> anyhow::Result<Connect> {
        let config = CallerConfig {
            wait_timeout: Duration::from_secs(15),
            ..CallerConfig::default()
        };
        let mut caller = SimulatedCall::connect_with(url, config).await?;
        match caller.hello(callid, "+46700000001", "+46766861004").await {
            Ok((listening, _sending)) => {
                let mut silence =
                    vec![0u8; listening.rate().samples_per_frame() * listening.bytes_per_sample()];
                listening.encode(
                    &vec![0i16; listening.rate().samples_per_frame()],
                    &mut silence,
                )?;
                Ok(Connect::Answered(Box::new(Self {
                    caller,
                    format: listening,
                    silence,
                })))
            }
            Err(e) => {
                let refused = caller.inspect(|r| r.count("bye") > 0 && r.listening().is_none());
                if refused {
                    caller.close().await;
                    Ok(Connect::Refused)
                } else {
                    Err(e.into())
                }
            }
        }
    }
}

fn heard(r: &Recording, since: Instant) -> impl Iterator<Item = Heard> + '_ {
    let rate = r.sending().map_or(8000, |f| f.rate().hz());
    // Only the tail since `since` is read: recordings grow all call long.
    let first = r.messages.partition_point(|m| m.at < since);
    r.messages[first..]
        .iter()
        .filter_map(move |m| match &m.msg {
            ReceivedMsg::Audio {
                samples,
                played: true,
            } => Some(Heard::Audio {
                at: m.at,
                len: Duration::from_secs_f64(samples.len() as f64 / f64::from(rate)),
            }),
            ReceivedMsg::Interrupt { .. } => Some(Heard::Interrupt { at: m.at }),
            _ => None,
        })
}

impl CallerLeg for ElksLeg {
    async fn stream(&self, bytes: &[u8]) -> anyhow::Result<Instant> {
        let rate = u64::from(self.format.rate().hz()) * self.format.bytes_per_sample() as u64;
        let mut text = String::new();
        paced(bytes, rate, |chunk| {
            text.clear();
            voxgate_bridge::message::write_audio_json(chunk, &mut text);
            Ok(self.caller.send_text(text.clone())?)
        })
        .await
    }

    fn silence(&self) -> &[u8] {
        &self.silence
    }

    fn audio_since(&self, since: Instant) -> bool {
        self.caller
            .inspect(|r| heard(r, since).any(|h| matches!(h, Heard::Audio { .. })))
    }

    fn playout_end_since(&self, since: Instant) -> Option<Instant> {
        self.caller
            .inspect(|r| crate::leg::playout_end(heard(r, since), since))
    }

    fn last_flush(&self) -> Option<Instant> {
        self.caller.inspect(|r| {
            r.messages.iter().rev().find_map(|m| match m.msg {
                ReceivedMsg::Interrupt { .. } => Some(m.at),
                _ => None,
            })
        })
    }

    fn closed(&self) -> bool {
        self.caller.inspect(|r| r.closed_at.is_some())
    }

    async fn finish(self) -> CallLog {
        if !self.closed() {
            let _ = self.caller.hangup();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.caller.wait_closed()).await;
        }
        let log = self.caller.inspect(|r| CallLog {
            heard: heard(r, r.messages.first().map_or_else(Instant::now, |m| m.at)).collect(),
            violations: r.violations.len(),
        });
        self.caller.close().await;
        log
    }
}
