//! The email element's storage ([`EmailStore`]), run against SQLite and PostgreSQL alike:
//! every test does the same thing on a fresh database of each kind.

mod support;

use std::sync::Arc;

use serde_json::json;
use sqlx::Row as _;
use voxgate_control_api::ids::new_id;
use voxgate_control_api::store::{
    AddressRecord, Contact, DomainRecord, Element, EmailEvent, EmailMessage, MessageFilter,
    Outcome, Recipients, Store, Suppression,
};

/// A live element of `element_type` in a circle.
async fn element(store: &dyn Store, circle_id: &str, slug: &str, element_type: &str) -> Element {
    let e = Element::new(
        new_id("elm"),
        circle_id.to_owned(),
        element_type,
        slug.to_owned(),
        json!({"address": format!("{slug}@mail.example")}),
        1_000,
    );
    store.insert_element(&e).await.expect("element");
    e
}

/// A circle with one email element.
async fn setup(store: &dyn Store, circle: &str) -> (String, Element) {
    let c = store.ensure_circle(circle).await.expect("circle");
    let e = element(store, &c.id, "mail", "email").await;
    (c.id, e)
}

/// An outgoing message with every optional field empty.
fn message(e: &Element, created_at: i64, direction: &str, status: &str) -> EmailMessage {
    EmailMessage {
        id: new_id("eml"),
        circle_id: e.circle_id.clone(),
        element_id: e.id.clone(),
        direction: direction.to_owned(),
        kind: if direction == "inbound" {
            "received"
        } else {
            "send"
        }
        .to_owned(),
        status: status.to_owned(),
        message_id: format!("{}@mail.example", new_id("mid")),
        in_reply_to: None,
        refs: vec![],
        thread_id: None,
        sender: "mail@mail.example".to_owned(),
        recipients: Recipients {
            to: vec!["ann@example.com".to_owned()],
            ..Recipients::default()
        },
        subject: "Hello".to_owned(),
        body_text: None,
        body_html: None,
        attachments: json!([]),
        tracked: false,
        attempts: 0,
        next_attempt_at: None,
        error_code: None,
        error: None,
        reviewed_by: None,
        created_at,
        updated_at: created_at,
        sent_at: None,
    }
}

/// The same message with every optional field set.
fn full_message(e: &Element, created_at: i64) -> EmailMessage {
    EmailMessage {
        kind: "reply".to_owned(),
        in_reply_to: Some("first@example.com".to_owned()),
        refs: vec![
            "root@example.com".to_owned(),
            "first@example.com".to_owned(),
        ],
        thread_id: Some("thr_1".to_owned()),
        recipients: Recipients {
            to: vec!["ann@example.com".to_owned()],
            cc: vec!["bob@example.com".to_owned(), "cid@example.com".to_owned()],
            bcc: vec!["dan@example.com".to_owned()],
        },
        subject: "Re: räksmörgås ✉".to_owned(),
        body_text: Some("text\r\nbody".to_owned()),
        body_html: Some("<p>html</p>".to_owned()),
        attachments: json!([{"index": 0, "filename": "a.pdf", "content_type": "application/pdf", "size": 12}]),
        tracked: true,
        attempts: 2,
        next_attempt_at: Some(created_at + 60_000),
        error_code: Some("EMAIL_SEND_FAILED".to_owned()),
        error: Some("451 try later".to_owned()),
        reviewed_by: Some("key_1".to_owned()),
        sent_at: Some(created_at + 5),
        updated_at: created_at + 7,
        ..message(e, created_at, "outbound", "queued")
    }
}

