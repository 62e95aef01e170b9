//! The email element's spec through the real router on both stores: the inline SMTP
//! password is sealed at rest, shown as `********` everywhere a spec is returned, survives
//! deep-merge updates, and bad fields are refused with their codes.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::{App, Reply};
use voxgate_control_api::element::email::{self, PASSWORD_MASK};
use voxgate_control_api::secrets::Sealer;
use voxgate_control_api::store::Element;

const PASSWORD: &str = "hunter2-of-the-mailbox";

fn mailbox() -> Value {
    json!({"element_type": "email", "slug": "mail", "spec": {
        "address": "desk@example.com", "smtp_host": "smtp.example.com",
        "smtp_username": "desk", "smtp_password": PASSWORD}})
}

async fn create(app: &App, body: &Value) -> Reply {
    app.admin(
        Method::POST,
        "/api/a/ops/create",
        "a",
        Some(&body.to_string()),
    )
    .await
}

async fn update(app: &App, body: Value) -> Reply {
    let body = body.to_string();
    app.admin(Method::PATCH, "/api/a/mail/ops/update", "a", Some(&body))
        .await
}

async fn stored(app: &App) -> Element {
    let store = app.state.store();
    let circle = store.circle("a").await.expect("circle").expect("a");
    store
        .element(&circle.id, "mail")
        .await
        .expect("element")
        .expect("mail")
}

/// The stored password, opened with the test app's key.
async fn password(app: &App) -> Option<String> {
    let element = stored(app).await;
    let spec = email::spec_of(&element).expect("spec");
    email::smtp_password(&spec, &Sealer::new(&[9; 32]), &element.id)
        .expect("opens")
        .map(|secret| secret.expose().to_owned())
}

/// Every spec text the database holds for elements.
async fn rows(app: &App) -> Vec<String> {
    let pool = app.db.store.pool();
    let mut rows: Vec<String> = sqlx::query_scalar("SELECT spec FROM elements")
        .fetch_all(pool)
        .await
        .expect("elements");
    let versions: Vec<String> = sqlx::query_scalar("SELECT spec FROM element_versions")
        .fetch_all(pool)
        .await
        .expect("versions");
    rows.extend(versions);
    rows
}

