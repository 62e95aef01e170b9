//! The email element's mailbox operations against a real Dovecot (IMAP over implicit TLS
//! and STARTTLS, with a throwaway CA), through the real router: reading folders and
//! messages (which stays unread, checked in the Maildir itself), search, attachments,
//! flags, labels, folders, moves, deletes, batches, and every error code.
//!
//! Mail is seeded by dropping files into the Maildir; each delivery is followed by an IMAP
//! request so that Dovecot gives message `n` UID `n`.

mod support;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};
use voxgate_control_api::auth::Role;
use voxgate_control_api::email::EmailSettings;
use voxgate_mail::tls::TlsSettings;
use voxgate_testdata::mail::certs::TestCerts;
use voxgate_testdata::mail::dovecot::Dovecot;

use support::app::{App, Reply};

const USER: &str = "desk@voxgate.test";
const PASSWORD: &str = "imap-app-password";
/// The bytes of the seeded attachment: every byte value, so base64 is really exercised.
fn attachment() -> Vec<u8> {
    (0..=255u8).cycle().take(1000).collect()
}

struct Rig {
    app: App,
    dovecot: Dovecot,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// Dovecot with one user, and elements `mail` (implicit TLS) and `mail-starttls`.
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = TestCerts::create(dir.path()).expect("certs");
        let home = dir.path().join("dovecot");
        std::fs::create_dir(&home).expect("dovecot dir");
        let dovecot = Dovecot::start(&home, &certs, &[(USER, PASSWORD)]).expect("dovecot");
        let pem = std::fs::read(&certs.ca_pem).expect("ca");
        let email = EmailSettings {
            tls: TlsSettings::with_extra_ca_pem(&pem).expect("test CA"),
            timeout: Duration::from_secs(10),
            ..Default::default()
        };
        let app = App::with_email(support::sqlite().await, email).await;
        let rig = Self {
            app,
            dovecot,
            _dir: dir,
        };
        let tls = rig.dovecot.imaps_port();
        let starttls = rig.dovecot.imap_port();
        rig.element("mail", mailbox_spec(tls, "tls", PASSWORD))
            .await;
        rig.element(
            "mail-starttls",
            mailbox_spec(starttls, "starttls", PASSWORD),
        )
        .await;
        rig
    }

    async fn element(&self, slug: &str, spec: Value) {
        let body = json!({"element_type": "email", "slug": slug, "spec": spec});
        let r = self
            .app
            .admin(
                Method::POST,
                "/api/a/ops/create",
                "a",
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    async fn get(&self, op: &str, query: &str) -> Reply {
        self.get_on("mail", op, query).await
    }

    async fn get_on(&self, slug: &str, op: &str, query: &str) -> Reply {
        let uri = format!("/api/a/{slug}/ops/{op}?{query}");
        self.app.admin(Method::GET, &uri, "a", None).await
    }

    async fn post(&self, op: &str, body: Value) -> Reply {
        self.post_on("mail", op, body).await
    }

    async fn post_on(&self, slug: &str, op: &str, body: Value) -> Reply {
        let uri = format!("/api/a/{slug}/ops/{op}");
        self.app
            .admin(Method::POST, &uri, "a", Some(&body.to_string()))
            .await
    }

    /// Delivers `raws` in order; message `n` (1-based) gets UID `n`.
    async fn seed(&self, raws: &[Vec<u8>]) {
        for raw in raws {
            self.dovecot.deliver(USER, raw).expect("deliver");
            // Opening the folder makes Dovecot take the new file in (the next UID).
            let r = self.get("list-inbox", "limit=1").await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }

    /// `n` plain messages, `subject-1` ...
    async fn seed_plain(&self, n: u32) {
        let raws: Vec<Vec<u8>> = (1..=n)
            .map(|i| plain(i, "alice@example.com", &format!("subject-{i}"), "hello"))
            .collect();
        self.seed(&raws).await;
    }

    /// UIDs of a folder, newest first.
    async fn uids(&self, folder: &str) -> Vec<u64> {
        let r = self
            .get("list-inbox", &format!("folder={folder}&limit=100"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["uid"].as_u64().expect("uid"))
            .collect()
    }

    /// Flags of message `uid` of INBOX.
    async fn flags(&self, uid: u64) -> Vec<String> {
        let r = self.get("get-message", &format!("uid={uid}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        serde_json::from_value(r.body["flags"].clone()).expect("flags")
    }

    async fn counts(&self, folder: &str) -> (u64, u64) {
        let r = self.get("unread-count", &format!("folder={folder}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (
            r.body["unread"].as_u64().expect("unread"),
            r.body["total"].as_u64().expect("total"),
        )
    }
}

fn mailbox_spec(port: u16, security: &str, password: &str) -> Value {
    json!({
        "address": USER,
        "imap_host": "127.0.0.1",
        "imap_port": port,
        "imap_security": security,
        "mailbox_backend": "imap",
        "smtp_username": USER,
        "smtp_password": password,
    })
}

fn plain(i: u32, from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Sender <{from}>\r\nTo: {USER}\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:{i:02}:00 +0000\r\nMessage-ID: <m{i}@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn with_attachment(i: u32) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(attachment());
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "From: Boss <boss@example.org>\r\nTo: {USER}\r\nCc: team@example.org\r\n\
         Subject: report attached\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\
         Message-ID: <m{i}@example.com>\r\nIn-Reply-To: <m1@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nquarterly numbers inside\r\n\
         --XYZ\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"numbers.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--XYZ--\r\n",
        lines.join("\r\n")
    )
    .into_bytes()
}

fn uids_of(body: &Value) -> Vec<u64> {
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["uid"].as_u64().expect("uid"))
        .collect()
}

#[tokio::test]
async fn list_inbox_pages_newest_first_with_a_cursor() {
    let rig = Rig::new().await;
    rig.seed_plain(5).await;

    let first = rig.get("list-inbox", "limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["folder"], "INBOX");
    assert_eq!(uids_of(&first.body), [5, 4]);
    assert_eq!(first.body["next_cursor"], 4);
    let newest = &first.body["messages"][0];
    assert_eq!(newest["subject"], "subject-5");
    assert_eq!(newest["from"], "alice@example.com");
    assert_eq!(newest["to"], json!([USER]));
    assert_eq!(newest["rfc_message_id"], "m5@example.com");
    // The document's message_id: the IMAP UID, which get-message takes back.
    assert_eq!(
        (&newest["message_id"], &newest["id"]),
        (&json!("5"), &json!("5"))
    );
    assert_eq!(newest["seen"], false);
    assert!(newest["size"].as_u64().expect("size") > 100, "{newest}");
    assert!(newest["date"].as_str().expect("date").contains("2026"));

    // The documented page_token / next_page_token (the earlier cursor still works).
    let token = first.body["next_page_token"].as_str().expect("a next page");
    let second = rig
        .get("list-inbox", &format!("limit=2&page_token={token}"))
        .await;
    assert_eq!(uids_of(&second.body), [3, 2]);
    assert_eq!(second.body["next_cursor"], 2);
    let by_cursor = rig.get("list-inbox", "limit=2&cursor=4").await;
    assert_eq!(uids_of(&by_cursor.body), [3, 2]);
    let garbage = rig.get("list-inbox", "page_token=garbage").await;
    assert_eq!(garbage.code(), "INVALID_PAGE_TOKEN");
    let last = rig.get("list-inbox", "limit=2&cursor=2&folder=INBOX").await;
    assert_eq!(uids_of(&last.body), [1]);
    assert_eq!(last.body["next_cursor"], Value::Null);
    assert_eq!(last.body["next_page_token"], Value::Null);

    // The default page holds all five; the STARTTLS element reads the same mailbox.
    assert_eq!(rig.uids("INBOX").await, [5, 4, 3, 2, 1]);
    let starttls = rig.get_on("mail-starttls", "list-inbox", "").await;
    assert_eq!(starttls.status, StatusCode::OK, "{}", starttls.body);
    assert_eq!(uids_of(&starttls.body), [5, 4, 3, 2, 1]);

    for bad in ["limit=0", "limit=101", "cursor=0", "cursor=-1", "page=2"] {
        let r = rig.get("list-inbox", bad).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "INVALID_QUERY"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn get_message_reads_without_marking_read_and_gives_attachments() {
    let rig = Rig::new().await;
    let raws = [
        plain(1, "alice@example.com", "hello there", "first body"),
        with_attachment(2),
    ];
    rig.seed(&raws).await;

    let r = rig.get("get-message", "uid=2&folder=INBOX").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m = &r.body;
    assert_eq!(
        (m["uid"].as_u64(), &m["folder"]),
        (Some(2), &json!("INBOX"))
    );
    assert_eq!(m["from"], "boss@example.org");
    assert_eq!(m["to"], json!([USER]));
    assert_eq!(m["cc"], json!(["team@example.org"]));
    assert_eq!(m["subject"], "report attached");
    assert_eq!(m["rfc_message_id"], "m2@example.com");
    assert_eq!(m["message_id"], "2");
    assert_eq!(m["in_reply_to"], "m1@example.com");
    assert!(
        m["text"]
            .as_str()
            .expect("text")
            .contains("quarterly numbers")
    );
    assert_eq!(m["seen"], false);
    assert_eq!(m["problems"], json!([]));
    assert_eq!(
        m["attachments"],
        json!([{"part_id": "0", "index": 0, "filename": "numbers.bin",
                "content_type": "application/octet-stream", "size": 1000}])
    );

    // BODY.PEEK: nothing is marked seen, on the server or on disk.
    let r = rig.get("get-message", "uid=1").await;
    assert_eq!(r.body["text"].as_str().map(str::trim), Some("first body"));
    assert_eq!(rig.counts("INBOX").await, (2, 2));
    let flags = rig.dovecot.maildir_flags(USER).expect("flags");
    assert_eq!(flags.len(), 2);
    assert!(flags.iter().all(|f| !f.contains('S')), "{flags:?}");

    // The attachment, whole.
    let r = rig.get("get-attachment", "uid=2&index=0").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["filename"], "numbers.bin");
    assert_eq!(r.body["content_type"], "application/octet-stream");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(r.body["content_base64"].as_str().expect("base64"))
        .expect("decodes");
    assert_eq!(Some(bytes.len() as u64), r.body["size"].as_u64());
    assert_eq!(bytes, attachment());

    let cases = [
        (
            "get-attachment",
            "uid=2&index=1",
            StatusCode::NOT_FOUND,
            "EMAIL_ATTACHMENT_NOT_FOUND",
        ),
        (
            "get-attachment",
            "uid=1&index=0",
            StatusCode::NOT_FOUND,
            "EMAIL_ATTACHMENT_NOT_FOUND",
        ),
        (
            "get-attachment",
            "uid=9&index=0",
            StatusCode::NOT_FOUND,
            "EMAIL_MESSAGE_NOT_FOUND",
        ),
        (
            "get-attachment",
            "uid=2",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
        (
            "get-message",
            "uid=99",
            StatusCode::NOT_FOUND,
            "EMAIL_MESSAGE_NOT_FOUND",
        ),
        (
            "get-message",
            "uid=0",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
        (
            "get-message",
            "uid=4294967296",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
        ("get-message", "", StatusCode::BAD_REQUEST, "INVALID_QUERY"),
        (
            "get-message",
            "uid=1&message_id=eml_x",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
        (
            "get-message",
            "message_id=eml_nothing",
            StatusCode::NOT_FOUND,
            "EMAIL_MESSAGE_NOT_FOUND",
        ),
        (
            "get-message",
            "uid=1&folder=Nowhere",
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
    ];
    for (op, query, status, code) in cases {
        let r = rig.get(op, query).await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "{op}?{query}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn search_by_text_sender_and_dates() {
    let rig = Rig::new().await;
    let raws = [
        plain(1, "alice@example.com", "lunch", "pizza on friday"),
        plain(2, "bob@example.net", "invoice 17", "please pay the invoice"),
        plain(
            3,
            "alice@example.com",
            "invoice 18",
            "another invoice, pizza later",
        ),
        plain(4, "carol@example.org", "misc", "nothing to see"),
    ];
    rig.seed(&raws).await;

    let found = |query: &'static str| {
        let rig = &rig;
        async move {
            let r = rig.get("search", query).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
            r.body
        }
    };
    let r = found("text=invoice").await;
    assert_eq!(r["uids"], json!([3, 2]));
    assert_eq!(uids_of(&r), [3, 2]);
    assert_eq!(r["messages"][0]["subject"], "invoice 18");
    assert_eq!(r["folder"], "INBOX");
    assert_eq!(
        found("from=alice%40example.com").await["uids"],
        json!([3, 1])
    );
    assert_eq!(found("from=alice&text=pizza").await["uids"], json!([3, 1]));
    assert_eq!(found("from=bob&text=pizza").await["uids"], json!([]));
    // Internal dates are the delivery time: today.
    assert_eq!(found("since=2000-01-01").await["uids"], json!([4, 3, 2, 1]));
    assert_eq!(found("before=2000-01-01").await["uids"], json!([]));
    assert_eq!(found("since=2999-12-31").await["uids"], json!([]));
    assert_eq!(
        found("since=2000-01-01&before=2999-01-01&folder=INBOX").await["uids"],
        json!([4, 3, 2, 1])
    );
    // limit: every UID, summaries of the newest only.
    let r = found("since=2000-01-01&limit=2").await;
    assert_eq!(
        (r["uids"].clone(), uids_of(&r)),
        (json!([4, 3, 2, 1]), vec![4, 3])
    );
    let r = found("from=alice").await;
    assert_eq!(uids_of(&r), [3, 1]);

    for bad in [
        "",
        "folder=INBOX",
        "since=2026-02-30",
        "since=yesterday",
        "before=2026-1-1",
        "text=",
        "text=a%0Db",
        "limit=0",
        "subject=x",
    ] {
        let r = rig.get("search", bad).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "INVALID_QUERY"),
            "{bad}: {}",
            r.body
        );
    }
    let r = rig.get("search", "text=x&folder=Nowhere").await;
    assert_eq!(r.code(), "EMAIL_FOLDER_NOT_FOUND");
}

#[tokio::test]
async fn flags_labels_folders_moves_and_deletes() {
    let rig = Rig::new().await;
    rig.seed_plain(4).await;

    // mark-read, then unread again.
    let r = rig
        .post("mark-read", json!({"uids": [1, 2], "read": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"folder": "INBOX", "uids": [1, 2], "read": true})
    );
    assert_eq!(rig.counts("INBOX").await, (2, 4));
    let on_disk = rig.dovecot.maildir_flags(USER).expect("flags");
    assert_eq!(
        on_disk.iter().filter(|f| f.contains('S')).count(),
        2,
        "{on_disk:?}"
    );
    let r = rig
        .post(
            "mark-read",
            json!({"uids": [1], "folder": "INBOX", "read": false}),
        )
        .await;
    assert_eq!(r.body["read"], false);
    assert_eq!(rig.counts("INBOX").await, (3, 4));
    assert!(rig.flags(2).await.contains(&"\\Seen".to_owned()));
    assert!(!rig.flags(1).await.contains(&"\\Seen".to_owned()));

    // Labels.
    let r = rig
        .post(
            "apply_label",
            json!({"uids": [2, 3], "label": "$Follow-up"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["label"], "$Follow-up");
    assert!(rig.flags(3).await.contains(&"$Follow-up".to_owned()));
    let r = rig
        .post("remove_label", json!({"uids": [3], "label": "$Follow-up"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!rig.flags(3).await.contains(&"$Follow-up".to_owned()));
    assert!(rig.flags(2).await.contains(&"$Follow-up".to_owned()));

    // Folders: create is idempotent.
    let r = rig.post("create_folder", json!({"name": "Archive"})).await;
    assert_eq!(
        r.body,
        json!({"id": "Archive", "name": "Archive", "parent_id": null, "created": true}),
        "{}",
        r.body
    );
    let r = rig.post("create_folder", json!({"name": "Archive"})).await;
    assert_eq!(
        r.body,
        json!({"id": "Archive", "name": "Archive", "parent_id": null, "created": false}),
        "{}",
        r.body
    );
    let r = rig
        .post("create_folder", json!({"name": "Räkningar"}))
        .await;
    assert_eq!(r.body["created"], true, "{}", r.body);
    let r = rig.get("list_folders", "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    for name in ["INBOX", "Archive", "Räkningar"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(r.body["folders"][0]["attributes"].is_array());
    // The document's folder objects.
    let inbox = r.body["folders"]
        .as_array()
        .expect("folders")
        .iter()
        .find(|f| f["id"] == "INBOX")
        .cloned()
        .expect("INBOX");
    assert_eq!(
        (&inbox["name"], &inbox["role"], &inbox["parent_id"]),
        (&json!("INBOX"), &json!("inbox"), &Value::Null),
        "{inbox}"
    );
    assert!(
        inbox["total_emails"].is_u64() && inbox["unread_emails"].is_u64(),
        "{inbox}"
    );

    // Move, then delete.
    let r = rig
        .post(
            "move_to_folder",
            json!({"uids": [3, 4], "target": "Archive"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["moved"], json!([3, 4]));
    assert_eq!(rig.uids("INBOX").await, [2, 1]);
    let archived = rig.get("list-inbox", "folder=Archive").await;
    let subjects: Vec<&str> = archived.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(subjects, ["subject-4", "subject-3"]);
    let counts = |body: &Value| -> Vec<(String, u64, u64)> {
        body["folders"]
            .as_array()
            .expect("folders")
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().expect("id").to_owned(),
                    f["total_emails"].as_u64().expect("total"),
                    f["unread_emails"].as_u64().expect("unread"),
                )
            })
            .collect()
    };
    let expected = vec![("INBOX".to_owned(), 2, 1), ("Archive".to_owned(), 2, 2)];
    let r = rig.get("folder_counts", "folder_ids=INBOX,Archive").await;
    assert_eq!(counts(&r.body), expected, "{}", r.body);
    // The documented POST with folder_ids as a list; the earlier `folders` still works.
    let r = rig
        .post("folder_counts", json!({"folder_ids": ["INBOX", "Archive"]}))
        .await;
    assert_eq!(counts(&r.body), expected, "{}", r.body);
    let r = rig.get("folder_counts", "folders=INBOX,Archive").await;
    assert_eq!(counts(&r.body), expected, "{}", r.body);

    let r = rig.post("delete-message", json!({"uid": 1})).await;
    assert_eq!(
        r.body,
        json!({"folder": "INBOX", "deleted": [1]}),
        "{}",
        r.body
    );
    let r = rig
        .post(
            "delete-message",
            json!({"uids": [1, 2], "folder": "Archive"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rig.uids("INBOX").await, [2]);
    assert_eq!(rig.dovecot.maildir_flags(USER).expect("flags").len(), 1);
    assert_eq!(rig.uids("Archive").await, [] as [u64; 0]);

    // Every selectable folder by default.
    let r = rig.get("folder_counts", "").await;
    let all = r.body["folders"].as_array().expect("folders");
    assert_eq!(all.len(), 3, "{}", r.body);
    let all = counts(&r.body);
    assert!(all.contains(&("INBOX".to_owned(), 1, 0)), "{all:?}");
    assert!(all.contains(&("Räkningar".to_owned(), 0, 0)), "{all:?}");
}

#[tokio::test]
async fn batch_apply_runs_one_command_per_group_and_reports_each() {
    let rig = Rig::new().await;
    rig.seed_plain(6).await;
    let r = rig.post("create_folder", json!({"name": "Archive"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let r = rig
        .post(
            "batch_apply",
            json!({"actions": [
                {"action": "move", "uids": [5], "target": "Archive"},
                {"action": "mark_read", "uids": [1, 2]},
                {"action": "apply_label", "uids": [2], "label": "todo"},
                {"action": "mark_read", "uids": [3, 2], "folder": "INBOX"},
                {"action": "move", "uids": [6], "target": "Archive"},
                {"action": "apply_label", "uids": [3], "label": "todo"},
                {"action": "move", "uids": [4], "target": "Missing"},
                {"action": "delete", "uids": [1]},
                {"action": "mark_unread", "uids": [1], "folder": "Nowhere"},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let applied = r.body["applied"].as_array().expect("applied");
    let line = |i: usize| {
        let mut l = applied[i].clone();
        l.as_object_mut().expect("object").remove("error");
        l
    };
    assert_eq!(applied.len(), 6, "{}", r.body);
    assert_eq!(
        line(0),
        json!({"action": "mark_read", "folder": "INBOX", "uids": [1, 2, 3], "ok": true})
    );
    assert_eq!(
        line(1),
        json!({"action": "apply_label", "folder": "INBOX", "uids": [2, 3], "label": "todo", "ok": true})
    );
    assert_eq!(
        line(2),
        json!({"action": "mark_unread", "folder": "Nowhere", "uids": [1], "ok": false})
    );
    assert_eq!(applied[2]["error"]["code"], "EMAIL_FOLDER_NOT_FOUND");
    assert_eq!(
        line(3),
        json!({"action": "move", "folder": "INBOX", "uids": [5, 6], "target": "Archive", "ok": true})
    );
    assert_eq!(
        line(4),
        json!({"action": "move", "folder": "INBOX", "uids": [4], "target": "Missing", "ok": false})
    );
    assert_eq!(applied[4]["error"]["code"], "EMAIL_FOLDER_NOT_FOUND");
    assert_eq!(
        line(5),
        json!({"action": "delete", "folder": "INBOX", "uids": [1], "ok": true})
    );
    assert!(applied[0].get("error").is_none());

    // The mailbox after: 1 deleted, 5 and 6 archived, 4 stayed (its move failed).
    assert_eq!(rig.uids("INBOX").await, [4, 3, 2]);
    assert_eq!(rig.counts("Archive").await, (2, 2));
    assert_eq!(rig.counts("INBOX").await, (1, 3));
    for uid in [2, 3] {
        let flags = rig.flags(uid).await;
        assert!(flags.contains(&"\\Seen".to_owned()) && flags.contains(&"todo".to_owned()));
    }
    assert!(rig.flags(4).await.is_empty());

    // A bad action refuses the whole batch before anything is done.
    let r = rig
        .post(
            "batch_apply",
            json!({"actions": [
                {"action": "delete", "uids": [2]},
                {"action": "apply_label", "uids": [3], "label": "no spaces"},
            ]}),
        )
        .await;
    assert_eq!(r.code(), "EMAIL_INVALID_LABEL");
    assert_eq!(rig.uids("INBOX").await, [4, 3, 2]);
    let many: Vec<Value> = (0..51)
        .map(|_| json!({"action": "mark_read", "uids": [2]}))
        .collect();
    let r = rig.post("batch_apply", json!({ "actions": many })).await;
    assert_eq!(r.code(), "INVALID_BODY");
    let r = rig
        .post(
            "batch_apply",
            json!({"actions": [{"action": "archive", "uids": [2]}]}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_BODY");
}

#[tokio::test]
async fn every_error_code() {
    let rig = Rig::new().await;
    rig.seed_plain(2).await;
    let too_many: Vec<u32> = (1..=1001).collect();
    let long = "x".repeat(256);
    let posts = [
        (
            "mark-read",
            json!({"uids": too_many}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": []}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": [0]}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": [-1]}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": [4294967296u64]}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": [1], "seen": true}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "mark-read",
            json!({"uids": [1], "folder": "a\u{7}b"}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "mark-read",
            json!({"uids": [1], "folder": long}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "mark-read",
            json!({"uids": [1], "folder": "Nowhere"}),
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
        (
            "delete-message",
            json!({"uids": [1], "uid": 2}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "delete-message",
            json!({}),
            StatusCode::BAD_REQUEST,
            "INVALID_BODY",
        ),
        (
            "apply_label",
            json!({"uids": [1], "label": "\\Seen"}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_LABEL",
        ),
        (
            "apply_label",
            json!({"uids": [1], "label": "a b"}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_LABEL",
        ),
        (
            "remove_label",
            json!({"uids": [1], "label": "x".repeat(65)}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_LABEL",
        ),
        (
            "create_folder",
            json!({"name": ""}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "create_folder",
            json!({"name": "a\nb"}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "move_to_folder",
            json!({"uids": [1], "target": "Nowhere"}),
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
        (
            "move_to_folder",
            json!({"uids": [1], "target": "INBOX"}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "move_to_folder",
            json!({"uids": [1], "target": ""}),
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
    ];
    for (op, body, status, code) in posts {
        let r = rig.post(op, body.clone()).await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "{op} {body}: {}",
            r.body
        );
    }
    let gets = [
        (
            "list-inbox",
            "folder=Nowhere",
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
        (
            "unread-count",
            "folder=Nowhere",
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
        (
            "folder_counts",
            "folders=INBOX,Nowhere",
            StatusCode::NOT_FOUND,
            "EMAIL_FOLDER_NOT_FOUND",
        ),
        (
            "list-inbox",
            "folder=In%0Abox",
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "list-inbox",
            "folder=",
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "unread-count",
            "folder=%7F",
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "folder_counts",
            "folders=INBOX,",
            StatusCode::BAD_REQUEST,
            "EMAIL_INVALID_FOLDER",
        ),
        (
            "list_folders",
            "x=1",
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        ),
    ];
    for (op, query, status, code) in gets {
        let r = rig.get(op, query).await;
        assert_eq!(
            (r.status, r.code()),
            (status, code),
            "{op}?{query}: {}",
            r.body
        );
    }
    let r = rig.get("list-inbox", &format!("folder={long}")).await;
    assert_eq!(r.code(), "EMAIL_INVALID_FOLDER");
    // Nothing above changed the mailbox.
    assert_eq!(rig.counts("INBOX").await, (2, 2));

    // An element without a mailbox.
    rig.element("sender", json!({"address": USER, "smtp_host": "127.0.0.1"}))
        .await;
    for op in ["list-inbox", "unread-count", "list_folders"] {
        let r = rig.get_on("sender", op, "").await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "EMAIL_MAILBOX_UNAVAILABLE"),
            "{op}"
        );
    }
    let r = rig
        .post_on("sender", "mark-read", json!({"uids": [1]}))
        .await;
    assert_eq!(r.code(), "EMAIL_MAILBOX_UNAVAILABLE");

    // A wrong password (once: Dovecot slows repeated failures down).
    let spec = mailbox_spec(rig.dovecot.imaps_port(), "tls", "not-the-password");
    rig.element("wrong", spec).await;
    let r = rig.get_on("wrong", "list-inbox", "").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "EMAIL_AUTH_FAILED"),
        "{}",
        r.body
    );

    // Roles: a read key reads but does not change.
    let read = rig.app.key("a", Role::Read).to_owned();
    let r = rig
        .app
        .send(
            Method::GET,
            "/api/a/mail/ops/unread-count",
            Some(&read),
            Some("a"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (op, body) in [
        ("mark-read", json!({"uids": [1]})),
        ("delete-message", json!({"uid": 1})),
        (
            "batch_apply",
            json!({"actions": [{"action": "delete", "uids": [1]}]}),
        ),
        ("create_folder", json!({"name": "X"})),
    ] {
        let r = rig
            .app
            .send(
                Method::POST,
                &format!("/api/a/mail/ops/{op}"),
                Some(&read),
                Some("a"),
                Some(&body.to_string()),
            )
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::FORBIDDEN, "AUTH_FORBIDDEN"),
            "{op}"
        );
    }
    assert_eq!(rig.counts("INBOX").await, (2, 2));
}

/// The mailbox operations with the email document's own input names, each answer's ids fed
/// to the next call: list-inbox's `message_id` to get-message, its attachment's `part_id`
/// to get-attachment (`data_base64`), then `mark-read`, `apply_label`, `create_folder` with
/// `parent_id`, `move_to_folder` with `folder_id`, `batch_apply` with `items` and
/// `delete-message`, all by `message_id`.
#[tokio::test]
async fn the_documented_names_work_end_to_end() {
    let rig = Rig::new().await;
    rig.seed(&[
        plain(1, "alice@example.com", "hello there", "first body"),
        with_attachment(2),
        plain(3, "carl@example.com", "third", "third body"),
    ])
    .await;
    let page = rig.get("list-inbox", "limit=10").await;
    let ids: Vec<String> = page.body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message_id"].as_str().expect("message_id").to_owned())
        .collect();
    assert_eq!(ids, ["3", "2", "1"], "{}", page.body);

    let m = rig
        .get("get-message", &format!("message_id={}", ids[1]))
        .await;
    assert_eq!(
        (m.status, &m.body["subject"]),
        (StatusCode::OK, &json!("report attached")),
        "{}",
        m.body
    );
    let part = m.body["attachments"][0]["part_id"]
        .as_str()
        .expect("part_id")
        .to_owned();
    let a = rig
        .get(
            "get-attachment",
            &format!("message_id={}&part_id={part}", ids[1]),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let data = base64::engine::general_purpose::STANDARD
        .decode(a.body["data_base64"].as_str().expect("data_base64"))
        .expect("base64");
    assert_eq!(
        (data.len() as u64, data),
        (a.body["size"].as_u64().expect("size"), attachment())
    );

    let r = rig.post("mark-read", json!({"message_id": ids[2]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(rig.flags(1).await.contains(&"\\Seen".to_owned()));
    let r = rig
        .post("apply_label", json!({"message_id": 2, "label": "todo"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(rig.flags(2).await.contains(&"todo".to_owned()));

    let clients = rig.post("create_folder", json!({"name": "Clients"})).await;
    let parent = clients.body["id"].as_str().expect("id").to_owned();
    let acme = rig
        .post(
            "create_folder",
            json!({"name": "Acme", "parent_id": parent}),
        )
        .await;
    assert_eq!(acme.status, StatusCode::OK, "{}", acme.body);
    let acme_id = acme.body["id"].as_str().expect("id").to_owned();
    assert!(
        acme_id.starts_with("Clients") && acme_id.ends_with("Acme") && acme_id.len() == 12,
        "{acme_id}"
    );
    assert_eq!(acme.body["parent_id"], "Clients");
    let missing = rig
        .post(
            "create_folder",
            json!({"name": "X", "parent_id": "Nowhere"}),
        )
        .await;
    assert_eq!(missing.code(), "EMAIL_FOLDER_NOT_FOUND", "{}", missing.body);

    let r = rig
        .post(
            "move_to_folder",
            json!({"message_id": ids[0], "folder_id": acme_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rig.uids(&acme_id).await.len(), 1);
    let two = rig
        .post(
            "move_to_folder",
            json!({"message_id": ids[1], "folder_ids": [acme_id, "Clients"]}),
        )
        .await;
    assert_eq!(two.code(), "EMAIL_INVALID_FOLDER", "{}", two.body);

    let r = rig
        .post(
            "batch_apply",
            json!({"items": [{"message_id": ids[1], "seen": true, "folder_id": "Clients"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rig.uids("INBOX").await, [1]);
    assert_eq!(rig.counts("Clients").await, (0, 1), "moved, and read");
    let none = rig
        .post("batch_apply", json!({"items": [{"message_id": ids[2]}]}))
        .await;
    assert_eq!(none.code(), "INVALID_BODY", "{}", none.body);

    let r = rig
        .post("delete-message", json!({"message_id": ids[2]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(rig.uids("INBOX").await, [] as [u64; 0]);
    let r = rig
        .post("delete-message", json!({"message_id": "eml_x"}))
        .await;
    assert_eq!(r.code(), "INVALID_BODY", "{}", r.body);
}
