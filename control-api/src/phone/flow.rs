//! A number's own IVR flow (`voice_start_url`): the carrier's inbound-call request is passed
//! on to it as it came (form-encoded), and the JSON action it answers is what the carrier
//! gets, with voxgate's `whenhangup` added when the flow sets none, so the call is still
//! recorded. A flow that fails (unreachable, slow, not a JSON object) is logged and the
//! call is handled as if the number had none: by `incoming_handling`.
//!
//! The number's `sms_url` and a placed call's `whenhangup_url` are told, not asked:
//! [`pass_on`] posts the carrier's form to them in the background, once, after voxgate has
//! stored what it describes, so a slow or failing URL delays and loses nothing of ours.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::Value;

/// How long a flow may take: the carrier waits for our answer while the caller hears
/// ringing, and gives up after a few seconds.
const FLOW_TIMEOUT: Duration = Duration::from_secs(4);

/// The largest action a flow may answer.
const MAX_ACTION_BYTES: usize = 64 * 1024;

static HTTP: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(FLOW_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
});

/// Asks the flow at `url` what to do with the call the carrier described in `body`; the
/// action, with `whenhangup` set, or `None` if the flow failed.
pub(crate) async fn ask(url: &str, body: &[u8], whenhangup: &str) -> Option<Value> {
    let answer = HTTP
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_vec())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status);
    let response = match answer {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "the number's voice_start_url failed");
            return None;
        }
    };
    let bytes = match response.bytes().await {
        Ok(bytes) if bytes.len() <= MAX_ACTION_BYTES => bytes,
        _ => {
            tracing::warn!("the number's voice_start_url answered too much or broke off");
            return None;
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut action)) if !action.is_empty() => {
            action
                .entry("whenhangup")
                .or_insert_with(|| Value::String(whenhangup.to_owned()));
            Some(Value::Object(action))
        }
        _ => {
            tracing::warn!("the number's voice_start_url did not answer a JSON action object");
            None
        }
    }
}

/// Posts the carrier's form `body` on to the user's `url` in the background (one try,
/// [`FLOW_TIMEOUT`]); a failure is logged, not retried: voxgate has the record.
pub(crate) fn pass_on(url: &str, body: &[u8], what: &'static str) {
    let request = HTTP
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_vec());
    tokio::spawn(async move {
        if let Err(e) = request
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
        {
            tracing::warn!(error = %e.without_url(), what, "passing a carrier webhook on failed");
        }
    });
}
