//! The email element's sending side against real servers: an SMTP submission server with
//! AUTH and STARTTLS/implicit TLS (aiosmtpd, `testdata/mail/submission.py`) delivering into
//! Dovecot's Maildirs, read back as files and over IMAP; and received mail handed to the
//! listener's delivery ([`Inbox`]) as the SMTP listener would.
//!
//! Covered: send (multipart, attachments, Bcc, threading), reply, send_tracked (consent,
//! pixel, click redirect, unsubscribe), suppressions, the outbox state machine, known_only,
//! the daily cap under concurrent sends, permanent and transient failures with retries,
//! bounces (at submission and as DSNs), conversation threading, test-connection.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use voxgate_control_api::auth::Role;
use voxgate_control_api::email::receive::Inbox;
use voxgate_control_api::email::{EmailSettings, MailRetry};
use voxgate_control_api::ids::{Clock, ManualClock, SystemClock};
use voxgate_control_api::router;
use voxgate_mail::listener::{Delivery, Envelope, Verdict};
use voxgate_mail::tls::TlsSettings;
use voxgate_testdata::mail::certs::TestCerts;
use voxgate_testdata::mail::dovecot::Dovecot;
use voxgate_testdata::mail::submission::Submission;

use support::app::{App, Reply};

const AGENT: &str = "agent@voxgate.test";
const PASSWORD: &str = "app-password-1";

/// The servers and an app whose element `mail` sends through them.
struct Rig {
    app: App,
    submission: Submission,
    dovecot: Dovecot,
    _dir: tempfile::TempDir,
}

fn settings(ca_pem: &Path, cap: i64) -> EmailSettings {
    let pem = std::fs::read(ca_pem).expect("ca");
    EmailSettings {
        public_url: "https://voxgate.test".to_owned(),
        daily_cap_per_circle: cap,
        tls: TlsSettings::with_extra_ca_pem(&pem).expect("test CA"),
        retry: MailRetry {
            max_attempts: 3,
            base: Duration::from_millis(50),
            max: Duration::from_millis(200),
        },
        timeout: Duration::from_secs(10),
        ..EmailSettings::default()
    }
}

impl Rig {
    async fn new(cap: i64, extra_spec: Value) -> Self {
        Self::with_clock(cap, extra_spec, Arc::new(SystemClock)).await
    }

    /// A rig whose control API reads the time from `clock`.
    async fn with_clock(cap: i64, extra_spec: Value, clock: Arc<dyn Clock>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = TestCerts::create(dir.path()).expect("certs");
        std::fs::create_dir_all(dir.path().join("dovecot")).expect("dovecot dir");
        let dovecot = Dovecot::start(
            &dir.path().join("dovecot"),
            &certs,
            &[(AGENT, PASSWORD), ("a@x.test", "pw-a")],
        )
        .expect("dovecot");
        let submission = Submission::start(
            dir.path(),
            &certs,
            &[(AGENT, PASSWORD)],
            &dovecot.maildir_root(),
        )
        .expect("submission server");
        let app =
            App::with_email_clock(support::sqlite().await, settings(&certs.ca_pem, cap), clock)
                .await;
        let rig = Self {
            app,
            submission,
            dovecot,
            _dir: dir,
        };
        let mut spec = json!({
            "address": AGENT,
            "display_name": "Front Desk",
            "smtp_host": "127.0.0.1",
            "smtp_port": rig.submission.starttls_port,
            "smtp_security": "starttls",
            "smtp_username": AGENT,
            "smtp_password": PASSWORD,
        });
        merge(&mut spec, extra_spec);
        rig.create("mail", spec).await;
        rig
    }

    async fn create(&self, slug: &str, spec: Value) {
        let created = self
            .app
            .admin(
                Method::POST,
                "/api/a/ops/create",
                "a",
                Some(&json!({"element_type": "email", "slug": slug, "spec": spec}).to_string()),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }

    async fn op(&self, role: Role, method: Method, op: &str, body: Option<Value>) -> Reply {
        self.app.op("mail", role, method, op, body).await
    }

    async fn post(&self, op: &str, body: Value) -> Reply {
        self.op(Role::Admin, Method::POST, op, Some(body)).await
    }

    async fn get(&self, op_and_query: &str) -> Reply {
        self.op(Role::Admin, Method::GET, op_and_query, None).await
    }

    /// Raw HTTP (the tracking routes answer GIFs, redirects and HTML).
    async fn raw(
        &self,
        method: Method,
        uri: &str,
        body: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request");
        let response = router(self.app.state.clone())
            .oneshot(request)
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    fn delivered(&self, address: &str) -> Vec<String> {
        self.submission
            .delivered(address)
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m).into_owned())
            .collect()
    }

    async fn events(&self) -> Vec<String> {
        let reply = self.get("list-events?limit=100").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// Hands `raw` to the listener's delivery, as the SMTP listener does.
    async fn receive(&self, from: &str, to: &str, raw: &str) -> Verdict {
        let inbox = Inbox::new(self.app.state.clone());
        assert_eq!(inbox.recipient(to).await, Verdict::Accept, "{to}");
        let envelope = Envelope {
            helo: "mx.x.test".to_owned(),
            mail_from: from.to_owned(),
            rcpt_to: vec![to.to_owned()],
            peer: SocketAddr::from(([127, 0, 0, 1], 40000)),
        };
        inbox.deliver(&envelope, raw.as_bytes().to_vec()).await
    }
}

fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(base), Value::Object(extra)) = (base, extra) {
        for (k, v) in extra {
            base.insert(k, v);
        }
    }
}

