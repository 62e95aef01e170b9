//! The call-event log: every event of the bus appended to a file as one JSON line.
//!
//! Set `events.log` (env `VOXGATE_EVENTS_LOG`) to a path and each call's `started`,
//! `turn_completed` (with the per-turn stage times) and `ended` events are appended there,
//! so that operators and the latency harness read exact per-turn figures without scraping
//! histograms. The writer is a task of its own fed by the bus: a slow disk never slows a
//! call, it only loses events (counted in a warning) once the bus's buffer is full.

use std::path::Path;

use anyhow::Context as _;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::broadcast::error::RecvError;
use voxgate_pipeline::events::BroadcastBus;

/// Opens (appends to) `path` and spawns the task that writes every event of `bus` to it.
///
/// # Errors
///
/// When the file cannot be opened.
pub(crate) async fn spawn(bus: &BroadcastBus, path: &Path) -> anyhow::Result<()> {
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await
        .with_context(|| format!("opening the events log {}", path.display()))?;
    let mut out = tokio::io::BufWriter::new(file);
    let mut events = bus.subscribe();
    tokio::spawn(async move {
        let mut line = Vec::with_capacity(1024);
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "events log fell behind; events lost");
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            line.clear();
            if serde_json::to_writer(&mut line, &event).is_err() {
                continue;
            }
            line.push(b'\n');
            let written = out.write_all(&line).await;
            // Flush when nothing else is waiting, so the file is current between bursts.
            let flushed = if events.is_empty() {
                out.flush().await
            } else {
                Ok(())
            };
            if let Err(e) = written.and(flushed) {
                tracing::error!(%e, "events log write failed; logging stops");
                break;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use voxgate_pipeline::events::{CallEvent, EventBus as _};

    use super::*;

    #[tokio::test]
    async fn every_event_is_one_json_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"type\":\"earlier\"}\n").expect("write");
        let bus = BroadcastBus::new(16);
        spawn(&bus, &path).await.expect("opens");
        for call_id in ["a", "b"] {
            bus.publish(CallEvent::Refused {
                call_id: call_id.into(),
                from: "+46700000001".into(),
                to: "+46766860000".into(),
            });
        }
        let mut lines = Vec::new();
        for _ in 0..200 {
            let text = std::fs::read_to_string(&path).expect("read");
            lines = text.lines().map(str::to_owned).collect();
            if lines.len() == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(
            lines,
            [
                r#"{"type":"earlier"}"#,
                r#"{"type":"refused","call_id":"a","from":"+46700000001","to":"+46766860000"}"#,
                r#"{"type":"refused","call_id":"b","from":"+46700000001","to":"+46766860000"}"#
            ],
            "appended, one event per line"
        );
    }

    #[tokio::test]
    async fn an_unwritable_path_is_an_error() {
        let bus = BroadcastBus::new(16);
        let err = spawn(&bus, Path::new("/nonexistent/dir/events.jsonl"))
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("events log"), "{err}");
    }
}
