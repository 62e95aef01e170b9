//! A control API over a fresh store, with keys of every role in circles `a` and `b`, driven
//! with `oneshot` (no socket).

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;
use voxgate_control_api::auth::Role;
use voxgate_control_api::bootstrap::create_key;
use voxgate_control_api::email::EmailSettings;
use voxgate_control_api::ids::{Clock, SystemClock};
use voxgate_control_api::phone::PhoneSettings;
use voxgate_control_api::secrets::Sealer;
use voxgate_control_api::{AppState, router};

use super::TestDb;

pub struct App {
    pub db: TestDb,
    pub state: AppState,
    /// Keys by (circle, role).
    pub keys: HashMap<(&'static str, Role), String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The error code, if the body is an error.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl App {
    pub async fn new(db: TestDb) -> Self {
        Self::with_sealer(db, Some(Sealer::new(&[9; 32]))).await
    }

    pub async fn with_sealer(db: TestDb, sealer: Option<Sealer>) -> Self {
        let state = AppState::new(db.store(), sealer);
        Self::with_state(db, state).await
    }

    /// An app whose email operations use `email` (test CA, DNS server, platform, cap).
    pub async fn with_email(db: TestDb, email: EmailSettings) -> Self {
        Self::with_email_clock(db, email, Arc::new(SystemClock)).await
    }

    /// An app with `email` settings that reads the time from `clock`.
    pub async fn with_email_clock(db: TestDb, email: EmailSettings, clock: Arc<dyn Clock>) -> Self {
        let state = AppState::with_clock(
            db.store(),
            Some(Sealer::new(&[9; 32])),
            PhoneSettings::default(),
            email,
            clock,
        );
        Self::with_state(db, state).await
    }

    /// An app over `state` (whose store must be `db`'s).
    pub async fn with_state(db: TestDb, state: AppState) -> Self {
        let mut keys = HashMap::new();
        for circle in ["a", "b"] {
            for role in Role::ALL {
                let key = create_key(&*db.store(), circle, role).await.expect("key");
                keys.insert((circle, role), key);
            }
        }
        Self { db, state, keys }
    }

    pub fn key(&self, circle: &'static str, role: Role) -> &str {
        &self.keys[&(circle, role)]
    }

    /// Sends a request: `key` as Bearer, `account` as X-Account-ID, `body` as JSON text.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        account: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        if let Some(account) = account {
            request = request.header("x-account-id", account);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        let response = router(self.state.clone())
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply { status, body }
    }

    /// Runs operation `op` of element `slug` in circle `a` with a key of `role`.
    pub async fn op(
        &self,
        slug: &str,
        role: Role,
        method: Method,
        op: &str,
        body: Option<Value>,
    ) -> Reply {
        let key = self.key("a", role).to_owned();
        let body = body.map(|b| b.to_string());
        let path = format!("/api/a/{slug}/ops/{op}");
        self.send(method, &path, Some(&key), None, body.as_deref())
            .await
    }

    /// As circle `circle`'s admin, in its account.
    pub async fn admin(
        &self,
        method: Method,
        uri: &str,
        circle: &'static str,
        body: Option<&str>,
    ) -> Reply {
        let key = self.key(circle, Role::Admin).to_owned();
        self.send(method, uri, Some(&key), Some(circle), body).await
    }
}
