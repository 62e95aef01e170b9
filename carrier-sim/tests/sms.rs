//! `/a1/sms` over real HTTP: auth, the send answer, parts and cost, dry runs, `dontlog`,
//! credits, delivery reports, undeliverable numbers and paging.

mod common;

use std::time::Duration;

use common::{Receiver, eventually, is_naive_timestamp, is_zulu_timestamp, start};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn wrong_or_missing_credentials_get_401_in_plain_text() {
    let sim = start().await;
    let url = format!("{}/sms", sim.handle.api_url());
    let form = [("from", "Elks"), ("to", "+46700000000"), ("message", "hi")];
    let missing = sim.http.post(&url).form(&form).send().await.expect("send");
    assert_eq!(missing.status().as_u16(), 401);
    let wrong = sim
        .http
        .post(&url)
        .basic_auth("sim", Some("wrong"))
        .form(&form)
        .send()
        .await
        .expect("send");
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(
        wrong.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    assert_eq!(wrong.text().await.expect("body"), "Unauthorized");
    for path in ["/me", "/numbers", "/calls"] {
        let response = sim
            .http
            .get(format!("{}{path}", sim.handle.api_url()))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status().as_u16(), 401, "{path}");
    }
    assert_eq!(sim.handle.state()["sms"], json!([]));
}

