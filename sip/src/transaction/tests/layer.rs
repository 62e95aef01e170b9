//! The transaction table: routing, CANCEL matching, merged timeouts, clean-up.

use std::net::SocketAddr;
use std::time::Instant;

use super::super::TransactionErrorKind::{DuplicateTransaction, NoMagicCookie, UnknownTransaction};
use super::super::{
    LayerOutput, Output, Routed, State, Timers, TransactionKey, TransactionLayer, cancel_for,
};
use super::{BRANCH, SENT_BY, answer, invite, kind, ms, request_from, response_on, summary};

/// Bob's address, where the layer sends.
fn bob() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 4], 5060))
}

/// Every queued output as `(key method, peer, summary)`.
fn drain(layer: &mut TransactionLayer) -> Vec<(rsip::Method, SocketAddr, String)> {
    std::iter::from_fn(|| layer.poll_output())
        .map(|LayerOutput { key, peer, output }| (key.method(), peer, summary(&output)))
        .collect()
}

/// Routes `request`, expecting it to match nothing.
fn new_request(
    layer: &mut TransactionLayer,
    now: Instant,
    request: rsip::Request,
) -> rsip::Request {
    match layer.handle_message(now, request.into()).expect("routable") {
        Routed::NewRequest(request) => request,
        other => panic!("expected a new request, got {other:?}"),
    }
}

#[test]
fn client_transactions_get_their_responses_and_strays_go_up() {
    let t0 = Instant::now();
    let mut layer = TransactionLayer::new(Timers::default());
    let key = layer.send_request(t0, invite(), bob()).expect("sent");
    assert_eq!(
        drain(&mut layer),
        [(rsip::Method::Invite, bob(), "tx INVITE".into())]
    );

    let routed = layer.handle_message(t0 + ms(100), answer("180 Ringing").into());
    assert_eq!(routed.expect("routable"), Routed::Matched(key.clone()));
    assert_eq!(
        drain(&mut layer),
        [(rsip::Method::Invite, bob(), "up 180".into())]
    );
    assert_eq!(layer.state(&key), Some(State::Proceeding));

    let stray = response_on("200 OK", "INVITE", "z9hG4bKgone", "x");
    let routed = layer.handle_message(t0 + ms(200), stray.clone().into());
    assert_eq!(routed.expect("routable"), Routed::StrayResponse(stray));
    assert_eq!(
        kind(layer.send_request(t0, invite(), bob())),
        DuplicateTransaction
    );
}

#[test]
fn server_transactions_absorb_retransmissions_and_cancel_finds_its_invite() {
    let t0 = Instant::now();
    let mut layer = TransactionLayer::new(Timers::default());
    let invite = new_request(&mut layer, t0, invite());
    let key = layer.create_server(t0, &invite, bob()).expect("created");
    assert_eq!(
        kind(layer.create_server(t0, &invite, bob())),
        DuplicateTransaction
    );

    let routed = layer.handle_message(t0 + ms(10), invite.clone().into());
    assert_eq!(routed.expect("routable"), Routed::Matched(key.clone()));
    assert_eq!(
        drain(&mut layer),
        [],
        "absorbed: no provisional to repeat yet"
    );

    // §9.2: the INVITE whose key matches the CANCEL's but for the method.
    let cancel = request_from("CANCEL", BRANCH, SENT_BY);
    let routed = layer.handle_message(t0 + ms(20), cancel.clone().into());
    assert_eq!(
        routed.expect("routable"),
        Routed::Cancel {
            request: cancel.clone(),
            invite: Some(key.clone())
        }
    );
    // Another branch or another sent-by cancels nothing: the TU answers 481.
    for (branch, sent_by) in [("z9hG4bKother", SENT_BY), (BRANCH, "198.51.100.7:5060")] {
        let stranger = request_from("CANCEL", branch, sent_by);
        let routed = layer.handle_message(t0 + ms(20), stranger.clone().into());
        assert_eq!(
            routed.expect("routable"),
            Routed::Cancel {
                request: stranger,
                invite: None
            }
        );
    }
    // The CANCEL gets its own transaction; its retransmission matches that one.
    let cancel_key = layer
        .create_server(t0 + ms(20), &cancel, bob())
        .expect("created");
    assert_ne!(cancel_key, key);
    layer
        .send_response(
            t0 + ms(21),
            &cancel_key,
            response_on("200 OK", "CANCEL", BRANCH, "b"),
        )
        .expect("answered");
    layer
        .send_response(
            t0 + ms(21),
            &key,
            response_on("487 Request Terminated", "INVITE", BRANCH, "b"),
        )
        .expect("answered");
    let routed = layer.handle_message(t0 + ms(30), cancel.into());
    assert_eq!(routed.expect("routable"), Routed::Matched(cancel_key));
    assert_eq!(
        drain(&mut layer),
        [
            (rsip::Method::Cancel, bob(), "tx 200".into()),
            (rsip::Method::Invite, bob(), "tx 487".into()),
            (rsip::Method::Cancel, bob(), "tx 200".into()),
        ]
    );

    // The ACK to the 487 carries the INVITE's branch: it confirms the INVITE transaction.
    let ack = request_from("ACK", BRANCH, SENT_BY);
    let routed = layer.handle_message(t0 + ms(40), ack.into());
    assert_eq!(routed.expect("routable"), Routed::Matched(key.clone()));
    assert_eq!(layer.state(&key), Some(State::Confirmed));
}

