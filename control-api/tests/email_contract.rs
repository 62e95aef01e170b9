//! Conformance with the email element's interface document (`001_*.txt`): each test is
//! named after the documented operation it checks and uses the documented field names.
//! These run without a mail server: the element holds every send in the outbox
//! (`send_policy = outbox`), so nothing is submitted. They run on SQLite and PostgreSQL.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use voxgate_control_api::auth::Role;

use support::app::{App, Reply};

/// An app with an outbox element `mail` (its SMTP server is never contacted).
async fn app(db: support::TestDb) -> App {
    let app = App::new(db).await;
    let spec = json!({
        "address": "desk@voxgate.test",
        "smtp_host": "127.0.0.1",
        "smtp_port": 9,
        "send_policy": "outbox",
    });
    let created = app
        .admin(
            Method::POST,
            "/api/a/ops/create",
            "a",
            Some(&json!({"element_type": "email", "slug": "mail", "spec": spec}).to_string()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    app
}

async fn call(app: &App, role: Role, method: Method, op: &str, body: Option<Value>) -> Reply {
    app.op("mail", role, method, op, body).await
}

/// `send` as a writer.
async fn send(app: &App, body: Value) -> Reply {
    call(app, Role::Write, Method::POST, "send", Some(body)).await
}

/// The outbox's messages, read as a reader.
async fn outbox(app: &App) -> Value {
    let listed = call(
        app,
        Role::Read,
        Method::POST,
        "list_outbox",
        Some(json!({})),
    )
    .await;
    ok(&listed)["messages"].clone()
}

fn ok(reply: &Reply) -> &Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    &reply.body
}

#[tokio::test]
async fn op_send_accepts_body() {
    for db in support::both().await {
        let app = app(db).await;
        let sent = send(
            &app,
            json!({"to": "test@example.com", "subject": "Hello", "body": "Test email"}),
        )
        .await;
        let sent = ok(&sent);
        assert_eq!(sent["text"], "Test email", "{sent}");
        assert_eq!(sent["status"], "pending", "{sent}");
        assert_eq!(sent["from_rewritten"], false, "{sent}");
        let dispatch_id = sent["dispatch_id"].as_str().expect("dispatch_id");
        assert_eq!(Some(dispatch_id), sent["message_id"].as_str());
        // `text` stays an accepted alias; both at once is ambiguous and refused.
        let alias = send(
            &app,
            json!({"to": "a@example.com", "subject": "s", "text": "old name"}),
        )
        .await;
        assert_eq!(ok(&alias)["text"], "old name");
        let both = send(
            &app,
            json!({"to": "a@example.com", "subject": "s", "text": "a", "body": "b"}),
        )
        .await;
        assert_eq!(both.status, StatusCode::BAD_REQUEST, "{}", both.body);
        app.db.finish().await;
    }
}

#[tokio::test]
async fn op_send_refuses_a_too_large_body_with_email_too_large() {
    for db in support::both().await {
        let app = app(db).await;
        let big = "x".repeat(2 * 1024 * 1024 + 1);
        let refused = send(
            &app,
            json!({"to": "a@example.com", "subject": "s", "body": big}),
        )
        .await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::BAD_REQUEST, "EMAIL_TOO_LARGE")
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn op_send_tracked_requires_an_html_body() {
    for db in support::both().await {
        let app = app(db).await;
        let refused = call(
            &app,
            Role::Write,
            Method::POST,
            "send_tracked",
            Some(json!({"to": "a@example.com", "subject": "s", "body": "text only"})),
        )
        .await;
        assert_eq!(
            (refused.status, refused.code()),
            (StatusCode::BAD_REQUEST, "EMAIL_INVALID_MESSAGE"),
            "{}",
            refused.body
        );
        assert_eq!(outbox(&app).await, json!([]), "nothing was stored");
        app.db.finish().await;
    }
}

#[tokio::test]
async fn op_list_outbox_and_reject_dispatch_take_dispatch_id() {
    for db in support::both().await {
        let app = app(db).await;
        let sent = send(
            &app,
            json!({"to": "a@example.com", "subject": "Draft", "body": "hi"}),
        )
        .await;
        let dispatch_id = ok(&sent)["dispatch_id"].as_str().expect("id").to_owned();
        let listed = outbox(&app).await;
        let row = &listed[0];
        assert_eq!(row["dispatch_id"], dispatch_id.as_str(), "{row}");
        assert_eq!(row["draft_payload"]["body"], "hi", "{row}");
        assert_eq!(row["draft_payload"]["subject"], "Draft", "{row}");
        let rejected = call(
            &app,
            Role::Write,
            Method::POST,
            "reject_dispatch",
            Some(json!({"dispatch_id": dispatch_id, "reason": "no"})),
        )
        .await;
        assert_eq!(ok(&rejected)["status"], "rejected", "{}", rejected.body);
        let again = call(
            &app,
            Role::Write,
            Method::POST,
            "approve_dispatch",
            Some(json!({"dispatch_id": dispatch_id})),
        )
        .await;
        assert_eq!(again.code(), "EMAIL_OUTBOX_INVALID_STATE", "{}", again.body);
        app.db.finish().await;
    }
}

#[tokio::test]
async fn op_rate_status_gives_limit_remaining_and_reset_at() {
    for db in support::both().await {
        let app = app(db).await;
        let status = call(&app, Role::Read, Method::GET, "rate-status", None).await;
        let status = ok(&status);
        assert_eq!(status["limit"], 500, "{status}");
        assert_eq!(status["remaining"], 500, "{status}");
        let reset = status["reset_at"].as_str().expect("reset_at");
        assert!(
            reset.ends_with("T00:00:00Z") || reset.contains("T00:00:00"),
            "{reset}"
        );
        app.db.finish().await;
    }
}

#[tokio::test]
async fn op_add_suppression_needs_no_reason_and_records_manual_user() {
    for db in support::both().await {
        let app = app(db).await;
        let added = call(
            &app,
            Role::Write,
            Method::POST,
            "add-suppression",
            Some(json!({"address": "gone@example.com"})),
        )
        .await;
        assert_eq!(ok(&added)["added"], true, "{}", added.body);
        let listed = call(&app, Role::Read, Method::GET, "list-suppressions", None).await;
        let entry = &ok(&listed)["suppressions"][0];
        assert_eq!(entry["address"], "gone@example.com", "{entry}");
        assert_eq!(entry["source"], "manual_user", "{entry}");
        assert!(entry["created_at"].is_string(), "{entry}");
        assert!(entry.get("notes").is_some(), "{entry}");
        // Removing stays audit-sensitive: the reason is mandatory.
        let removed = call(
            &app,
            Role::Admin,
            Method::POST,
            "remove-suppression",
            Some(json!({"address": "gone@example.com"})),
        )
        .await;
        assert_eq!(removed.code(), "EMAIL_REASON_REQUIRED", "{}", removed.body);
        app.db.finish().await;
    }
}