#[tokio::test]
async fn send_answers_like_the_documented_example_and_charges_parts() {
    let sim = start().await;
    let before = sim.balance().await;
    let message = "This is the message sent to the phone.";
    // Path case is tolerated, as in the official samples (`/a1/SMS`).
    let (status, sms) = sim
        .post(
            "/SMS",
            &[
                ("from", "YourCompany"),
                ("to", "+46700000000"),
                ("message", message),
            ],
        )
        .await;
    assert_eq!(status, 200, "{sms}");
    let keys: Vec<&str> = sms
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "status",
        "direction",
        "from",
        "created",
        "parts",
        "to",
        "cost",
        "message",
        "id",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(sms["status"], "created");
    assert_eq!(sms["direction"], "outgoing");
    assert_eq!(sms["from"], "YourCompany");
    assert_eq!(sms["to"], "+46700000000");
    assert_eq!(sms["message"], message);
    assert_eq!(sms["parts"], 1);
    assert_eq!(sms["cost"], 5000);
    let id = sms["id"].as_str().expect("id");
    assert!(id.starts_with('s') && id.len() == 33, "{id}");
    assert!(is_naive_timestamp(
        sms["created"].as_str().expect("created")
    ));
    assert_eq!(sim.balance().await, before - 5000);
    // `/a1/Me` works too.
    assert_eq!(sim.get("/Me").await.0, 200);

    let (status, shown) = sim.get(&format!("/sms/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["message"], message);
    assert_eq!(shown["cost"], 5000);
    assert_eq!(sim.get("/sms/sdoesnotexist").await.0, 404);

    let long = "x".repeat(161);
    let (_, two) = sim
        .post(
            "/sms",
            &[("from", "Elks"), ("to", "+46700000000"), ("message", &long)],
        )
        .await;
    assert_eq!(
        (two["parts"].as_i64(), two["cost"].as_i64()),
        (Some(2), Some(10_000))
    );
    assert_eq!(sim.balance().await, before - 15_000);
}

#[tokio::test]
async fn parts_follow_gsm7_and_ucs2_and_dry_runs_charge_nothing() {
    let sim = start().await;
    let before = sim.balance().await;
    let table = [
        ("a".repeat(160), 1),
        ("a".repeat(161), 2),
        ("a".repeat(306), 2),
        ("a".repeat(307), 3),
        ("€".repeat(80), 1),
        ("€".repeat(81), 2),
        (format!("{}{{", "a".repeat(159)), 2),
        ("Hej då, Åsa! ÄÖ".to_owned(), 1),
        ("ő".repeat(70), 1),
        ("ő".repeat(71), 2),
        ("ő".repeat(135), 3),
        ("😀".repeat(35), 1),
        ("😀".repeat(36), 2),
    ];
    for (message, parts) in table {
        let (status, sms) = sim
            .post(
                "/sms",
                &[
                    ("from", "Elks"),
                    ("to", "+46700000000"),
                    ("message", &message),
                    ("dryrun", "yes"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{sms}");
        assert_eq!(sms["parts"], parts, "{message}");
        assert_eq!(sms["estimated_cost"], parts * 5000, "{message}");
        assert!(
            sms.get("cost").is_none() && sms.get("id").is_none(),
            "{sms}"
        );
    }
    assert_eq!(sim.balance().await, before);
    assert_eq!(sim.handle.state()["sms"], json!([]));
}

#[tokio::test]
async fn bad_parameters_get_400_in_plain_text() {
    let sim = start().await;
    let table: [&[(&str, &str)]; 6] = [
        &[("to", "+46700000000"), ("message", "hi")],
        &[("from", "Elks"), ("message", "hi")],
        &[("from", "Elks"), ("to", "+46700000000")],
        &[
            ("from", "Far too long sender"),
            ("to", "+46700000000"),
            ("message", "hi"),
        ],
        &[("from", "Elks"), ("to", "0700000000"), ("message", "hi")],
        &[
            ("from", "Elks"),
            ("to", "+46700000000"),
            ("message", "hi"),
            ("whendelivered", "nope"),
        ],
    ];
    for form in table {
        let (status, body) = sim.post("/sms", form).await;
        assert_eq!(status, 400, "{form:?}");
        assert!(
            body.is_string() && !body.as_str().unwrap_or_default().is_empty(),
            "{body}"
        );
    }
}

#[tokio::test]
async fn dontlog_keeps_the_text_out_of_history() {
    let sim = start().await;
    let (_, sms) = sim
        .post(
            "/sms",
            &[
                ("from", "Elks"),
                ("to", "+46700000000"),
                ("message", "secret code 1234"),
                ("dontlog", "message"),
            ],
        )
        .await;
    let id = sms["id"].as_str().expect("id");
    let (_, shown) = sim.get(&format!("/sms/{id}")).await;
    assert!(shown.get("message").is_none(), "{shown}");
    let (_, listed) = sim.get("/sms").await;
    assert!(listed["data"][0].get("message").is_none());
    assert!(!sim.handle.state().to_string().contains("secret code"));
}

#[tokio::test]
async fn an_empty_balance_gets_403_not_enough_credits() {
    let sim = start().await;
    let (status, _) = sim
        .control("/accounts/sim/balance", json!({"balance": 4999}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = sim
        .post(
            "/sms",
            &[("from", "Elks"), ("to", "+46700000000"), ("message", "hi")],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(body, json!({"error": "Not enough credits"}));
    assert_eq!(sim.balance().await, 4999);
}

#[tokio::test]
async fn delivery_reports_say_sent_then_delivered_with_a_z_timestamp() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    let (_, sms) = sim
        .post(
            "/sms",
            &[
                ("from", "+46766860001"),
                ("to", "+46700000000"),
                ("message", "hi"),
                ("whendelivered", &receiver.url("/dlr")),
                ("flashsms", "yes"),
            ],
        )
        .await;
    let id = sms["id"].as_str().expect("id");
    let hits = receiver.wait_hits("/dlr", 2, WAIT).await;
    assert_eq!(hits[0].form.get("id").map(String::as_str), Some(id));
    assert_eq!(hits[0].form["status"], "sent");
    assert!(!hits[0].form.contains_key("delivered"));
    assert_eq!(hits[1].form["status"], "delivered");
    assert!(
        is_zulu_timestamp(&hits[1].form["delivered"]),
        "{:?}",
        hits[1].form
    );
    let (_, shown) = sim.get(&format!("/sms/{id}")).await;
    assert_eq!(shown["status"], "delivered");
    assert!(is_zulu_timestamp(
        shown["delivered"].as_str().expect("delivered")
    ));
    let state = sim.handle.state();
    assert_eq!(state["sms"][0]["flashsms"], true);
    assert_eq!(state["sms"][0]["whendelivered"], receiver.url("/dlr"));
}

#[tokio::test]
async fn undeliverable_numbers_fail() {
    let sim = start().await;
    let receiver = Receiver::start().await;
    sim.control("/undeliverable", json!({"numbers": ["+46700000666"]}))
        .await;
    let (_, sms) = sim
        .post(
            "/sms",
            &[
                ("from", "Elks"),
                ("to", "+46700000666"),
                ("message", "hi"),
                ("whendelivered", &receiver.url("/dlr")),
            ],
        )
        .await;
    let hits = receiver.wait_hits("/dlr", 2, WAIT).await;
    assert_eq!(hits[1].form["status"], "failed");
    assert!(!hits[1].form.contains_key("delivered"));
    let (_, shown) = sim
        .get(&format!("/sms/{}", sms["id"].as_str().expect("id")))
        .await;
    assert_eq!(shown["status"], "failed");
    assert!(shown.get("delivered").is_none());
}

#[tokio::test]
async fn paging_follows_next_as_start_over_250_messages() {
    let sim = start().await;
    let mut sent = Vec::new();
    for i in 0..250 {
        let message = format!("message {i}");
        let to = if i % 2 == 0 {
            "+46700000002"
        } else {
            "+46700000003"
        };
        let (status, sms) = sim
            .post(
                "/sms",
                &[("from", "Elks"), ("to", to), ("message", &message)],
            )
            .await;
        assert_eq!(status, 200);
        sent.push(sms["id"].as_str().expect("id").to_owned());
    }
    let mut seen: Vec<String> = Vec::new();
    let mut pages = Vec::new();
    let mut query = "/sms?limit=100".to_owned();
    loop {
        let (status, page) = sim.get(&query).await;
        assert_eq!(status, 200);
        let data = page["data"].as_array().expect("data");
        pages.push(data.len());
        seen.extend(
            data.iter()
                .map(|s| s["id"].as_str().expect("id").to_owned()),
        );
        match page.get("next").and_then(Value::as_str) {
            Some(next) => {
                assert_eq!(Some(next), data.last().and_then(|s| s["created"].as_str()));
                query = format!("/sms?limit=100&start={next}");
            }
            None => break,
        }
    }
    assert_eq!(pages, [100, 100, 50]);
    sent.reverse();
    assert_eq!(seen, sent, "newest first, each once");

    // Default limit is 100; `to` filters; `end` keeps what is after.
    let (_, page) = sim.get("/sms").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(100));
    let (_, filtered) = sim.get("/sms?to=%2B46700000003&limit=100").await;
    let data = filtered["data"].as_array().expect("data");
    assert_eq!(data.len(), 100);
    assert!(data.iter().all(|s| s["to"] == "+46700000003"));
    assert!(filtered.get("next").is_some(), "125 match, 100 shown");
    let oldest = sim.get(&format!("/sms/{}", sent[249])).await.1["created"]
        .as_str()
        .expect("created")
        .to_owned();
    let (_, after) = sim.get(&format!("/sms?end={oldest}")).await;
    assert_eq!(after["data"].as_array().map(Vec::len), Some(100));
    assert!(
        after["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|s| s["id"] != sent[249])
    );

    // The `sent` → `delivered` timeline ran for all of them.
    eventually("all delivered", WAIT, || async {
        let state = sim.handle.state();
        let sms = state["sms"].as_array().expect("sms").clone();
        sms.iter().all(|s| s["status"] == "delivered").then_some(())
    })
    .await;
}
