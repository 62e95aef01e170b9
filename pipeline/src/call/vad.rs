//! The VAD stream of one call slot: the detector, the windows waiting for its answers, the
//! silence floor, and the order in which answers reach the turn controller. Sans-IO.
//!
//! Each full window of caller audio is pushed in ([`VadStream::push`]). A window below the
//! silence floor is silence without asking the detector; the others are submitted. The
//! detector may answer at once (earshot, a fast inference thread: taken right after the
//! submit) or later (Silero's batching thread: the driver waits on
//! [`VadStream::poll_answer`] and hands the answer back). Either way every answer goes through
//! [`VadStream::answer`], the one door, and applies to the oldest submitted window. Decided
//! windows come out of [`VadStream::poll_decided`] strictly in audio order, so a late answer
//! never lets a later silent window overtake the speech before it.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::PipelineError;
use crate::providers::Vad;

/// VAD windows submitted and not yet answered, most a call can have in flight.
const IN_FLIGHT: usize = 256;

/// What is known about one window.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Window {
    /// Below the floor, or refused by the detector: silence.
    Silent,
    /// Submitted, waiting for its probability.
    Submitted,
    /// Answered.
    Answered(f32),
}

/// A slot's detector and its windows; see the [module docs](self).
pub(crate) struct VadStream {
    vad: Box<dyn Vad>,
    /// Each window's end (caller audio time) and state, oldest first.
    windows: VecDeque<(Duration, Window)>,
    /// Submitted windows still waiting for an answer.
    awaiting: usize,
    /// Windows whose mean square is below this are silence without asking the detector.
    floor: f64,
}

impl VadStream {
    /// A stream over `vad`, with windows below `silence_floor_dbfs` (RMS) taken as silence.
    pub(crate) fn new(vad: Box<dyn Vad>, silence_floor_dbfs: f32) -> Self {
        Self {
            vad,
            windows: VecDeque::with_capacity(IN_FLIGHT),
            awaiting: 0,
            floor: (32_768.0 * 10f64.powf(f64::from(silence_floor_dbfs) / 20.0)).powi(2),
        }
    }

    /// The detector's window length in samples.
    pub(crate) fn chunk_len(&self) -> usize {
        self.vad.chunk_len()
    }

    /// The rate the detector listens at.
    pub(crate) fn rate(&self) -> voxgate_media::SampleRate {
        self.vad.rate()
    }

    /// Whether `chunk` is below the floor.
    fn is_silent(&self, chunk: &[i16]) -> bool {
        let energy: f64 = chunk.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        energy < self.floor * chunk.len() as f64
    }

    /// One full window ending at caller audio time `end`: silence, or submitted to the
    /// detector (and answered at once if the detector already knows).
    pub(crate) fn push(&mut self, end: Duration, chunk: &[i16]) {
        if self.is_silent(chunk) {
            self.windows.push_back((end, Window::Silent));
            return;
        }
        match self.vad.submit(chunk) {
            Ok(()) => {
                self.windows.push_back((end, Window::Submitted));
                self.awaiting += 1;
            }
            Err(e) => {
                tracing::warn!(%e, "VAD refused a chunk; taken as silence");
                self.windows.push_back((end, Window::Silent));
            }
        }
        while self.awaiting > 0 {
            let Some(answer) = self.vad.try_result() else {
                break;
            };
            self.answer(answer);
        }
    }

    /// The one door for answers: the probability of the oldest submitted window. An answer
    /// with no window waiting (after a reset) is dropped; a failed answer is silence.
    pub(crate) fn answer(&mut self, answer: Result<f32, PipelineError>) {
        let Some(window) = self
            .windows
            .iter_mut()
            .find(|(_, w)| *w == Window::Submitted)
        else {
            return;
        };
        let probability = answer.unwrap_or_else(|e| {
            tracing::warn!(%e, "VAD failed on a chunk; taken as silence");
            0.0
        });
        window.1 = Window::Answered(probability);
        self.awaiting -= 1;
    }