fn ids(messages: &[EmailMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test]
async fn messages_round_trip_with_every_field_and_raw_bytes() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (circle, e) = setup(&*store, "a").await;
        let other = element(&*store, &circle, "other", "email").await;
        let full = full_message(&e, 10_000);
        // Not UTF-8, with NULs: the raw column is bytes, not text.
        let raw: Vec<u8> = (0..=255u8).chain([0, 0, 0xff, 0xfe]).collect();
        email.insert_message(&full, &raw).await.expect("insert");
        let bare = message(&e, 11_000, "inbound", "received");
        email.insert_message(&bare, b"").await.expect("bare");

        let got = email.message(&e.id, &full.id).await.expect("get");
        assert_eq!(got.as_ref(), Some(&full), "{}", db.name);
        assert_eq!(
            email.message(&e.id, &bare.id).await.expect("get").as_ref(),
            Some(&bare)
        );
        assert_eq!(email.message(&other.id, &full.id).await.expect("get"), None);
        assert_eq!(
            email.message_by_id(&full.id).await.expect("by id"),
            Some(full.clone())
        );
        assert_eq!(email.message_by_id("eml_none").await.expect("none"), None);
        assert_eq!(
            email.message_raw(&full.id).await.expect("raw"),
            Some(raw),
            "{}",
            db.name
        );
        assert_eq!(
            email.message_raw(&bare.id).await.expect("raw"),
            Some(vec![])
        );
        assert_eq!(email.message_raw("eml_none").await.expect("raw"), None);

        email.set_thread(&bare.id, "thr_9").await.expect("thread");
        let threaded = email.message_by_id(&bare.id).await.expect("get");
        assert_eq!(threaded.and_then(|m| m.thread_id).as_deref(), Some("thr_9"));
        db.finish().await;
    }
}

#[tokio::test]
async fn messages_by_message_id_stay_in_their_circle_oldest_first() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (_, e) = setup(&*store, "a").await;
        let (_, f) = setup(&*store, "b").await;
        let mut later = message(&e, 2_000, "inbound", "received");
        later.message_id = "same@example.com".to_owned();
        let earlier = EmailMessage {
            id: new_id("eml"),
            created_at: 1_000,
            ..later.clone()
        };
        let elsewhere = EmailMessage {
            id: new_id("eml"),
            circle_id: f.circle_id.clone(),
            element_id: f.id.clone(),
            ..later.clone()
        };
        for m in [&later, &earlier, &elsewhere] {
            email.insert_message(m, b"x").await.expect("insert");
        }
        let found = email
            .messages_by_message_id(&e.circle_id, "same@example.com")
            .await
            .expect("find");
        assert_eq!(
            ids(&found),
            [earlier.id.as_str(), later.id.as_str()],
            "{}",
            db.name
        );
        assert!(
            email
                .messages_by_message_id(&e.circle_id, "other@example.com")
                .await
                .expect("none")
                .is_empty()
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn messages_page_newest_first_with_filters_and_cursor() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (circle, e) = setup(&*store, "a").await;
        let other = element(&*store, &circle, "other", "email").await;
        // Two share a timestamp: the id breaks the tie.
        let mut all = vec![
            message(&e, 1_000, "outbound", "sent"),
            message(&e, 2_000, "inbound", "received"),
            message(&e, 2_000, "outbound", "pending"),
            message(&e, 3_000, "outbound", "sent"),
            message(&e, 4_000, "inbound", "received"),
        ];
        for m in &all {
            email.insert_message(m, b"raw").await.expect("insert");
        }
        email
            .insert_message(&message(&other, 5_000, "outbound", "sent"), b"raw")
            .await
            .expect("other element");
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let newest_first = ids(&all);

        let everything = email
            .messages(&e.id, &MessageFilter::default(), 50)
            .await
            .expect("all");
        assert_eq!(ids(&everything), newest_first, "{}", db.name);

        // Pages of two, each after the previous page's last (created_at, id).
        let mut paged = Vec::new();
        let mut filter = MessageFilter::default();
        loop {
            let page = email.messages(&e.id, &filter, 2).await.expect("page");
            let Some(last) = page.last() else { break };
            filter.before = Some((last.created_at, last.id.clone()));
            paged.extend(page.iter().map(|m| m.id.clone()));
        }
        assert_eq!(paged, newest_first, "{}", db.name);

        let inbound = MessageFilter {
            direction: Some("inbound".to_owned()),
            ..MessageFilter::default()
        };
        let got = email.messages(&e.id, &inbound, 50).await.expect("inbound");
        assert!(got.len() == 2 && got.iter().all(|m| m.direction == "inbound"));
        let sent = MessageFilter {
            direction: Some("outbound".to_owned()),
            status: Some("sent".to_owned()),
            before: Some((4_000, String::new())),
        };
        let got = email.messages(&e.id, &sent, 50).await.expect("sent");
        assert_eq!(
            got.iter().map(|m| m.created_at).collect::<Vec<_>>(),
            [3_000, 1_000]
        );
        let older = MessageFilter {
            before: Some((3_000, String::new())),
            ..MessageFilter::default()
        };
        let got = email.messages(&e.id, &older, 1).await.expect("older");
        assert_eq!(got[0].created_at, 2_000, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_outbox_state_machine_moves_once_per_transition() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (_, e) = setup(&*store, "a").await;
        let m = message(&e, 1_000, "outbound", "pending");
        email.insert_message(&m, b"raw").await.expect("insert");
        let status = |id: String| {
            let store = Arc::clone(&store);
            async move {
                let m = store.email().message_by_id(&id).await.expect("get");
                let m = m.expect("stored");
                (m.status, m.reviewed_by, m.updated_at)
            }
        };

        assert!(
            !email
                .transition(&m.id, &["approved"], "sending", None, 1_500)
                .await
                .expect("not approved yet")
        );
        assert!(
            email
                .transition(&m.id, &["pending"], "approved", Some("key_a"), 2_000)
                .await
                .expect("approve"),
            "{}",
            db.name
        );
        assert_eq!(
            status(m.id.clone()).await,
            ("approved".to_owned(), Some("key_a".to_owned()), 2_000)
        );
        assert!(
            !email
                .transition(&m.id, &["pending"], "approved", Some("key_b"), 2_100)
                .await
                .expect("twice"),
            "a repeated approval is refused"
        );
        assert!(
            !email
                .transition(&m.id, &["pending"], "rejected", Some("key_b"), 2_100)
                .await
                .expect("too late to reject")
        );
        assert!(
            email
                .transition(&m.id, &["approved", "queued"], "sending", None, 3_000)
                .await
                .expect("sending")
        );
        // No reviewer given: the approver stays recorded.
        assert_eq!(
            status(m.id.clone()).await,
            ("sending".to_owned(), Some("key_a".to_owned()), 3_000)
        );
        assert!(
            email
                .transition(&m.id, &["sending"], "sent", None, 4_000)
                .await
                .expect("sent")
        );
        assert!(
            !email
                .transition(&m.id, &["sending"], "sent", None, 5_000)
                .await
                .expect("again")
        );
        assert!(
            !email
                .transition(&m.id, &[], "sent", None, 5_000)
                .await
                .expect("from nothing")
        );
        assert!(
            !email
                .transition("eml_none", &["pending"], "approved", None, 5_000)
                .await
                .expect("unknown")
        );
        assert_eq!(status(m.id.clone()).await.0, "sent");
        db.finish().await;
    }
}