fn ok(reply: &Reply) -> &Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    &reply.body
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let head = message.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn send_delivers_alternatives_attachments_bcc_and_threading_over_starttls() {
    let rig = Rig::new(500, json!({})).await;
    let sent = rig
        .post(
            "send",
            json!({
                "to": "A@x.test, b@x.test", "cc": ["c@x.test"], "bcc": "d@x.test",
                "subject": "Your booking", "text": "See you at 10.", "html": "<p>See you at <b>10</b>.</p>",
                "in_reply_to": "<parent-1@x.test>",
                "attachments": [{"filename": "booking.txt", "content_type": "text/plain", "content_base64": "Ym9va2luZyAxMjM="}]
            }),
        )
        .await;
    let body = ok(&sent);
    assert_eq!(body["status"], "sent", "{body}");
    assert_eq!(body["attempts"], 1);
    assert_eq!(body["to"], json!(["a@x.test", "b@x.test"]));
    let rfc_id = body["rfc_message_id"].as_str().expect("id").to_owned();
    assert!(rfc_id.ends_with("@voxgate.test"), "{rfc_id}");

    for rcpt in ["a@x.test", "b@x.test", "c@x.test", "d@x.test"] {
        assert_eq!(rig.delivered(rcpt).len(), 1, "{rcpt} got one copy");
    }
    let message = &rig.delivered("a@x.test")[0];
    assert_eq!(
        header(message, "Message-ID"),
        Some(format!("<{rfc_id}>").as_str())
    );
    assert_eq!(header(message, "In-Reply-To"), Some("<parent-1@x.test>"));
    assert_eq!(header(message, "References"), Some("<parent-1@x.test>"));
    assert!(
        header(message, "From").is_some_and(|f| f.contains("Front Desk") && f.contains(AGENT)),
        "{message}"
    );
    assert!(
        header(message, "Bcc").is_none(),
        "Bcc must stay in the envelope: {message}"
    );
    assert!(
        header(message, "List-Unsubscribe").is_none(),
        "one link cannot say which of several recipients unsubscribes: {message}"
    );
    assert!(
        message.contains("multipart/alternative") && message.contains("multipart/mixed"),
        "{message}"
    );
    assert!(
        message.contains("booking.txt") && message.contains("booking 123"),
        "{message}"
    );

    // The server's own log: the envelope had all four recipients and the authenticated user.
    let log = rig.submission.log_entries();
    assert_eq!(log.len(), 1, "{log:?}");
    let entry: Value = serde_json::from_str(&log[0]).expect("log json");
    assert_eq!(entry["auth_user"], AGENT);
    assert_eq!(
        entry["rcpt_tos"].as_array().map(Vec::len),
        Some(4),
        "{entry}"
    );

    // Read back over IMAP from Dovecot, where the submission server delivered it.
    let pem = std::fs::read(rig._dir.path().join("ca.pem")).expect("ca");
    let tls = TlsSettings::with_extra_ca_pem(&pem).expect("ca");
    let endpoint = voxgate_mail::Endpoint {
        host: "127.0.0.1".to_owned(),
        port: rig.dovecot.imaps_port(),
        security: voxgate_mail::Security::Tls,
    };
    let login = voxgate_mail::Login {
        username: "a@x.test".to_owned(),
        password: "pw-a".to_owned(),
    };
    let mut imap =
        voxgate_mail::imap::ImapSession::connect(&endpoint, &login, &tls, Duration::from_secs(10))
            .await
            .expect("imap");
    let page = imap.page("INBOX", None, 10).await.expect("page");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(
        page.messages[0].message_id.as_deref(),
        Some(rfc_id.as_str())
    );
    assert_eq!(page.messages[0].subject.as_deref(), Some("Your booking"));
    imap.logout().await.expect("logout");

    let events = rig.events().await;
    assert_eq!(events, ["sent", "queued"], "newest first");
    let stored = ok(&rig.get("list-messages?direction=outbound").await).clone();
    assert_eq!(stored["messages"][0]["status"], "sent");
    assert_eq!(stored["messages"][0]["bcc"], json!(["d@x.test"]));
}

#[tokio::test]
async fn implicit_tls_and_test_connection_send_nothing_and_report_bad_logins() {
    let rig = Rig::new(500, json!({})).await;
    let tls_spec = json!({"smtp_port": rig.submission.tls_port, "smtp_security": "tls"});
    rig.app
        .admin(
            Method::PATCH,
            "/api/a/mail/ops/update",
            "a",
            Some(&json!({"spec": tls_spec}).to_string()),
        )
        .await;
    let tested = ok(&rig.get("test-connection").await).clone();
    assert_eq!(tested["smtp"]["security"], "tls");
    assert_eq!(tested["smtp"]["username"], AGENT);
    assert!(
        tested.to_string().find(PASSWORD).is_none(),
        "the password is never returned"
    );
    assert!(
        rig.submission.log_entries().is_empty(),
        "test-connection sends nothing"
    );

    let sent = rig
        .post(
            "send",
            json!({"to": "a@x.test", "subject": "TLS", "text": "over 465"}),
        )
        .await;
    assert_eq!(ok(&sent)["status"], "sent");
    assert_eq!(rig.delivered("a@x.test").len(), 1);

    let wrong = json!({"smtp_password": "wrong"});
    rig.app
        .admin(
            Method::PATCH,
            "/api/a/mail/ops/update",
            "a",
            Some(&json!({"spec": wrong}).to_string()),
        )
        .await;
    // A refused login: connected, not authenticated, said in the answer.
    let tested = ok(&rig.get("test-connection").await).clone();
    assert_eq!(
        (
            &tested["ok"],
            &tested["connected"],
            &tested["authenticated"],
            &tested["smtp"]["error"]["code"]
        ),
        (
            &json!(false),
            &json!(true),
            &json!(false),
            &json!("EMAIL_AUTH_FAILED")
        ),
        "{tested}"
    );
    let failed = rig
        .post(
            "send",
            json!({"to": "a@x.test", "subject": "x", "text": "y"}),
        )
        .await;
    let body = ok(&failed);
    assert_eq!(
        (body["status"].as_str(), body["error_code"].as_str()),
        (Some("failed"), Some("EMAIL_AUTH_FAILED")),
        "{body}"
    );
    assert_eq!(body["attempts"], 1, "a refused login is not retried");
    assert_eq!(rig.delivered("a@x.test").len(), 1);
}

#[tokio::test]
async fn bad_requests_get_their_codes_and_store_nothing() {
    let rig = Rig::new(500, json!({})).await;
    for (body, code) in [
        (
            json!({"to": "nope", "subject": "s", "text": "t"}),
            "EMAIL_INVALID_ADDRESS",
        ),
        (
            json!({"to": "a@x.test", "subject": "s"}),
            "EMAIL_INVALID_MESSAGE",
        ),
        (
            json!({"to": "a@x.test", "subject": "s\r\nBcc: evil@x.test", "text": "t"}),
            "EMAIL_INVALID_MESSAGE",
        ),
        (
            json!({"to": "a@x.test", "subject": "s", "text": "t", "attachments": [{"filename": "a", "content_base64": "%%%"}]}),
            "EMAIL_INVALID_ATTACHMENT",
        ),
        (
            json!({"to": "a@x.test", "subject": "s", "text": "t", "extra": 1}),
            "INVALID_BODY",
        ),
    ] {
        let reply = rig.post("send", body.clone()).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, code),
            "{body}: {}",
            reply.body
        );
    }
    let forbidden = rig
        .op(
            Role::Read,
            Method::POST,
            "send",
            Some(json!({"to": "a@x.test", "subject": "s", "text": "t"})),
        )
        .await;
    assert_eq!(forbidden.code(), "AUTH_FORBIDDEN");
    let stored = ok(&rig.get("list-messages").await).clone();
    assert_eq!(stored["messages"], json!([]));
    assert!(rig.submission.log_entries().is_empty());
}

