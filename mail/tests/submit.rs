//! Submission against a real SMTP server (`aiosmtpd`, see `voxgate_testdata::mail::submission`):
//! STARTTLS and implicit TLS with a test CA, AUTH, and how each refusal comes back.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use voxgate_mail::compose::{Attachment, ListUnsubscribe, Outgoing, compose};
use voxgate_mail::submit::Submitter;
use voxgate_mail::tls::TlsSettings;
use voxgate_mail::{Endpoint, Login, MailError, Security};
use voxgate_testdata::mail::certs::TestCerts;
use voxgate_testdata::mail::free_port;
use voxgate_testdata::mail::submission::Submission;

const USER: &str = "agent@voxgate.test";
const PASSWORD: &str = "app-password-1";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server and what a client needs to trust it.
struct Server {
    _dir: tempfile::TempDir,
    certs: TestCerts,
    smtp: Submission,
}

fn server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let certs = TestCerts::create(dir.path()).expect("test certificates");
    let maildirs = dir.path().join("maildirs");
    let smtp = Submission::start(dir.path(), &certs, &[(USER, PASSWORD)], &maildirs)
        .expect("submission server");
    Server {
        _dir: dir,
        certs,
        smtp,
    }
}

fn trusting(certs: &TestCerts) -> TlsSettings {
    TlsSettings::from_ca_file(Some(Path::new(&certs.ca_pem))).expect("test CA")
}

fn submitter(
    host: &str,
    port: u16,
    security: Security,
    password: &str,
    tls: &TlsSettings,
) -> Submitter {
    Submitter::new(
        Endpoint {
            host: host.into(),
            port,
            security,
        },
        Some(Login {
            username: USER.into(),
            password: password.into(),
        }),
        tls,
        TIMEOUT,
    )
    .expect("submitter")
}

fn message(to: &str) -> Outgoing {
    Outgoing {
        from: USER.into(),
        from_name: Some("Voxgate Agent".into()),
        to: vec![to.into()],
        subject: "About your call".into(),
        text: Some("Thanks for calling.".into()),
        message_id: format!("{}@voxgate.test", to.replace('@', ".")),
        ..Outgoing::default()
    }
}

fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

#[tokio::test]
async fn starttls_delivers_the_whole_message_and_bcc_only_in_the_envelope() {
    let s = server();
    let mut m = message("ann@example.test");
    m.cc = vec!["bo@example.test".into()];
    m.bcc = vec!["boss@example.test".into()];
    m.html = Some("<p>Thanks for <b>calling</b>.</p>".into());
    m.attachments = vec![Attachment {
        filename: "transcript.txt".into(),
        content_type: "text/plain".into(),
        data: b"caller: hello\nagent: hi\n".to_vec(),
    }];
    m.in_reply_to = Some("question@example.test".into());
    m.references = vec!["first@example.test".into(), "question@example.test".into()];
    m.list_unsubscribe = Some(ListUnsubscribe {
        url: "https://voxgate.test/unsubscribe/t0k3n".into(),
        mailto: None,
    });
    let composed = compose(&m).expect("composes");
    let sub = submitter(
        "127.0.0.1",
        s.smtp.starttls_port,
        Security::StartTls,
        PASSWORD,
        &trusting(&s.certs),
    );

    let accepted = sub.send(&composed).await.expect("accepted");
    assert_eq!(accepted.code, 250);

    let delivered = s.smtp.delivered("ann@example.test");
    assert_eq!(delivered.len(), 1);
    let mail = text(&delivered[0]);
    for needle in [
        "Message-ID: <ann.example.test@voxgate.test>",
        "In-Reply-To: <question@example.test>",
        "References: <first@example.test> <question@example.test>",
        "List-Unsubscribe: <https://voxgate.test/unsubscribe/t0k3n>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Content-Type: multipart/mixed",
        "Content-Type: multipart/alternative",
        "Content-Disposition: attachment; filename=\"transcript.txt\"",
        "Cc: bo@example.test",
    ] {
        assert!(mail.contains(needle), "missing {needle:?} in:\n{mail}");
    }
    assert!(
        !mail.contains("boss@"),
        "Bcc leaked into the headers:\n{mail}"
    );
    // Every envelope recipient got the same bytes, the Bcc one included.
    for rcpt in ["bo@example.test", "boss@example.test"] {
        assert_eq!(s.smtp.delivered(rcpt), delivered, "{rcpt}");
    }
    let log = s.smtp.log_entries();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].contains(&format!("\"auth_user\": \"{USER}\"")),
        "{}",
        log[0]
    );
    assert!(log[0].contains("boss@example.test"), "{}", log[0]);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let s = server();
    let composed = compose(&message("carl@example.test")).expect("composes");
    let sub = submitter(
        "localhost",
        s.smtp.tls_port,
        Security::Tls,
        PASSWORD,
        &trusting(&s.certs),
    );
    sub.send(&composed).await.expect("accepted");
    let delivered = s.smtp.delivered("carl@example.test");
    assert_eq!(delivered.len(), 1);
    assert!(text(&delivered[0]).contains("Subject: About your call"));
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_error_without_the_password() {
    let s = server();
    let tls = trusting(&s.certs);
    let composed = compose(&message("ann@example.test")).expect("composes");
    for (port, security) in [
        (s.smtp.starttls_port, Security::StartTls),
        (s.smtp.tls_port, Security::Tls),
    ] {
        let sub = submitter("127.0.0.1", port, security, "wrong-secret", &tls);
        match sub.send(&composed).await {
            Err(e @ MailError::Auth { .. }) => {
                let shown = format!("{e} {e:?}");
                assert!(shown.contains("535"), "{shown}");
                assert!(!shown.contains("wrong-secret"), "{shown}");
            }
            other => panic!("{security:?}: expected Auth, got {other:?}"),
        }
    }
    assert!(s.smtp.log_entries().is_empty());
}

