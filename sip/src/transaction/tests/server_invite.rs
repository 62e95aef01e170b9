//! The INVITE server transaction (§17.2.1, RFC 6026 §8.5-8.7).

use std::time::Instant;

use rsip::prelude::*;

use super::super::TransactionErrorKind::{
    AckWithoutTransaction, LateResponse, NotMine, WrongMethod,
};
use super::super::{Output, ServerInvite, State, Timers};
use super::{
    BRANCH, SENT_BY, answer, drain, drain_at, invite, kind, ms, request_from, response_on, rows,
    run_timers,
};

/// A server INVITE transaction for Alice's INVITE, received at `t0`.
fn proceeding(t0: Instant) -> ServerInvite {
    let tx = ServerInvite::new(t0, Timers::default(), &invite()).expect("an INVITE");
    assert_eq!(tx.state(), State::Proceeding);
    tx
}

/// The ACK to a non-2xx, with the INVITE's branch.
fn ack() -> rsip::Request {
    request_from("ACK", BRANCH, SENT_BY)
}

#[test]
fn sends_100_trying_when_the_tu_is_silent_for_200_ms() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    assert_eq!(drain(&mut tx), vec![]);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(200)));
    tx.handle_timeout(t0 + ms(200));
    let out = drain(&mut tx);
    let [Output::Transmit(rsip::SipMessage::Response(trying))] = &out[..] else {
        panic!("expected a 100 Trying: {out:?}");
    };
    // §8.2.6: Vias in order, From, To without a new tag, Call-ID, CSeq, Timestamp.
    let invite = invite();
    assert_eq!(trying.status_code.code(), 100);
    let vias = |headers: &rsip::Headers| -> Vec<rsip::Header> {
        headers
            .iter()
            .filter(|h| matches!(h, rsip::Header::Via(_)))
            .cloned()
            .collect()
    };
    assert_eq!(vias(&trying.headers), vias(&invite.headers));
    assert_eq!(
        trying.to_header().expect("to"),
        invite.to_header().expect("to")
    );
    assert_eq!(
        trying.from_header().expect("from"),
        invite.from_header().expect("from")
    );
    assert_eq!(
        trying.cseq_header().expect("cseq"),
        invite.cseq_header().expect("cseq")
    );
    assert!(
        trying
            .headers
            .iter()
            .any(|h| matches!(h, rsip::Header::Timestamp(_)))
    );

    // A retransmitted INVITE is answered with that 100.
    tx.handle_request(t0 + ms(500), invite).expect("mine");
    assert_eq!(drain_at(&mut tx, 500), rows(&[(500, "tx 100")]));
}

#[test]
fn no_100_when_the_tu_answers_first_and_retransmissions_get_the_last_provisional() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    tx.handle_request(t0 + ms(50), invite()).expect("mine");
    assert_eq!(drain(&mut tx), vec![], "nothing to repeat yet");
    tx.send_response(t0 + ms(150), answer("180 Ringing"))
        .expect("a provisional");
    assert_eq!(drain_at(&mut tx, 150), rows(&[(150, "tx 180")]));
    assert_eq!(tx.poll_timeout(), None, "the 100 Trying timer is cancelled");
    tx.send_response(t0 + ms(300), answer("183 Session Progress"))
        .expect("a provisional");
    tx.handle_request(t0 + ms(500), invite()).expect("mine");
    assert_eq!(
        drain_at(&mut tx, 300),
        rows(&[(300, "tx 183"), (300, "tx 183")]),
        "the most recent provisional is repeated"
    );
}

#[test]
fn completed_retransmits_with_timer_g_until_the_ack_confirms() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    tx.send_response(t0, answer("486 Busy Here"))
        .expect("a final");
    assert_eq!(drain_at(&mut tx, 0), rows(&[(0, "tx 486")]));
    assert_eq!(tx.state(), State::Completed);
    // Timer G: 0.5, 1, 2, 4, 4 s ...
    assert_eq!(
        run_timers(&mut tx, t0, 12_000),
        rows(&[
            (500, "tx 486"),
            (1500, "tx 486"),
            (3500, "tx 486"),
            (7500, "tx 486"),
            (11_500, "tx 486")
        ])
    );
    tx.handle_request(t0 + ms(12_000), invite()).expect("mine");
    assert_eq!(drain_at(&mut tx, 12_000), rows(&[(12_000, "tx 486")]));

    tx.handle_request(t0 + ms(13_000), ack())
        .expect("the ACK is mine");
    assert_eq!(drain(&mut tx), vec![], "the ACK is absorbed, not passed up");
    assert_eq!(tx.state(), State::Confirmed);
    tx.handle_request(t0 + ms(13_100), ack()).expect("mine");
    tx.handle_request(t0 + ms(13_200), invite()).expect("mine");
    assert_eq!(drain(&mut tx), vec![], "Confirmed absorbs everything");
    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(18_000, "terminated")]),
        "no more Timer G; Timer I is T4 from the ACK"
    );
}

