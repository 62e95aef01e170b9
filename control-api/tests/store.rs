//! The storage suite, run against SQLite and PostgreSQL alike: every test does the same
//! thing on a fresh database of each kind.

mod support;

use std::sync::Arc;

use serde_json::json;
use voxgate_control_api::auth::{Role, hash_key, issue_key};
use voxgate_control_api::ids::{new_id, now_ms};
use voxgate_control_api::store::{
    AgentRecord, Backend, CallAudio, CallRecord, CallTurn, Element, NumberPatch, NumberRecord,
    ProviderRecord, Store, ThreadMessage,
};

fn element(circle_id: &str, slug: &str) -> Element {
    Element::new(
        new_id("elm"),
        circle_id.to_owned(),
        "phone-number",
        slug.to_owned(),
        json!({"number": "+46700000001", "max_retries": 3}),
        1_000,
    )
}

fn agent(circle_id: &str, name: &str) -> AgentRecord {
    AgentRecord {
        id: new_id("agt"),
        circle_id: circle_id.to_owned(),
        body: json!({"name": name}),
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

fn provider(circle_id: &str) -> ProviderRecord {
    ProviderRecord {
        id: new_id("prv"),
        circle_id: circle_id.to_owned(),
        kind: "46elks".to_owned(),
        name: "main".to_owned(),
        username: "u1234".to_owned(),
        sealed_secret: vec![1, 0, 255, 7],
        registrar: None,
        created_at: now_ms(),
    }
}

fn number(circle_id: &str, e164: &str, provider_id: &str, agent_id: Option<&str>) -> NumberRecord {
    NumberRecord {
        id: new_id("num"),
        circle_id: circle_id.to_owned(),
        number: e164.to_owned(),
        provider_id: provider_id.to_owned(),
        agent_id: agent_id.map(str::to_owned),
        inbound_enabled: true,
        outbound_enabled: true,
        created_at: now_ms(),
        updated_at: now_ms(),
    }
}

/// A patch that pins `agent_id` (or unpins) and leaves the direction switches alone.
fn pin(agent_id: Option<&str>) -> NumberPatch {
    NumberPatch {
        agent_id: agent_id.map(str::to_owned),
        inbound_enabled: None,
        outbound_enabled: None,
        updated_at: now_ms(),
    }
}

#[tokio::test]
async fn circles_and_keys() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("acme").await.expect("circle");
        assert_eq!(
            store.ensure_circle("acme").await.expect("again"),
            a,
            "{}",
            db.name
        );
        assert_eq!(store.circle("acme").await.expect("get"), Some(a.clone()));
        assert_eq!(store.circle("nobody").await.expect("get"), None);
        assert_eq!(store.key_count().await.expect("count"), 0);
        let key = issue_key(&a.id, Role::Write);
        store.insert_key(&key.record).await.expect("key");
        let found = store
            .key_by_hash(&hash_key(&key.secret))
            .await
            .expect("lookup");
        let found = found.expect("the key");
        assert_eq!(
            (found.circle.name.as_str(), found.role),
            ("acme", Role::Write)
        );
        assert_eq!(
            store
                .key_by_hash(&hash_key("vgk_other"))
                .await
                .expect("lookup"),
            None
        );
        assert_eq!(store.key_count().await.expect("count"), 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn elements_have_unique_slugs_versions_and_soft_deletes() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a");
        let b = store.ensure_circle("b").await.expect("b");
        let first = element(&a.id, "desk");
        store.insert_element(&first).await.expect("insert");
        let taken = store
            .insert_element(&element(&a.id, "desk"))
            .await
            .expect_err("dup");
        assert_eq!(taken.code(), "ELEMENT_SLUG_TAKEN", "{}", db.name);
        store
            .insert_element(&element(&b.id, "desk"))
            .await
            .expect("same slug, other circle");

        let saved = store
            .save_spec(&first.id, 1, &json!({"number": "+46700000002"}), 2_000)
            .await
            .expect("save");
        assert_eq!((saved.version, saved.updated_at), (2, 2_000));
        let stale = store
            .save_spec(&first.id, 1, &json!({}), 3_000)
            .await
            .expect_err("stale");
        assert_eq!(stale.code(), "ELEMENT_VERSION_CONFLICT");
        let versions = store.element_versions(&first.id).await.expect("versions");
        let numbers: Vec<_> = versions
            .iter()
            .map(|v| (v.version, v.spec["number"].clone()))
            .collect();
        assert_eq!(
            numbers,
            [(1, json!("+46700000001")), (2, json!("+46700000002"))]
        );

        store
            .set_element_enabled(&first.id, false, 4_000)
            .await
            .expect("disable");
        let got = store
            .element(&a.id, "desk")
            .await
            .expect("get")
            .expect("live");
        assert!(!got.enabled);
        assert_eq!(got.spec, json!({"number": "+46700000002"}));

        store
            .delete_element(&first.id, 5_000)
            .await
            .expect("delete");
        assert_eq!(store.element(&a.id, "desk").await.expect("get"), None);
        assert_eq!(
            store.element_versions(&first.id).await.expect("kept").len(),
            2
        );
        store
            .insert_element(&element(&a.id, "desk"))
            .await
            .expect("the slug is free again");
        db.finish().await;
    }
}

#[tokio::test]
async fn concurrent_updates_to_one_version_let_exactly_one_win() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a");
        let e = element(&a.id, "desk");
        store.insert_element(&e).await.expect("insert");
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&store);
                let id = e.id.clone();
                tokio::spawn(async move { store.save_spec(&id, 1, &json!({"i": i}), 2_000).await })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            match task.await.expect("join") {
                Ok(_) => wins += 1,
                Err(e) => assert_eq!(e.code(), "ELEMENT_VERSION_CONFLICT", "{e}"),
            }
        }
        assert_eq!(wins, 1, "{}", db.name);
        assert_eq!(
            store.element_versions(&e.id).await.expect("versions").len(),
            2
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn agents_numbers_and_providers() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a");
        let b = store.ensure_circle("b").await.expect("b");
        let (ann, bob) = (agent(&a.id, "Ann"), agent(&a.id, "Bob"));
        store.insert_agent(&ann).await.expect("ann");
        store.insert_agent(&bob).await.expect("bob");
        assert_eq!(
            store.agents(&a.id).await.expect("list").len(),
            2,
            "{}",
            db.name
        );
        assert!(store.agents(&b.id).await.expect("list").is_empty());
        assert_eq!(
            store.agent(&b.id, &ann.id).await.expect("other circle"),
            None
        );

        let mut renamed = ann.clone();
        renamed.body = json!({"name": "Anna"});
        assert!(store.update_agent(&renamed).await.expect("update"));
        let got = store
            .agent(&a.id, &ann.id)
            .await
            .expect("get")
            .expect("ann");
        assert_eq!(got.body["name"], "Anna");

        assert!(!store.any_number().await.expect("none yet"), "{}", db.name);
        let p = provider(&a.id);
        store.insert_provider(&p).await.expect("provider");
        // A SIP trunk with a pinned number is kept registered; one with only an unpinned
        // number, and carrier API credentials, are not.
        let trunk = ProviderRecord {
            kind: "sip".to_owned(),
            registrar: Some("sip:pbx.example.com:5062".to_owned()),
            ..provider(&a.id)
        };
        let idle = ProviderRecord {
            kind: "sip".to_owned(),
            registrar: Some("sip:idle.example.com".to_owned()),
            ..provider(&b.id)
        };
        store.insert_provider(&trunk).await.expect("trunk");
        store.insert_provider(&idle).await.expect("idle trunk");
        store
            .insert_number(&number(&a.id, "+46700000009", &trunk.id, Some(&bob.id)))
            .await
            .expect("trunk number");
        store
            .insert_number(&number(&b.id, "+46700000008", &idle.id, None))
            .await
            .expect("idle number");
        assert_eq!(
            store.bound_sip_providers().await.expect("bound"),
            vec![trunk.clone()],
            "{}",
            db.name
        );
        assert!(store.any_number().await.expect("some"));
        assert_eq!(
            store.provider(&a.id, &p.id).await.expect("get"),
            Some(p.clone())
        );
        assert_eq!(store.provider(&b.id, &p.id).await.expect("isolated"), None);
        let n1 = number(&a.id, "+46700000001", &p.id, Some(&ann.id));
        let n2 = number(&a.id, "+46700000002", &p.id, None);
        store.insert_number(&n1).await.expect("n1");
        store.insert_number(&n2).await.expect("n2");
        let dup = store
            .insert_number(&number(&b.id, "+46700000001", &p.id, None))
            .await
            .expect_err("duplicate");
        assert_eq!(dup.code(), "NUMBER_EXISTS");
        let pinned = store.numbers(&a.id, Some(&ann.id)).await.expect("filter");
        assert_eq!(pinned, std::slice::from_ref(&n1));
        assert_eq!(
            store.numbers(&a.id, None).await.expect("all").len(),
            3,
            "two on the carrier, one on the trunk"
        );
        assert_eq!(
            store
                .number_by_e164("+46700000002")
                .await
                .expect("by number"),
            Some(n2.clone())
        );

        assert!(
            store
                .update_number(&a.id, &n2.id, &pin(Some(&bob.id)))
                .await
                .expect("pin")
        );
        // Switching inbound off is stored; a switch left out stays as it was.
        let off = NumberPatch {
            inbound_enabled: Some(false),
            updated_at: n2.created_at + 5,
            ..pin(Some(&bob.id))
        };
        assert!(store.update_number(&a.id, &n2.id, &off).await.expect("off"));
        let switched = store
            .number_by_e164("+46700000002")
            .await
            .expect("by number")
            .expect("n2");
        assert!(!switched.inbound_enabled && switched.outbound_enabled);
        assert_eq!(switched.updated_at, n2.created_at + 5);
        assert_eq!(switched.agent_id.as_deref(), Some(bob.id.as_str()));
        assert!(
            store
                .update_number(&a.id, &n2.id, &pin(Some(&bob.id)))
                .await
                .expect("pin again")
        );
        assert!(
            !store
                .number_by_e164("+46700000002")
                .await
                .expect("by number")
                .expect("n2")
                .inbound_enabled,
            "a patch without inbound_enabled leaves it off"
        );
        assert!(
            !store
                .update_number(&b.id, &n2.id, &pin(None))
                .await
                .expect("other circle")
        );
        let in_use = store
            .delete_provider(&a.id, &p.id)
            .await
            .expect_err("in use");
        assert_eq!(in_use.code(), "PROVIDER_IN_USE");

        assert!(
            store
                .delete_agent(&a.id, &ann.id)
                .await
                .expect("delete ann")
        );
        let n1_now = store
            .number_by_e164("+46700000001")
            .await
            .expect("get")
            .expect("n1");
        assert_eq!(
            n1_now.agent_id, None,
            "deleting an agent unpins its numbers"
        );
        assert!(!store.delete_agent(&a.id, &ann.id).await.expect("gone"));

        assert!(store.delete_number(&a.id, &n1.id).await.expect("n1"));
        assert!(store.delete_number(&a.id, &n2.id).await.expect("n2"));
        assert!(!store.delete_number(&a.id, &n2.id).await.expect("gone"));
        assert!(store.delete_provider(&a.id, &p.id).await.expect("now free"));
        let trunk_number = store
            .number_by_e164("+46700000009")
            .await
            .expect("get")
            .expect("trunk number");
        assert!(
            store
                .update_number(&a.id, &trunk_number.id, &pin(None))
                .await
                .expect("unpin")
        );
        assert!(
            store
                .bound_sip_providers()
                .await
                .expect("none bound")
                .is_empty()
        );
        assert!(!store.delete_provider(&a.id, &p.id).await.expect("gone"));
        db.finish().await;
    }
}