#[test]
fn an_ack_to_a_2xx_is_a_new_request_for_the_dialog() {
    let t0 = Instant::now();
    let mut layer = TransactionLayer::new(Timers::default());
    let invite = new_request(&mut layer, t0, invite());
    let key = layer.create_server(t0, &invite, bob()).expect("created");
    layer
        .send_response(t0, &key, answer("200 OK"))
        .expect("answered");
    // §17.1.1.3: the ACK to a 2xx is its own transaction, with a new branch.
    let ack = request_from("ACK", "z9hG4bKnewack", SENT_BY);
    assert_eq!(new_request(&mut layer, t0 + ms(50), ack.clone()), ack);
    assert_eq!(layer.state(&key), Some(State::Accepted));
}

#[test]
fn timeouts_merge_and_terminated_transactions_are_dropped() {
    let t0 = Instant::now();
    let mut layer = TransactionLayer::new(Timers::default());
    let bye = request_from("BYE", "z9hG4bKbye1", SENT_BY);
    let client = layer.send_request(t0, bye, bob()).expect("sent");
    let invite = new_request(&mut layer, t0 + ms(100), invite());
    let server = layer
        .create_server(t0 + ms(100), &invite, bob())
        .expect("created");
    drain(&mut layer);
    assert_eq!(layer.len(), 2);
    // The earliest deadline is the server's 100 Trying (t0+300), then the client's E (500).
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(300)));
    layer.handle_timeout(t0 + ms(300));
    assert_eq!(
        drain(&mut layer),
        [(rsip::Method::Invite, bob(), "tx 100".into())]
    );
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(500)));

    layer
        .handle_message(
            t0 + ms(400),
            response_on("200 OK", "BYE", "z9hG4bKbye1", "t").into(),
        )
        .expect("routable");
    layer
        .send_response(t0 + ms(400), &server, answer("200 OK"))
        .expect("answered");
    drain(&mut layer);
    // K (T4) ends the client at 5.4 s; L (64×T1) ends the server at 32.4 s.
    assert_eq!(layer.poll_timeout(), Some(t0 + ms(5400)));
    layer.handle_timeout(t0 + ms(5400));
    assert_eq!(
        drain(&mut layer),
        [(rsip::Method::Bye, bob(), "terminated".into())]
    );
    assert_eq!((layer.len(), layer.state(&client)), (1, None));
    layer.handle_timeout(t0 + ms(32_400));
    assert_eq!(
        drain(&mut layer),
        [(rsip::Method::Invite, bob(), "terminated".into())]
    );
    assert!(layer.is_empty());
    assert_eq!(layer.poll_timeout(), None);
    assert_eq!(
        kind(layer.send_response(t0, &server, answer("200 OK"))),
        UnknownTransaction
    );
    assert_eq!(
        kind(layer.handle_transport_error(t0, &server)),
        UnknownTransaction
    );
}

#[test]
fn rfc2543_requests_and_bad_input_are_errors_not_panics() {
    let t0 = Instant::now();
    let mut layer = TransactionLayer::new(Timers::default());
    let old = request_from("INVITE", "74bf9", SENT_BY);
    assert_eq!(kind(layer.handle_message(t0, old.into())), NoMagicCookie);
    let transport_failed = layer.send_request(t0, invite(), bob()).expect("sent");
    layer
        .handle_transport_error(t0, &transport_failed)
        .expect("known");
    let outputs: Vec<Output> = std::iter::from_fn(|| layer.poll_output())
        .map(|o| o.output)
        .collect();
    assert_eq!(
        outputs.get(1..),
        Some(&[Output::TransportError, Output::Terminated][..])
    );
    assert!(layer.is_empty());
}

#[test]
fn cancel_for_copies_the_invite_and_keys_its_own_client_transaction() {
    let invite = invite();
    let cancel = cancel_for(&invite).expect("an INVITE");
    assert_eq!(cancel.method, rsip::Method::Cancel);
    assert_eq!(cancel.uri, invite.uri);
    let cancel_key = TransactionKey::for_outgoing(&cancel).expect("key");
    let invite_key = TransactionKey::for_outgoing(&invite).expect("key");
    assert_eq!(cancel_key, invite_key.with_method(rsip::Method::Cancel));
    assert!(cancel.to_string().contains("CSeq: 1 CANCEL"), "{cancel}");
    let bye = request_from("BYE", BRANCH, SENT_BY);
    assert!(cancel_for(&bye).is_err());
}