#[tokio::test]
async fn racing_reviewers_let_exactly_one_win() {
    for db in support::both().await {
        let store = db.store();
        let (_, e) = setup(&*store, "a").await;
        let m = message(&e, 1_000, "outbound", "pending");
        store
            .email()
            .insert_message(&m, b"raw")
            .await
            .expect("insert");
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = Arc::clone(&store);
                let id = m.id.clone();
                let to = if i % 2 == 0 { "approved" } else { "rejected" };
                tokio::spawn(async move {
                    let reviewer = format!("key_{i}");
                    store
                        .email()
                        .transition(&id, &["pending"], to, Some(reviewer.as_str()), 2_000)
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            wins += usize::from(task.await.expect("join").expect("transition"));
        }
        assert_eq!(wins, 1, "{}", db.name);
        db.finish().await;
    }
}

#[tokio::test]
async fn outcomes_and_the_queue_of_due_messages() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (_, e) = setup(&*store, "a").await;
        let now = 100_000;
        let mut later = message(&e, 1_000, "outbound", "queued");
        later.next_attempt_at = Some(now + 1);
        let mut retry = message(&e, 2_000, "outbound", "queued");
        retry.next_attempt_at = Some(now);
        let fresh = message(&e, 3_000, "outbound", "queued");
        let mut oldest = message(&e, 500, "outbound", "queued");
        oldest.next_attempt_at = Some(now - 50_000);
        let pending = message(&e, 400, "outbound", "pending");
        let mut sent = message(&e, 300, "outbound", "sent");
        sent.next_attempt_at = Some(now - 1);
        for m in [&later, &retry, &fresh, &oldest, &pending, &sent] {
            email.insert_message(m, b"raw").await.expect("insert");
        }
        let due = email.due_messages(now, 10).await.expect("due");
        assert_eq!(
            ids(&due),
            [oldest.id.as_str(), retry.id.as_str(), fresh.id.as_str()],
            "{}: queued ones due by now, oldest first",
            db.name
        );
        let first = email.due_messages(now, 1).await.expect("limit");
        assert_eq!(ids(&first), [oldest.id.as_str()]);
        assert_eq!(email.due_messages(now + 1, 10).await.expect("due").len(), 4);

        // An attempt failed: back in the queue with a backoff.
        let backoff = Outcome {
            status: "queued".to_owned(),
            attempts: 1,
            next_attempt_at: Some(now + 30_000),
            error_code: Some("EMAIL_SEND_FAILED".to_owned()),
            error: Some("451 4.7.1 try later".to_owned()),
            sent_at: None,
        };
        email
            .set_outcome(&oldest.id, &backoff, now + 10)
            .await
            .expect("outcome");
        let got = email.message_by_id(&oldest.id).await.expect("get");
        let got = got.expect("stored");
        assert_eq!(
            (
                got.status.as_str(),
                got.attempts,
                got.next_attempt_at,
                got.error_code.as_deref(),
                got.error.as_deref(),
                got.sent_at,
                got.updated_at
            ),
            (
                "queued",
                1,
                Some(now + 30_000),
                Some("EMAIL_SEND_FAILED"),
                Some("451 4.7.1 try later"),
                None,
                now + 10
            ),
            "{}",
            db.name
        );
        assert_eq!(
            ids(&email.due_messages(now, 10).await.expect("due")),
            [retry.id.as_str(), fresh.id.as_str()]
        );
        // The next went through: the error is cleared.
        let delivered = Outcome {
            status: "sent".to_owned(),
            attempts: 2,
            next_attempt_at: None,
            error_code: None,
            error: None,
            sent_at: Some(now + 30_005),
        };
        email
            .set_outcome(&oldest.id, &delivered, now + 30_005)
            .await
            .expect("outcome");
        let got = email.message_by_id(&oldest.id).await.expect("get");
        let got = got.expect("stored");
        assert_eq!(
            (
                got.status.as_str(),
                got.attempts,
                got.next_attempt_at,
                got.error_code,
                got.error,
                got.sent_at
            ),
            ("sent", 2, None, None, None, Some(now + 30_005))
        );
        assert!(!ids(&email.due_messages(i64::MAX, 10).await.expect("due")).contains(&&*oldest.id));
        db.finish().await;
    }
}

