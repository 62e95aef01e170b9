//! Email domains and addresses through the real router on both stores; `verify_domain`
//! asks a real DNS server (dnsmasq on loopback) started after `add_domain` answered the
//! record to publish.

mod support;

use std::net::SocketAddr;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::{App, Reply};
use voxgate_control_api::AppState;
use voxgate_control_api::auth::Role;
use voxgate_control_api::email::{EmailSettings, PlatformMail};
use voxgate_control_api::phone::PhoneSettings;
use voxgate_control_api::secrets::Sealer;
use voxgate_mail::{Endpoint, Security};
use voxgate_testdata::mail::dnsmasq::Dnsmasq;

/// The DNS response code for "server failure" (RFC 1035 §4.1.1).
const SERVFAIL: u8 = 2;
const PLATFORM: &str = "mail.voxgate.test";

fn platform() -> PlatformMail {
    let endpoint = |port| Endpoint {
        host: "127.0.0.1".to_owned(),
        port,
        security: Security::None,
    };
    PlatformMail {
        domains: vec![PLATFORM.to_owned(), "alt.voxgate.test".to_owned()],
        smtp: endpoint(1),
        imap: endpoint(2),
    }
}

/// Swaps the app's state for one with these email settings (same store and keys).
fn configure(app: &mut App, platform: Option<PlatformMail>, dns: Option<SocketAddr>) {
    let settings = EmailSettings {
        platform,
        dns_server: dns,
        ..EmailSettings::default()
    };
    app.state = AppState::with_settings(
        app.db.store(),
        Some(Sealer::new(&[9; 32])),
        PhoneSettings::default(),
        settings,
    );
}

async fn app(db: support::TestDb) -> App {
    let mut app = App::new(db).await;
    configure(&mut app, Some(platform()), None);
    for (circle, address) in [("a", "desk@a.example"), ("b", "desk@b.example")] {
        let spec = json!({"address": address, "stalwart_managed": true});
        create(&app, circle, "mail", spec).await;
    }
    app
}

