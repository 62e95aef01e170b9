//! `/a1/numbers` and `/a1/me` over real HTTP: allocate, configure, clear, deallocate (for
//! good), ownership, the account object.

mod common;

use common::{is_naive_timestamp, start, start_with};
use serde_json::{Value, json};
use voxgate_carrier_sim::{Account, SimConfig};

#[tokio::test]
async fn allocate_configure_clear_and_deallocate_for_good() {
    let sim = start().await;
    let (status, number) = sim
        .post(
            "/numbers",
            &[("country", "SE"), ("capabilities", "sms,voice")],
        )
        .await;
    assert_eq!(status, 200, "{number}");
    let id = number["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with('n') && id.len() == 33);
    assert_eq!(number["active"], "yes");
    assert_eq!(number["country"], "se");
    assert_eq!(number["number"], "+46766860001");
    assert_eq!(number["capabilities"], json!(["sms", "voice"]));
    assert!(is_naive_timestamp(
        number["allocated"].as_str().expect("allocated")
    ));

    let voice_start = r#"{"connect":"+46700000000"}"#;
    let (status, configured) = sim
        .post(
            &format!("/numbers/{id}"),
            &[
                ("sms_url", "https://example.invalid/sms"),
                ("voice_start", voice_start),
                ("name", "Support line"),
                ("sms_replies", "no"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{configured}");
    assert_eq!(configured["sms_url"], "https://example.invalid/sms");
    assert_eq!(configured["voice_start"], voice_start);
    assert_eq!(configured["name"], "Support line");
    assert_eq!(sim.handle.state()["numbers"][0]["sms_replies"], "no");

    // "none" and a single space clear a field.
    let (_, cleared) = sim
        .post(
            &format!("/numbers/{id}"),
            &[("sms_url", "none"), ("voice_start", " ")],
        )
        .await;
    assert!(cleared.get("sms_url").is_none() && cleared.get("voice_start").is_none());
    assert_eq!(cleared["name"], "Support line");
    let (_, shown) = sim.get(&format!("/Numbers/{id}")).await;
    assert_eq!(shown, cleared);

    let (status, bad) = sim
        .post(&format!("/numbers/{id}"), &[("name", &"x".repeat(51))])
        .await;
    assert_eq!(status, 400, "{bad}");

    let (status, gone) = sim
        .post(&format!("/numbers/{id}"), &[("active", "no")])
        .await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = gone
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["active", "deallocated", "id"]);
    assert_eq!(gone["active"], "no");
    assert!(is_naive_timestamp(
        gone["deallocated"].as_str().expect("ts")
    ));

    // Never configurable again, still listed, never handed out again.
    let (status, _) = sim
        .post(
            &format!("/numbers/{id}"),
            &[("sms_url", "https://example.invalid/x")],
        )
        .await;
    assert_eq!(status, 403);
    let (_, list) = sim.get("/numbers").await;
    assert_eq!(list["data"][0]["active"], "no");
    let next = sim.allocate().await;
    assert_eq!(next["number"], "+46766860002");
    assert_ne!(next["id"], id.as_str());
}

#[tokio::test]
async fn numbers_belong_to_their_account_and_run_out() {
    let mut other = Account::new("other", "other-secret");
    other.mobilenumber = "+46700000099".into();
    let sim = start_with(SimConfig {
        accounts: vec![Account::new("sim", "sim-secret"), other],
        numbers: vec!["+46766860001".into(), "+4712345678".into()],
        ..SimConfig::default()
    })
    .await;
    let mine = sim.allocate().await;
    let id = mine["id"].as_str().expect("id");
    let url = format!("{}/numbers/{id}", sim.handle.api_url());
    let theirs = sim
        .http
        .get(&url)
        .basic_auth("other", Some("other-secret"))
        .send()
        .await
        .expect("send");
    assert_eq!(theirs.status().as_u16(), 404);

    // Sweden is used up; Norway still has one.
    let (status, body) = sim.post("/numbers", &[("country", "se")]).await;
    assert_eq!(status, 404);
    assert!(body.as_str().is_some_and(|t| t.contains("se")), "{body}");
    let (status, norway) = sim.post("/numbers", &[("country", "no")]).await;
    assert_eq!(status, 200);
    assert_eq!(norway["number"], "+4712345678");
    assert_eq!(norway["capabilities"], json!(["sms", "mms", "voice"]));

    for bad in [
        &[("country", "sweden")][..],
        &[][..],
        &[("country", "se"), ("capabilities", "sms,fax")][..],
    ] {
        assert_eq!(sim.post("/numbers", bad).await.0, 400, "{bad:?}");
    }
}

#[tokio::test]
async fn me_shows_the_documented_account_object() {
    let sim = start().await;
    let (status, me) = sim.get("/me").await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = me
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "balance",
            "creditalert",
            "currency",
            "displayname",
            "email",
            "id",
            "mobilenumber"
        ]
    );
    assert_eq!(me["balance"], 10_000_000);
    assert_eq!(me["currency"], "SEK");
    assert_eq!(me["mobilenumber"], "+46700000001");
    assert!(me["id"].as_str().is_some_and(|id| id.starts_with('u')));
    let (_, updated) = sim.post("/me", &[("creditalert", "200000")]).await;
    assert_eq!(updated["creditalert"], 200_000);
    let state = sim.handle.state();
    assert_eq!(state["accounts"][0]["username"], "sim");
    assert_eq!(state["accounts"][0]["balance"], Value::from(10_000_000));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sim = start().await;
    assert_eq!(sim.get("/me").await.0, 200);
    let (http, url) = (sim.http.clone(), sim.handle.api_url());
    tokio::time::timeout(std::time::Duration::from_secs(5), sim.handle.shutdown())
        .await
        .expect("shutdown returns");
    assert!(http.get(format!("{url}/me")).send().await.is_err());
}