#[tokio::test]
async fn messages_stuck_in_flight_are_queued_again() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (_, e) = setup(&*store, "a").await;
        let mut stuck = message(&e, 1_000, "outbound", "sending");
        stuck.updated_at = 1_000;
        let mut approved = message(&e, 1_100, "outbound", "approved");
        approved.updated_at = 1_100;
        let mut recent = message(&e, 1_200, "outbound", "sending");
        recent.updated_at = 9_000;
        let pending = message(&e, 1_300, "outbound", "pending");
        for m in [&stuck, &approved, &recent, &pending] {
            email.insert_message(m, b"raw").await.expect("insert");
        }
        assert_eq!(
            email.requeue_stale(5_000).await.expect("requeue"),
            2,
            "{}",
            db.name
        );
        let due = email.due_messages(10_000, 10).await.expect("due");
        assert_eq!(
            ids(&due),
            [stuck.id.as_str(), approved.id.as_str()],
            "{}",
            db.name
        );
        assert_eq!(email.requeue_stale(5_000).await.expect("again"), 0);
        db.finish().await;
    }
}

#[tokio::test]
async fn the_daily_cap_holds_under_40_concurrent_sends() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a").id;
        let b = store.ensure_circle("b").await.expect("b").id;
        let tasks: Vec<_> = (0..40)
            .map(|_| {
                let store = Arc::clone(&store);
                let a = a.clone();
                tokio::spawn(async move { store.email().count_send(&a, "2026-11-24", 25).await })
            })
            .collect();
        let mut counted = 0;
        for task in tasks {
            counted += usize::from(task.await.expect("join").expect("count"));
        }
        let email = store.email();
        assert_eq!(counted, 25, "{}", db.name);
        assert_eq!(email.sends_on(&a, "2026-11-24").await.expect("sends"), 25);
        assert!(
            !email
                .count_send(&a, "2026-11-24", 25)
                .await
                .expect("capped")
        );

        // Other days and circles count apart.
        assert_eq!(email.sends_on(&a, "2026-11-25").await.expect("sends"), 0);
        assert!(email.count_send(&a, "2026-11-25", 25).await.expect("day"));
        assert!(email.count_send(&b, "2026-11-24", 1).await.expect("circle"));
        assert!(!email.count_send(&b, "2026-11-24", 1).await.expect("capped"));
        assert!(!email.count_send(&b, "2026-11-26", 0).await.expect("no cap"));
        assert_eq!(email.sends_on(&b, "2026-11-26").await.expect("sends"), 0);

        // A refund makes room for exactly one more.
        email.refund_send(&a, "2026-11-24").await.expect("refund");
        assert_eq!(email.sends_on(&a, "2026-11-24").await.expect("sends"), 24);
        assert!(email.count_send(&a, "2026-11-24", 25).await.expect("room"));
        assert!(!email.count_send(&a, "2026-11-24", 25).await.expect("full"));
        // Never below zero, nor a row out of nothing.
        email.refund_send(&b, "2026-11-24").await.expect("refund");
        email.refund_send(&b, "2026-11-24").await.expect("refund");
        assert_eq!(email.sends_on(&b, "2026-11-24").await.expect("sends"), 0);
        email.refund_send(&b, "2026-12-01").await.expect("refund");
        assert_eq!(email.sends_on(&b, "2026-12-01").await.expect("sends"), 0);
        db.finish().await;
    }
}

