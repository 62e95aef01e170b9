//! Conformance with the interface documents' operation lists: every operation that
//! `../shared/seeds` defines for the phone-number and email elements
//! (`testdata/contract/operations.tsv`, made from them by `scripts/contract-ops`) is in
//! voxgate's operation table for that element type with the documented path, method and
//! role, answers a key one role short with 403 `AUTH_FORBIDDEN` and another method with
//! 405 `METHOD_NOT_ALLOWED` naming the documented one. `create` is the circle's operation
//! (`/api/{circle}/ops/create`), checked there. `receive` is documented without auth
//! ("None"): it is the platform's internal delivery hook, which voxgate does not offer
//! (501), so it is only required to be unsupported. On both stores.
//!
//! The websocket element's rows are in the file too; its operations come with its own
//! issue, which adds `websocket` to [`ELEMENTS`].
//!
//! What each operation takes and answers is tested per operation in the element's own
//! test files; this file holds the table itself to the documents.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::App;
use voxgate_control_api::auth::Role;

/// One documented operation.
#[derive(Debug)]
struct Documented {
    element: String,
    path: String,
    method: String,
    role: String,
}

fn documented() -> Vec<Documented> {
    let text = include_str!("../../testdata/contract/operations.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 4, "{l}");
            Documented {
                element: f[0].to_owned(),
                path: f[1].to_owned(),
                method: f[2].to_owned(),
                role: f[3].to_owned(),
            }
        })
        .collect()
}

/// The element types held to the documents here.
const ELEMENTS: [&str; 2] = ["phone-number", "email"];

fn role(name: &str) -> Role {
    match name {
        "read" => Role::Read,
        "write" => Role::Write,
        "execute" => Role::Execute,
        "admin" => Role::Admin,
        other => panic!("the documents name no role {other}"),
    }
}

/// The element each type is tried on.
fn specimens() -> [(&'static str, &'static str, Value); 3] {
    [
        (
            "phone-number",
            "desk",
            json!({"phone_number": "+46766861004", "country": "SE"}),
        ),
        ("email", "mail", json!({"address": "desk@voxgate.test"})),
        ("websocket", "live", json!({"path": "/live"})),
    ]
}

async fn check(app: &App) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut tables = std::collections::HashMap::new();
    for (element, slug, spec) in specimens() {
        let body = json!({"element_type": element, "slug": slug, "spec": spec}).to_string();
        let created = app
            .admin(Method::POST, "/api/a/ops/create", "a", Some(&body))
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{element}: {}",
            created.body
        );
        let schema = app
            .admin(Method::GET, &format!("/api/a/{slug}/ops/schema"), "a", None)
            .await;
        assert_eq!(schema.status, StatusCode::OK, "{}", schema.body);
        tables.insert(element, (slug, schema.body["operations"].clone()));
    }
    for doc in documented() {
        if !ELEMENTS.contains(&doc.element.as_str()) {
            continue;
        }
        let (slug, table) = &tables[doc.element.as_str()];
        let what = format!("{} {} {} ({})", doc.element, doc.method, doc.path, doc.role);
        if doc.path == "create" {
            wrong.extend(circle_create(app, &doc, &what).await);
            continue;
        }
        if doc.role == "none" {
            let op = table
                .as_array()
                .and_then(|ops| ops.iter().find(|op| op["path"] == doc.path.as_str()));
            if op.is_none_or(|op| op["supported"] != false) {
                wrong.push(format!(
                    "{what}: a public platform hook must be listed as unsupported"
                ));
            }
            continue;
        }
        let Some(op) = table
            .as_array()
            .and_then(|ops| ops.iter().find(|op| op["path"] == doc.path.as_str()))
        else {
            wrong.push(format!("{what}: not in the operation table"));
            continue;
        };
        if op["method"] != doc.method.as_str() || op["role"] != doc.role.as_str() {
            wrong.push(format!(
                "{what}: the table has {} {}",
                op["method"], op["role"]
            ));
            continue;
        }
        let uri = format!("/api/a/{slug}/ops/{}", doc.path);
        let documented_role = role(&doc.role);
        if let Some(short) = Role::ALL.iter().rev().find(|r| **r < documented_role) {
            let key = app.key("a", *short).to_owned();
            let method = Method::from_bytes(doc.method.as_bytes()).expect("method");
            let r = app.send(method, &uri, Some(&key), Some("a"), None).await;
            if (r.status, r.code()) != (StatusCode::FORBIDDEN, "AUTH_FORBIDDEN") {
                wrong.push(format!(
                    "{what}: a {short:?} key got {} {}",
                    r.status, r.body
                ));
            }
        }
        let other = if doc.method == "PUT" {
            Method::PATCH
        } else {
            Method::PUT
        };
        let key = app.key("a", Role::Admin).to_owned();
        let r = app.send(other, &uri, Some(&key), Some("a"), None).await;
        let allowed = r.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if (r.status, r.code()) != (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED") {
            wrong.push(format!("{what}: PUT answered {} {}", r.status, r.body));
        } else if !allowed.contains(doc.method.as_str()) {
            wrong.push(format!(
                "{what}: 405 does not name {}: {allowed}",
                doc.method
            ));
        }
    }
    wrong
}

/// `create`, at the circle: a key below the documented role is refused, another method
/// is 405.
async fn circle_create(app: &App, doc: &Documented, what: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let documented_role = role(&doc.role);
    for short in Role::ALL.iter().filter(|r| **r < documented_role) {
        let key = app.key("a", *short).to_owned();
        let r = app
            .send(
                Method::POST,
                "/api/a/ops/create",
                Some(&key),
                Some("a"),
                Some("{}"),
            )
            .await;
        if r.code() != "AUTH_FORBIDDEN" {
            wrong.push(format!(
                "{what}: a {short:?} key got {} {}",
                r.status, r.body
            ));
        }
    }
    let key = app.key("a", documented_role).to_owned();
    let r = app
        .send(
            Method::POST,
            "/api/a/ops/create",
            Some(&key),
            Some("a"),
            Some("{}"),
        )
        .await;
    if r.code() != "INVALID_BODY" && r.code() != "ELEMENT_INVALID_TYPE" {
        wrong.push(format!(
            "{what}: a {documented_role:?} key got {} {}",
            r.status, r.body
        ));
    }
    let r = app
        .send(
            Method::PUT,
            "/api/a/ops/create",
            Some(&key),
            Some("a"),
            None,
        )
        .await;
    if r.status != StatusCode::METHOD_NOT_ALLOWED {
        wrong.push(format!("{what}: PUT answered {} {}", r.status, r.body));
    }
    wrong
}

#[tokio::test]
async fn every_documented_operation_has_its_documented_path_method_and_role() {
    assert!(documented().len() >= 150, "the documents' operations");
    for db in support::both().await {
        let name = db.name;
        let app = App::new(db).await;
        let wrong = check(&app).await;
        assert!(
            wrong.is_empty(),
            "{name}: {} of them:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        app.db.finish().await;
    }
}
