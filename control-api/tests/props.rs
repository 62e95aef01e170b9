//! No request body crashes the API or corrupts stored data: random JSON (and random bytes)
//! at every route that takes a body. A refused request (4xx, with a coded JSON error) must
//! leave everything as it was; an accepted one must leave data that validates again.

mod support;

use axum::http::Method;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::app::App;
use voxgate_control_api::element::ElementType;

/// Random JSON, biased towards the shapes and field names the API knows.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("spec".to_owned()),
        Just("slug".to_owned()),
        Just("element_type".to_owned()),
        Just("number".to_owned()),
        Just("country".to_owned()),
        Just("sender_id".to_owned()),
        Just("max_retries".to_owned()),
        Just("retry_backoff_ms".to_owned()),
        Just("deep".to_owned()),
        Just("name".to_owned()),
        Just("agent_id".to_owned()),
        Just("provider_id".to_owned()),
        Just("kind".to_owned()),
        Just("username".to_owned()),
        Just("password".to_owned()),
        Just("events".to_owned()),
        Just("address".to_owned()),
        Just("ears".to_owned()),
        Just("engine".to_owned()),
        Just("tools".to_owned()),
        Just("listen_format".to_owned()),
        Just("to".to_owned()),
        Just("body".to_owned()),
        Just("flash_sms".to_owned()),
        Just("credential_ref".to_owned()),
        Just("incoming_handling".to_owned()),
        Just("forward_to_number".to_owned()),
        Just("sandbox".to_owned()),
        Just("carrier_number_id".to_owned()),
        Just("capabilities".to_owned()),
        "[a-z_]{1,8}",
        ".{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        prop_oneof![
            Just("+46700000001".to_owned()),
            Just("phone-number".to_owned()),
            Just("email".to_owned()),
            Just("websocket".to_owned()),
            Just("46elks".to_owned()),
            Just("SE".to_owned()),
            Just("a@b.se".to_owned()),
            Just("ulaw".to_owned()),
            Just("whisper".to_owned()),
            "\\PC{0,12}",
            "[a-z0-9-]{1,10}",
            ".{0,3}\u{0}.{0,3}",
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// What the API shows of circle `a`: the snapshot that refused requests must not change.
async fn snapshot(app: &App) -> Value {
    let mut out = serde_json::Map::new();
    for (name, uri) in [
        ("desk", "/api/a/desk/ops/get"),
        ("desk_versions", "/api/a/desk/ops/version?history=true"),
        ("agents", "/api/v1/agents"),
        ("numbers", "/api/v1/telephony/numbers"),
        ("providers", "/api/v1/telephony/providers"),
        ("sms", "/api/a/desk/ops/list-sms?limit=100"),
    ] {
        out.insert(
            name.to_owned(),
            app.admin(Method::GET, uri, "a", None).await.body,
        );
    }
    Value::Object(out)
}

struct World {
    app: App,
    agent: String,
    number: String,
    runtime: tokio::runtime::Runtime,
}