#[tokio::test]
async fn tracked_mail_needs_consent_counts_opens_and_clicks_and_unsubscribes() {
    let rig = Rig::new(500, json!({})).await;
    let mail = json!({"to": "a@x.test", "subject": "News", "text": "read it",
        "html": "<html><body><a href=\"https://example.org/offer?x=1&amp;y=2\">offer</a></body></html>"});
    let refused = rig.post("send_tracked", mail.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "EMAIL_NO_CONSENT"),
        "{}",
        refused.body
    );
    let consent = rig
        .post(
            "set-consent",
            json!({"address": "a@x.test", "consent": "soft_optin", "source": "call 42"}),
        )
        .await;
    assert_eq!(ok(&consent)["previous"], Value::Null);
    let bad = rig
        .post(
            "set-consent",
            json!({"address": "a@x.test", "consent": "maybe"}),
        )
        .await;
    assert_eq!(bad.code(), "EMAIL_INVALID_CONSENT");
    let sent = rig.post("send_tracked", mail).await;
    assert_eq!(ok(&sent)["tracked"], true);

    let message = rig.delivered("a@x.test").pop().expect("delivered");
    let html = decode_qp(&message);
    let find = |prefix: &str| -> String {
        let at = html
            .find(prefix)
            .unwrap_or_else(|| panic!("{prefix} in {html}"));
        html[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || "/:._".contains(*c))
            .collect()
    };
    let click = find("https://voxgate.test/t/click/");
    let open = find("https://voxgate.test/t/open/");
    assert!(
        !html.contains("https://example.org/offer"),
        "the link is rewritten: {html}"
    );

    let (status, headers, _) = rig
        .raw(Method::GET, &click["https://voxgate.test".len()..], "")
        .await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers["location"], "https://example.org/offer?x=1&y=2");
    for _ in 0..2 {
        let (status, headers, body) = rig
            .raw(Method::GET, &open["https://voxgate.test".len()..], "")
            .await;
        assert_eq!(
            (status, headers["content-type"].to_str().ok()),
            (StatusCode::OK, Some("image/gif"))
        );
        assert!(body.starts_with(b"GIF89a"));
    }
    let (status, _, _) = rig.raw(Method::GET, "/t/open/t_unknown", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let events = rig.events().await;
    assert_eq!(
        events.iter().filter(|e| *e == "opened").count(),
        1,
        "only the first open: {events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "clicked").count(),
        1,
        "{events:?}"
    );
    assert!(events.contains(&"consent_changed".to_owned()), "{events:?}");

    // Unsubscribe: a GET only shows the form; the one-click POST suppresses.
    let unsubscribe = header(&message, "List-Unsubscribe")
        .expect("header")
        .trim_matches(['<', '>'])
        .to_owned();
    let path = &unsubscribe["https://voxgate.test".len()..];
    let (status, _, page) = rig.raw(Method::GET, path, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page).contains("<form"));
    let listed = ok(&rig.get("list-suppressions").await).clone();
    assert_eq!(listed["suppressions"], json!([]), "a GET changes nothing");
    let (status, _, _) = rig
        .raw(Method::POST, path, "List-Unsubscribe=One-Click")
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed = ok(&rig.get("list-suppressions").await).clone();
    assert_eq!(listed["suppressions"][0]["address"], "a@x.test");
    assert_eq!(listed["suppressions"][0]["source"], "unsubscribe");

    let blocked = rig
        .post(
            "send",
            json!({"to": "a@x.test", "subject": "again", "text": "t"}),
        )
        .await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "EMAIL_SUPPRESSED")
    );
    let events = rig.events().await;
    assert_eq!(events[0], "blocked", "{events:?}");
    assert!(
        events.contains(&"unsubscribed".to_owned()) && events.contains(&"suppressed".to_owned()),
        "{events:?}"
    );
}

/// The HTML part with quoted-printable soft breaks and `=3D` undone.
fn decode_qp(message: &str) -> String {
    message.replace("=\r\n", "").replace("=3D", "=")
}

#[tokio::test]
async fn suppressions_keep_their_documented_roles_and_gate_every_send() {
    let rig = Rig::new(500, json!({})).await;
    let missing = rig
        .post(
            "add-suppression",
            json!({"address": "b@x.test", "reason": " "}),
        )
        .await;
    assert_eq!(missing.code(), "EMAIL_REASON_REQUIRED");
    let reader = rig
        .op(
            Role::Read,
            Method::POST,
            "add-suppression",
            Some(json!({"address": "b@x.test", "reason": "asked"})),
        )
        .await;
    assert_eq!(reader.code(), "AUTH_FORBIDDEN");
    let added = rig
        .post(
            "add-suppression",
            json!({"address": "B@x.test", "reason": "asked by phone"}),
        )
        .await;
    assert_eq!(ok(&added)["added"], true);
    let again = rig
        .post(
            "add-suppression",
            json!({"address": "b@x.test", "reason": "twice"}),
        )
        .await;
    assert_eq!(ok(&again)["added"], false);
    let blocked = rig
        .post(
            "send",
            json!({"to": ["a@x.test", "b@x.test"], "subject": "s", "text": "t"}),
        )
        .await;
    assert_eq!(blocked.code(), "EMAIL_SUPPRESSED");
    assert!(
        rig.delivered("a@x.test").is_empty(),
        "nothing went to the others either"
    );
    let removed = rig
        .post(
            "remove-suppression",
            json!({"address": "b@x.test", "reason": "consented again"}),
        )
        .await;
    assert_eq!(ok(&removed)["suppressed"], false);
    let gone = rig
        .post(
            "remove-suppression",
            json!({"address": "b@x.test", "reason": "again"}),
        )
        .await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "EMAIL_NOT_SUPPRESSED")
    );
    let sent = rig
        .post(
            "send",
            json!({"to": "b@x.test", "subject": "s", "text": "t"}),
        )
        .await;
    assert_eq!(ok(&sent)["status"], "sent");
    for (i, a) in ["p@x.test", "q@x.test", "r@x.test"].iter().enumerate() {
        rig.post(
            "add-suppression",
            json!({"address": a, "reason": format!("r{i}")}),
        )
        .await;
    }
    let first = ok(&rig.get("list-suppressions?limit=2").await).clone();
    assert_eq!(first["suppressions"].as_array().map(Vec::len), Some(2));
    let after = first["next_after"].as_str().expect("more");
    let second = ok(&rig
        .get(&format!("list-suppressions?limit=2&after={after}"))
        .await)
    .clone();
    assert_eq!(second["suppressions"][0]["address"], "r@x.test");
    let events = rig.events().await;
    assert!(events.contains(&"unsuppressed".to_owned()), "{events:?}");
    // The whole circle's log is for admins; paging walks it without repeats.
    let reader = rig
        .op(
            Role::Read,
            Method::GET,
            "list-events?circle_wide=true",
            None,
        )
        .await;
    assert_eq!(reader.code(), "AUTH_FORBIDDEN");
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let query = match &token {
            Some(t) => format!("list-events?circle_wide=true&limit=3&page_token={t}"),
            None => "list-events?circle_wide=true&limit=3".to_owned(),
        };
        let page = ok(&rig.get(&query).await).clone();
        for e in page["events"].as_array().expect("events") {
            seen.push(e["id"].as_str().expect("id").to_owned());
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    let all = ok(&rig.get("list-events?limit=100").await).clone();
    assert_eq!(seen.len(), all["events"].as_array().map_or(0, Vec::len));
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no repeats across pages");
    let bad = rig.get("list-events?kind=nonsense").await;
    assert_eq!(bad.code(), "INVALID_QUERY");
}

