//! A whole call on a virtual clock: a simulated 46elks carrier <-> the bridge's sans-IO
//! `Session` <-> `CallCore` <-> a scripted VAD and scripted ears, brain and mouth.
//!
//! The rig is the driver `task.rs` is, made synchronous: it feeds the core the leg's events
//! and room, carries out what the core asks, and advances time straight to the next thing
//! that happens (a caller frame every 20 ms, a timer, a due `sync`, a reply event, a late
//! VAD answer). The carrier follows the 46elks protocol as documented: audio plays at 1x
//! from when it arrives, a `sync` is answered once the audio before it has played,
//! `interrupt` clears the queue and audio is ignored until the next `sending`, and our `bye`
//! is answered once the queue has played.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use voxgate_bridge::caller::{CarrierPlayout, Due, SyncOnInterrupt};
use voxgate_bridge::message::{AudioData, Bye, ByeReason, Hello, Incoming, Outgoing};
use voxgate_bridge::{Format, Input, Output, Session, SessionConfig};
use voxgate_media::SampleRate;

use crate::agent::AgentConfig;
use crate::call::{
    CallCore, CallInput, CallOutput, CallShared, CallSlot, ReplyEvent, ReplyId, ReplyJob,
};
use crate::error::PipelineError;
use crate::events::CallEvent;
use crate::leg::LegRoom;
use crate::leg::elks::event_of;
use crate::metrics::Metrics;
use crate::providers::{Speech, Vad};
use crate::slots::SlotPool;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const FRAME: Duration = Duration::from_millis(20);
const RATE: SampleRate = SampleRate::HZ_16000;

/// When the scripted VAD answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VadTiming {
    /// At once (earshot).
    Immediate,
    /// This long after each submit, by the driver's door (Silero's batching thread).
    Late(Duration),
    /// Alternately late by the first and the second duration: answers out of step with
    /// the audio.
    Uneven(Duration, Duration),
}

/// The VAD's state, shared between the detector in the slot and the rig.
#[derive(Debug, Default)]
struct VadState {
    /// Probability of each submitted window and when its answer is due.
    answers: VecDeque<(Instant, f32)>,
    submitted: u64,
    now: Option<Instant>,
}

/// Hears speech in every window above the floor (the rig's caller speaks loud or not at all).
struct ScriptVad {
    state: Arc<Mutex<VadState>>,
    timing: VadTiming,
}

fn lock(state: &Mutex<VadState>) -> std::sync::MutexGuard<'_, VadState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Vad for ScriptVad {
    fn rate(&self) -> SampleRate {
        RATE
    }
    fn chunk_len(&self) -> usize {
        512
    }
    fn submit(&mut self, chunk: &[i16]) -> Result<(), PipelineError> {
        let mut s = lock(&self.state);
        let now = s
            .now
            .unwrap_or_else(|| unreachable!("the rig sets the time"));
        let delay = match self.timing {
            VadTiming::Immediate => Duration::ZERO,
            VadTiming::Late(d) => d,
            VadTiming::Uneven(a, b) => {
                if s.submitted.is_multiple_of(2) {
                    a
                } else {
                    b
                }
            }
        };
        // Answers keep submission order, as a real detector's do.
        let due = s
            .answers
            .back()
            .map_or(now + delay, |&(d, _)| d.max(now + delay));
        let loud = chunk.iter().any(|&x| x.unsigned_abs() > 1000);
        s.answers.push_back((due, if loud { 0.9 } else { 0.1 }));
        s.submitted += 1;
        Ok(())
    }
    fn try_result(&mut self) -> Option<Result<f32, PipelineError>> {
        if self.timing != VadTiming::Immediate {
            return None;
        }
        lock(&self.state).answers.pop_front().map(|(_, p)| Ok(p))
    }
    fn poll_result(&mut self, _: &mut Context<'_>) -> Poll<Result<f32, PipelineError>> {
        Poll::Pending // The rig delivers late answers itself, on its clock.
    }
    fn reset(&mut self) {
        lock(&self.state).answers.clear();
    }
}