fn suppression(circle_id: &str, address: &str, source: &str) -> Suppression {
    Suppression {
        circle_id: circle_id.to_owned(),
        address: address.to_owned(),
        reason: format!("{source} of {address}"),
        source: source.to_owned(),
        detail: None,
        created_by: None,
        created_at: 1_000,
    }
}

#[tokio::test]
async fn suppressions_add_once_page_by_address_and_delete() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let a = store.ensure_circle("a").await.expect("a").id;
        let b = store.ensure_circle("b").await.expect("b").id;
        let bounce = Suppression {
            detail: Some("5.1.1 user unknown".to_owned()),
            ..suppression(&a, "bob@example.com", "bounce")
        };
        assert!(email.insert_suppression(&bounce).await.expect("add"));
        let manual = Suppression {
            created_by: Some("key_1".to_owned()),
            created_at: 2_000,
            ..suppression(&a, "bob@example.com", "manual")
        };
        assert!(
            !email.insert_suppression(&manual).await.expect("duplicate"),
            "{}",
            db.name
        );
        assert_eq!(
            email.suppression(&a, "bob@example.com").await.expect("get"),
            Some(bounce.clone()),
            "the first one is kept"
        );
        assert_eq!(
            email
                .suppression(&b, "bob@example.com")
                .await
                .expect("other circle"),
            None
        );
        assert!(
            email
                .insert_suppression(&suppression(&b, "bob@example.com", "manual"))
                .await
                .expect("other circle")
        );
        for address in ["eve@example.com", "ann@example.com", "dan@example.com"] {
            assert!(
                email
                    .insert_suppression(&suppression(&a, address, "unsubscribe"))
                    .await
                    .expect("add")
            );
        }

        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = email
                .suppressions(&a, after.as_deref(), 2)
                .await
                .expect("page");
            let Some(last) = page.last() else { break };
            after = Some(last.address.clone());
            listed.extend(page.into_iter().map(|s| s.address));
        }
        assert_eq!(
            listed,
            [
                "ann@example.com",
                "bob@example.com",
                "dan@example.com",
                "eve@example.com"
            ],
            "{}",
            db.name
        );
        assert_eq!(email.suppressions(&b, None, 10).await.expect("b").len(), 1);

        assert!(
            email
                .delete_suppression(&a, "bob@example.com")
                .await
                .expect("delete")
        );
        assert!(
            !email
                .delete_suppression(&a, "bob@example.com")
                .await
                .expect("again")
        );
        assert_eq!(
            email.suppression(&a, "bob@example.com").await.expect("get"),
            None
        );
        assert!(
            email
                .suppression(&b, "bob@example.com")
                .await
                .expect("b")
                .is_some()
        );
        db.finish().await;
    }
}