fn world(postgres: bool) -> World {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let (app, agent, number) = runtime.block_on(async {
        let db = if postgres { support::postgres().await } else { support::sqlite().await };
        let app = App::new(db).await;
        let create = json!({"element_type": "phone-number", "slug": "desk", "spec": {"number": "+46700000100"}});
        app.admin(Method::POST, "/api/a/ops/create", "a", Some(&create.to_string())).await;
        let agent = app.admin(Method::POST, "/api/v1/agents", "a", Some(r#"{"name":"Ann"}"#)).await;
        let provider = json!({"kind": "46elks", "username": "u", "password": "p"}).to_string();
        let provider = app.admin(Method::POST, "/api/v1/telephony/providers", "a", Some(&provider)).await;
        let number = json!({"number": "+46700000100", "provider_id": provider.body["id"]}).to_string();
        let number = app.admin(Method::POST, "/api/v1/telephony/numbers", "a", Some(&number)).await;
        let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
        (app, id(&agent.body), id(&number.body))
    });
    World {
        app,
        agent,
        number,
        runtime,
    }
}

/// Sends `body` to every route that takes one and checks the invariants.
fn check(world: &World, body: &str) -> Result<(), TestCaseError> {
    let routes = [
        (Method::POST, "/api/a/ops/create".to_owned()),
        (Method::PATCH, "/api/a/desk/ops/update".to_owned()),
        (Method::POST, "/api/v1/agents".to_owned()),
        (Method::PATCH, format!("/api/v1/agents/{}", world.agent)),
        (Method::POST, "/api/v1/telephony/numbers".to_owned()),
        (
            Method::PATCH,
            format!("/api/v1/telephony/numbers/{}", world.number),
        ),
        (Method::POST, "/api/v1/telephony/providers".to_owned()),
        (Method::POST, "/api/a/desk/ops/send-sms".to_owned()),
        (Method::POST, "/api/a/desk/ops/provision".to_owned()),
    ];
    world.runtime.block_on(async {
        for (method, uri) in routes {
            let before = snapshot(&world.app).await;
            let r = world.app.admin(method.clone(), &uri, "a", Some(body)).await;
            let status = r.status.as_u16();
            prop_assert!(status < 500, "{method} {uri} {body}: {status} {}", r.body);
            if r.status.is_client_error() {
                prop_assert!(
                    !r.code().is_empty(),
                    "{method} {uri}: uncoded error {}",
                    r.body
                );
                let after = snapshot(&world.app).await;
                prop_assert_eq!(
                    &before,
                    &after,
                    "{} {} changed data on {}",
                    method,
                    uri,
                    r.code()
                );
            }
        }
        // Whatever was accepted still validates as stored.
        let desk = world
            .app
            .admin(Method::GET, "/api/a/desk/ops/get", "a", None)
            .await
            .body;
        let revalidated = ElementType::PhoneNumber.validate(&desk["spec"]);
        prop_assert!(
            revalidated.is_ok_and(|v| v.spec == desk["spec"]),
            "stored spec {}",
            desk["spec"]
        );
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_json_bodies_on_sqlite(body in json_value()) {
        thread_local!(static WORLD: World = world(false));
        WORLD.with(|w| check(w, &body.to_string()))?;
    }

    #[test]
    fn random_json_bodies_on_postgres(body in json_value()) {
        thread_local!(static WORLD: World = world(true));
        WORLD.with(|w| check(w, &body.to_string()))?;
    }

    #[test]
    fn random_bytes_bodies(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        thread_local!(static WORLD: World = world(false));
        let body = String::from_utf8_lossy(&bytes).into_owned();
        WORLD.with(|w| check(w, &body))?;
    }
}

/// A NUL character (`%00`) in a query value is refused as `INVALID_QUERY` on both stores,
/// where PostgreSQL alone would fail to look it up (schemathesis found `get-call` answering
/// 500 `STORE_FAILED` for `call_id=%14%F3%AE%A9%B1%00%C2%B3D`).
fn nul_queries_are_refused(postgres: bool) {
    let world = world(postgres);
    world.runtime.block_on(async {
        let before = snapshot(&world.app).await;
        for uri in [
            "/api/a/desk/ops/get-call?call_id=%14%F3%AE%A9%B1%00%C2%B3D",
            "/api/a/desk/ops/get-sms?message_id=s%001",
            "/api/a/desk/ops/list-sms?page_token=%00",
            "/api/a/desk/ops/list-calls?direction=all&page_token=a%00",
            "/api/v1/calls?agent_id=%00",
        ] {
            let r = world.app.admin(Method::GET, uri, "a", None).await;
            assert_eq!(
                (r.status.as_u16(), r.code()),
                (400, "INVALID_QUERY"),
                "{uri}: {}",
                r.body
            );
        }
        assert_eq!(before, snapshot(&world.app).await);
    });
}

#[test]
fn nul_in_queries_is_invalid_query_on_sqlite() {
    nul_queries_are_refused(false);
}

#[test]
fn nul_in_queries_is_invalid_query_on_postgres() {
    nul_queries_are_refused(true);
}