/// How the scripted ears, brain and mouth behave.
#[derive(Debug, Clone)]
pub(super) struct Engines {
    /// What the ears hear, and how long they take.
    pub(super) heard: String,
    pub(super) ears: Duration,
    /// The brain's first token, and its sentences one `brain` apart.
    pub(super) brain: Duration,
    pub(super) sentences: Vec<String>,
    /// Audio per word, and the mouth's delay before each sentence's audio.
    pub(super) per_word: Duration,
    pub(super) mouth: Duration,
    /// The brain fails instead of answering.
    pub(super) brain_fails: bool,
    /// The mouth never delivers the audio of sentences after the first.
    pub(super) mouth_stalls: bool,
    /// The brain asks to hang up after its reply.
    pub(super) hangup: bool,
}

impl Default for Engines {
    fn default() -> Self {
        Self {
            heard: "what are your opening hours".into(),
            ears: ms(150),
            brain: ms(100),
            sentences: vec![
                "We open at nine.".into(),
                "We close at five on weekdays.".into(),
            ],
            per_word: ms(250),
            mouth: ms(50),
            brain_fails: false,
            mouth_stalls: false,
            hangup: false,
        }
    }
}

impl Engines {
    /// The events of `job` and when each is due, from `start`.
    fn schedule(&self, start: Instant, job: &ReplyJob) -> VecDeque<(Instant, ReplyEvent)> {
        let mut at = start;
        let mut events = VecDeque::new();
        let sentences = match job {
            ReplyJob::Say(text) => vec![text.clone()],
            ReplyJob::Answer { .. } => {
                at += self.ears;
                events.push_back((at, ReplyEvent::Transcript(self.heard.clone())));
                at += self.brain;
                if self.brain_fails {
                    let e = PipelineError::Provider {
                        provider: "scripted",
                        reason: "the brain is down".into(),
                    };
                    events.push_back((at, ReplyEvent::Failed(e)));
                    return events;
                }
                events.push_back((at, ReplyEvent::FirstToken));
                self.sentences.clone()
            }
        };
        for (i, sentence) in sentences.iter().enumerate() {
            events.push_back((at, ReplyEvent::Piece(sentence.clone())));
            if self.mouth_stalls && i > 0 {
                return events; // Nothing more, ever.
            }
            at += self.mouth;
            let words = sentence.split_whitespace().count() as u32;
            let samples = vec![2000i16; RATE.samples_in(self.per_word * words) as usize];
            events.push_back((
                at,
                ReplyEvent::Audio(Speech {
                    rate: RATE,
                    samples,
                }),
            ));
            at += self.brain;
        }
        let hangup = self.hangup && matches!(job, ReplyJob::Answer { .. });
        events.push_back((at, ReplyEvent::Done { hangup }));
        events
    }
}

/// The simulated carrier's side of the call: the bridge's own playout clock
/// ([`CarrierPlayout`]) plus what the tests count.
#[derive(Debug)]
pub(super) struct Carrier {
    playout: CarrierPlayout,
    accepting: bool,
    /// Agent audio received (and accepted), in frames.
    pub(super) frames: usize,
    /// Agent audio frames sent while ignored (after `interrupt`, before `sending`).
    pub(super) ignored: usize,
    pub(super) interrupts: Vec<Instant>,
    /// The most agent audio ever queued at once.
    pub(super) max_buffered: Duration,
    pub(super) bye_received: bool,
    pub(super) violations: Vec<String>,
}

impl Default for Carrier {
    fn default() -> Self {
        Self {
            playout: CarrierPlayout::new(SyncOnInterrupt::Drop),
            accepting: false,
            frames: 0,
            ignored: 0,
            interrupts: Vec::new(),
            max_buffered: Duration::ZERO,
            bye_received: false,
            violations: Vec::new(),
        }
    }
}

