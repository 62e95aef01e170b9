use serde_json::json;

use super::*;
use crate::secrets::{Sealer, Secret};

const CONFIG: &str = "EMAIL_INVALID_CONFIG";
const ADDRESS: &str = "EMAIL_INVALID_ADDRESS";

/// `extra` merged over a mailbox that sends through a provider (no warnings).
fn base(extra: &Value) -> Value {
    let mut spec = json!({"address": "desk@example.com", "smtp_host": "smtp.example.com",
                          "credential_ref": "prv_1"});
    super::super::merge::merge(&mut spec, extra);
    spec
}

fn filled(spec: &Value) -> (EmailSpec, Vec<String>) {
    fill(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
}

#[test]
fn defaults_are_filled_in() {
    let v = validate(&json!({"address": "Desk@Example.COM"})).expect("valid");
    assert_eq!(
        v.spec,
        json!({
            "address": "Desk@example.com", "from_name": null, "reply_to": null,
            "use_tls": true, "default_subject": "Message from voxgate", "html_enabled": true,
            "tracking_enabled": false, "max_retries": 3, "retry_backoff_ms": 2000,
            "mode": "invoke",
            "stalwart_managed": false, "send_policy": "auto", "credential_ref": null,
            "smtp_username": null, "smtp_password": null, "mailbox_backend": "none",
            "smtp_host": null, "smtp_port": null, "smtp_security": null,
            "imap_host": null, "imap_port": null, "imap_security": null,
            "from_address": "Desk@example.com", "accepted_addresses": [], "accepted_domains": [],
        })
    );
    assert_eq!(
        v.warnings,
        ["no smtp_host: this element can receive mail but not send it"]
    );
    let (quiet, warnings) = filled(&base(&json!({})));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(quiet.login(), Login::Provider("prv_1"));
    assert_eq!(quiet.imap(), None);
}

#[test]
fn server_defaults_per_security_mode() {
    let table = [
        (json!({}), (587, "starttls")),
        (json!({"smtp_security": "starttls"}), (587, "starttls")),
        (json!({"smtp_security": "tls"}), (465, "tls")),
        (json!({"smtp_security": "none"}), (25, "none")),
        (
            json!({"smtp_security": "tls", "smtp_port": 2525}),
            (2525, "tls"),
        ),
        (json!({"imap_host": "imap.example.com"}), (993, "tls")),
        (
            json!({"imap_host": "imap.example.com", "imap_security": "starttls"}),
            (143, "starttls"),
        ),
        (
            json!({"imap_host": "127.0.0.1", "imap_security": "none"}),
            (143, "none"),
        ),
    ];
    for (extra, (port, security)) in table {
        let (spec, _) = filled(&base(&extra));
        let server = if extra.get("imap_host").is_some() {
            spec.imap().expect("imap")
        } else {
            spec.smtp().expect("smtp")
        };
        assert_eq!(
            (server.port, server.security.as_str()),
            (port, security),
            "{extra}"
        );
    }
    let (imap, _) = filled(&base(&json!({"imap_host": "IMAP.Example.com"})));
    assert_eq!(imap.mailbox_backend, MailboxBackend::Imap);
    assert_eq!(imap.imap_host.as_deref(), Some("imap.example.com"));
    assert_eq!(
        (imap.imap_port, imap.imap_security),
        (Some(993), Some(Security::Tls))
    );
}

#[test]
fn send_policy_and_its_legacy_field() {
    let table = [
        (json!({}), SendPolicy::Auto),
        (json!({"auto_send_to_unknown": true}), SendPolicy::Auto),
        (
            json!({"auto_send_to_unknown": false}),
            SendPolicy::KnownOnly,
        ),
        (json!({"send_policy": "outbox"}), SendPolicy::Outbox),
        (json!({"send_policy": "known_only"}), SendPolicy::KnownOnly),
    ];
    for (extra, policy) in table {
        let (spec, warnings) = filled(&base(&extra));
        assert_eq!(spec.send_policy, policy, "{extra}");
        assert!(warnings.is_empty(), "{extra}: {warnings:?}");
    }
    let v = validate(&base(
        &json!({"send_policy": "outbox", "auto_send_to_unknown": true}),
    ))
    .expect("valid");
    assert_eq!(v.spec["send_policy"], "outbox");
    assert!(v.spec.get("auto_send_to_unknown").is_none(), "not stored");
    assert_eq!(
        v.warnings,
        ["auto_send_to_unknown is ignored: send_policy is set"]
    );
}

#[test]
fn every_warning() {
    let platform = "stalwart_managed uses the platform mailbox";
    let table = [
        (
            json!({"smtp_username": "u", "smtp_password": "p"}),
            "smtp_username/smtp_password are ignored: credential_ref takes precedence".to_owned(),
        ),
        (
            json!({"stalwart_managed": true, "smtp_host": null}),
            format!("credential_ref is ignored: {platform}"),
        ),
        (
            json!({"stalwart_managed": true, "credential_ref": null, "smtp_username": "u",
                   "smtp_password": "p", "imap_port": 993}),
            format!("smtp_username, smtp_password, smtp_host, imap_port are ignored: {platform}"),
        ),
        (
            json!({"smtp_security": "none"}),
            "smtp_security none to smtp.example.com sends the password in clear text".to_owned(),
        ),
        (
            json!({"imap_host": "10.0.0.1", "imap_security": "none"}),
            "imap_security none to 10.0.0.1 sends the password in clear text".to_owned(),
        ),
        (
            json!({"smtp_host": null}),
            "no smtp_host: this element can receive mail but not send it".to_owned(),
        ),
        (
            json!({"imap_host": "imap.example.com", "mailbox_backend": "none"}),
            "imap settings are ignored: mailbox_backend is none".to_owned(),
        ),
    ];
    for (extra, warning) in table {
        let (_, warnings) = filled(&base(&extra));
        assert_eq!(warnings, [warning], "{extra}");
    }
    for loopback in ["localhost", "127.0.0.2", "::1"] {
        let (_, warnings) = filled(&base(
            &json!({"smtp_host": loopback, "smtp_security": "none"}),
        ));
        assert!(warnings.is_empty(), "{loopback}: {warnings:?}");
    }
}

#[test]
fn the_platform_mailbox() {
    let (spec, warnings) = filled(&json!({"address": "a@b.se", "stalwart_managed": true}));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(spec.mailbox_backend, MailboxBackend::Imap);
    assert_eq!(
        (spec.smtp(), spec.imap(), spec.login()),
        (None, None, Login::Platform)
    );
    // Host settings are kept as given, without defaults: they are not used.
    let given = json!({"address": "a@b.se", "stalwart_managed": true, "smtp_host": "x.se"});
    let (spec, _) = filled(&given);
    assert_eq!((spec.smtp_port, spec.smtp_security), (None, None));
    assert_eq!(spec.smtp_host.as_deref(), Some("x.se"));
}

#[test]
fn logins() {
    let inline = json!({"credential_ref": null, "smtp_username": "u", "smtp_password": "p"});
    let (spec, warnings) = filled(&base(&inline));
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(spec.login(), Login::Inline { username: "u" });
    let (spec, _) = filled(&base(&json!({"credential_ref": null})));
    assert_eq!(spec.login(), Login::Anonymous);
}

#[test]
fn addresses_and_lists() {
    let (spec, _) = filled(&base(&json!({
        "from_address": "Noreply@Example.COM",
        "accepted_addresses": ["Ann@X.se", "ann@x.se", "bo@y.se"],
        "accepted_domains": ["Example.com", "example.com", "sub.x-y.se"],
        "display_name": "Front desk",
        "mode": "conversation",
    })));
    assert_eq!(spec.from_address, "Noreply@example.com");
    assert_eq!(spec.accepted_addresses, ["ann@x.se", "bo@y.se"]);
    assert_eq!(spec.accepted_domains, ["example.com", "sub.x-y.se"]);
    assert_eq!(spec.mode.as_str(), "conversation");
    let (spec, _) = filled(&base(&json!({})));
    assert_eq!(
        spec.from_address, "desk@example.com",
        "from defaults to address"
    );
    let hundred: Vec<String> = (0..100).map(|i| format!("d{i}.se")).collect();
    filled(&base(&json!({"accepted_domains": hundred})));
}

#[test]
fn validation_table() {
    let many: Vec<String> = (0..101).map(|i| format!("a{i}@b.se")).collect();
    let table = [
        (json!({}), ADDRESS),
        (json!({"address": "nobody"}), ADDRESS),
        (json!({"address": "a b@c.se"}), ADDRESS),
        (json!({"address": "a@localhost"}), ADDRESS),
        (json!({"address": "@b.se"}), ADDRESS),
        (json!({"address": "a@.b.se"}), ADDRESS),
        (json!("a@b.se"), CONFIG),
        (json!({"address": 5}), CONFIG),
        (base(&json!({"adress": "a@b.se"})), CONFIG),
        (base(&json!({"auto_send_to_unknown": "yes"})), CONFIG),
        (base(&json!({"mode": "chat"})), CONFIG),
        (base(&json!({"send_policy": "always"})), CONFIG),
        (base(&json!({"stalwart_managed": "true"})), CONFIG),
        (base(&json!({"mailbox_backend": "pop3"})), CONFIG),
        (base(&json!({"mailbox_backend": "imap"})), CONFIG),
        (base(&json!({"display_name": ""})), CONFIG),
        (base(&json!({"from_name": "x".repeat(101)})), CONFIG),
        (base(&json!({"from_name": "a\nb"})), CONFIG),
        (
            base(&json!({"reply_to": "not an address"})),
            "EMAIL_INVALID_ADDRESS",
        ),
        (base(&json!({"default_subject": ""})), CONFIG),
        (base(&json!({"max_retries": 11})), CONFIG),
        (base(&json!({"retry_backoff_ms": 499})), CONFIG),
        (base(&json!({"use_tls": "yes"})), CONFIG),
        (base(&json!({"credential_ref": ""})), CONFIG),
        (base(&json!({"credential_ref": "x".repeat(65)})), CONFIG),
        (base(&json!({"smtp_username": "u"})), CONFIG),
        (base(&json!({"smtp_password": "p"})), CONFIG),
        (
            base(&json!({"smtp_username": "u", "smtp_password": ""})),
            CONFIG,
        ),
        (
            base(&json!({"smtp_username": "u", "smtp_password": 7})),
            CONFIG,
        ),
        (
            base(&json!({"smtp_username": "u", "smtp_password": {"sealed": "%%"}})),
            CONFIG,
        ),
        (
            base(&json!({"smtp_username": "u", "smtp_password": {"sealed": "AA==", "x": 1}})),
            CONFIG,
        ),
        (
            base(&json!({"smtp_username": "u\r\n", "smtp_password": "p"})),
            CONFIG,
        ),
        (
            base(&json!({"smtp_host": "smtps://mail.example.com"})),
            CONFIG,
        ),
        (base(&json!({"smtp_host": "mail.example.com:587"})), CONFIG),
        (base(&json!({"smtp_host": "mail example.com"})), CONFIG),
        (base(&json!({"smtp_host": "-mail.example.com"})), CONFIG),
        (base(&json!({"smtp_host": "[::1]"})), CONFIG),
        (base(&json!({"smtp_port": 0})), CONFIG),
        (base(&json!({"smtp_port": 65536})), CONFIG),
        (base(&json!({"smtp_port": "587"})), CONFIG),
        (base(&json!({"smtp_security": "ssl"})), CONFIG),
        (base(&json!({"imap_port": 993})), CONFIG),
        (base(&json!({"imap_security": "tls"})), CONFIG),
        (base(&json!({"smtp_host": null, "smtp_port": 25})), CONFIG),
        (base(&json!({"from_address": "nobody"})), ADDRESS),
        (
            base(&json!({"accepted_addresses": ["ok@x.se", "bad"]})),
            ADDRESS,
        ),
        (base(&json!({"accepted_addresses": "a@b.se"})), CONFIG),
        (base(&json!({"accepted_addresses": many})), CONFIG),
        (base(&json!({"accepted_domains": ["localhost"]})), CONFIG),
        (base(&json!({"accepted_domains": [".example.com"]})), CONFIG),
        (base(&json!({"accepted_domains": ["example.com."]})), CONFIG),
        (base(&json!({"accepted_domains": ["ex-.com"]})), CONFIG),
        (base(&json!({"accepted_domains": ["ex_ample.com"]})), CONFIG),
        (
            base(&json!({"accepted_domains": [format!("{}.se", "a".repeat(250))]})),
            CONFIG,
        ),
    ];
    for (spec, code) in table {
        let Err(err) = validate(&spec) else {
            panic!("{spec} was accepted");
        };
        assert_eq!(err.code(), code, "{spec}: {err}");
    }
    let err = validate(&base(&json!({"smtp_port": "587"}))).expect_err("type");
    assert!(err.to_string().contains("smtp_port"), "{err}");
    let err = validate(&base(&json!({"adress": 1}))).expect_err("unknown");
    assert!(err.to_string().contains("adress"), "{err}");
}

#[test]
fn a_stored_spec_validates_to_itself() {
    for given in [
        base(
            &json!({"imap_host": "imap.example.com", "auto_send_to_unknown": false,
                    "smtp_username": "u", "smtp_password": {"sealed": "AQID"}}),
        ),
        json!({"address": "a@b.se", "stalwart_managed": true, "imap_port": 1}),
        json!({"address": "a@b.se"}),
    ] {
        let once = validate(&given).expect("valid");
        let twice = validate(&once.spec).expect("again");
        assert_eq!(
            (twice.spec, twice.warnings),
            (once.spec, once.warnings),
            "{given}"
        );
    }
}

#[test]
fn unfill_lets_a_merge_move_the_derived_defaults() {
    let stored = validate(&base(&json!({}))).expect("valid").spec;
    let mut next = unfill(&stored);
    super::super::merge::merge(
        &mut next,
        &json!({"address": "new@example.com", "smtp_security": "tls",
                "imap_host": "imap.example.com"}),
    );
    let (spec, _) = filled(&next);
    assert_eq!(spec.from_address, "new@example.com");
    assert_eq!(spec.smtp_port, Some(465));
    assert_eq!(spec.mailbox_backend, MailboxBackend::Imap);
    let (kept, _) = filled(&unfill(
        &validate(&base(&json!({"from_address": "x@y.se", "smtp_port": 2525})))
            .expect("valid")
            .spec,
    ));
    assert_eq!(
        (kept.from_address.as_str(), kept.smtp_port),
        ("x@y.se", Some(2525))
    );
}

#[test]
fn passwords_are_sealed_masked_and_opened() {
    let sealer = Sealer::new(&[3; 32]);
    let given = base(&json!({"credential_ref": null, "smtp_username": "u",
                            "smtp_password": "hunter2-mail"}));
    let mut stored = validate(&given).expect("valid").spec;
    seal_password(&mut stored, None, "elm_1", Some(&sealer)).expect("seal");
    assert!(!stored.to_string().contains("hunter2"), "{stored}");
    let (typed, _) = filled(&stored);
    let open = |spec: &EmailSpec, id| smtp_password(spec, &sealer, id);
    assert_eq!(
        open(&typed, "elm_1").expect("open"),
        Some(Secret::new("hunter2-mail".into()))
    );
    assert!(open(&typed, "elm_2").is_err(), "bound to the element");
    assert!(!format!("{typed:?}").contains("hunter2"));
    // The mask and the unchanged sealed value keep it; a plain string replaces it.
    for keep in [json!(PASSWORD_MASK), stored["smtp_password"].clone()] {
        let mut next = stored.clone();
        next["smtp_password"] = keep;
        seal_password(&mut next, Some(&stored), "elm_1", None).expect("kept");
        assert_eq!(next["smtp_password"], stored["smtp_password"]);
    }
    let mut next = stored.clone();
    next["smtp_password"] = json!("new-secret");
    seal_password(&mut next, Some(&stored), "elm_1", Some(&sealer)).expect("sealed");
    let (typed, _) = filled(&next);
    assert_eq!(
        open(&typed, "elm_1").expect("open"),
        Some(Secret::new("new-secret".into()))
    );
    // Refused: a made-up sealed value, the mask with nothing stored, no sealer.
    let mut forged = stored.clone();
    forged["smtp_password"] = json!({"sealed": "AQID"});
    let err = seal_password(&mut forged, Some(&stored), "elm_1", Some(&sealer));
    assert_eq!(err.map_err(|e| e.code()), Err(CONFIG));
    let mut masked = given.clone();
    masked["smtp_password"] = json!(PASSWORD_MASK);
    let err = seal_password(&mut masked, None, "elm_1", Some(&sealer));
    assert_eq!(err.map_err(|e| e.code()), Err(CONFIG));
    let mut plain = given;
    let err = seal_password(&mut plain, None, "elm_1", None);
    assert_eq!(err.map_err(|e| e.code()), Err("SECRETS_UNAVAILABLE"));
    let mut shown = stored.clone();
    redact(&mut shown);
    assert_eq!(shown["smtp_password"], PASSWORD_MASK);
    let mut none = json!({"smtp_password": null});
    redact(&mut none);
    assert_eq!(none["smtp_password"], Value::Null);
}

#[test]
fn wire_names_round_trip() {
    for mode in [EmailMode::Invoke, EmailMode::Conversation] {
        assert_eq!(json!(mode), mode.as_str());
    }
    for policy in [SendPolicy::Auto, SendPolicy::Outbox, SendPolicy::KnownOnly] {
        assert_eq!(json!(policy), policy.as_str());
    }
    for backend in [MailboxBackend::Imap, MailboxBackend::None] {
        assert_eq!(json!(backend), backend.as_str());
    }
    for security in [Security::Tls, Security::Starttls, Security::None] {
        assert_eq!(json!(security), security.as_str());
    }
}

#[test]
fn the_documented_sending_properties() {
    // No address: from_address is the mailbox (the document's Quick Start).
    let v = validate(&json!({"stalwart_managed": true, "from_address": "support@Example.com", "from_name": "Acme Support"}))
        .expect("valid");
    assert_eq!(
        (&v.spec["address"], &v.spec["from_name"]),
        (&json!("support@example.com"), &json!("Acme Support"))
    );
    // display_name is the earlier name of from_name; from_name wins, with a warning.
    let (spec, _) = filled(&base(&json!({"display_name": "Desk"})));
    assert_eq!(spec.from_name.as_deref(), Some("Desk"));
    let (spec, warnings) = filled(&base(&json!({"display_name": "Old", "from_name": "New"})));
    assert_eq!(spec.from_name.as_deref(), Some("New"));
    assert!(
        warnings.iter().any(|w| w.contains("display_name")),
        "{warnings:?}"
    );
    // use_tls false: plain SMTP where no smtp_security says otherwise.
    let (spec, _) = filled(&base(
        &json!({"smtp_host": "mx.example.com", "use_tls": false}),
    ));
    assert_eq!(
        (spec.smtp_security, spec.smtp_port),
        (Some(Security::None), Some(25))
    );
    let (spec, _) = filled(&base(
        &json!({"smtp_host": "mx.example.com", "use_tls": false, "smtp_security": "tls"}),
    ));
    assert_eq!(spec.smtp_security, Some(Security::Tls));
    // Tracking without HTML is accepted with the documented warning.
    let (spec, warnings) = filled(&base(
        &json!({"tracking_enabled": true, "html_enabled": false}),
    ));
    assert!(spec.tracking_enabled && !spec.html_enabled);
    assert!(
        warnings.iter().any(|w| w.contains("tracking_enabled")),
        "{warnings:?}"
    );
    let (spec, _) = filled(&base(
        &json!({"default_subject": "Hi", "max_retries": 0, "retry_backoff_ms": 60000, "reply_to": "Help@Example.com"}),
    ));
    assert_eq!(
        (
            spec.default_subject.as_str(),
            spec.max_retries,
            spec.retry_backoff_ms,
            spec.reply_to.as_deref()
        ),
        ("Hi", 0, 60000, Some("Help@example.com"))
    );
}