    /// The oldest window whose probability is known, if every window before it is known
    /// too: its end and its speech probability (0 for silence).
    pub(crate) fn poll_decided(&mut self) -> Option<(Duration, f32)> {
        let probability = match self.windows.front()?.1 {
            Window::Silent => 0.0,
            Window::Answered(p) => p,
            Window::Submitted => return None,
        };
        let (end, _) = self.windows.pop_front()?;
        Some((end, probability))
    }

    /// Whether a submitted window waits for its answer.
    #[cfg(test)]
    pub(crate) fn is_awaiting(&self) -> bool {
        self.awaiting > 0
    }

    /// The driver's wait for the detector's next answer: pending while none is awaited.
    pub(crate) fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<Result<f32, PipelineError>> {
        if self.awaiting == 0 {
            return Poll::Pending;
        }
        self.vad.poll_result(cx)
    }

    /// Forgets every window and the detector's state, for a new call.
    pub(crate) fn reset(&mut self) {
        self.vad.reset();
        self.windows.clear();
        self.awaiting = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use voxgate_media::SampleRate;

    use super::*;

    /// A detector that answers only when told to (`ready`), in order.
    #[derive(Default)]
    struct Late {
        answers: VecDeque<f32>,
        ready: usize,
        submitted: usize,
    }

    struct Handle(std::sync::Arc<std::sync::Mutex<Late>>);

    impl Vad for Handle {
        fn rate(&self) -> SampleRate {
            SampleRate::HZ_16000
        }
        fn chunk_len(&self) -> usize {
            4
        }
        fn submit(&mut self, _: &[i16]) -> Result<(), PipelineError> {
            self.0.lock().expect("lock").submitted += 1;
            Ok(())
        }
        fn try_result(&mut self) -> Option<Result<f32, PipelineError>> {
            let mut late = self.0.lock().expect("lock");
            if late.ready == 0 {
                return None;
            }
            late.ready -= 1;
            late.answers.pop_front().map(Ok)
        }
        fn poll_result(&mut self, _: &mut Context<'_>) -> Poll<Result<f32, PipelineError>> {
            self.try_result().map_or(Poll::Pending, Poll::Ready)
        }
        fn reset(&mut self) {}
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn windows_come_out_in_audio_order_whatever_the_answers_timing() {
        let late = std::sync::Arc::new(std::sync::Mutex::new(Late::default()));
        let mut stream = VadStream::new(Box::new(Handle(late.clone())), -55.0);
        stream.push(ms(32), &[3000; 4]); // submitted
        stream.push(ms(64), &[0; 4]); // silent
        stream.push(ms(96), &[3000; 4]); // submitted
        assert!(stream.is_awaiting());
        assert_eq!(
            stream.poll_decided(),
            None,
            "the first window waits for its answer"
        );
        stream.answer(Ok(0.9));
        assert_eq!(stream.poll_decided(), Some((ms(32), 0.9)));
        assert_eq!(stream.poll_decided(), Some((ms(64), 0.0)));
        assert_eq!(stream.poll_decided(), None);
        // An answer the detector has at the next submit is taken through the same door.
        late.lock().expect("lock").answers.extend([0.8, 0.1]);
        late.lock().expect("lock").ready = 2;
        stream.push(ms(128), &[3000; 4]);
        assert!(!stream.is_awaiting());
        assert_eq!(stream.poll_decided(), Some((ms(96), 0.8)));
        assert_eq!(stream.poll_decided(), Some((ms(128), 0.1)));
        assert_eq!(late.lock().expect("lock").submitted, 3);
        // An answer after a reset finds no window and is dropped.
        stream.reset();
        stream.answer(Ok(1.0));
        assert_eq!(stream.poll_decided(), None);
    }

    #[test]
    fn the_silence_floor_is_an_rms_level() {
        let late = std::sync::Arc::new(std::sync::Mutex::new(Late::default()));
        let stream = VadStream::new(Box::new(Handle(late)), -55.0);
        assert!(stream.is_silent(&[0; 256]));
        // -60 dBFS of line noise is below, -50 dBFS above.
        assert!(stream.is_silent(&[33; 256]));
        assert!(!stream.is_silent(&[104; 256]));
        assert!(!stream.is_silent(&[-3000; 256]));
    }
}