impl Carrier {
    fn on_server(&mut self, now: Instant, text: &str) {
        match Outgoing::parse(text) {
            Ok(Outgoing::Sending(_)) => self.accepting = true,
            Ok(Outgoing::Audio(_)) if !self.accepting => self.ignored += 1,
            Ok(Outgoing::Audio(data)) => {
                let mut bytes = Vec::new();
                if data.decode_into(&mut bytes).is_err() || bytes.len() != 640 {
                    self.violations
                        .push(format!("audio of {} bytes", bytes.len()));
                }
                self.playout.audio(now, FRAME);
                self.frames += 1;
                self.max_buffered = self.max_buffered.max(self.playout.buffered(now));
            }
            Ok(Outgoing::Interrupt) => {
                self.accepting = false;
                self.playout.interrupt(now);
                self.interrupts.push(now);
            }
            Ok(Outgoing::Sync) => self.playout.sync(now),
            Ok(Outgoing::Bye) => {
                self.bye_received = true;
                self.playout.bye(now);
            }
            Ok(Outgoing::Listening(_)) => {}
            Ok(other) => self.violations.push(format!("{other:?}")),
            Err(e) => self.violations.push(e.code().to_owned()),
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.playout.next_due()
    }

    /// The carrier's messages due at `now`.
    fn poll(&mut self, now: Instant) -> Option<String> {
        let msg = match self.playout.poll(now)? {
            Due::Sync => Incoming::Sync,
            Due::Bye => Incoming::Bye(Bye {
                reason: ByeReason::Done,
                message: None,
            }),
        };
        Some(msg.to_json())
    }
}

/// What the caller does, in call time (from `hello`).
#[derive(Debug, Clone, Default)]
pub(super) struct CallerScript {
    /// Spans of loud speech.
    pub(super) speech: Vec<(Duration, Duration)>,
    /// Key presses.
    pub(super) digits: Vec<(Duration, char)>,
    /// When the caller hangs up (`None`: never).
    pub(super) hangup: Option<Duration>,
}

/// One whole call.
pub(super) struct Rig {
    pub(super) t0: Instant,
    pub(super) now: Instant,
    session: Session,
    pub(super) core: CallCore,
    pub(super) carrier: Carrier,
    vad: Arc<Mutex<VadState>>,
    engines: Engines,
    caller: CallerScript,
    /// The next caller frame's call time.
    next_frame: Duration,
    reply: Option<(ReplyId, VecDeque<(Instant, ReplyEvent)>)>,
    pub(super) events: Vec<CallEvent>,
    /// Every output and leg step, with its call time: what the determinism check compares.
    pub(super) trace: Vec<String>,
    /// Agent audio sent after an `interrupt` before the next reply started.
    pub(super) audio_after_interrupt: usize,
    interrupted: bool,
    pub(super) closed: bool,
    pub(super) slots: Arc<SlotPool<CallSlot>>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) replies_started: usize,
    pub(super) replies_cancelled: usize,
}

impl Rig {
    pub(super) fn new(
        agent: AgentConfig,
        engines: Engines,
        vad: VadTiming,
        caller: CallerScript,
    ) -> Self {
        // A fixed origin: the whole run depends on nothing outside the rig.
        let t0 = Instant::now();
        let state = Arc::new(Mutex::new(VadState {
            now: Some(t0),
            ..VadState::default()
        }));
        let slot_state = Arc::clone(&state);
        let floor = agent.turn.silence_floor_dbfs;
        let slots = SlotPool::try_new(1, || {
            let detector = ScriptVad {
                state: Arc::clone(&slot_state),
                timing: vad,
            };
            CallSlot::new(Box::new(detector), RATE, RATE, RATE, floor)
        })
        .expect("slot");
        let metrics = Arc::new(Metrics::default());
        let shared = CallShared {
            agent: Arc::new(agent),
            slots: Arc::clone(&slots),
            metrics: Arc::clone(&metrics),
            looks_up_context: false,
        };
        let config = SessionConfig {
            listen_format: Format::Pcm16000,
            send_format: Format::Pcm16000,
            ..SessionConfig::default()
        };
        let mut session = Session::new(config);
        session.start(t0);
        let hello = Incoming::Hello(Hello {
            callid: "c1".into(),
            from: "+46700000001".into(),
            to: "+46766860000".into(),
        });
        session.handle(t0, Input::Text(&hello.to_json()));
        let mut rig = Self {
            t0,
            now: t0,
            session,
            core: CallCore::new(shared, t0),
            carrier: Carrier::default(),
            vad: state,
            engines,
            caller,
            next_frame: Duration::ZERO,
            reply: None,
            events: Vec::new(),
            trace: Vec::new(),
            audio_after_interrupt: 0,
            interrupted: false,
            closed: false,
            slots,
            metrics,
            replies_started: 0,
            replies_cancelled: 0,
        };
        rig.settle();
        rig
    }