#[tokio::test]
async fn calls_turns_and_threads() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a");
        let thread = store
            .thread(&a.id, "+46700000009", "agt_1", 1_000)
            .await
            .expect("thread");
        let again = store
            .thread(&a.id, "+46700000009", "agt_1", 2_000)
            .await
            .expect("same");
        assert_eq!(thread, again, "{}", db.name);
        let other = store
            .thread(&a.id, "+46700000009", "agt_2", 2_000)
            .await
            .expect("other agent");
        assert_ne!(thread.id, other.id, "a new agent starts a new thread");

        let mut call = CallRecord {
            id: new_id("cal"),
            circle_id: a.id.clone(),
            carrier_call_id: "c1".to_owned(),
            number: "+46766860000".to_owned(),
            direction: "inbound".to_owned(),
            from: "+46700000009".to_owned(),
            to: "+46766860000".to_owned(),
            state: "active".to_owned(),
            agent_id: Some("agt_1".to_owned()),
            thread_id: Some(thread.id.clone()),
            started_at: 1_000,
            answered_at: Some(1_000),
            ended_at: None,
            end_reason: None,
            error: None,
            cost: None,
            whenhangup_url: None,
        };
        store.insert_call(&call).await.expect("call");
        assert_eq!(
            store.call_counts("+46766860000").await.expect("counts"),
            (1, 1)
        );
        for turn in 1..=2 {
            let t = CallTurn {
                turn,
                user: format!("question {turn} with 'quotes' and ünïcode"),
                agent: format!("answer {turn}"),
                interrupted: turn == 2,
                metrics: json!({"end_of_turn_ms": 300}),
            };
            store.insert_turn(&call.id, &t).await.expect("turn");
        }
        call.state = "completed".to_owned();
        call.ended_at = Some(9_000);
        call.end_reason = Some("hangup".to_owned());
        store.update_call(&call).await.expect("end");
        assert_eq!(
            store.call_counts("+46766860000").await.expect("counts"),
            (1, 0)
        );
        assert_eq!(
            store.call(&a.id, &call.id).await.expect("get"),
            Some(call.clone())
        );
        let turns = store.turns(&call.id).await.expect("turns");
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].user, "question 1 with 'quotes' and ünïcode");
        assert!(turns[1].interrupted && !turns[0].interrupted);

        for i in 0..30 {
            let m = ThreadMessage {
                role: if i % 2 == 0 { "user" } else { "assistant" }.to_owned(),
                content: format!("m{i}"),
                channel: "voice".to_owned(),
                call_id: Some(call.id.clone()),
                created_at: 1_000,
            };
            store.append_message(&thread.id, &m).await.expect("message");
        }
        let recent = store.recent_messages(&thread.id, 5).await.expect("recent");
        let texts: Vec<_> = recent.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            texts,
            ["m25", "m26", "m27", "m28", "m29"],
            "the last five, oldest first"
        );
        let threads = store
            .threads_by_contact(&a.id, "+46700000009")
            .await
            .expect("threads");
        assert_eq!(threads.len(), 2);
        db.finish().await;
    }
}