#[tokio::test]
async fn the_outbox_sends_only_what_is_approved_once() {
    let rig = Rig::new(500, json!({"send_policy": "outbox"})).await;
    let draft = ok(&rig
        .post(
            "send",
            json!({"to": "a@x.test", "subject": "Draft", "text": "t"}),
        )
        .await)
    .clone();
    assert_eq!(draft["status"], "pending");
    let other = ok(&rig
        .post(
            "send",
            json!({"to": "b@x.test", "subject": "Other", "text": "t"}),
        )
        .await)
    .clone();
    assert!(rig.submission.log_entries().is_empty(), "drafts wait");
    let listed = ok(&rig.get("list_outbox").await).clone();
    assert_eq!(listed["messages"].as_array().map(Vec::len), Some(2));

    let id = draft["message_id"].as_str().expect("id");
    let reader = rig
        .op(
            Role::Read,
            Method::POST,
            "approve_dispatch",
            Some(json!({"message_id": id})),
        )
        .await;
    assert_eq!(reader.code(), "AUTH_FORBIDDEN");
    let approved = ok(&rig
        .post(
            "approve_dispatch",
            json!({"message_id": id, "reason": "looks right"}),
        )
        .await)
    .clone();
    assert_eq!(approved["status"], "sent");
    assert!(approved["reviewed_by"].is_string());
    assert_eq!(rig.delivered("a@x.test").len(), 1);
    for op in ["approve_dispatch", "reject_dispatch"] {
        let repeat = rig.post(op, json!({"message_id": id})).await;
        assert_eq!(
            (repeat.status, repeat.code()),
            (StatusCode::CONFLICT, "EMAIL_OUTBOX_INVALID_STATE"),
            "{op}"
        );
    }
    let other_id = other["message_id"].as_str().expect("id");
    let rejected = ok(&rig
        .post(
            "reject_dispatch",
            json!({"message_id": other_id, "reason": "wrong tone"}),
        )
        .await)
    .clone();
    assert_eq!(rejected["status"], "rejected");
    let late = rig
        .post("approve_dispatch", json!({"message_id": other_id}))
        .await;
    assert_eq!(late.code(), "EMAIL_OUTBOX_INVALID_STATE");
    let unknown = rig
        .post("approve_dispatch", json!({"message_id": "eml_nothing"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "EMAIL_MESSAGE_NOT_FOUND")
    );
    assert!(rig.delivered("b@x.test").is_empty());
    let pending = ok(&rig.get("list_outbox").await).clone();
    assert_eq!(pending["messages"], json!([]));
    let events = rig.events().await;
    assert!(
        events.contains(&"approved".to_owned()) && events.contains(&"rejected".to_owned()),
        "{events:?}"
    );
}

#[tokio::test]
async fn known_only_refuses_strangers_but_not_replies() {
    let rig = Rig::new(500, json!({"send_policy": "known_only"})).await;
    let refused = rig
        .post(
            "send",
            json!({"to": "new@x.test", "subject": "s", "text": "t"}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "EMAIL_UNKNOWN_RECIPIENT")
    );
    rig.post(
        "set-consent",
        json!({"address": "new@x.test", "consent": "none"}),
    )
    .await;
    let sent = rig
        .post(
            "send",
            json!({"to": "new@x.test", "subject": "s", "text": "t"}),
        )
        .await;
    assert_eq!(ok(&sent)["status"], "sent");

    // An auto-reply from a stranger makes no contact, but may be answered.
    let raw = "From: Robot <robot@x.test>\r\nTo: agent@voxgate.test\r\nSubject: Out of office\r\n\
               Message-ID: <ooo-1@x.test>\r\nAuto-Submitted: auto-replied\r\n\r\nAway.\r\n";
    assert_eq!(
        rig.receive("robot@x.test", AGENT, raw).await,
        Verdict::Accept
    );
    let stranger = rig
        .post(
            "send",
            json!({"to": "robot@x.test", "subject": "s", "text": "t"}),
        )
        .await;
    assert_eq!(stranger.code(), "EMAIL_UNKNOWN_RECIPIENT");
    let replied = ok(&rig
        .post(
            "reply",
            json!({"message_id": "<ooo-1@x.test>", "text": "Noted."}),
        )
        .await)
    .clone();
    assert_eq!(replied["status"], "sent");
    assert_eq!(replied["subject"], "Re: Out of office");
    let message = rig
        .delivered("robot@x.test")
        .pop()
        .expect("reply delivered");
    assert_eq!(header(&message, "In-Reply-To"), Some("<ooo-1@x.test>"));
    assert_eq!(header(&message, "References"), Some("<ooo-1@x.test>"));
    assert!(
        header(&message, "List-Unsubscribe").is_none(),
        "replies carry none"
    );
}

#[tokio::test]
async fn exactly_the_daily_cap_of_concurrent_sends_succeeds() {
    let rig = Rig::new(5, json!({})).await;
    let sends = (0..12).map(|i| {
        let body = json!({"to": format!("u{i}@x.test"), "subject": format!("n{i}"), "text": "t"});
        rig.post("send", body)
    });
    let replies = futures::future::join_all(sends).await;
    let ok_count = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let capped: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(
        (ok_count, capped.len()),
        (5, 7),
        "{:?}",
        replies
            .iter()
            .map(|r| r.body.to_string())
            .collect::<Vec<_>>()
    );
    assert!(
        capped
            .iter()
            .all(|r| r.code() == "EMAIL_DAILY_CAP_REACHED" && r.body["error"]["retryable"] == true)
    );
    assert_eq!(rig.submission.log_entries().len(), 5);
    let status = ok(&rig.get("rate-status").await).clone();
    assert_eq!(
        (
            status["cap"].as_i64(),
            status["sent"].as_i64(),
            status["remaining"].as_i64()
        ),
        (Some(5), Some(5), Some(0))
    );
}

/// The cap counts per UTC day on the control API's clock: full at 23:59:59, a second later
/// the new day has the whole cap again, and `rate-status` says when each day resets.
#[tokio::test]
async fn the_daily_cap_resets_at_utc_midnight() {
    let clock = Arc::new(ManualClock::at(support::A_SECOND_TO_MIDNIGHT_MS));
    let rig = Rig::with_clock(2, json!({}), clock.clone()).await;
    let send = |n: u32| {
        rig.post(
            "send",
            json!({"to": format!("u{n}@x.test"), "subject": format!("n{n}"), "text": "t"}),
        )
    };
    for n in 0..2 {
        let sent = send(n).await;
        assert_eq!(sent.status, StatusCode::OK, "{n}: {}", sent.body);
    }
    let capped = send(2).await;
    assert_eq!(
        (capped.status, capped.code()),
        (StatusCode::TOO_MANY_REQUESTS, "EMAIL_DAILY_CAP_REACHED")
    );
    let today = ok(&rig.get("rate-status").await).clone();
    assert_eq!(
        (
            today["remaining"].as_i64(),
            today["reset_at"].as_str(),
            today["day"].as_str()
        ),
        (
            Some(0),
            Some("2026-12-08T00:00:00.000Z"),
            Some("2026-12-07")
        ),
        "{today}"
    );
    clock.advance(1_000);
    let tomorrow = ok(&rig.get("rate-status").await).clone();
    assert_eq!(
        (
            tomorrow["sent"].as_i64(),
            tomorrow["remaining"].as_i64(),
            tomorrow["reset_at"].as_str()
        ),
        (Some(0), Some(2), Some("2026-12-09T00:00:00.000Z")),
        "{tomorrow}"
    );
    let sent = send(3).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(rig.submission.log_entries().len(), 3);
}

#[tokio::test]
async fn refusals_fail_or_retry_and_hard_bounces_suppress() {
    let rig = Rig::new(500, json!({})).await;
    let rejected = ok(&rig
        .post(
            "send",
            json!({"to": "reject-me@x.test", "subject": "s", "text": "t"}),
        )
        .await)
    .clone();
    assert_eq!(
        (rejected["status"].as_str(), rejected["error_code"].as_str()),
        (Some("failed"), Some("EMAIL_REJECTED")),
        "{rejected}"
    );
    let listed = ok(&rig.get("list-suppressions").await).clone();
    assert_eq!(listed["suppressions"][0]["address"], "reject-me@x.test");
    assert_eq!(listed["suppressions"][0]["source"], "bounce");
    assert!(
        listed["suppressions"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("5.1.1")),
        "{listed}"
    );

    let deferred = ok(&rig
        .post(
            "send",
            json!({"to": "defer-me@x.test", "subject": "s", "text": "t"}),
        )
        .await)
    .clone();
    assert_eq!(
        (deferred["status"].as_str(), deferred["attempts"].as_i64()),
        (Some("queued"), Some(1)),
        "{deferred}"
    );
    assert!(deferred["next_attempt_at"].is_string());
    // A server that says the sender is too fast: retried like any deferral, but named.
    let slowed = ok(&rig
        .post(
            "send",
            json!({"to": "slow-me@x.test", "subject": "s", "text": "t"}),
        )
        .await)
    .clone();
    assert_eq!(
        (slowed["status"].as_str(), slowed["error_code"].as_str()),
        (Some("queued"), Some("EMAIL_RATE_LIMITED")),
        "{slowed}"
    );
    let state = rig.app.state.clone();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(voxgate_control_api::email::deliver::run(
        state,
        async move {
            let _ = stopped.await;
        },
    ));
    let id = deferred["message_id"].as_str().expect("id").to_owned();
    let slow_id = slowed["message_id"].as_str().expect("id").to_owned();
    eventually("the retries to give up", || async {
        let page = rig.get("list-messages?status=failed").await;
        page.body["messages"].as_array().is_some_and(|m| {
            [&id, &slow_id]
                .iter()
                .all(|id| m.iter().any(|m| m["message_id"] == id.as_str()))
        })
    })
    .await;
    let page = ok(&rig.get("list-messages?status=failed").await).clone();
    let failed = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["message_id"] == id.as_str())
        .expect("it")
        .clone();
    assert_eq!(
        (failed["attempts"].as_i64(), failed["error_code"].as_str()),
        (Some(3), Some("EMAIL_DEFERRED"))
    );
    let slow = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["message_id"] == slow_id.as_str())
        .expect("the rate-limited one");
    assert_eq!(
        (slow["attempts"].as_i64(), slow["error_code"].as_str()),
        (Some(3), Some("EMAIL_RATE_LIMITED"))
    );
    let events = rig.events().await;
    assert_eq!(
        events.iter().filter(|e| *e == "retrying").count(),
        4,
        "{events:?}"
    );
    assert!(events.contains(&"bounced".to_owned()), "{events:?}");
}

