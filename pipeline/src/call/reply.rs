//! One reply, produced on its own task: transcribe, think, speak.
//!
//! The call core asks for a reply with [`CallOutput::StartReply`](super::CallOutput); the
//! driver hands its [`ReplyJob`] to [`spawn`] and feeds the [`ReplyEvent`]s it receives on a
//! bounded channel back to the core: the final transcript, the brain's first token, each
//! text piece just before its audio, the audio as the mouth produces it, and the end. The
//! core stamps each event with the time it handles it. Brain and mouth run concurrently:
//! while one sentence is being synthesized the brain keeps writing the next. Cancelling
//! (barge-in, hang-up) is dropping the [`ReplyHandle`]: the task is aborted, which drops the
//! brain's and mouth's streams and so stops their work (the espeak-ng process is killed).

use std::sync::Arc;

use futures::StreamExt as _;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Engines;
use crate::error::PipelineError;
use crate::providers::{BrainEvent, Message, Role, Speech};
use crate::sentences::SentenceSplitter;

/// What to reply to.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyJob {
    /// Say this text (the greeting); no transcription, no brain.
    Say(String),
    /// Transcribe this 16 kHz utterance, then answer the conversation `history` plus it.
    Answer {
        /// The caller's utterance.
        utterance: Vec<i16>,
        /// The conversation so far, starting with the system prompt.
        history: Vec<Message>,
    },
}

/// What the reply task reports, in order.
#[derive(Debug)]
pub enum ReplyEvent {
    /// The caller's words (empty: nothing intelligible, no reply follows).
    Transcript(String),
    /// The brain produced its first text.
    FirstToken,
    /// This text is about to be spoken.
    Piece(String),
    /// Synthesized audio for the current piece.
    Audio(Speech),
    /// The reply is complete; `hangup` if the agent ends the call after it.
    Done {
        /// End the call once this reply has played.
        hangup: bool,
    },
    /// A provider failed; the reply ends here.
    Failed(PipelineError),
}

/// A running reply; dropping it cancels the reply.
pub(crate) struct ReplyHandle {
    task: JoinHandle<()>,
    events: mpsc::Receiver<ReplyEvent>,
}

impl ReplyHandle {
    /// The next event; `None` once the task is gone.
    pub(crate) async fn next(&mut self) -> Option<ReplyEvent> {
        self.events.recv().await
    }
}

impl Drop for ReplyHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Events buffered between the reply task and the call task.
const EVENT_QUEUE: usize = 32;

/// Starts a reply on its own task.
pub(crate) fn spawn(engines: Arc<Engines>, job: ReplyJob) -> ReplyHandle {
    let (tx, events) = mpsc::channel(EVENT_QUEUE);
    let task = tokio::spawn(async move {
        let last = match run(&engines, job, &tx).await {
            Ok(hangup) => ReplyEvent::Done { hangup },
            Err(e) => ReplyEvent::Failed(e),
        };
        let _ = tx.send(last).await;
    });
    ReplyHandle { task, events }
}

type Tx = mpsc::Sender<ReplyEvent>;

/// Runs the job; returns whether the agent hangs up after it.
async fn run(engines: &Engines, job: ReplyJob, tx: &Tx) -> Result<bool, PipelineError> {
    match job {
        ReplyJob::Say(text) => {
            speak(engines, &text, tx).await?;
            Ok(false)
        }
        ReplyJob::Answer {
            utterance,
            mut history,
        } => {
            let text = engines.ears.transcribe(utterance).await?;
            let _ = tx.send(ReplyEvent::Transcript(text.clone())).await;
            if text.is_empty() {
                return Ok(false);
            }
            history.push(Message::new(Role::User, text));
            think_and_speak(engines, &history, tx).await
        }
    }
}

/// Streams the brain's reply into pieces while the mouth speaks the pieces already cut.
async fn think_and_speak(
    engines: &Engines,
    history: &[Message],
    tx: &Tx,
) -> Result<bool, PipelineError> {
    let (piece_tx, mut piece_rx) = mpsc::channel::<String>(8);
    let think = async {
        let mut stream = engines.brain.reply(history);
        let mut splitter = SentenceSplitter::new();
        let mut hangup = false;
        let mut first = true;
        while let Some(event) = stream.next().await {
            match event? {
                BrainEvent::Text(t) => {
                    if first {
                        first = false;
                        let _ = tx.send(ReplyEvent::FirstToken).await;
                    }
                    splitter.push(&t);
                    while let Some(piece) = splitter.next_piece() {
                        let _ = piece_tx.send(piece).await;
                    }
                }
                BrainEvent::Hangup => hangup = true,
            }
        }
        if let Some(rest) = splitter.finish() {
            let _ = piece_tx.send(rest).await;
        }
        drop(piece_tx);
        Ok::<bool, PipelineError>(hangup)
    };
    // `move`: if speaking fails, the receiver is dropped and the brain's sends stop waiting.
    let talk = async move {
        while let Some(piece) = piece_rx.recv().await {
            speak(engines, &piece, tx).await?;
        }
        Ok::<(), PipelineError>(())
    };
    let (hangup, spoken) = tokio::join!(think, talk);
    spoken?;
    hangup
}

/// Speaks one piece: announces it, then streams its audio.
async fn speak(engines: &Engines, text: &str, tx: &Tx) -> Result<(), PipelineError> {
    let _ = tx.send(ReplyEvent::Piece(text.to_owned())).await;
    let mut audio = engines.mouth.speak(text);
    while let Some(speech) = audio.next().await {
        let _ = tx.send(ReplyEvent::Audio(speech?)).await;
    }
    Ok(())
}