#[tokio::test]
async fn the_inline_password_is_sealed_masked_and_kept_across_updates() {
    for db in support::both().await {
        let app = App::new(db).await;
        let r = create(&app, &mailbox()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["spec"]["smtp_password"], PASSWORD_MASK);
        assert_eq!(
            (&r.body["spec"]["smtp_port"], &r.body["spec"]["send_policy"]),
            (&json!(587), &json!("auto"))
        );
        let got = app
            .admin(Method::GET, "/api/a/mail/ops/get", "a", None)
            .await;
        assert_eq!(got.body["spec"]["smtp_password"], PASSWORD_MASK);
        assert!(!got.body.to_string().contains(PASSWORD));
        let texts = rows(&app).await;
        assert!(texts.iter().any(|r| r.contains("\"sealed\"")), "{texts:?}");
        assert!(texts.iter().all(|r| !r.contains(PASSWORD)), "{texts:?}");
        assert_eq!(password(&app).await.as_deref(), Some(PASSWORD));

        // A deep merge that changes something else keeps the sealed password.
        let r = update(&app, json!({"spec": {"mode": "conversation"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (&r.body["spec"]["mode"], &r.body["spec"]["smtp_password"]),
            (&json!("conversation"), &json!(PASSWORD_MASK))
        );
        assert_eq!(password(&app).await.as_deref(), Some(PASSWORD));

        // The spec as read, sent back whole: the mask keeps the password.
        let mut spec = got.body["spec"].clone();
        spec["display_name"] = json!("Front desk");
        let r = update(&app, json!({"spec": spec, "deep": false})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(password(&app).await.as_deref(), Some(PASSWORD));

        // A new plain string is sealed again.
        let r = update(&app, json!({"spec": {"smtp_password": "new-mail-secret"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(password(&app).await.as_deref(), Some("new-mail-secret"));

        let history = app
            .admin(
                Method::GET,
                "/api/a/mail/ops/version?history=true",
                "a",
                None,
            )
            .await;
        let versions = history.body["history"].as_array().expect("history");
        assert_eq!(versions.len(), 4, "{}", history.body);
        for version in versions {
            assert_eq!(version["spec"]["smtp_password"], PASSWORD_MASK, "{version}");
        }
        let text = history.body.to_string();
        assert!(!text.contains(PASSWORD) && !text.contains("new-mail-secret"));
        assert!(
            rows(&app)
                .await
                .iter()
                .all(|r| !r.contains("new-mail-secret"))
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn a_deep_merge_moves_the_defaults_that_follow_other_fields() {
    let app = App::new(support::sqlite().await).await;
    let r = create(&app, &mailbox()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = update(
        &app,
        json!({"spec": {"address": "front@example.com", "smtp_security": "tls",
                        "imap_host": "imap.example.com", "auto_send_to_unknown": false}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let spec = &r.body["spec"];
    assert_eq!(spec["from_address"], "front@example.com");
    assert_eq!(
        (&spec["smtp_port"], &spec["imap_port"]),
        (&json!(465), &json!(993))
    );
    assert_eq!(spec["mailbox_backend"], "imap");
    // send_policy is stored once filled: the legacy field no longer moves it.
    assert_eq!(spec["send_policy"], "auto");
    assert_eq!(
        r.body["warnings"],
        json!(["auto_send_to_unknown is ignored: send_policy is set"])
    );
    app.db.finish().await;
}

#[tokio::test]
async fn bad_fields_are_refused_and_change_nothing() {
    let app = App::new(support::sqlite().await).await;
    assert_eq!(create(&app, &mailbox()).await.status, StatusCode::CREATED);
    let with = |extra: Value| {
        let mut body = mailbox();
        body["slug"] = json!("other");
        for (k, v) in extra.as_object().expect("object") {
            body["spec"][k] = v.clone();
        }
        body
    };
    let table = [
        (with(json!({"address": "nobody"})), "EMAIL_INVALID_ADDRESS"),
        (with(json!({"from_address": "x"})), "EMAIL_INVALID_ADDRESS"),
        (with(json!({"smtp_pasword": "x"})), "EMAIL_INVALID_CONFIG"),
        (with(json!({"smtp_port": "587"})), "EMAIL_INVALID_CONFIG"),
        (with(json!({"smtp_username": null})), "EMAIL_INVALID_CONFIG"),
        (
            with(json!({"smtp_host": "smtp://x.se"})),
            "EMAIL_INVALID_CONFIG",
        ),
        (
            with(json!({"mailbox_backend": "imap"})),
            "EMAIL_INVALID_CONFIG",
        ),
        (
            with(json!({"send_policy": "sometimes"})),
            "EMAIL_INVALID_CONFIG",
        ),
        (
            with(json!({"accepted_domains": ["nodot"]})),
            "EMAIL_INVALID_CONFIG",
        ),
        (
            with(json!({"smtp_password": PASSWORD_MASK})),
            "EMAIL_INVALID_CONFIG",
        ),
        (
            with(json!({"smtp_password": {"sealed": "AQIDBA=="}})),
            "EMAIL_INVALID_CONFIG",
        ),
    ];
    for (body, code) in table {
        let r = create(&app, &body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}"
        );
        assert!(!r.body.to_string().contains(PASSWORD), "{}", r.body);
    }
    let before = stored(&app).await;
    for patch in [
        json!({"smtp_password": {"sealed": "AQIDBA=="}}),
        json!({"smtp_port": 70000}),
        json!({"smtp_username": null}),
    ] {
        let r = update(&app, json!({"spec": patch})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "EMAIL_INVALID_CONFIG"),
            "{patch}: {}",
            r.body
        );
    }
    assert_eq!(stored(&app).await.version, before.version);
    let schema = app
        .admin(Method::GET, "/api/a/mail/ops/schema", "a", None)
        .await;
    let properties = &schema.body["spec"]["properties"];
    for field in [
        "address",
        "send_policy",
        "smtp_password",
        "accepted_domains",
    ] {
        assert!(properties[field].is_object(), "{field}: {}", schema.body);
    }
    app.db.finish().await;
}

#[tokio::test]
async fn without_the_secrets_key_an_inline_password_is_refused() {
    let app = App::with_sealer(support::sqlite().await, None).await;
    let r = create(&app, &mailbox()).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::SERVICE_UNAVAILABLE, "SECRETS_UNAVAILABLE")
    );
    let mut body = mailbox();
    body["spec"] = json!({"address": "desk@example.com", "credential_ref": "prv_1"});
    assert_eq!(create(&app, &body).await.status, StatusCode::CREATED);
    app.db.finish().await;
}
