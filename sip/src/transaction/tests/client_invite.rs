//! The INVITE client transaction (§17.1.1, RFC 6026 §8.4).

use std::time::Instant;

use rsip::prelude::*;

use super::super::TransactionErrorKind::{NoMagicCookie, NotMine, WrongMethod};
use super::super::{ClientInvite, Output, State, Timers};
use super::{
    BRANCH, SENT_BY, answer, drain, drain_at, invite, kind, ms, request_from, response_on, rows,
    run_timers,
};

/// A client INVITE transaction started at `t0`, its first transmission drained.
fn calling(t0: Instant) -> ClientInvite {
    let mut tx = ClientInvite::new(t0, Timers::default(), invite()).expect("an INVITE");
    assert_eq!(drain_at(&mut tx, 0), rows(&[(0, "tx INVITE")]));
    tx
}

#[test]
fn timer_a_retransmits_until_timer_b_times_out() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    // RFC 3261 §17.1.1.2 over UDP: 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s, then B at 32 s.
    let expected = rows(&[
        (500, "tx INVITE"),
        (1500, "tx INVITE"),
        (3500, "tx INVITE"),
        (7500, "tx INVITE"),
        (15_500, "tx INVITE"),
        (31_500, "tx INVITE"),
        (32_000, "timeout"),
        (32_000, "terminated"),
    ]);
    assert_eq!(run_timers(&mut tx, t0, 60_000), expected);
    assert!(tx.is_terminated());
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn a_provisional_stops_timers_a_and_b() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    tx.handle_response(t0 + ms(200), answer("180 Ringing"))
        .expect("mine");
    assert_eq!(drain_at(&mut tx, 200), rows(&[(200, "up 180")]));
    assert_eq!(tx.state(), State::Proceeding);
    assert_eq!(
        tx.poll_timeout(),
        None,
        "no retransmission, no Timer B in Proceeding"
    );
    tx.handle_response(t0 + ms(300), answer("183 Session Progress"))
        .expect("mine");
    assert_eq!(drain_at(&mut tx, 300), rows(&[(300, "up 183")]));
}

#[test]
fn a_non_2xx_is_acked_by_the_transaction_with_the_responses_to_tag() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    tx.handle_response(t0 + ms(100), answer("180 Ringing"))
        .expect("mine");
    drain(&mut tx);
    tx.handle_response(t0 + ms(900), answer("486 Busy Here"))
        .expect("mine");
    let out = drain(&mut tx);
    let [
        Output::Transmit(rsip::SipMessage::Request(ack)),
        Output::Response(busy),
    ] = &out[..]
    else {
        panic!("expected the ACK, then the 486 to the TU: {out:?}");
    };
    assert_eq!(busy.status_code.code(), 486);
    assert_eq!(tx.state(), State::Completed);

    // §17.1.1.3: same Request-URI, Call-ID, From, CSeq number, a single Via equal to the
    // INVITE's top Via, the response's To (with its tag), and the INVITE's Route.
    let invite = invite();
    assert_eq!(ack.method, rsip::Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    let vias: Vec<_> = ack
        .headers
        .iter()
        .filter(|h| matches!(h, rsip::Header::Via(_)))
        .collect();
    assert_eq!(vias.len(), 1);
    let via = ack.via_header().expect("via").typed().expect("typed");
    assert_eq!(
        via,
        invite.via_header().expect("via").typed().expect("typed")
    );
    assert_eq!(
        ack.to_header()
            .expect("to")
            .tag()
            .expect("tag")
            .expect("a tag")
            .value(),
        "8321234356"
    );
    assert_eq!(
        ack.from_header().expect("from"),
        invite.from_header().expect("from")
    );
    assert_eq!(
        ack.call_id_header().expect("id"),
        invite.call_id_header().expect("id")
    );
    let cseq = ack.cseq_header().expect("cseq").typed().expect("typed");
    assert_eq!((cseq.seq, cseq.method), (1, rsip::Method::Ack));
    assert_eq!(ack.route_header(), invite.route_header());
    assert!(ack.route_header().is_some());

    // A retransmitted 486 gets the same ACK again and is not passed up; Timer D ends it.
    tx.handle_response(t0 + ms(1400), answer("486 Busy Here"))
        .expect("mine");
    let again = drain(&mut tx);
    assert_eq!(again, vec![Output::Transmit(ack.clone().into())]);
    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(32_900, "terminated")]),
        "Timer D is 32 s from the 486"
    );
}

#[test]
fn accepted_passes_every_2xx_up_until_timer_m() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    tx.handle_response(t0 + ms(400), answer("200 OK"))
        .expect("mine");
    assert_eq!(drain_at(&mut tx, 400), rows(&[(400, "up 200")]));
    assert_eq!(tx.state(), State::Accepted);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(32_400)), "Timer M, not A");

    // Retransmissions and a forked 2xx (another To tag) reach the TU; nothing is sent.
    tx.handle_response(t0 + ms(900), answer("200 OK"))
        .expect("mine");
    let fork = response_on("200 OK", "INVITE", BRANCH, "fork2");
    tx.handle_response(t0 + ms(950), fork).expect("mine");
    // A late provisional or a non-2xx final is absorbed.
    tx.handle_response(t0 + ms(960), answer("180 Ringing"))
        .expect("mine");
    tx.handle_response(t0 + ms(970), answer("486 Busy Here"))
        .expect("mine");
    assert_eq!(
        drain_at(&mut tx, 900),
        rows(&[(900, "up 200"), (900, "up 200")])
    );

    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(32_400, "terminated")])
    );
    tx.handle_response(t0 + ms(40_000), answer("200 OK"))
        .expect("ignored once terminated");
    assert_eq!(drain(&mut tx), vec![]);
}

#[test]
fn a_transport_error_ends_the_transaction() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    tx.handle_transport_error(t0 + ms(10));
    assert_eq!(
        drain_at(&mut tx, 10),
        rows(&[(10, "transport error"), (10, "terminated")])
    );
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn responses_of_other_transactions_are_refused() {
    let t0 = Instant::now();
    let mut tx = calling(t0);
    let other_branch = response_on("200 OK", "INVITE", "z9hG4bKother", "x");
    assert_eq!(kind(tx.handle_response(t0, other_branch)), NotMine);
    let other_method = response_on("200 OK", "CANCEL", BRANCH, "x");
    assert_eq!(kind(tx.handle_response(t0, other_method)), NotMine);
    assert_eq!(tx.state(), State::Calling);
    assert_eq!(drain(&mut tx), vec![]);
}

#[test]
fn only_rfc3261_invites_start_one() {
    let t0 = Instant::now();
    let bye = request_from("BYE", BRANCH, SENT_BY);
    assert_eq!(
        kind(ClientInvite::new(t0, Timers::default(), bye)),
        WrongMethod
    );
    let rfc2543 = request_from("INVITE", "74bf9", SENT_BY);
    assert_eq!(
        kind(ClientInvite::new(t0, Timers::default(), rfc2543)),
        NoMagicCookie
    );
}