fn contact(address: &str, consent: &str, source: &str, at: i64) -> Contact {
    Contact {
        address: address.to_owned(),
        consent: consent.to_owned(),
        source: source.to_owned(),
        updated_at: at,
    }
}

#[tokio::test]
async fn consent_changes_return_the_previous_and_known_contacts_keep_theirs() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let a = store.ensure_circle("a").await.expect("a").id;
        let b = store.ensure_circle("b").await.expect("b").id;
        let ann = "ann@example.com";

        email
            .know_contact(&a, ann, "inbound", 1_000)
            .await
            .expect("know");
        assert_eq!(
            email.contact(&a, ann).await.expect("get"),
            Some(contact(ann, "none", "inbound", 1_000)),
            "{}",
            db.name
        );
        let opted = contact(ann, "double_optin", "api", 2_000);
        assert_eq!(
            email.set_consent(&a, &opted).await.expect("set"),
            Some(contact(ann, "none", "inbound", 1_000))
        );
        // Knowing the contact again changes nothing.
        email
            .know_contact(&a, ann, "inbound", 3_000)
            .await
            .expect("know");
        assert_eq!(
            email.contact(&a, ann).await.expect("get"),
            Some(opted.clone())
        );
        let gone = contact(ann, "none", "unsubscribe", 4_000);
        assert_eq!(
            email.set_consent(&a, &gone).await.expect("set"),
            Some(opted)
        );
        assert_eq!(email.contact(&a, ann).await.expect("get"), Some(gone));

        // A new contact has no previous consent; circles are apart.
        let bob = contact("bob@example.com", "soft_optin", "api", 5_000);
        assert_eq!(email.set_consent(&b, &bob).await.expect("set"), None);
        assert_eq!(email.contact(&b, ann).await.expect("other circle"), None);
        assert_eq!(email.contact(&a, "bob@example.com").await.expect("a"), None);
        assert_eq!(
            email.contact(&b, "bob@example.com").await.expect("b"),
            Some(bob)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn events_page_newest_first_by_element_and_kind() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (circle, e) = setup(&*store, "a").await;
        let (other_circle, _) = setup(&*store, "b").await;
        let event = |element: Option<&str>, kind: &str, at: i64| EmailEvent {
            id: new_id("eev"),
            circle_id: circle.clone(),
            element_id: element.map(str::to_owned),
            kind: kind.to_owned(),
            message: Some("eml_1".to_owned()),
            address: Some("ann@example.com".to_owned()),
            detail: json!({"at": at, "nested": {"list": [1, "two"]}}),
            created_at: at,
        };
        let mut all = vec![
            event(Some(&e.id), "sent", 1_000),
            event(Some(&e.id), "opened", 2_000),
            event(None, "suppressed", 2_000),
            event(Some(&e.id), "sent", 3_000),
            EmailEvent {
                message: None,
                address: None,
                detail: json!({}),
                ..event(Some(&e.id), "clicked", 4_000)
            },
        ];
        for ev in &all {
            email.insert_event(ev).await.expect("insert");
        }
        email
            .insert_event(&EmailEvent {
                circle_id: other_circle.clone(),
                ..event(None, "sent", 5_000)
            })
            .await
            .expect("other circle");
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));

        let got = email
            .events(&circle, None, None, None, 50)
            .await
            .expect("all");
        assert_eq!(got, all, "{}", db.name);

        let mut paged = Vec::new();
        let mut before = None;
        loop {
            let page = email
                .events(&circle, None, None, before, 2)
                .await
                .expect("page");
            let Some(last) = page.last() else { break };
            before = Some((last.created_at, last.id.clone()));
            paged.extend(page);
        }
        assert_eq!(paged, all, "{}", db.name);

        let of_element = email
            .events(&circle, Some(&e.id), None, None, 50)
            .await
            .expect("element");
        assert_eq!(of_element.len(), 4);
        let sent = email
            .events(&circle, Some(&e.id), Some("sent"), None, 50)
            .await
            .expect("sent");
        assert_eq!(
            sent.iter().map(|e| e.created_at).collect::<Vec<_>>(),
            [3_000, 1_000]
        );
        let older = email
            .events(
                &circle,
                None,
                Some("sent"),
                Some((3_000, String::new())),
                50,
            )
            .await
            .expect("older");
        assert_eq!(older.len(), 1);
        assert_eq!(
            email
                .events(&other_circle, None, None, None, 50)
                .await
                .expect("b")
                .len(),
            1
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn tracking_tokens_count_their_hits() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (_, e) = setup(&*store, "a").await;
        let m = message(&e, 1_000, "outbound", "sent");
        email.insert_message(&m, b"raw").await.expect("message");
        email
            .insert_tracking("hash_open", &m.id, "open", None)
            .await
            .expect("open");
        email
            .insert_tracking(
                "hash_click",
                &m.id,
                "click",
                Some("https://example.com/a?b=c"),
            )
            .await
            .expect("click");

        let first = email.hit_tracking("hash_open", 5_000).await.expect("hit");
        let first = first.expect("known");
        assert_eq!(
            (
                first.message.as_str(),
                first.kind.as_str(),
                first.url,
                first.hits
            ),
            (m.id.as_str(), "open", None, 1),
            "{}",
            db.name
        );
        let again = email.hit_tracking("hash_open", 6_000).await.expect("hit");
        assert_eq!(again.expect("known").hits, 2);
        let click = email.hit_tracking("hash_click", 7_000).await.expect("hit");
        let click = click.expect("known");
        assert_eq!(
            (click.kind.as_str(), click.url.as_deref(), click.hits),
            ("click", Some("https://example.com/a?b=c"), 1)
        );
        assert_eq!(
            email.hit_tracking("hash_none", 8_000).await.expect("hit"),
            None
        );

        let times = sqlx::query(
            "SELECT first_at, last_at FROM email_tracking WHERE token_hash = 'hash_open'",
        )
        .fetch_one(db.store.pool())
        .await
        .expect("row");
        let times: (Option<i64>, Option<i64>) = (
            times.try_get("first_at").expect("first_at"),
            times.try_get("last_at").expect("last_at"),
        );
        assert_eq!(times, (Some(5_000), Some(6_000)), "{}", db.name);

        // Concurrent hits each count.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(
                    async move { store.email().hit_tracking("hash_click", 9_000 + i).await },
                )
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("hit").expect("known");
        }
        let last = email.hit_tracking("hash_click", 10_000).await.expect("hit");
        assert_eq!(last.expect("known").hits, 22, "{}", db.name);
        db.finish().await;
    }
}

