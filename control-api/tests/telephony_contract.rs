//! The telephony REST interface document (`../shared/seeds/004_*.txt`), one test per
//! documented endpoint and field, written from the document: request fields, defaults,
//! status codes and bodies, on SQLite and PostgreSQL.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::{App, Reply};
use voxgate_control_api::directory;

const PROVIDERS: &str = "/api/v1/telephony/providers";
const NUMBERS: &str = "/api/v1/telephony/numbers";

async fn post(app: &App, path: &str, body: &Value) -> Reply {
    app.admin(Method::POST, path, "a", Some(&body.to_string()))
        .await
}

/// A 46elks credential in the documented shape; its id.
async fn elks_credential(app: &App) -> String {
    let r = post(
        app,
        PROVIDERS,
        &json!({"provider": "46elks", "label": "Production 46elks",
                "credentials": {"username": "u-elks", "password": "elks-secret-1"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

/// Registers a number (`body` as posted), which must answer 201; its path.
async fn register(app: &App, body: Value) -> String {
    let r = post(app, NUMBERS, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    format!("{NUMBERS}/{}", r.body["id"].as_str().expect("id"))
}

/// `GET /api/v1/telephony/numbers`' list.
async fn numbers(app: &App) -> Vec<Value> {
    let r = app.admin(Method::GET, NUMBERS, "a", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["numbers"].as_array().expect("numbers").clone()
}

/// Circle `a`'s id.
async fn circle_a(app: &App) -> String {
    app.db
        .store()
        .circle("a")
        .await
        .expect("circle")
        .expect("a")
        .id
}

async fn agent(app: &App) -> String {
    let r = post(app, "/api/v1/agents", &json!({"name": "Ann"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn post_providers_takes_provider_label_credentials_and_answers_201() {
    for db in support::both().await {
        let app = App::new(db).await;
        let r = post(
            &app,
            PROVIDERS,
            &json!({"provider": "46elks", "label": "Production 46elks",
                    "credentials": {"username": "u-elks", "password": "elks-secret-1"},
                    "id": "prv_mine", "created_at": "yesterday"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["provider"], "46elks");
        assert_eq!(r.body["label"], "Production 46elks");
        assert_eq!(r.body["driven"], true);
        assert_ne!(r.body["id"], "prv_mine", "server-set fields are ignored");
        assert!(
            r.body["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("prv_"))
        );
        assert!(!r.body.to_string().contains("elks-secret-1"));
        // The credential is the one voxgate logs in with.
        let id = r.body["id"].as_str().expect("id");
        let (user, password) = app
            .state
            .provider_login(&circle_a(&app).await, id)
            .await
            .expect("login")
            .expect("exists");
        assert_eq!(
            (user.as_str(), password.expose()),
            ("u-elks", "elks-secret-1")
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn post_providers_stores_any_provider_with_its_credentials_sealed() {
    for db in support::both().await {
        let app = App::new(db).await;
        let r = post(
            &app,
            PROVIDERS,
            &json!({"provider": "twilio", "label": "Production Twilio",
                    "credentials": {"account_sid": "AC123", "auth_token": "tw-token-xyz"}}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["provider"], "twilio");
        assert_eq!(r.body["driven"], false);
        let id = r.body["id"].as_str().expect("id").to_owned();
        // Sealed at rest: the stored bytes hold neither value in clear, and open to the
        // whole credentials object.
        let stored = app
            .db
            .store()
            .provider(&circle_a(&app).await, &id)
            .await
            .expect("get")
            .expect("stored");
        let raw = String::from_utf8_lossy(&stored.sealed_secret);
        assert!(!raw.contains("tw-token-xyz") && !raw.contains("AC123"));
        let opened = app
            .state
            .sealer()
            .expect("sealer")
            .open(&id, &stored.sealed_secret)
            .expect("opens");
        let opened: Value = serde_json::from_str(opened.expose()).expect("json");
        assert_eq!(
            opened,
            json!({"account_sid": "AC123", "auth_token": "tw-token-xyz"})
        );
        // Stored, not driven: using it as a login is a clear error.
        let refused = app
            .state
            .provider_login(&circle_a(&app).await, &id)
            .await
            .expect_err("not driven");
        assert_eq!(refused.code(), "PROVIDER_INVALID");
        let list = app.admin(Method::GET, PROVIDERS, "a", None).await;
        assert!(!list.body.to_string().contains("tw-token-xyz"));
        app.db.finish().await;
    }
}

#[tokio::test]
async fn post_providers_invalid_body_or_missing_field_is_400() {
    for db in support::both().await {
        let app = App::new(db).await;
        for (body, code) in [
            (
                json!({"provider": "twilio", "label": "x"}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"label": "x", "credentials": {"a": "b"}}),
                "INVALID_BODY",
            ),
            (
                json!({"provider": "twilio", "credentials": {}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "twilio", "credentials": {"token": 5}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "46elks", "credentials": {"username": "u"}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "46elks",
                       "credentials": {"username": "u", "password": "p", "pin": "1"}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "sip", "credentials": {"username": "u", "password": "p"}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "Bad Name", "credentials": {"a": "b"}}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"provider": "twilio", "credentials": {"a": "b"}, "colour": "red"}),
                "INVALID_BODY",
            ),
        ] {
            let r = post(&app, PROVIDERS, &body).await;
            assert_eq!((r.status.as_u16(), r.code()), (400, code), "{body}");
        }
        let r = app.admin(Method::GET, PROVIDERS, "a", None).await;
        assert_eq!(r.body, json!({"providers": []}), "nothing was stored");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn get_providers_answers_an_object_and_needs_x_account_id() {
    for db in support::both().await {
        let app = App::new(db).await;
        let id = elks_credential(&app).await;
        let r = app.admin(Method::GET, PROVIDERS, "a", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["providers"][0]["id"], json!(id));
        assert_eq!(r.body["providers"][0]["label"], "Production 46elks");
        assert!(!r.body.to_string().contains("elks-secret-1"));
        let key = app
            .key("a", voxgate_control_api::auth::Role::Admin)
            .to_owned();
        let r = app
            .send(Method::GET, PROVIDERS, Some(&key), None, None)
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (400, "ACCOUNT_REQUIRED"));
        app.db.finish().await;
    }
}

#[tokio::test]
async fn delete_providers_is_204_404_and_409_while_in_use() {
    for db in support::both().await {
        let app = App::new(db).await;
        let id = elks_credential(&app).await;
        let number = register(&app, json!({"e164": "+12025550123", "credentials_id": id})).await;
        let path = format!("{PROVIDERS}/{id}");
        let r = app.admin(Method::DELETE, &path, "a", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "PROVIDER_IN_USE"));
        let r = app.admin(Method::DELETE, &number, "a", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = app.admin(Method::DELETE, &path, "a", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null, "204 has no body");
        let r = app.admin(Method::DELETE, &path, "a", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "PROVIDER_NOT_FOUND"));
        app.db.finish().await;
    }
}

#[tokio::test]
async fn post_numbers_takes_the_documented_fields_with_directions_default_on() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        let agent_id = agent(&app).await;
        let r = post(
            &app,
            NUMBERS,
            &json!({"e164": "+12025550123", "credentials_id": credentials_id,
                    "provider": "46elks", "agent_id": agent_id, "id": "num_mine"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["e164"], "+12025550123");
        assert_eq!(r.body["credentials_id"], json!(credentials_id));
        assert_eq!(r.body["provider"], "46elks");
        assert_eq!(r.body["agent_id"], json!(agent_id));
        assert_eq!(r.body["inbound_enabled"], true);
        assert_eq!(r.body["outbound_enabled"], true);
        assert_ne!(r.body["id"], "num_mine");
        assert!(r.body["created_at"].is_string() && r.body["updated_at"].is_string());
        let r = post(
            &app,
            NUMBERS,
            &json!({"e164": "+12025550124", "credentials_id": credentials_id,
                    "inbound_enabled": false, "outbound_enabled": false}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(
            (&r.body["inbound_enabled"], &r.body["outbound_enabled"]),
            (&json!(false), &json!(false))
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn post_numbers_invalid_body_or_duplicate_number_is_400() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        let first = json!({"e164": "+12025550123", "credentials_id": credentials_id});
        assert_eq!(
            post(&app, NUMBERS, &first).await.status,
            StatusCode::CREATED
        );
        for (body, code) in [
            (first.clone(), "NUMBER_EXISTS"),
            (
                json!({"e164": "12345", "credentials_id": credentials_id}),
                "PHONE_INVALID_NUMBER",
            ),
            (
                json!({"e164": "+12025550125", "credentials_id": "prv_nope"}),
                "PROVIDER_NOT_FOUND",
            ),
            (
                json!({"e164": "+12025550125", "credentials_id": credentials_id,
                       "provider": "twilio"}),
                "PROVIDER_INVALID",
            ),
            (
                json!({"e164": "+12025550125", "credentials_id": credentials_id,
                       "agent_id": "agt_nope"}),
                "AGENT_NOT_FOUND",
            ),
            (json!({"e164": "+12025550125"}), "INVALID_BODY"),
            (
                json!({"e164": "+12025550125", "credentials_id": credentials_id,
                       "inbound_enabled": "yes"}),
                "INVALID_BODY",
            ),
        ] {
            let r = post(&app, NUMBERS, &body).await;
            assert_eq!((r.status.as_u16(), r.code()), (400, code), "{body}");
        }
        assert_eq!(numbers(&app).await.len(), 1, "nothing else was stored");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn get_numbers_answers_an_object_filtered_by_agent_id() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        let agent_id = agent(&app).await;
        for (e164, agent) in [("+12025550123", Some(&agent_id)), ("+12025550124", None)] {
            register(
                &app,
                json!({"e164": e164, "credentials_id": credentials_id, "agent_id": agent}),
            )
            .await;
        }
        assert_eq!(numbers(&app).await.len(), 2);
        let r = app
            .admin(
                Method::GET,
                &format!("{NUMBERS}?agent_id={agent_id}"),
                "a",
                None,
            )
            .await;
        let numbers = r.body["numbers"].as_array().expect("numbers");
        assert_eq!(numbers.len(), 1);
        assert_eq!(numbers[0]["e164"], "+12025550123");
        assert_eq!(numbers[0]["provider"], "46elks");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn patch_numbers_pins_and_unpins_an_agent_204_or_404() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        let agent_id = agent(&app).await;
        let path = register(
            &app,
            json!({"e164": "+12025550123", "credentials_id": credentials_id}),
        )
        .await;
        let patch = |body: Value| {
            let (app, path) = (&app, &path);
            async move {
                app.admin(Method::PATCH, path, "a", Some(&body.to_string()))
                    .await
            }
        };
        let r = patch(json!({"agent_id": agent_id, "updated_at": "ignored"})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        assert_eq!(r.body, Value::Null);
        assert_eq!(numbers(&app).await[0]["agent_id"], json!(agent_id));
        let r = patch(json!({"agent_id": null, "inbound_enabled": false})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let listed = &numbers(&app).await[0];
        assert_eq!(listed["agent_id"], Value::Null);
        assert_eq!(listed["inbound_enabled"], false);
        assert_eq!(listed["outbound_enabled"], true);
        let r = app
            .admin(
                Method::PATCH,
                &format!("{NUMBERS}/num_nope"),
                "a",
                Some(r#"{"agent_id":null}"#),
            )
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "NUMBER_NOT_FOUND"));
        app.db.finish().await;
    }
}

#[tokio::test]
async fn delete_numbers_is_204_then_404() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        let path = register(
            &app,
            json!({"e164": "+12025550123", "credentials_id": credentials_id}),
        )
        .await;
        let r = app.admin(Method::DELETE, &path, "a", None).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let r = app.admin(Method::DELETE, &path, "a", None).await;
        assert_eq!((r.status.as_u16(), r.code()), (404, "NUMBER_NOT_FOUND"));
        app.db.finish().await;
    }
}

#[tokio::test]
async fn inbound_enabled_false_takes_no_calls() {
    for db in support::both().await {
        let app = App::new(db).await;
        let credentials_id = elks_credential(&app).await;
        for (e164, inbound) in [("+12025550123", true), ("+12025550124", false)] {
            register(
                &app,
                json!({"e164": e164, "credentials_id": credentials_id,
                       "inbound_enabled": inbound}),
            )
            .await;
        }
        let store = app.db.store();
        let takes = |e164: &'static str| {
            let store = store.clone();
            async move { directory::takes_calls(&*store, e164).await.expect("store") }
        };
        assert!(takes("+12025550123").await);
        assert!(!takes("+12025550124").await, "inbound switched off");
        assert!(
            takes("+12025550999").await,
            "an unregistered number is not refused here"
        );
        app.db.finish().await;
    }
}
