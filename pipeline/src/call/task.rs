//! **IO edge**: the call task, one per call, driving the sans-IO [`CallCore`] and the leg.
//!
//! One `select!` over the leg's socket, the earliest deadline of core and leg, the reply
//! job's events, the VAD's next answer and the context lookup. Wall time is read here, and
//! only here, and handed to the core and the leg as an argument. Reply jobs run on their own
//! task ([`reply::spawn`]); cancelling one is dropping its handle.

use std::sync::Arc;
use std::time::Instant;

use super::Shared;
use super::core::{CallCore, CallInput, CallOutput, ReplyEvent, ReplyId};
use super::reply::{self, ReplyHandle};
use crate::context::CallContext;
use crate::error::PipelineError;
use crate::leg::{Leg, LegEvent, LegStep};

/// What the driver runs for the core besides the leg.
#[derive(Default)]
struct Jobs {
    reply: Option<(ReplyId, ReplyHandle)>,
    lookup: Option<futures::future::BoxFuture<'static, CallContext>>,
}

/// Runs one call on `leg` until the leg closes.
pub(super) async fn run<L: Leg>(shared: Arc<Shared>, mut leg: L) {
    let mut call = shared.call.clone();
    call.looks_up_context = shared.contexts.get().is_some();
    let mut core = CallCore::new(call, Instant::now());
    let mut jobs = Jobs::default();
    leg.start(Instant::now());
    loop {
        // Act on everything the core and the leg have to say, until both are quiet.
        loop {
            let now = Instant::now();
            core.handle(now, CallInput::Room(leg.room(now)));
            while let Some(output) = core.poll() {
                act(&shared, &mut core, &mut leg, &mut jobs, output);
            }
            match leg.next_step(Instant::now()).await {
                None => break,
                Some(LegStep::Event(event)) => {
                    core.handle(Instant::now(), CallInput::Leg(&event));
                    if let LegEvent::CallerAudio(frame) = event {
                        leg.recycle(frame);
                    }
                }
                Some(LegStep::Close) => return leg.close().await,
            }
        }
        let wake = [core.poll_timeout(), leg.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        tokio::select! {
            () = leg.recv() => leg.handle_received(Instant::now()),
            () = sleep_until(wake) => {
                let now = Instant::now();
                leg.handle_timeout(now);
                core.handle(now, CallInput::Timeout);
            }
            (id, event) = next_reply_event(jobs.reply.as_mut()) => {
                if matches!(event, ReplyEvent::Done { .. } | ReplyEvent::Failed(_)) {
                    jobs.reply = None;
                }
                core.handle(Instant::now(), CallInput::Reply { id, event });
            }
            answer = std::future::poll_fn(|cx| core.poll_vad(cx)) => {
                core.handle(Instant::now(), CallInput::Vad(answer));
            }
            context = next_context(jobs.lookup.as_mut()) => {
                jobs.lookup = None;
                core.handle(Instant::now(), CallInput::Context(context));
            }
        }
    }
}

/// Does what the core asked.
fn act<L: Leg>(
    shared: &Shared,
    core: &mut CallCore,
    leg: &mut L,
    jobs: &mut Jobs,
    out: CallOutput,
) {
    let now = Instant::now();
    match out {
        CallOutput::SendAudio(frame) => {
            if let Err(e) = leg.send_audio(now, frame.samples()) {
                tracing::warn!(call_id = core.call_id(), %e, "reply frame not sent");
            }
            core.recycle(frame);
            core.handle(now, CallInput::Room(leg.room(now)));
        }
        CallOutput::Interrupt => leg.interrupt(now),
        CallOutput::Hangup => leg.hangup(now),
        CallOutput::StartReply { id, job } => {
            jobs.reply = Some((id, reply::spawn(Arc::clone(&shared.engines), job)));
        }
        CallOutput::CancelReply => jobs.reply = None,
        CallOutput::LookupContext { call_id, from, to } => {
            jobs.lookup = shared
                .contexts
                .get()
                .map(|c| c.lookup(&call_id, &from, &to));
        }
        CallOutput::Publish(event) => shared.bus.publish(event),
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The running reply's next event (its loss is a failure); pending while none runs.
async fn next_reply_event(reply: Option<&mut (ReplyId, ReplyHandle)>) -> (ReplyId, ReplyEvent) {
    match reply {
        Some((id, handle)) => {
            let event = handle.next().await;
            (
                *id,
                event.unwrap_or(ReplyEvent::Failed(PipelineError::ReplyLost)),
            )
        }
        None => std::future::pending().await,
    }
}

/// The call context once looked up; pending while no lookup runs.
async fn next_context(
    lookup: Option<&mut futures::future::BoxFuture<'static, CallContext>>,
) -> CallContext {
    match lookup {
        Some(lookup) => lookup.await,
        None => std::future::pending().await,
    }
}