    fn at(&self) -> Duration {
        self.now - self.t0
    }

    fn log(&mut self, what: impl Into<String>) {
        let line = format!("{:>7.1} {}", self.at().as_secs_f64() * 1000.0, what.into());
        self.trace.push(line);
    }

    fn room(&self) -> LegRoom {
        let now = self.now;
        LegRoom {
            at: now,
            can_send: self.session.can_send(now),
            buffered: self.session.buffered(now),
            next_send_at: self.session.next_send_at(now),
        }
    }

    /// Lets core, session and carrier act on everything at `now`, as the driver's inner loop.
    fn settle(&mut self) {
        loop {
            let now = self.now;
            self.core.handle(now, CallInput::Room(self.room()));
            while let Some(output) = self.core.poll() {
                self.act(output);
            }
            let mut quiet = true;
            while let Some(output) = self.session.poll_output() {
                quiet = false;
                match output {
                    Output::Transmit(text) => self.carrier.on_server(now, &text),
                    Output::Event(event) => {
                        let event = event_of(event);
                        self.core.handle(now, CallInput::Leg(&event));
                        if let crate::leg::LegEvent::CallerAudio(frame) = event {
                            self.session.recycle(frame);
                        } else {
                            self.log(format!("leg {event:?}"));
                        }
                        break; // Back to the core before the next event, as the driver.
                    }
                    Output::Close => {
                        self.log("close");
                        self.closed = true;
                    }
                }
            }
            while let Some(text) = self.carrier.poll(now) {
                quiet = false;
                self.session.handle(now, Input::Text(&text));
            }
            if quiet {
                break;
            }
        }
    }

    fn act(&mut self, output: CallOutput) {
        let now = self.now;
        match output {
            CallOutput::SendAudio(frame) => {
                if self.interrupted {
                    self.audio_after_interrupt += 1;
                }
                if let Err(e) = self.session.send_audio(now, frame.samples()) {
                    self.carrier
                        .violations
                        .push(format!("send refused: {}", e.code()));
                }
                self.core.recycle(frame);
                self.core.handle(now, CallInput::Room(self.room()));
            }
            CallOutput::Interrupt => {
                self.log("interrupt");
                self.interrupted = true;
                self.session.interrupt(now);
            }
            CallOutput::Hangup => {
                self.log("hangup");
                self.session.hangup(now);
            }
            CallOutput::StartReply { id, job } => {
                self.log(format!("start reply {id:?}"));
                self.interrupted = false;
                self.replies_started += 1;
                self.reply = Some((id, self.engines.schedule(now, &job)));
            }
            CallOutput::CancelReply => {
                self.log("cancel reply");
                self.replies_cancelled += 1;
                self.reply = None;
            }
            CallOutput::LookupContext { .. } => self.log("lookup"),
            CallOutput::Publish(event) => {
                self.log(format!("publish {event:?}"));
                self.events.push(event);
            }
        }
    }

    /// The caller's next frame: loud inside a speech span, silent outside.
    fn caller_frame(&mut self) -> String {
        let at = self.next_frame;
        let loud = self.caller.speech.iter().any(|&(a, b)| at >= a && at < b);
        let sample: i16 = if loud { 6000 } else { 0 };
        let bytes: Vec<u8> = (0..320)
            .flat_map(|i| {
                let s = if i % 2 == 0 { sample } else { -sample };
                s.to_le_bytes()
            })
            .collect();
        self.next_frame += FRAME;
        Incoming::Audio(AudioData::encode(&bytes)).to_json()
    }

