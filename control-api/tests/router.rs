//! Every route through the real router (`oneshot`, no socket) on a real SQLite store:
//! success, auth per role and circle, validation, and circle isolation.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::App;
use voxgate_control_api::auth::Role;
use voxgate_control_api::recorder::{CallUpdate, Recorder};

/// Ids of the fixtures made in circle `a`.
struct Fixtures {
    agent: String,
    spare_agent: String,
    provider: String,
    spare_provider: String,
    number: String,
    spare_number: String,
    call: String,
}

async fn fixtures(app: &App) -> Fixtures {
    for (slug, number) in [("desk", "+46700000100"), ("gone", "+46700000199")] {
        let body =
            json!({"element_type": "phone-number", "slug": slug, "spec": {"number": number}});
        let r = app
            .admin(
                Method::POST,
                "/api/a/ops/create",
                "a",
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut ids = Vec::new();
    for name in ["Ann", "Spare"] {
        let body = json!({"name": name}).to_string();
        let r = app
            .admin(Method::POST, "/api/v1/agents", "a", Some(&body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().expect("id").to_owned());
    }
    let mut providers = Vec::new();
    for name in ["main", "spare"] {
        let body =
            json!({"kind": "46elks", "name": name, "username": "u1", "password": "hunter2-secret"});
        let r = app
            .admin(
                Method::POST,
                "/api/v1/telephony/providers",
                "a",
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        providers.push(r.body["id"].as_str().expect("id").to_owned());
    }
    let mut numbers = Vec::new();
    for e164 in ["+46700000100", "+46700000102"] {
        let body = json!({"number": e164, "provider_id": providers[0], "agent_id": ids[0]});
        let r = app
            .admin(
                Method::POST,
                "/api/v1/telephony/numbers",
                "a",
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        numbers.push(r.body["id"].as_str().expect("id").to_owned());
    }
    // A finished call to +46700000100 from +46700000009, recorded as the voice core would.
    let mut recorder = Recorder::new(app.state.store_arc());
    for update in [
        CallUpdate::Started {
            carrier_call_id: "c1".into(),
            from: "+46700000009".into(),
            to: "+46700000100".into(),
        },
        CallUpdate::Turn {
            carrier_call_id: "c1".into(),
            turn: 1,
            user: "Hello".into(),
            agent: "Hi there".into(),
            interrupted: false,
            metrics: json!({"end_of_turn_ms": 300}),
        },
        CallUpdate::Ended {
            carrier_call_id: "c1".into(),
            reason: "hangup".into(),
            error: None,
        },
    ] {
        recorder.record(update).await.expect("record");
    }
    let calls = app.admin(Method::GET, "/api/v1/calls", "a", None).await;
    let call = calls.body[0]["id"].as_str().expect("a call").to_owned();
    Fixtures {
        agent: ids[0].clone(),
        spare_agent: ids[1].clone(),
        provider: providers[0].clone(),
        spare_provider: providers[1].clone(),
        number: numbers[0].clone(),
        spare_number: numbers[1].clone(),
        call,
    }
}

/// (method, path, body, least role, success status, telephony account needed).
type Route = (Method, String, Option<String>, Role, u16, bool);

fn routes(f: &Fixtures) -> Vec<Route> {
    let j = |v: Value| Some(v.to_string());
    vec![
        (
            Method::POST,
            "/api/a/ops/create".into(),
            j(json!({"element_type": "email", "slug": "mail", "spec": {"address": "x@y.se"}})),
            Role::Write,
            201,
            false,
        ),
        (
            Method::GET,
            "/api/a/desk/ops/get".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::PATCH,
            "/api/a/desk/ops/update".into(),
            j(json!({"spec": {"max_retries": 5}})),
            Role::Write,
            200,
            false,
        ),
        (
            Method::GET,
            "/api/a/desk/ops/version?history=true".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::POST,
            "/api/a/desk/ops/disable".into(),
            None,
            Role::Admin,
            200,
            false,
        ),
        (
            Method::POST,
            "/api/a/desk/ops/enable".into(),
            None,
            Role::Admin,
            200,
            false,
        ),
        (
            Method::GET,
            "/api/a/desk/ops/schema".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::GET,
            "/api/a/desk/ops/stats".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::DELETE,
            "/api/a/gone/ops/delete".into(),
            None,
            Role::Admin,
            200,
            false,
        ),
        (
            Method::GET,
            "/api/v1/agents".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::POST,
            "/api/v1/agents".into(),
            j(json!({"name": "New"})),
            Role::Write,
            201,
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/agents/{}", f.agent),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::PATCH,
            format!("/api/v1/agents/{}", f.agent),
            j(json!({"greeting": "Hi"})),
            Role::Write,
            200,
            false,
        ),
        (
            Method::DELETE,
            format!("/api/v1/agents/{}", f.spare_agent),
            None,
            Role::Write,
            204,
            false,
        ),
        (
            Method::GET,
            "/api/v1/telephony/numbers".into(),
            None,
            Role::Read,
            200,
            true,
        ),
        (
            Method::POST,
            "/api/v1/telephony/numbers".into(),
            j(json!({"number": "+46700000101", "provider_id": f.provider})),
            Role::Write,
            201,
            true,
        ),
        (
            Method::PATCH,
            format!("/api/v1/telephony/numbers/{}", f.number),
            j(json!({"agent_id": null})),
            Role::Write,
            204,
            true,
        ),
        (
            Method::DELETE,
            format!("/api/v1/telephony/numbers/{}", f.spare_number),
            None,
            Role::Write,
            204,
            true,
        ),
        (
            Method::GET,
            "/api/v1/telephony/providers".into(),
            None,
            Role::Read,
            200,
            true,
        ),
        (
            Method::POST,
            "/api/v1/telephony/providers".into(),
            j(json!({"kind": "46elks", "username": "u2", "password": "p"})),
            Role::Admin,
            201,
            true,
        ),
        (
            Method::DELETE,
            format!("/api/v1/telephony/providers/{}", f.spare_provider),
            None,
            Role::Admin,
            204,
            true,
        ),
        (
            Method::GET,
            "/api/v1/calls".into(),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/calls/{}", f.call),
            None,
            Role::Read,
            200,
            false,
        ),
        (
            Method::GET,
            "/api/v1/threads?contact=%2B46700000009".into(),
            None,
            Role::Read,
            200,
            false,
        ),
    ]
}

#[tokio::test]
async fn every_route_checks_auth_then_succeeds_at_its_role() {
    let app = App::new(support::sqlite().await).await;
    let f = fixtures(&app).await;
    for (method, path, body, least, success, telephony) in routes(&f) {
        let account = telephony.then_some("a");
        let body = body.as_deref();
        let r = app.send(method.clone(), &path, None, account, body).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "AUTH_REQUIRED"),
            "{method} {path}"
        );
        let r = app
            .send(method.clone(), &path, Some("vgk_not-a-key"), account, body)
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (401, "AUTH_INVALID_KEY"),
            "{method} {path}"
        );
        let r = app
            .send(method.clone(), &path, Some("Basic abc"), account, body)
            .await;
        assert_eq!(r.status.as_u16(), 401, "{method} {path}");
        for role in Role::ALL.into_iter().filter(|r| *r < least) {
            let r = app
                .send(
                    method.clone(),
                    &path,
                    Some(app.key("a", role)),
                    account,
                    body,
                )
                .await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (403, "AUTH_FORBIDDEN"),
                "{method} {path} as {role}"
            );
        }
        let r = app
            .send(
                method.clone(),
                &path,
                Some(app.key("a", least)),
                account,
                body,
            )
            .await;
        assert_eq!(
            r.status.as_u16(),
            success,
            "{method} {path} as {least}: {}",
            r.body
        );
    }
    app.db.finish().await;
}

#[tokio::test]
async fn a_key_of_circle_b_never_sees_circle_a() {
    let app = App::new(support::sqlite().await).await;
    let f = fixtures(&app).await;
    let b = app.key("b", Role::Admin).to_owned();
    for (method, path, body, _, _, telephony) in routes(&f) {
        let account = telephony.then_some("a");
        let r = app
            .send(method.clone(), &path, Some(&b), account, body.as_deref())
            .await;
        let by_id =
            path.contains(&f.agent) || path.contains(&f.spare_agent) || path.contains(&f.call);
        let expected = if path.starts_with("/api/a/") || telephony {
            (403, "AUTH_WRONG_CIRCLE")
        } else if by_id {
            // Another circle's agent or call simply does not exist for this key.
            let code = if path.contains("/calls/") {
                "CALL_NOT_FOUND"
            } else {
                "AGENT_NOT_FOUND"
            };
            (404, code)
        } else {
            // Lists and creations act in circle b itself.
            let status = if method == Method::POST { 201 } else { 200 };
            (status, "")
        };
        assert_eq!(
            (r.status.as_u16(), r.code()),
            expected,
            "{method} {path}: {}",
            r.body
        );
        // Lists in circle b show none of circle a's things.
        if r.status.is_success() && method == Method::GET {
            assert_eq!(r.body, json!([]), "{path}");
        }
    }
    // b's own telephony account is empty, and X-Account-ID cannot be spoofed.
    let r = app
        .send(
            Method::GET,
            "/api/v1/telephony/numbers",
            Some(&b),
            Some("b"),
            None,
        )
        .await;
    assert_eq!(r.body, json!({"numbers": []}));
    let r = app
        .send(Method::GET, "/api/v1/agents", Some(&b), Some("a"), None)
        .await;
    assert_eq!(r.code(), "AUTH_WRONG_CIRCLE");
    // Circle a's data is untouched by all of the above.
    let r = app
        .admin(Method::GET, "/api/a/desk/ops/get", "a", None)
        .await;
    assert_eq!(r.body["version"], 1);
    assert_eq!(
        app.admin(Method::GET, "/api/v1/agents", "a", None)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    app.db.finish().await;
}

#[tokio::test]
async fn element_validation_merge_versions_and_deletes() {
    let owned = App::new(support::sqlite().await).await;
    let app = &owned;
    let f = fixtures(app).await;
    let create = |body: Value| async move {
        app.admin(
            Method::POST,
            "/api/a/ops/create",
            "a",
            Some(&body.to_string()),
        )
        .await
    };
    let table = [
        (
            json!({"element_type": "fax", "slug": "x"}),
            400,
            "ELEMENT_INVALID_TYPE",
        ),
        (
            json!({"element_type": "email", "slug": "Bad Slug", "spec": {"address": "a@b.se"}}),
            400,
            "ELEMENT_INVALID_SLUG",
        ),
        (
            json!({"element_type": "phone-number", "slug": "p", "spec": {"number": "0700"}}),
            400,
            "PHONE_INVALID_NUMBER",
        ),
        (
            json!({"element_type": "phone-number", "slug": "p", "spec": {"country": "se"}}),
            400,
            "PHONE_INVALID_COUNTRY",
        ),
        (
            json!({"element_type": "phone-number", "slug": "p", "spec": {"sender_id": "MuchTooLongName"}}),
            400,
            "PHONE_INVALID_SENDER_ID",
        ),
        (
            json!({"element_type": "phone-number", "slug": "p", "spec": {"retry_backoff_ms": 100}}),
            400,
            "PHONE_INVALID_CONFIG",
        ),
        (
            json!({"element_type": "email", "slug": "m", "spec": {"address": "nope"}}),
            400,
            "EMAIL_INVALID_ADDRESS",
        ),
        (
            json!({"element_type": "websocket", "slug": "w", "spec": {"events": 3}}),
            400,
            "WS_INVALID_CONFIG",
        ),
        (
            json!({"element_type": "email", "spec": {}}),
            400,
            "INVALID_BODY",
        ),
        (
            json!({"element_type": "phone-number", "slug": "desk"}),
            409,
            "ELEMENT_SLUG_TAKEN",
        ),
    ];
    for (body, status, code) in table {
        let r = create(body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
        assert_eq!(r.body["error"]["retryable"], false);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let r = app
        .admin(Method::POST, "/api/a/ops/create", "a", Some("{not json"))
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "INVALID_BODY"));

    // Created with defaults and the documented warning.
    let r = create(json!({"element_type": "phone-number", "slug": "line", "spec": {"phone_number": "+46700000300", "country": "SE", "capabilities": {"voice": true}}})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["spec"]["max_retries"], 3);
    assert_eq!(r.body["spec"]["retry_backoff_ms"], 2000);
    assert_eq!(r.body["spec"]["carrier_api_url"], "");
    assert_eq!(
        r.body["spec"]["capabilities"],
        json!({"sms": true, "voice": true})
    );
    assert!(
        r.body["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("voice_start_url"))
    );

    // Deep merge keeps the other fields; a list replaces; null falls back to the default.
    let update = |body: Value| async move {
        app.admin(
            Method::PATCH,
            "/api/a/line/ops/update",
            "a",
            Some(&body.to_string()),
        )
        .await
    };
    let r =
        update(json!({"spec": {"max_retries": 7, "voice_start_url": "https://x.example/v"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["spec"]["max_retries"].clone(),
            r.body["spec"]["country"].clone()
        ),
        (json!(7), json!("SE"))
    );
    assert_eq!(r.body["version"], 2);
    assert!(
        r.body.get("warnings").is_none(),
        "voice_start_url set: no warning"
    );
    let r = update(json!({"spec": {"max_retries": null}})).await;
    assert_eq!(r.body["spec"]["max_retries"], 3);
    let r = update(json!({"spec": {"max_retries": 11}})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "PHONE_INVALID_CONFIG"));
    let r = update(json!({"spec": {"number": "+46700000301"}, "deep": false})).await;
    assert_eq!(
        r.body["spec"]["country"],
        Value::Null,
        "deep=false replaces wholesale"
    );
    assert_eq!(r.body["version"], 4);
    let ws = create(
        json!({"element_type": "websocket", "slug": "events", "spec": {"events": ["a", "b"]}}),
    )
    .await;
    assert_eq!(ws.status, StatusCode::CREATED);
    let r = app
        .admin(
            Method::PATCH,
            "/api/a/events/ops/update",
            "a",
            Some(&json!({"spec": {"events": ["c"]}}).to_string()),
        )
        .await;
    assert_eq!(r.body["spec"]["events"], json!(["c"]), "lists replace");

    let r = app
        .admin(
            Method::GET,
            "/api/a/line/ops/version?history=true",
            "a",
            None,
        )
        .await;
    assert_eq!(r.body["version"], 4);
    let versions: Vec<_> = r.body["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|v| v["version"].clone())
        .collect();
    // Newest first, so `limit` keeps the latest versions.
    assert_eq!(versions, [json!(4), json!(3), json!(2), json!(1)]);
    let r = app
        .admin(Method::GET, "/api/a/line/ops/version", "a", None)
        .await;
    assert!(r.body.get("history").is_none());

    // Stats, schema, unknown things.
    let r = app
        .admin(Method::GET, "/api/a/desk/ops/stats", "a", None)
        .await;
    assert_eq!(r.body["calls"], json!({"total": 1, "active": 0}));
    let r = app
        .admin(Method::GET, "/api/a/desk/ops/schema", "a", None)
        .await;
    assert!(r.body["spec"]["properties"]["retry_backoff_ms"].is_object());
    let outputs: Vec<_> = r.body["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter(|p| p["direction"] == "output")
        .map(|p| p["name"].clone())
        .collect();
    assert!(outputs.contains(&json!("message")), "{outputs:?}");
    let r = app
        .admin(Method::GET, "/api/a/nobody/ops/get", "a", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "ELEMENT_NOT_FOUND"));
    let r = app
        .admin(Method::POST, "/api/a/desk/ops/teleport", "a", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "OPERATION_NOT_FOUND"));

    // Disabled elements say so; delete is refused while a call is active, then soft.
    let r = app
        .admin(Method::POST, "/api/a/line/ops/disable", "a", None)
        .await;
    assert_eq!(r.body["enabled"], false);
    let body = json!({"number": "+46700000301", "provider_id": f.provider}).to_string();
    let r = app
        .admin(Method::POST, "/api/v1/telephony/numbers", "a", Some(&body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut recorder = Recorder::new(app.state.store_arc());
    let started = CallUpdate::Started {
        carrier_call_id: "live".into(),
        from: "+46700000009".into(),
        to: "+46700000301".into(),
    };
    recorder.record(started).await.expect("record");
    let r = app
        .admin(Method::DELETE, "/api/a/line/ops/delete", "a", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PHONE_CALLS_ACTIVE"));
    let ended = CallUpdate::Ended {
        carrier_call_id: "live".into(),
        reason: "hangup".into(),
        error: None,
    };
    recorder.record(ended).await.expect("record");
    let r = app
        .admin(Method::DELETE, "/api/a/line/ops/delete", "a", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .admin(Method::GET, "/api/a/line/ops/get", "a", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    owned.db.finish().await;
}

#[tokio::test]
async fn agents_telephony_and_calls_validation() {
    let owned = App::new(support::sqlite().await).await;
    let app = &owned;
    let f = fixtures(app).await;
    let post = |uri: &'static str, body: Value| async move {
        app.admin(Method::POST, uri, "a", Some(&body.to_string()))
            .await
    };
    // Agents.
    let r = post("/api/v1/agents", json!({"name": ""})).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "AGENT_INVALID"));
    let r = post(
        "/api/v1/agents",
        json!({"name": "X", "brain": {"engine": "oracle"}}),
    )
    .await;
    assert_eq!(r.code(), "AGENT_INVALID");
    let r = post("/api/v1/agents", json!(["not", "an", "object"])).await;
    assert_eq!(r.code(), "AGENT_INVALID");
    for path in [
        "/api/v1/agents/%00",
        "/api/a/%00/ops/get",
        "/api/v1/calls/x%1Fy",
    ] {
        let r = app.admin(Method::GET, path, "a", None).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (400, "INVALID_PATH"),
            "{path}"
        );
    }
    let r = post(
        "/api/v1/telephony/providers",
        json!({"kind": "46elks", "name": "a\u{0}b", "username": "u", "password": "p"}),
    )
    .await;
    assert_eq!(r.code(), "PROVIDER_INVALID");
    let r = post(
        "/api/v1/telephony/numbers",
        json!({"number": "+46700000501", "provider_id": "prv\u{0}"}),
    )
    .await;
    assert_eq!(r.code(), "PROVIDER_NOT_FOUND");
    let r = app
        .admin(
            Method::GET,
            "/api/v1/telephony/numbers?agent_id=%00",
            "a",
            None,
        )
        .await;
    assert_eq!(r.code(), "INVALID_QUERY");
    let r = app
        .admin(Method::GET, "/api/v1/agents/agt_missing", "a", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "AGENT_NOT_FOUND"));
    let uri = format!("/api/v1/agents/{}", f.agent);
    let r = app
        .admin(
            Method::PATCH,
            &uri,
            "a",
            Some(&json!({"mouth": {"engine": "tone"}, "listen_format": "pcm_16000"}).to_string()),
        )
        .await;
    assert_eq!(
        (r.body["mouth"]["engine"].clone(), r.body["name"].clone()),
        (json!("tone"), json!("Ann"))
    );
    let r = app
        .admin(
            Method::PATCH,
            &uri,
            "a",
            Some(&json!({"listen_format": "mp3"}).to_string()),
        )
        .await;
    assert_eq!(r.code(), "AGENT_INVALID");
    assert_eq!(
        app.admin(Method::GET, &uri, "a", None).await.body["listen_format"],
        "pcm_16000",
        "a refused update changes nothing"
    );

    // Telephony.
    let key = app.key("a", Role::Admin).to_owned();
    let r = app
        .send(
            Method::GET,
            "/api/v1/telephony/numbers",
            Some(&key),
            None,
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "ACCOUNT_REQUIRED"));
    let number = |n: &str, provider: &str| json!({"number": n, "provider_id": provider});
    let r = post("/api/v1/telephony/numbers", number("+0123", &f.provider)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "PHONE_INVALID_NUMBER"));
    let r = post(
        "/api/v1/telephony/numbers",
        number("+46700000100", &f.provider),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "NUMBER_EXISTS"));
    let r = post(
        "/api/v1/telephony/numbers",
        number("+46700000500", "prv_nope"),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "PROVIDER_NOT_FOUND"));
    let r = post(
        "/api/v1/telephony/numbers",
        json!({"number": "+46700000500"}),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "INVALID_BODY"));
    let pin = format!("/api/v1/telephony/numbers/{}", f.number);
    let r = app
        .admin(
            Method::PATCH,
            &pin,
            "a",
            Some(&json!({"agent_id": "agt_nope"}).to_string()),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "AGENT_NOT_FOUND"));
    let r = app
        .admin(
            Method::PATCH,
            "/api/v1/telephony/numbers/num_nope",
            "a",
            Some(&json!({"agent_id": null}).to_string()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .admin(
            Method::DELETE,
            "/api/v1/telephony/numbers/num_nope",
            "a",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let filtered = format!("/api/v1/telephony/numbers?agent_id={}", f.agent);
    let r = app.admin(Method::GET, &filtered, "a", None).await;
    assert_eq!(r.body["numbers"].as_array().map(Vec::len), Some(2));
    let r = app
        .admin(
            Method::DELETE,
            &format!("/api/v1/telephony/providers/{}", f.provider),
            "a",
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (409, "PROVIDER_IN_USE"));
    let r = app
        .admin(
            Method::DELETE,
            "/api/v1/telephony/providers/prv_nope",
            "a",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = post(
        "/api/v1/telephony/providers",
        json!({"kind": "Twilio!", "username": "u", "password": "p"}),
    )
    .await;
    assert_eq!(r.code(), "PROVIDER_INVALID");
    let r = post(
        "/api/v1/telephony/providers",
        json!({"kind": "46elks", "username": "", "password": "p"}),
    )
    .await;
    assert_eq!(r.code(), "PROVIDER_INVALID");
    let r = app
        .admin(Method::GET, "/api/v1/telephony/providers", "a", None)
        .await;
    assert!(
        !r.body.to_string().contains("hunter2"),
        "secrets are never returned: {}",
        r.body
    );
    assert_eq!(r.body["providers"][0]["username"], "u1");

    // Calls and threads.
    let r = app
        .admin(Method::GET, "/api/v1/calls?limit=0", "a", None)
        .await;
    assert_eq!(r.code(), "INVALID_QUERY");
    let r = app
        .admin(Method::GET, "/api/v1/calls?limit=many", "a", None)
        .await;
    assert_eq!(r.code(), "INVALID_QUERY");
    let r = app
        .admin(Method::GET, "/api/v1/calls/cal_nope", "a", None)
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (404, "CALL_NOT_FOUND"));
    let r = app
        .admin(Method::GET, &format!("/api/v1/calls/{}", f.call), "a", None)
        .await;
    assert_eq!(
        (r.body["state"].clone(), r.body["agent_id"].clone()),
        (json!("completed"), json!(f.agent))
    );
    assert_eq!(r.body["turns"][0]["user"], "Hello");
    assert!(r.body["duration_s"].is_number());
    let r = app.admin(Method::GET, "/api/v1/threads", "a", None).await;
    assert_eq!(r.code(), "INVALID_QUERY");
    let r = app
        .admin(
            Method::GET,
            "/api/v1/threads?contact=%2B46700000009",
            "a",
            None,
        )
        .await;
    let messages = &r.body[0]["messages"];
    assert_eq!(
        (
            messages[0]["content"].clone(),
            messages[1]["content"].clone()
        ),
        (json!("Hello"), json!("Hi there"))
    );

    // Rebinding the number to another agent starts a new thread; the old one stays.
    let other = post("/api/v1/agents", json!({"name": "Bo"})).await;
    let other_id = other.body["id"].as_str().expect("id").to_owned();
    let pin = json!({"agent_id": other_id}).to_string();
    let r = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/telephony/numbers/{}", f.number),
            "a",
            Some(&pin),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let mut recorder = Recorder::new(app.state.store_arc());
    for update in [
        CallUpdate::Started {
            carrier_call_id: "c2".into(),
            from: "+46700000009".into(),
            to: "+46700000100".into(),
        },
        CallUpdate::Turn {
            carrier_call_id: "c2".into(),
            turn: 1,
            user: "Again".into(),
            agent: "Hello from Bo".into(),
            interrupted: false,
            metrics: json!({}),
        },
        CallUpdate::Ended {
            carrier_call_id: "c2".into(),
            reason: "hangup".into(),
            error: None,
        },
    ] {
        recorder.record(update).await.expect("record");
    }
    let r = app
        .admin(
            Method::GET,
            "/api/v1/threads?contact=%2B46700000009",
            "a",
            None,
        )
        .await;
    let threads = r.body.as_array().expect("threads");
    assert_eq!(threads.len(), 2, "{}", r.body);
    assert_eq!(
        (
            threads[0]["agent_id"].clone(),
            threads[0]["messages"][0]["content"].clone()
        ),
        (json!(f.agent), json!("Hello"))
    );
    assert_eq!(
        (
            threads[1]["agent_id"].clone(),
            threads[1]["messages"][0]["content"].clone()
        ),
        (json!(other_id), json!("Again"))
    );
    owned.db.finish().await;
}

#[tokio::test]
async fn without_the_secrets_key_credentials_are_503() {
    let app = App::with_sealer(support::sqlite().await, None).await;
    let body = json!({"kind": "46elks", "username": "u", "password": "p"}).to_string();
    let r = app
        .admin(
            Method::POST,
            "/api/v1/telephony/providers",
            "a",
            Some(&body),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.code()), (503, "SECRETS_UNAVAILABLE"));
    assert_eq!(r.body["error"]["retryable"], true);
    app.db.finish().await;
}

#[tokio::test]
async fn the_openapi_document_is_generated_from_the_routes() {
    let app = App::new(support::sqlite().await).await;
    let r = app
        .send(Method::GET, "/api/openapi.json", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let paths = r.body["paths"].as_object().expect("paths");
    for path in [
        "/api/{circle}/ops/create",
        "/api/{circle}/{slug}/ops/update",
        "/api/v1/agents/{id}",
        "/api/v1/telephony/numbers",
        "/api/v1/telephony/providers/{id}",
        "/api/v1/threads",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    assert!(r.body["components"]["schemas"]["PhoneSpec"].is_object());
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
    // Every reference resolves, so a schema-driven client (schemathesis) can load it.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    out.push(target);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&r.body, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {target}"));
        assert!(
            r.body["components"]["schemas"][name].is_object(),
            "{target} dangles"
        );
    }
    // The telephony bodies carry the document's field names.
    let schemas = &r.body["components"]["schemas"];
    for (schema, fields) in [
        ("CreateProvider", &["provider", "label", "credentials"][..]),
        (
            "CreateNumber",
            &[
                "e164",
                "credentials_id",
                "provider",
                "agent_id",
                "inbound_enabled",
                "outbound_enabled",
            ][..],
        ),
        ("NumberList", &["numbers"][..]),
        ("ProviderList", &["providers"][..]),
    ] {
        for field in fields {
            assert!(
                schemas[schema]["properties"][field].is_object(),
                "{schema}.{field} missing: {}",
                schemas[schema]
            );
        }
    }
    app.db.finish().await;
}