fn domain(circle_id: &str, name: &str, managed: bool) -> DomainRecord {
    DomainRecord {
        id: new_id("dom"),
        circle_id: circle_id.to_owned(),
        domain: name.to_owned(),
        token: new_id("tok"),
        managed,
        verified_at: managed.then_some(1_000),
        created_at: 1_000,
        dkim_key: None,
        dkim_public: None,
    }
}

#[tokio::test]
async fn domains_are_unique_across_circles() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let a = store.ensure_circle("a").await.expect("a").id;
        let b = store.ensure_circle("b").await.expect("b").id;
        let mine = domain(&a, "mail.example.com", false);
        assert!(email.insert_domain(&mine).await.expect("add"));
        assert!(
            !email
                .insert_domain(&domain(&b, "mail.example.com", false))
                .await
                .expect("taken"),
            "{}",
            db.name
        );
        assert!(
            !email
                .insert_domain(&domain(&a, "mail.example.com", true))
                .await
                .expect("taken")
        );
        let managed = domain(&a, "a.voxgate.example", true);
        assert!(email.insert_domain(&managed).await.expect("managed"));
        assert!(
            email
                .insert_domain(&domain(&b, "b.example.org", false))
                .await
                .expect("b")
        );

        assert_eq!(
            email.domain("mail.example.com").await.expect("get"),
            Some(mine.clone()),
            "the first owner is kept"
        );
        assert_eq!(email.domain("none.example").await.expect("get"), None);
        assert_eq!(
            email.domains(&a).await.expect("list"),
            [managed.clone(), mine.clone()],
            "{}: by name",
            db.name
        );

        email
            .set_domain_verified(&mine.id, 9_000)
            .await
            .expect("verify");
        let got = email.domain("mail.example.com").await.expect("get");
        assert_eq!(got.and_then(|d| d.verified_at), Some(9_000));

        // One DKIM key per domain: the first one set stays.
        let first = email.set_domain_dkim(&mine.id, &[1, 0, 255], "pub1").await;
        assert!(first.expect("set"), "{}", db.name);
        let second = email.set_domain_dkim(&mine.id, &[2], "pub2").await;
        assert!(!second.expect("kept"));
        let got = email
            .domain("mail.example.com")
            .await
            .expect("get")
            .expect("there");
        assert_eq!(
            (got.dkim_key.as_deref(), got.dkim_public.as_deref()),
            (Some(&[1u8, 0, 255][..]), Some("pub1"))
        );

        assert!(
            !email
                .delete_domain(&b, "mail.example.com")
                .await
                .expect("not b's")
        );
        assert!(
            email
                .delete_domain(&a, "mail.example.com")
                .await
                .expect("delete")
        );
        assert!(
            !email
                .delete_domain(&a, "mail.example.com")
                .await
                .expect("again")
        );
        assert!(
            email
                .insert_domain(&domain(&b, "mail.example.com", false))
                .await
                .expect("free again")
        );
        assert_eq!(email.domains(&a).await.expect("list"), [managed]);
        db.finish().await;
    }
}