async fn create(app: &App, circle: &'static str, slug: &str, spec: Value) {
    let body = json!({"element_type": "email", "slug": slug, "spec": spec}).to_string();
    let uri = format!("/api/{circle}/ops/create");
    let r = app.admin(Method::POST, &uri, circle, Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// `op` of circle `circle`'s element `mail`, with a key of `role`.
async fn op(app: &App, circle: &'static str, role: Role, op: &str, body: Option<Value>) -> Reply {
    op_on(app, circle, "mail", role, op, body).await
}

async fn op_on(
    app: &App,
    circle: &'static str,
    slug: &str,
    role: Role,
    op: &str,
    body: Option<Value>,
) -> Reply {
    let uri = format!("/api/{circle}/{slug}/ops/{op}");
    let key = app.key(circle, role).to_owned();
    let method = if body.is_some() {
        Method::POST
    } else {
        Method::GET
    };
    let body = body.map(|b| b.to_string());
    app.send(method, &uri, Some(&key), Some(circle), body.as_deref())
        .await
}

async fn admin(app: &App, circle: &'static str, name: &str, body: Value) -> Reply {
    op(app, circle, Role::Admin, name, Some(body)).await
}

fn expect(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{}", r.body);
}

#[tokio::test]
async fn domains_are_added_once_per_circle_with_their_records() {
    for db in support::both().await {
        let app = app(db).await;
        let r = admin(&app, "a", "add_domain", json!({"domain": "Example.COM."})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let token = r.body["records"][0]["value"]
            .as_str()
            .expect("value")
            .to_owned();
        assert!(token.starts_with("voxgate-verification=vgv_"), "{token}");
        assert_eq!(
            token.len(),
            "voxgate-verification=vgv_".len() + 20,
            "{token}"
        );
        let dkim = r.body["records"][2]["value"]
            .as_str()
            .expect("the DKIM record")
            .to_owned();
        assert!(dkim.starts_with("v=DKIM1; k=rsa; p="), "{dkim}");
        assert_eq!(
            r.body,
            json!({"domain": "example.com", "verified": false, "added": true,
                   "already_exists": false, "created": true, "records": [
                {"type": "TXT", "name": "_voxgate-verification.example.com", "value": token,
                 "purpose": "verification", "required": true},
                {"type": "TXT", "name": "example.com", "value": "v=spf1 include:mail.voxgate.test ~all",
                 "purpose": "spf", "required": false},
                {"type": "TXT", "name": "voxgate._domainkey.example.com", "value": dkim,
                 "purpose": "dkim", "required": false},
                {"type": "TXT", "name": "_dmarc.example.com", "value": "v=DMARC1; p=none",
                 "purpose": "dmarc", "required": false},
            ]})
        );

        // Again: the same token and key, not added (the documented added / already_exists).
        let again = admin(&app, "a", "add_domain", json!({"domain": "example.com"})).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(
            (
                &again.body["added"],
                &again.body["already_exists"],
                &again.body["created"]
            ),
            (&json!(false), &json!(true), &json!(false))
        );
        assert_eq!(again.body["records"], r.body["records"]);

        let other = admin(&app, "b", "add_domain", json!({"domain": "EXAMPLE.com"})).await;
        expect(
            &other,
            StatusCode::FORBIDDEN,
            "EMAIL_DOMAIN_OWNED_BY_OTHER_CIRCLE",
        );
        for reserved in [
            "mail.voxgate.test",
            "x.alt.voxgate.test",
            "A.Mail.Voxgate.Test",
        ] {
            let r = admin(&app, "a", "add_domain", json!({"domain": reserved})).await;
            expect(&r, StatusCode::BAD_REQUEST, "EMAIL_DOMAIN_RESERVED");
        }
        for bad in ["", "localhost", "not a domain.com", "a..se", "ex_ample.com"] {
            let r = admin(&app, "a", "add_domain", json!({"domain": bad})).await;
            expect(&r, StatusCode::BAD_REQUEST, "EMAIL_INVALID_DOMAIN");
        }
        let r = admin(&app, "a", "add_domain", json!({"name": "example.org"})).await;
        expect(&r, StatusCode::BAD_REQUEST, "INVALID_BODY");
        // add_domain is a write operation, as the email document gives it.
        {
            let role = Role::Read;
            let body = json!({"domain": "example.org"});
            let r = op(&app, "a", role, "add_domain", Some(body)).await;
            expect(&r, StatusCode::FORBIDDEN, "AUTH_FORBIDDEN");
        }
        app.db.finish().await;
    }
}

#[tokio::test]
async fn without_a_platform_no_spf_record_is_asked_for() {
    for db in support::both().await {
        let mut app = app(db).await;
        configure(&mut app, None, None);
        let r = admin(&app, "a", "add_domain", json!({"domain": "example.com"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let records = r.body["records"].as_array().expect("records");
        let purposes: Vec<&str> = records
            .iter()
            .filter_map(|r| r["purpose"].as_str())
            .collect();
        assert_eq!(purposes, ["verification", "dkim", "dmarc"], "{}", r.body);
        let r = admin(&app, "a", "bootstrap_managed_domain", json!({})).await;
        expect(&r, StatusCode::BAD_REQUEST, "EMAIL_NOT_CONFIGURED");
        app.db.finish().await;
    }
}

/// dnsmasq answering `records`, with `app` asking it.
fn dns(app: &mut App, dir: &tempfile::TempDir, records: &[(&str, &str)]) -> Dnsmasq {
    let server = Dnsmasq::start(dir.path(), records).expect("dnsmasq");
    configure(app, Some(platform()), Some(server.addr()));
    server
}

#[tokio::test]
async fn verify_domain_reads_the_txt_record_from_dns() {
    for db in support::both().await {
        let mut app = app(db).await;
        let dir = tempfile::tempdir().expect("dir");
        let added = admin(&app, "a", "add_domain", json!({"domain": "example.com"})).await;
        let record = &added.body["records"][0];
        let (name, value) = (
            record["name"].as_str().expect("name").to_owned(),
            record["value"].as_str().expect("value").to_owned(),
        );

        // A stale value (and nothing at all for another domain): not verified, retryable.
        let server = dns(&mut app, &dir, &[(&name, "voxgate-verification=vgv_stale")]);
        let r = admin(&app, "a", "verify_domain", json!({"domain": "example.com"})).await;
        expect(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "EMAIL_DOMAIN_NOT_VERIFIED",
        );
        assert_eq!(r.body["error"]["retryable"], true);
        let message = r.body["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains("vgv_stale"), "{message}");
        admin(&app, "a", "add_domain", json!({"domain": "other.example"})).await;
        let r = admin(
            &app,
            "a",
            "verify_domain",
            json!({"domain": "other.example"}),
        )
        .await;
        expect(
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
            "EMAIL_DOMAIN_NOT_VERIFIED",
        );
        drop(server);

        // Published, among other TXT records of the name.
        let records = [
            (name.as_str(), "unrelated=1"),
            (name.as_str(), value.as_str()),
        ];
        let _server = dns(&mut app, &dir, &records);
        let r = admin(&app, "a", "verify_domain", json!({"domain": "Example.com"})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (&r.body["domain"], &r.body["verified"]),
            (&json!("example.com"), &json!(true))
        );
        let at = r.body["verified_at"].clone();
        assert!(at.is_string(), "{}", r.body);
        let again = admin(&app, "a", "verify_domain", json!({"domain": "example.com"})).await;
        assert_eq!(
            (again.status, &again.body["verified_at"]),
            (StatusCode::OK, &at)
        );

        let circle = app
            .state
            .store()
            .circle("a")
            .await
            .expect("circle")
            .expect("a");
        let events = app
            .state
            .store()
            .email()
            .events(&circle.id, None, Some("domain_verified"), None, 10)
            .await
            .expect("events");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].detail["domain"], "example.com");

        let listed = op(&app, "a", Role::Read, "list_domains", None).await;
        let example = &listed.body["domains"][0];
        assert_eq!(
            (&example["domain"], &example["verified"]),
            (&json!("example.com"), &json!(true))
        );
        assert_eq!(example["verified_at"], at);

        for unknown in ["nowhere.example", "example.com"] {
            let r = admin(&app, "b", "verify_domain", json!({"domain": unknown})).await;
            expect(&r, StatusCode::NOT_FOUND, "EMAIL_DOMAIN_NOT_FOUND");
        }
        app.db.finish().await;
    }
}

#[tokio::test]
async fn a_failing_dns_server_is_a_retryable_502() {
    for db in support::both().await {
        let mut app = app(db).await;
        admin(&app, "a", "add_domain", json!({"domain": "example.com"})).await;
        // A server that answers every query with SERVFAIL (the query sent back with QR, RA
        // and the response code set).
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = socket.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                if n >= 12 {
                    buf[2] |= 0x80;
                    buf[3] = (buf[3] & 0xf0) | 0x80 | SERVFAIL;
                    let _ = socket.send_to(&buf[..n], from).await;
                }
            }
        });
        configure(&mut app, Some(platform()), Some(port));
        let r = admin(&app, "a", "verify_domain", json!({"domain": "example.com"})).await;
        expect(&r, StatusCode::BAD_GATEWAY, "EMAIL_DNS_FAILED");
        assert_eq!(r.body["error"]["retryable"], true);
        app.db.finish().await;
    }
}

#[tokio::test]
async fn domains_are_listed_removed_and_bootstrapped() {
    for db in support::both().await {
        let app = app(db).await;
        let r = admin(&app, "a", "bootstrap_managed_domain", json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let managed = json!({"domain": "a.mail.voxgate.test", "verified": true, "managed": true});
        assert_eq!(r.body, json!({"created": true}).merged(&managed));
        let r = admin(&app, "a", "bootstrap_managed_domain", json!({})).await;
        assert_eq!(r.body, json!({"created": false}).merged(&managed));
        let r = admin(
            &app,
            "a",
            "bootstrap_managed_domain",
            json!({"domain": "x.se"}),
        )
        .await;
        expect(&r, StatusCode::BAD_REQUEST, "INVALID_BODY");
        let r = op(
            &app,
            "a",
            Role::Read,
            "bootstrap_managed_domain",
            Some(json!({})),
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "AUTH_FORBIDDEN");

        for domain in ["zeta.example", "alpha.example"] {
            admin(&app, "a", "add_domain", json!({"domain": domain})).await;
        }
        admin(&app, "b", "add_domain", json!({"domain": "b.example"})).await;
        let listed = op(&app, "a", Role::Read, "list_domains", None).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        let domains = listed.body["domains"].as_array().expect("domains");
        let names: Vec<&str> = domains
            .iter()
            .filter_map(|d| d["domain"].as_str())
            .collect();
        assert_eq!(
            names,
            ["a.mail.voxgate.test", "alpha.example", "zeta.example"]
        );
        let bootstrapped = &domains[0];
        assert_eq!(
            (
                &bootstrapped["managed"],
                &bootstrapped["verified"],
                &bootstrapped["records"]
            ),
            (&json!(true), &json!(true), &json!([]))
        );
        assert!(bootstrapped["created_at"].is_string());
        assert_eq!(domains[1]["managed"], false);
        assert_eq!(domains[1]["verified_at"], Value::Null);
        assert_eq!(domains[1]["records"].as_array().map(Vec::len), Some(4));

        let r = admin(
            &app,
            "a",
            "remove_domain",
            json!({"domain": "alpha.example"}),
        )
        .await;
        assert_eq!(r.body, json!({"domain": "alpha.example", "removed": true}));
        for gone in ["alpha.example", "b.example", "never.example"] {
            let r = admin(&app, "a", "remove_domain", json!({"domain": gone})).await;
            expect(&r, StatusCode::NOT_FOUND, "EMAIL_DOMAIN_NOT_FOUND");
        }
        let r = admin(
            &app,
            "a",
            "remove_domain",
            json!({"domain": "a.mail.voxgate.test"}),
        )
        .await;
        expect(&r, StatusCode::CONFLICT, "EMAIL_DOMAIN_MANAGED");
        let r = op(
            &app,
            "a",
            Role::Read,
            "remove_domain",
            Some(json!({"domain": "zeta.example"})),
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "AUTH_FORBIDDEN");
        // Removed, the domain is free for another circle.
        let r = admin(&app, "b", "add_domain", json!({"domain": "alpha.example"})).await;
        assert_eq!(
            (r.status, &r.body["created"]),
            (StatusCode::OK, &json!(true))
        );
        app.db.finish().await;
    }
}

async fn write(app: &App, circle: &'static str, slug: &str, name: &str, address: &str) -> Reply {
    let body = json!({"address": address});
    op_on(app, circle, slug, Role::Write, name, Some(body)).await
}

#[tokio::test]
async fn addresses_are_provisioned_listed_and_removed() {
    for db in support::both().await {
        let app = app(db).await;
        let element_id = |r: &Reply| r.body["element_id"].as_str().unwrap_or("").to_owned();

        let r = write(
            &app,
            "a",
            "mail",
            "provision-address",
            "Sales@Mail.Voxgate.Test",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let id = element_id(&r);
        assert!(!id.is_empty(), "{}", r.body);
        assert_eq!(
            r.body,
            json!({"address": "sales@mail.voxgate.test", "element_id": id, "primary": false, "created": true})
        );
        let r = write(
            &app,
            "a",
            "mail",
            "provision-address",
            "sales@mail.voxgate.test",
        )
        .await;
        assert_eq!(
            (r.status, &r.body["created"]),
            (StatusCode::OK, &json!(false))
        );
        let r = write(&app, "a", "mail", "provision-address", "<DESK@a.example>").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (&r.body["primary"], &r.body["created"]),
            (&json!(true), &json!(false))
        );

        // Taken, in any circle: an extra address, a primary one, or one the listener
        // already routes to another element (its accepted domains).
        create(
            &app,
            "a",
            "catch",
            json!({"address": "catch@catch.example", "accepted_domains": ["catchall.example"]}),
        )
        .await;
        for taken in [
            "sales@mail.voxgate.test",
            "desk@a.example",
            "anyone@catchall.example",
        ] {
            let r = write(&app, "b", "mail", "provision-address", taken).await;
            expect(&r, StatusCode::CONFLICT, "EMAIL_ALIAS_EXISTS");
        }
        for bad in ["nobody", "a b@x.se", ""] {
            let r = write(&app, "a", "mail", "provision-address", bad).await;
            expect(&r, StatusCode::BAD_REQUEST, "EMAIL_INVALID_ADDRESS");
        }

        // The platform path: a platform domain, or a verified domain of the circle.
        admin(&app, "a", "add_domain", json!({"domain": "example.com"})).await;
        for unverified in [
            "info@example.com",
            "info@elsewhere.example",
            "x@b.mail.voxgate.test",
        ] {
            let r = write(&app, "a", "mail", "provision-address", unverified).await;
            expect(&r, StatusCode::BAD_REQUEST, "EMAIL_DOMAIN_NOT_VERIFIED");
        }
        admin(&app, "a", "bootstrap_managed_domain", json!({})).await;
        let r = write(
            &app,
            "a",
            "mail",
            "provision-address",
            "info@a.mail.voxgate.test",
        )
        .await;
        assert_eq!(
            (r.status, &r.body["created"]),
            (StatusCode::OK, &json!(true)),
            "{}",
            r.body
        );
        // An element with its own mail server is not asked about domains.
        create(
            &app,
            "a",
            "own",
            json!({"address": "own@own.example", "smtp_host": "smtp.own.example"}),
        )
        .await;
        let r = write(&app, "a", "own", "provision-address", "info@example.com").await;
        assert_eq!(
            (r.status, &r.body["created"]),
            (StatusCode::OK, &json!(true)),
            "{}",
            r.body
        );

        let r = op(
            &app,
            "a",
            Role::Read,
            "provision-address",
            Some(json!({"address": "x@mail.voxgate.test"})),
        )
        .await;
        expect(&r, StatusCode::FORBIDDEN, "AUTH_FORBIDDEN");
        let listed = op(&app, "a", Role::Read, "list-addresses", None).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(listed.body["primary"], "desk@a.example");
        let addresses = listed.body["addresses"].as_array().expect("addresses");
        let shown: Vec<(&str, bool)> = addresses
            .iter()
            .map(|a| (a["address"].as_str().unwrap_or(""), a["primary"] == true))
            .collect();
        assert_eq!(
            shown,
            [
                ("desk@a.example", true),
                ("info@a.mail.voxgate.test", false),
                ("sales@mail.voxgate.test", false)
            ]
        );
        assert!(
            addresses.iter().all(|a| a["created_at"].is_string()),
            "{}",
            listed.body
        );

        let r = write(&app, "a", "mail", "remove-address", "Desk@A.example").await;
        expect(&r, StatusCode::CONFLICT, "EMAIL_PRIMARY_ADDRESS");
        for missing in ["never@mail.voxgate.test", "info@example.com"] {
            let r = write(&app, "a", "mail", "remove-address", missing).await;
            expect(&r, StatusCode::NOT_FOUND, "EMAIL_ADDRESS_NOT_FOUND");
        }
        let r = write(
            &app,
            "b",
            "mail",
            "remove-address",
            "sales@mail.voxgate.test",
        )
        .await;
        expect(&r, StatusCode::NOT_FOUND, "EMAIL_ADDRESS_NOT_FOUND");
        let r = write(&app, "a", "mail", "remove-address", "not an address").await;
        expect(&r, StatusCode::BAD_REQUEST, "EMAIL_INVALID_ADDRESS");
        let r = write(
            &app,
            "a",
            "mail",
            "remove-address",
            "SALES@mail.voxgate.test",
        )
        .await;
        assert_eq!(
            r.body,
            json!({"address": "sales@mail.voxgate.test", "removed": true})
        );

        // Removed, it is free for another element.
        let r = write(
            &app,
            "b",
            "mail",
            "provision-address",
            "sales@mail.voxgate.test",
        )
        .await;
        assert_eq!(
            (r.status, &r.body["created"]),
            (StatusCode::OK, &json!(true)),
            "{}",
            r.body
        );
        let listed = op(&app, "a", Role::Read, "list-addresses", None).await;
        assert_eq!(
            listed.body["addresses"].as_array().map(Vec::len),
            Some(2),
            "{}",
            listed.body
        );
        app.db.finish().await;
    }
}

trait Merged {
    fn merged(self, other: &Value) -> Value;
}

impl Merged for Value {
    fn merged(mut self, other: &Value) -> Value {
        if let (Some(into), Some(from)) = (self.as_object_mut(), other.as_object()) {
            into.extend(from.clone());
        }
        self
    }
}