#[tokio::test]
async fn a_delivery_status_notification_suppresses_the_dead_address() {
    let rig = Rig::new(500, json!({})).await;
    let sent = ok(&rig
        .post(
            "send",
            json!({"to": "gone@x.test", "subject": "Hello", "text": "t"}),
        )
        .await)
    .clone();
    let original = sent["rfc_message_id"].as_str().expect("id");
    let dsn = format!(
        "From: MAILER-DAEMON@mx.x.test\r\nTo: {AGENT}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <dsn-1@mx.x.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver your message.\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.test\r\n\r\n\
         Final-Recipient: rfc822; gone@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Remote-MTA: dns; mail.x.test\r\nDiagnostic-Code: smtp; 550 5.1.1 <gone@x.test>: User unknown\r\n\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original}>\r\nSubject: Hello\r\n\r\n--b1--\r\n"
    );
    assert_eq!(rig.receive("", AGENT, &dsn).await, Verdict::Accept);
    let listed = ok(&rig.get("list-suppressions").await).clone();
    let entry = &listed["suppressions"][0];
    assert_eq!(
        (entry["address"].as_str(), entry["source"].as_str()),
        (Some("gone@x.test"), Some("bounce")),
        "{listed}"
    );
    let detail = entry["detail"].as_str().expect("detail");
    assert!(
        detail.contains("5.1.1")
            && detail.contains("User unknown")
            && detail.contains("mail.x.test"),
        "{detail}"
    );
    let bounced = ok(&rig.get("list-events?kind=bounced").await).clone();
    assert_eq!(
        bounced["events"][0]["message_id"], sent["message_id"],
        "tied to the bounced message"
    );
    let inbound = ok(&rig.get("list-messages?direction=inbound").await).clone();
    assert_eq!(inbound["messages"][0]["kind"], "bounce");
    let blocked = rig
        .post(
            "send",
            json!({"to": "gone@x.test", "subject": "again", "text": "t"}),
        )
        .await;
    assert_eq!(blocked.code(), "EMAIL_SUPPRESSED");
    // A forged report about an address this circle never mailed changes nothing.
    let forged = dsn
        .replace("gone@x.test", "victim@x.test")
        .replace("dsn-1@", "dsn-2@");
    assert_eq!(rig.receive("", AGENT, &forged).await, Verdict::Accept);
    let listed = ok(&rig.get("list-suppressions").await).clone();
    assert_eq!(
        listed["suppressions"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let ignored = ok(&rig.get("list-events?kind=bounced").await).clone();
    assert_eq!(ignored["events"][0]["address"], "victim@x.test");
    assert!(
        ignored["events"][0]["detail"]["ignored"].is_string(),
        "{ignored}"
    );
}

#[tokio::test]
async fn conversation_mode_threads_mail_by_references_and_sender() {
    let rig = Rig::new(500, json!({"mode": "conversation"})).await;
    let agent = rig
        .app
        .admin(
            Method::POST,
            "/api/v1/agents",
            "a",
            Some(&json!({"name": "Desk"}).to_string()),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let first = "From: Caller <caller@x.test>\r\nTo: agent@voxgate.test\r\nSubject: Booking\r\n\
                 Message-ID: <c1@x.test>\r\n\r\nCan I move my booking?\r\n";
    assert_eq!(
        rig.receive("caller@x.test", AGENT, first).await,
        Verdict::Accept
    );
    let reply = ok(&rig
        .post(
            "reply",
            json!({"message_id": "<c1@x.test>", "text": "Yes, to when?"}),
        )
        .await)
    .clone();
    let reply_id = reply["rfc_message_id"].as_str().expect("id");
    let second = format!(
        "From: \"Caller (mobile)\" <Caller@x.test>\r\nTo: agent@voxgate.test\r\nSubject: Re: Booking\r\n\
         Message-ID: <c2@x.test>\r\nIn-Reply-To: <{reply_id}>\r\nReferences: <c1@x.test> <{reply_id}>\r\n\r\nFriday.\r\n"
    );
    let mut port = rig.app.state.events().subscribe();
    assert_eq!(
        rig.receive("caller@x.test", AGENT, &second).await,
        Verdict::Accept
    );
    let emitted = std::iter::from_fn(|| port.try_recv().ok())
        .find(|e| e.name == "email.message")
        .expect("the message port emitted the mail");
    assert_eq!(emitted.data["rfc_message_id"], "c2@x.test");
    assert!(emitted.data["thread_id"].is_string(), "{:?}", emitted.data);
    // A stranger naming the same messages gets a thread of their own.
    let third = format!(
        "From: Other <other@x.test>\r\nTo: agent@voxgate.test\r\nSubject: Re: Booking\r\n\
         Message-ID: <c3@x.test>\r\nIn-Reply-To: <{reply_id}>\r\nReferences: <c1@x.test> <{reply_id}>\r\n\r\nMe too.\r\n"
    );
    assert_eq!(
        rig.receive("other@x.test", AGENT, &third).await,
        Verdict::Accept
    );
    let inbound = ok(&rig.get("list-messages?direction=inbound").await).clone();
    let thread_of = |id: &str| -> String {
        inbound["messages"]
            .as_array()
            .expect("m")
            .iter()
            .find(|m| m["rfc_message_id"] == id)
            .and_then(|m| m["thread_id"].as_str())
            .unwrap_or_else(|| panic!("{id} threaded: {inbound}"))
            .to_owned()
    };
    assert_eq!(
        thread_of("c1@x.test"),
        thread_of("c2@x.test"),
        "the answer joined by References"
    );
    assert_ne!(
        thread_of("c1@x.test"),
        thread_of("c3@x.test"),
        "a stranger cannot join it"
    );
    let store = rig.app.state.store();
    let said = store
        .recent_messages(&thread_of("c1@x.test"), 10)
        .await
        .expect("thread");
    let roles: Vec<(&str, &str)> = said
        .iter()
        .map(|m| (m.role.as_str(), m.channel.as_str()))
        .collect();
    assert_eq!(
        roles,
        [("user", "email"), ("assistant", "email"), ("user", "email")]
    );
    assert!(said[0].content.contains("move my booking") && said[2].content.contains("Friday"));
    let unreadable = rig
        .receive("x@x.test", AGENT, "garbage without headers")
        .await;
    assert!(
        matches!(unreadable, Verdict::Reject { code: 554, .. }),
        "{unreadable:?}"
    );
    let after = ok(&rig.get("list-messages?direction=inbound").await).clone();
    assert_eq!(
        after["messages"].as_array().map(Vec::len),
        Some(3),
        "nothing stored for unreadable mail"
    );
}

#[tokio::test]
async fn platform_mailboxes_log_in_with_derived_credentials_and_keep_to_their_domains() {
    use voxgate_control_api::email::PlatformMail;
    use voxgate_control_api::email::account::{managed_password, managed_username};

    let dir = tempfile::tempdir().expect("temp dir");
    let certs = TestCerts::create(dir.path()).expect("certs");
    let maildirs = dir.path().join("mail");
    // The submission server must know the circle's derived login before it starts, and the
    // login comes from the app's secrets key: make the app first, with the ports chosen.
    let starttls_port = voxgate_testdata::mail::free_port();
    let mut email = settings(&certs.ca_pem, 500);
    email.platform = Some(PlatformMail {
        domains: vec!["platform.test".to_owned()],
        smtp: voxgate_mail::Endpoint {
            host: "127.0.0.1".to_owned(),
            port: starttls_port,
            security: voxgate_mail::Security::StartTls,
        },
        imap: voxgate_mail::Endpoint {
            host: "127.0.0.1".to_owned(),
            port: 1,
            security: voxgate_mail::Security::Tls,
        },
    });
    let app = App::with_email(support::sqlite().await, email).await;
    let circle = app
        .state
        .store()
        .circle("a")
        .await
        .expect("store")
        .expect("circle a");
    let username = managed_username(&circle.id, "platform.test");
    let password = managed_password(&app.state, &circle.id).expect("derived");
    assert_eq!(
        password,
        managed_password(&app.state, &circle.id).expect("again"),
        "stable"
    );
    let submission = Submission::start_on(
        dir.path(),
        &certs,
        &[(&username, &password)],
        &maildirs,
        starttls_port,
    )
    .expect("submission server");

    let create = |slug: &str, spec: Value| {
        let body = json!({"element_type": "email", "slug": slug, "spec": spec}).to_string();
        let app = &app;
        async move {
            app.admin(Method::POST, "/api/a/ops/create", "a", Some(&body))
                .await
        }
    };
    let op = |slug: &str, op: &str, body: Value| {
        let uri = format!("/api/a/{slug}/ops/{op}");
        let app = &app;
        async move {
            app.admin(Method::POST, &uri, "a", Some(&body.to_string()))
                .await
        }
    };
    let mail = json!({"to": "a@x.test", "subject": "From the platform", "text": "t"});

    assert_eq!(
        create(
            "own",
            json!({"address": "desk@platform.test", "stalwart_managed": true})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let sent = op("own", "send", mail.clone()).await;
    assert_eq!(ok(&sent)["status"], "sent");
    let log: Value = serde_json::from_str(&submission.log_entries()[0]).expect("log");
    assert_eq!(
        log["auth_user"],
        username.as_str(),
        "logged in as the circle"
    );

    // A custom domain must be verified before a platform mailbox sends from it.
    assert_eq!(
        create(
            "custom",
            json!({"address": "desk@custom.test", "stalwart_managed": true})
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let refused = op("custom", "send", mail.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (
            StatusCode::PRECONDITION_FAILED,
            "EMAIL_DOMAIN_NOT_REGISTERED"
        ),
        "custom.test had no add_domain: the documented 412"
    );
    assert_eq!(submission.log_entries().len(), 1, "nothing sent");

    // A login from a provider of kind email (credential_ref), and the codes around it.
    assert_eq!(create("ext", json!({"address": "ext@x.test", "smtp_host": "127.0.0.1", "smtp_port": starttls_port, "credential_ref": "prv_missing"})).await.status, StatusCode::CREATED);
    let missing = op("ext", "send", mail.clone()).await;
    assert_eq!(missing.code(), "EMAIL_CREDENTIAL_MISSING");
    let provider = app
        .admin(
            Method::POST,
            "/api/v1/telephony/providers",
            "a",
            Some(&json!({"kind": "email", "username": username, "password": password}).to_string()),
        )
        .await;
    assert_eq!(provider.status, StatusCode::CREATED, "{}", provider.body);
    let id = provider.body["id"].as_str().expect("id");
    let patched = app
        .admin(
            Method::PATCH,
            "/api/a/ext/ops/update",
            "a",
            Some(&json!({"spec": {"credential_ref": id}}).to_string()),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let sent = op("ext", "send", mail.clone()).await;
    assert_eq!(
        ok(&sent)["status"],
        "sent",
        "the external path needs no verified domain"
    );
    assert_eq!(submission.log_entries().len(), 2);

    assert_eq!(
        create("recv", json!({"address": "recv@x.test"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let cannot = op("recv", "send", mail.clone()).await;
    assert_eq!(cannot.code(), "EMAIL_NOT_CONFIGURED");
    app.admin(Method::POST, "/api/a/ext/ops/disable", "a", None)
        .await;
    let disabled = op("ext", "send", mail).await;
    assert_eq!(
        (disabled.status, disabled.code()),
        (StatusCode::CONFLICT, "ELEMENT_DISABLED")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retried_and_a_tls_mismatch_fails() {
    let rig = Rig::new(500, json!({})).await;
    let closed = voxgate_testdata::mail::free_port();
    let update = |spec: Value| {
        let body = json!({"spec": spec}).to_string();
        let app = &rig.app;
        async move {
            let r = app
                .admin(Method::PATCH, "/api/a/mail/ops/update", "a", Some(&body))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    let mail = json!({"to": "a@x.test", "subject": "s", "text": "t"});

    update(json!({"smtp_port": closed})).await;
    let queued = ok(&rig.post("send", mail.clone()).await).clone();
    assert_eq!(
        (
            queued["status"].as_str(),
            queued["error_code"].as_str(),
            queued["attempts"].as_i64()
        ),
        (Some("queued"), Some("EMAIL_UNREACHABLE"), Some(1)),
        "{queued}"
    );
    // test-connection answers what it found: the server is not there.
    let tested = ok(&rig.get("test-connection").await).clone();
    assert_eq!(
        (
            &tested["ok"],
            &tested["connected"],
            &tested["error"]["code"]
        ),
        (&json!(false), &json!(false), &json!("EMAIL_UNREACHABLE")),
        "{tested}"
    );
    assert_eq!(tested["error"]["retryable"], true);

    // Implicit TLS against the plain STARTTLS port: the handshake fails, for good.
    update(json!({"smtp_port": rig.submission.starttls_port, "smtp_security": "tls"})).await;
    let failed = ok(&rig.post("send", mail).await).clone();
    assert_eq!(
        (failed["status"].as_str(), failed["error_code"].as_str()),
        (Some("failed"), Some("EMAIL_TLS_FAILED")),
        "{failed}"
    );
    assert!(rig.submission.log_entries().is_empty());
}

/// The email document's Quick Start as written: the managed-mailbox spec (no address, no
/// credentials), `POST test-connection`, then `send` with its `to, subject, body, html`.
#[tokio::test]
async fn quick_start_managed_mailbox_test_connection_and_send() {
    use voxgate_control_api::email::PlatformMail;
    use voxgate_control_api::email::account::{managed_password, managed_username};

    let dir = tempfile::tempdir().expect("temp dir");
    let certs = TestCerts::create(dir.path()).expect("certs");
    let starttls_port = voxgate_testdata::mail::free_port();
    let mut email = settings(&certs.ca_pem, 500);
    email.platform = Some(PlatformMail {
        domains: vec!["triform.wtf".to_owned()],
        smtp: voxgate_mail::Endpoint {
            host: "127.0.0.1".to_owned(),
            port: starttls_port,
            security: voxgate_mail::Security::StartTls,
        },
        imap: voxgate_mail::Endpoint {
            host: "127.0.0.1".to_owned(),
            port: 1,
            security: voxgate_mail::Security::Tls,
        },
    });
    let app = App::with_email(support::sqlite().await, email).await;
    let circle = app
        .state
        .store()
        .circle("a")
        .await
        .expect("store")
        .expect("circle a");
    let username = managed_username(&circle.id, "triform.wtf");
    let password = managed_password(&app.state, &circle.id).expect("derived");
    let submission = Submission::start_on(
        dir.path(),
        &certs,
        &[(&username, &password)],
        &dir.path().join("mail"),
        starttls_port,
    )
    .expect("submission server");

    // 1. The element, with the document's spec verbatim.
    let spec = json!({
        "stalwart_managed": true,
        "from_address": "support@triform.wtf",
        "from_name": "Acme Support"
    });
    let body = json!({"element_type": "email", "slug": "support", "spec": spec}).to_string();
    let created = app
        .admin(Method::POST, "/api/a/ops/create", "a", Some(&body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["spec"]["from_name"], "Acme Support");
    assert_eq!(created.body["spec"]["address"], "support@triform.wtf");
    // 2. POST test-connection: SMTP answers and takes the login; nothing is sent.
    let tested = app
        .admin(
            Method::POST,
            "/api/a/support/ops/test-connection",
            "a",
            None,
        )
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert_eq!(
        tested.body["smtp"]["authenticated"], true,
        "{}",
        tested.body
    );
    // The platform's IMAP is down in this test: said, without failing the SMTP test.
    assert_eq!(tested.body["imap"]["connected"], false, "{}", tested.body);
    assert!(
        submission.log_entries().is_empty(),
        "test-connection sends nothing"
    );
    // 3. send, with the document's body.
    let mail = json!({
        "to": "test@example.com",
        "subject": "Hello from Triform",
        "body": "Test email",
        "html": "<p>Test email</p>"
    })
    .to_string();
    let sent = app
        .admin(Method::POST, "/api/a/support/ops/send", "a", Some(&mail))
        .await;
    assert_eq!(ok(&sent)["status"], "sent", "{}", sent.body);
    let delivered = submission.delivered("test@example.com");
    assert_eq!(delivered.len(), 1);
    let message = String::from_utf8_lossy(&delivered[0]);
    assert!(
        header(&message, "From")
            .is_some_and(|f| f.contains("Acme Support") && f.contains("<support@triform.wtf>")),
        "{message}"
    );
    assert_eq!(header(&message, "Subject"), Some("Hello from Triform"));
    assert!(message.contains("multipart/alternative"), "{message}");

    // The spec's sending defaults: default_subject, reply_to, and text only without HTML.
    let update = json!({"spec": {"default_subject": "A note from Acme", "reply_to": "help@triform.wtf", "html_enabled": false}}).to_string();
    let updated = app
        .admin(
            Method::PATCH,
            "/api/a/support/ops/update",
            "a",
            Some(&update),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let mail = json!({"to": "second@example.com", "body": "No subject given", "html": "<p>x</p>"})
        .to_string();
    let sent = app
        .admin(Method::POST, "/api/a/support/ops/send", "a", Some(&mail))
        .await;
    assert_eq!(ok(&sent)["status"], "sent", "{}", sent.body);
    let delivered = submission.delivered("second@example.com");
    let message = String::from_utf8_lossy(&delivered[0]);
    assert_eq!(
        header(&message, "Subject"),
        Some("A note from Acme"),
        "{message}"
    );
    assert_eq!(
        header(&message, "Reply-To"),
        Some("help@triform.wtf"),
        "{message}"
    );
    assert!(!message.contains("text/html"), "{message}");
}

/// Mail from a verified domain of the circle is DKIM-signed with the key add_domain
/// published, and an independent verifier (dkimpy) accepts it; before verification, and
/// from other domains, nothing is signed. The private key never appears in an answer nor
/// in the store unsealed.
#[tokio::test]
async fn mail_from_a_verified_domain_is_dkim_signed_and_verifies() {
    let rig = Rig::new(500, json!({})).await;
    let mail = |to: &str| json!({"to": to, "subject": "Your booking", "text": "See you at 10.", "html": "<p>See you at <b>10</b>.</p>"});
    assert_eq!(
        ok(&rig.post("send", mail("a@x.test")).await)["status"],
        "sent"
    );
    let first = rig.delivered("a@x.test");
    assert_eq!(
        header(&first[0], "DKIM-Signature"),
        None,
        "no key, no signature"
    );

    let added = rig
        .post("add_domain", json!({"domain": "voxgate.test"}))
        .await;
    let added = ok(&added);
    assert_eq!(
        (&added["added"], &added["already_exists"]),
        (&json!(true), &json!(false))
    );
    let records = added["records"].as_array().expect("records");
    let dkim = records
        .iter()
        .find(|r| r["purpose"] == "dkim")
        .unwrap_or_else(|| panic!("a dkim record: {added}"));
    assert_eq!(dkim["name"], "voxgate._domainkey.voxgate.test");
    let value = dkim["value"].as_str().expect("value").to_owned();
    assert!(value.starts_with("v=DKIM1; k=rsa; p=MIIB"), "{value}");
    assert!(
        records.iter().any(|r| r["purpose"] == "dmarc"
            && r["name"] == "_dmarc.voxgate.test"
            && r["value"] == "v=DMARC1; p=none"),
        "{added}"
    );
    assert!(!added.to_string().contains("PRIVATE"), "{added}");
    let again = rig
        .post("add_domain", json!({"domain": "voxgate.test"}))
        .await;
    assert_eq!(
        ok(&again)["records"],
        added["records"],
        "the same key again"
    );
    assert_eq!(
        (&again.body["added"], &again.body["already_exists"]),
        (&json!(false), &json!(true))
    );
    let stored = rig
        .app
        .state
        .store()
        .email()
        .domain("voxgate.test")
        .await
        .expect("store")
        .expect("the domain");
    let sealed = stored.dkim_key.clone().expect("a sealed key");
    assert!(
        !String::from_utf8_lossy(&sealed).contains("PRIVATE"),
        "sealed at rest"
    );

    // Added but not verified: not signed yet.
    assert_eq!(
        ok(&rig.post("send", mail("b@x.test")).await)["status"],
        "sent"
    );
    assert_eq!(
        header(&rig.delivered("b@x.test")[0], "DKIM-Signature"),
        None
    );

    // verify_domain's DNS lookup is tested in email_domains; here the domain is marked
    // verified in the store directly.
    rig.app
        .state
        .store()
        .email()
        .set_domain_verified(&stored.id, 1)
        .await
        .expect("verified");
    assert_eq!(
        ok(&rig.post("send", mail("c@x.test")).await)["status"],
        "sent"
    );
    let signed = rig.delivered("c@x.test");
    let signature = header(&signed[0], "DKIM-Signature").expect("signed");
    assert!(
        signature.contains("d=voxgate.test; s=voxgate"),
        "{signature}"
    );
    let record = ("voxgate._domainkey.voxgate.test".to_owned(), value);
    let verdict =
        voxgate_testdata::mail::dkim::verify(signed[0].as_bytes(), std::slice::from_ref(&record))
            .expect("dkimpy");
    assert_eq!(verdict, Ok(()), "{}", signed[0]);
    // And it is this key's signature: another key's record does not verify it.
    let other = voxgate_mail::dkim::generate().expect("key");
    let wrong = (
        record.0,
        voxgate_mail::dkim::record_value(&other.public_key),
    );
    let verdict =
        voxgate_testdata::mail::dkim::verify(signed[0].as_bytes(), &[wrong]).expect("dkimpy");
    assert!(verdict.is_err(), "verified with another key");

    // Each of the three submissions was timed (the document's email_send_latency_ms).
    let mut metrics = String::new();
    rig.app.state.events().render(&mut metrics);
    assert!(
        metrics.contains("email_send_latency_ms_count 3\n")
            && metrics.contains("email_send_latency_ms_bucket{le=\"+Inf\"} 3\n"),
        "{metrics}"
    );
}
