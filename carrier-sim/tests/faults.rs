//! Fault injection and inbound SMS: injected statuses and delays, and the `sms_url`
//! webhook retried after a 500, with its plain-text answer sent as a reply.

mod common;

use std::time::{Duration, Instant};

use common::{Receiver, eventually, is_naive_timestamp, start};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn injected_503s_then_success() {
    let sim = start().await;
    let (status, _) = sim
        .control(
            "/faults",
            json!({"path": "/a1/sms", "method": "POST", "status": 503, "body": "try later", "count": 2}),
        )
        .await;
    assert_eq!(status, 200);
    let form = [("from", "Elks"), ("to", "+46700000000"), ("message", "hi")];
    // GET is not matched by a POST fault.
    assert_eq!(sim.get("/sms").await.0, 200);
    for _ in 0..2 {
        let (status, body) = sim.post("/SMS", &form).await;
        assert_eq!((status, body), (503, json!("try later")));
    }
    let (status, sms) = sim.post("/sms", &form).await;
    assert_eq!(status, 200, "{sms}");
    assert_eq!(sim.handle.state()["faults"], json!([]));
}

#[tokio::test]
async fn injected_401_429_and_credit_errors() {
    let sim = start().await;
    sim.control(
        "/faults",
        json!([
            {"path": "/a1/me", "status": 401, "body": "Unauthorized"},
            {"path": "/a1/me", "status": 429, "body": "slow down"},
            {"path": "/a1/sms", "status": 403, "body": "{\"error\":\"Not enough credits\"}"},
        ]),
    )
    .await;
    assert_eq!(sim.get("/me").await.0, 401);
    assert_eq!(sim.get("/me").await.0, 429);
    assert_eq!(sim.get("/me").await.0, 200);
    let (status, body) = sim
        .post(
            "/sms",
            &[("from", "Elks"), ("to", "+46700000000"), ("message", "hi")],
        )
        .await;
    assert_eq!(
        (status, body),
        (403, json!({"error": "Not enough credits"}))
    );
    // The controls themselves are never faulted.
    sim.control("/faults", json!({"path": "/", "status": 500, "count": 5}))
        .await;
    assert_eq!(sim.sim_get("/state").await["faults"][0]["count"], 5);
    let cleared = sim
        .http
        .delete(format!("{}/sim/faults", sim.base))
        .send()
        .await
        .expect("delete");
    assert_eq!(cleared.status().as_u16(), 200);
    assert_eq!(sim.get("/me").await.0, 200);
}

#[tokio::test]
async fn a_delay_fault_slows_and_then_serves() {
    let sim = start().await;
    sim.control("/faults", json!({"path": "/a1/me", "delay_ms": 300}))
        .await;
    let began = Instant::now();
    let (status, me) = sim.get("/me").await;
    assert_eq!(status, 200, "{me}");
    assert!(began.elapsed() >= Duration::from_millis(300));
    let began = Instant::now();
    assert_eq!(sim.get("/me").await.0, 200);
    assert!(began.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn inbound_sms_is_retried_after_a_500_and_answered_with_a_reply() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let number = sim.allocate().await;
    let (id, to) = (
        number["id"].as_str().expect("id"),
        number["number"].as_str().expect("number"),
    );
    sim.post(
        &format!("/numbers/{id}"),
        &[("sms_url", &receiver.url("/sms"))],
    )
    .await;
    receiver.answer("/sms", &[(500, "oops"), (200, "Thanks, we got it!")]);
    let (status, body) = sim
        .control(
            "/sms",
            json!({"from": "+46700000005", "to": to, "message": "Hello how are you?"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sms_id = body["id"].as_str().expect("id");

    let hits = receiver.wait_hits("/sms", 2, WAIT).await;
    for hit in &hits {
        assert_eq!(hit.form["id"], sms_id);
        assert_eq!(hit.form["from"], "+46700000005");
        assert_eq!(hit.form["to"], to);
        assert_eq!(hit.form["message"], "Hello how are you?");
        assert_eq!(hit.form["direction"], "incoming");
        assert!(is_naive_timestamp(&hit.form["created"]));
    }
    assert!(hits[1].at.duration_since(hits[0].at) >= Duration::from_millis(20));

    // The plain-text answer goes back as a reply SMS from the number.
    let reply = eventually("the reply", WAIT, || async {
        let state = sim.handle.state();
        let sms = state["sms"].as_array().cloned().unwrap_or_default();
        sms.into_iter().find(|s| s["direction"] == "outgoing-reply")
    })
    .await;
    assert_eq!(reply["from"], to);
    assert_eq!(reply["to"], "+46700000005");
    assert_eq!(reply["message"], "Thanks, we got it!");
    let log = sim.handle.state()["webhooks"].clone();
    let attempts: Vec<(i64, i64)> = log
        .as_array()
        .expect("log")
        .iter()
        .filter(|w| w["kind"] == "sms_url")
        .map(|w| {
            (
                w["attempt"].as_i64().unwrap_or(0),
                w["status"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(attempts, [(1, 500), (2, 200)]);
    let (_, incoming) = sim.get(&format!("/sms/{sms_id}")).await;
    assert_eq!(incoming["direction"], "incoming");

    // A JSON action as sms_url is recorded, not posted; no number, no SMS.
    sim.post(
        &format!("/numbers/{id}"),
        &[("sms_url", r#"{"forward":"+46700000009"}"#)],
    )
    .await;
    let (_, body) = sim
        .control(
            "/sms",
            json!({"from": "+46700000005", "to": to, "message": "again"}),
        )
        .await;
    let state = sim.handle.state();
    let stored = state["sms"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == body["id"]).cloned())
        .expect("stored");
    assert_eq!(stored["action"], json!({"forward": "+46700000009"}));
    let (status, _) = sim
        .control(
            "/sms",
            json!({"from": "+46700000005", "to": "+46766860019", "message": "x"}),
        )
        .await;
    assert_eq!(status, 404);
}