#[tokio::test]
async fn receiving_addresses_are_unique() {
    for db in support::both().await {
        let store = db.store();
        let email = store.email();
        let (circle, e) = setup(&*store, "a").await;
        let other = element(&*store, &circle, "other", "email").await;
        let address = |element: &Element, name: &str| AddressRecord {
            address: name.to_owned(),
            circle_id: element.circle_id.clone(),
            element_id: element.id.clone(),
            created_at: 1_000,
        };
        let sales = address(&e, "sales@mail.example");
        assert!(email.insert_address(&sales).await.expect("add"));
        assert!(
            !email
                .insert_address(&address(&other, "sales@mail.example"))
                .await
                .expect("taken"),
            "{}",
            db.name
        );
        let help = address(&e, "help@mail.example");
        assert!(email.insert_address(&help).await.expect("add"));
        assert!(
            email
                .insert_address(&address(&other, "other@mail.example"))
                .await
                .expect("add")
        );

        assert_eq!(
            email.address("sales@mail.example").await.expect("get"),
            Some(sales.clone())
        );
        assert_eq!(email.address("none@mail.example").await.expect("get"), None);
        assert_eq!(
            email.addresses(&e.id).await.expect("list"),
            [help.clone(), sales.clone()],
            "{}",
            db.name
        );
        assert!(
            !email
                .delete_address(&other.id, "sales@mail.example")
                .await
                .expect("not other's")
        );
        assert!(
            email
                .delete_address(&e.id, "sales@mail.example")
                .await
                .expect("delete")
        );
        assert!(
            !email
                .delete_address(&e.id, "sales@mail.example")
                .await
                .expect("again")
        );
        assert_eq!(email.addresses(&e.id).await.expect("list"), [help]);
        db.finish().await;
    }
}

#[tokio::test]
async fn email_elements_are_the_live_ones_of_every_circle() {
    for db in support::both().await {
        let store = db.store();
        let (a, first) = setup(&*store, "a").await;
        let (_, second) = setup(&*store, "b").await;
        let disabled = element(&*store, &a, "off", "email").await;
        store
            .set_element_enabled(&disabled.id, false, 2_000)
            .await
            .expect("disable");
        let deleted = element(&*store, &a, "gone", "email").await;
        store
            .delete_element(&deleted.id, 2_000)
            .await
            .expect("delete");
        element(&*store, &a, "phone", "phone-number").await;

        let mut got: Vec<String> = store
            .email()
            .email_elements()
            .await
            .expect("elements")
            .into_iter()
            .map(|e| e.id)
            .collect();
        got.sort();
        let mut want = vec![first.id.clone(), second.id.clone(), disabled.id.clone()];
        want.sort();
        assert_eq!(got, want, "{}", db.name);
        let found = store.email().email_elements().await.expect("elements");
        let off = found.iter().find(|e| e.id == disabled.id).expect("listed");
        assert!(!off.enabled);
        assert_eq!(off.spec["address"], "off@mail.example");
        db.finish().await;
    }
}