#[tokio::test]
async fn call_audio_is_served_with_its_token_until_it_expires() {
    for db in support::both().await {
        let store = db.store();
        let a = store.ensure_circle("a").await.expect("a");
        let call = CallRecord {
            id: new_id("cal"),
            circle_id: a.id.clone(),
            carrier_call_id: "c-audio".to_owned(),
            number: "+46766860000".to_owned(),
            direction: "outbound".to_owned(),
            from: "+46766860000".to_owned(),
            to: "+46700000009".to_owned(),
            state: "dialing".to_owned(),
            agent_id: None,
            thread_id: None,
            started_at: 1_000,
            answered_at: None,
            ended_at: None,
            end_reason: None,
            error: None,
            cost: None,
            whenhangup_url: None,
        };
        store.insert_call(&call).await.expect("call");
        let audio = CallAudio {
            id: new_id("aud"),
            circle_id: a.id.clone(),
            call_id: call.id.clone(),
            text: "Your table is booked.".to_owned(),
            token_hash: hash_key("tok"),
            duration_ms: 1_500,
            created_at: 1_000,
            expires_at: 301_000,
        };
        // Every byte value, and more than one page of a database row.
        let wav: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
        store.insert_call_audio(&audio, &wav).await.expect("insert");
        let got = |token: &'static str, now| {
            let store = Arc::clone(&store);
            let id = audio.id.clone();
            async move {
                store
                    .call_audio_bytes(&id, &hash_key(token), now)
                    .await
                    .expect("get")
            }
        };
        assert_eq!(
            got("tok", 2_000).await.as_deref(),
            Some(&wav[..]),
            "{}",
            db.name
        );
        assert_eq!(got("other", 2_000).await, None, "a wrong token");
        assert_eq!(got("tok", 301_000).await, None, "expired");
        assert_eq!(
            store.call_audio_of(&call.id).await.expect("of call"),
            Some(audio.clone())
        );
        assert_eq!(store.call_audio_of("cal_none").await.expect("none"), None);
        // Purging clears expired audio only, and keeps the row for the call record.
        assert_eq!(store.purge_call_audio(300_000).await.expect("purge"), 0);
        assert_eq!(store.purge_call_audio(301_000).await.expect("purge"), 1);
        assert_eq!(got("tok", 2_000).await, None, "purged");
        assert_eq!(
            store
                .call_audio_of(&call.id)
                .await
                .expect("kept")
                .map(|a| a.text),
            Some(audio.text.clone())
        );
        store
            .expire_call_audio(&audio.id, 5_000)
            .await
            .expect("expire");
        assert_eq!(
            store
                .call_audio_of(&call.id)
                .await
                .expect("kept")
                .map(|a| a.expires_at),
            Some(5_000)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn sqlite_is_wal_and_survives_a_reopen() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("voxgate.db");
    let store = voxgate_control_api::store::SqlStore::open_sqlite(&path)
        .await
        .expect("open");
    assert_eq!(store.backend(), Backend::Sqlite);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    store.ensure_circle("kept").await.expect("circle");
    store.close().await;
    // Reopening runs the migrations again: they are recorded, so nothing changes.
    let again = voxgate_control_api::store::SqlStore::open_sqlite(&path)
        .await
        .expect("reopen");
    assert!(again.circle("kept").await.expect("get").is_some());
    // A second process writing at once (voxgate keys create while the server runs).
    let other = voxgate_control_api::store::SqlStore::open_sqlite(&path)
        .await
        .expect("second");
    let (x, y) = tokio::join!(again.ensure_circle("x"), other.ensure_circle("y"));
    x.expect("x");
    y.expect("y");
}

#[tokio::test]
async fn a_bad_store_url_is_a_clear_error() {
    let err = voxgate_control_api::store::SqlStore::connect("mysql://x")
        .await
        .expect_err("mysql");
    assert_eq!(err.code(), "STORE_URL_INVALID");
    let err = voxgate_control_api::store::SqlStore::connect("postgres://nobody@127.0.0.1:1/x")
        .await
        .expect_err("nothing listens on port 1");
    assert_eq!(err.code(), "STORE_FAILED");
}