#[test]
fn timer_h_ends_a_completed_transaction_without_ack() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    tx.send_response(t0 + ms(100), answer("603 Decline"))
        .expect("a final");
    drain(&mut tx);
    let flow = run_timers(&mut tx, t0, 60_000);
    assert_eq!(
        flow.iter().filter(|(_, s)| s == "tx 603").count(),
        10,
        "G at 0.6, 1.6, 3.6, 7.6, then every 4 s to 31.6: {flow:?}"
    );
    assert_eq!(
        flow.get(flow.len() - 2..),
        Some(&rows(&[(32_100, "timeout"), (32_100, "terminated")])[..])
    );
}

#[test]
fn accepted_absorbs_invites_passes_acks_and_sends_the_dialogs_2xx() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    tx.send_response(t0 + ms(100), answer("200 OK"))
        .expect("a 2xx");
    assert_eq!(drain_at(&mut tx, 100), rows(&[(100, "tx 200")]));
    assert_eq!(tx.state(), State::Accepted);

    tx.handle_request(t0 + ms(600), invite()).expect("mine");
    assert_eq!(
        drain(&mut tx),
        vec![],
        "a retransmitted INVITE is absorbed (RFC 6026)"
    );
    tx.send_response(t0 + ms(600), answer("200 OK"))
        .expect("the dialog's retransmission");
    assert_eq!(drain_at(&mut tx, 600), rows(&[(600, "tx 200")]));
    tx.handle_request(t0 + ms(700), invite())
        .expect("a second one is absorbed too");
    tx.handle_request(t0 + ms(800), ack()).expect("mine");
    assert_eq!(drain_at(&mut tx, 800), rows(&[(800, "ack")]));
    assert_eq!(
        kind(tx.send_response(t0 + ms(900), answer("486 Busy Here"))),
        LateResponse
    );
    assert_eq!(
        kind(tx.send_response(t0 + ms(900), answer("180 Ringing"))),
        LateResponse
    );

    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(32_100, "terminated")]),
        "Timer L is 64×T1 from the 2xx"
    );
}

#[test]
fn refusals() {
    let t0 = Instant::now();
    let timers = Timers::default();
    assert_eq!(
        kind(ServerInvite::new(t0, timers, &ack())),
        AckWithoutTransaction
    );
    let bye = request_from("BYE", BRANCH, SENT_BY);
    assert_eq!(kind(ServerInvite::new(t0, timers, &bye)), WrongMethod);

    let mut tx = proceeding(t0);
    let other = request_from("INVITE", "z9hG4bKother", SENT_BY);
    assert_eq!(kind(tx.handle_request(t0, other)), NotMine);
    let foreign = response_on("180 Ringing", "INVITE", "z9hG4bKother", "x");
    assert_eq!(kind(tx.send_response(t0, foreign)), NotMine);
    tx.send_response(t0, answer("404 Not Found"))
        .expect("a final");
    assert_eq!(kind(tx.send_response(t0, answer("500 Oops"))), LateResponse);
}

#[test]
fn a_transport_error_ends_it_except_in_accepted() {
    let t0 = Instant::now();
    let mut tx = proceeding(t0);
    tx.send_response(t0, answer("180 Ringing"))
        .expect("provisional");
    tx.handle_transport_error(t0 + ms(1));
    assert_eq!(
        drain_at(&mut tx, 1),
        rows(&[(1, "tx 180"), (1, "transport error"), (1, "terminated")])
    );

    let mut tx = proceeding(t0);
    tx.send_response(t0, answer("200 OK")).expect("2xx");
    tx.handle_transport_error(t0 + ms(1));
    assert_eq!(
        drain_at(&mut tx, 1),
        rows(&[(1, "tx 200"), (1, "transport error")])
    );
    assert_eq!(tx.state(), State::Accepted);
}