    /// Runs until call time `until`, or until the call has closed.
    pub(super) fn run_until(&mut self, until: Duration) {
        let end = self.t0 + until;
        let mut steps = 0u32;
        while !self.closed {
            steps += 1;
            assert!(
                steps < 1_000_000,
                "stuck at {:?}: {:?}; core {:?} session {:?}",
                self.at(),
                self.trace.last(),
                self.core.poll_timeout().map(|t| t - self.t0),
                self.session.poll_timeout().map(|t| t - self.t0)
            );
            let caller_on = !self.session.is_ended();
            let next_frame = caller_on.then(|| self.t0 + self.next_frame);
            let vad_due = lock(&self.vad).answers.front().map(|&(d, _)| d);
            let reply_due = self
                .reply
                .as_ref()
                .and_then(|(_, q)| q.front().map(|&(d, _)| d));
            let hangup = self
                .caller
                .hangup
                .map(|h| self.t0 + h)
                .filter(|_| caller_on);
            let digit = self.caller.digits.first().map(|&(d, _)| self.t0 + d);
            let next = [
                next_frame,
                vad_due,
                reply_due,
                hangup,
                digit,
                self.core.poll_timeout(),
                self.session.poll_timeout(),
                self.carrier.next_due(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next.filter(|&n| n <= end) else {
                break;
            };
            self.now = self.now.max(next);
            lock(&self.vad).now = Some(self.now);
            self.deliver();
            self.settle();
        }
    }

    /// Everything due at `now`, one input at a time.
    fn deliver(&mut self) {
        let now = self.now;
        if self.caller.hangup.is_some_and(|h| self.t0 + h <= now) && !self.session.is_ended() {
            self.caller.hangup = None;
            self.log("caller hangs up");
            let bye = Bye {
                reason: ByeReason::Hangup,
                message: None,
            };
            self.session
                .handle(now, Input::Text(&Incoming::Bye(bye).to_json()));
            return;
        }
        if self
            .caller
            .digits
            .first()
            .is_some_and(|&(d, _)| self.t0 + d <= now)
        {
            let (_, digit) = self.caller.digits.remove(0);
            self.core
                .handle(now, CallInput::Leg(&crate::leg::LegEvent::Digit(digit)));
            return;
        }
        if !self.session.is_ended() && self.t0 + self.next_frame <= now {
            let text = self.caller_frame();
            self.session.handle(now, Input::Text(&text));
        }
        let due = {
            let mut s = lock(&self.vad);
            match s.answers.front() {
                Some(&(d, p)) if d <= now => {
                    s.answers.pop_front();
                    Some(p)
                }
                _ => None,
            }
        };
        if let Some(p) = due {
            self.core.handle(now, CallInput::Vad(Ok(p)));
        }
        let event = match &mut self.reply {
            Some((id, q)) if q.front().is_some_and(|&(d, _)| d <= now) => {
                q.pop_front().map(|(_, e)| (*id, e))
            }
            _ => None,
        };
        if let Some((id, event)) = event {
            self.log(
                format!("reply {event:?}")
                    .chars()
                    .take(60)
                    .collect::<String>(),
            );
            self.core.handle(now, CallInput::Reply { id, event });
        }
        self.session.handle_timeout(now);
        self.core.handle(now, CallInput::Timeout);
    }

    /// The turns completed, as (user, agent, interrupted).
    pub(super) fn turns(&self) -> Vec<(String, String, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                CallEvent::TurnCompleted {
                    user,
                    agent,
                    interrupted,
                    ..
                } => Some((user.clone(), agent.clone(), *interrupted)),
                _ => None,
            })
            .collect()
    }

    /// The end reason published, if the call ended.
    pub(super) fn ended(&self) -> Option<crate::call::EndReason> {
        self.events.iter().find_map(|e| match e {
            CallEvent::Ended { reason, .. } => Some(*reason),
            _ => None,
        })
    }
}