#[tokio::test]
async fn without_tls_the_login_is_refused_not_sent_in_clear() {
    let s = server();
    let sub = submitter(
        "127.0.0.1",
        s.smtp.starttls_port,
        Security::None,
        PASSWORD,
        &TlsSettings::web_pki(),
    );
    assert!(matches!(sub.test().await, Err(MailError::Auth { .. })));
}

#[tokio::test]
async fn a_rejected_recipient_is_permanent_and_a_deferred_one_transient() {
    let s = server();
    let sub = submitter(
        "127.0.0.1",
        s.smtp.tls_port,
        Security::Tls,
        PASSWORD,
        &trusting(&s.certs),
    );
    let rejected = compose(&message("reject-nobody@example.test")).expect("composes");
    match sub.send(&rejected).await {
        Err(MailError::Permanent { code: 550, reply }) => {
            assert!(reply.contains("5.1.1"), "{reply}");
            assert!(reply.contains("User unknown"), "{reply}");
        }
        other => panic!("expected Permanent 550, got {other:?}"),
    }
    let deferred = compose(&message("defer-later@example.test")).expect("composes");
    match sub.send(&deferred).await {
        Err(e @ MailError::Transient { code: 451, .. }) => assert!(e.is_retryable()),
        other => panic!("expected Transient 451, got {other:?}"),
    }
    assert!(s.smtp.log_entries().is_empty());
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let s = server();
    let web_pki = TlsSettings::web_pki();
    for (port, security) in [
        (s.smtp.starttls_port, Security::StartTls),
        (s.smtp.tls_port, Security::Tls),
    ] {
        let sub = submitter("127.0.0.1", port, security, PASSWORD, &web_pki);
        match sub.test().await {
            Err(MailError::Tls { reason, .. }) => {
                assert!(reason.to_lowercase().contains("certificate"), "{reason}");
            }
            other => panic!("{security:?}: expected Tls, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn test_logs_in_and_sends_nothing() {
    let s = server();
    let tls = trusting(&s.certs);
    for (port, security) in [
        (s.smtp.starttls_port, Security::StartTls),
        (s.smtp.tls_port, Security::Tls),
    ] {
        submitter("127.0.0.1", port, security, PASSWORD, &tls)
            .test()
            .await
            .expect("login accepted");
        let bad = submitter("127.0.0.1", port, security, "nope", &tls)
            .test()
            .await;
        assert!(
            matches!(bad, Err(MailError::Auth { .. })),
            "{security:?}: {bad:?}"
        );
    }
    assert!(s.smtp.log_entries().is_empty());
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let port = free_port();
    let sub = submitter(
        "127.0.0.1",
        port,
        Security::Tls,
        PASSWORD,
        &TlsSettings::web_pki(),
    );
    match sub.test().await {
        Err(e @ MailError::Connect { .. }) => assert!(e.is_retryable()),
        other => panic!("expected Connect, got {other:?}"),
    }
}

/// A fake server that greets and answers EHLO without offering STARTTLS.
fn no_starttls_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut writer = stream.try_clone().expect("clone");
        let mut lines = BufReader::new(stream).lines();
        let _ = writer.write_all(b"220 fake ESMTP\r\n");
        while let Some(Ok(line)) = lines.next() {
            let reply: &[u8] = match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                Some("EHLO") => b"250-fake\r\n250 AUTH PLAIN LOGIN\r\n",
                Some("QUIT") => b"221 bye\r\n",
                _ => b"502 no\r\n",
            };
            if writer.write_all(reply).is_err() {
                return;
            }
        }
    });
    port
}

#[tokio::test]
async fn starttls_is_required_never_skipped() {
    let port = no_starttls_server();
    let sub = submitter(
        "127.0.0.1",
        port,
        Security::StartTls,
        PASSWORD,
        &TlsSettings::web_pki(),
    );
    match sub.test().await {
        Err(MailError::Tls { reason, .. }) => assert!(reason.contains("STARTTLS"), "{reason}"),
        other => panic!("expected Tls, got {other:?}"),
    }
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let sub = Submitter::new(
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
        },
        None,
        &TlsSettings::web_pki(),
        Duration::from_millis(300),
    )
    .expect("submitter");
    // The kernel completes the handshake from the backlog; nobody ever says 220.
    match sub.test().await {
        Err(MailError::Timeout { what }) => assert!(what.contains("connect"), "{what}"),
        other => panic!("expected Timeout, got {other:?}"),
    }
    drop(listener);
}
