//! The non-INVITE server transaction (§17.2.2).

use std::time::Instant;

use super::super::TransactionErrorKind::{
    AckWithoutTransaction, LateResponse, NotMine, WrongMethod,
};
use super::super::{ServerNonInvite, State, Timers};
use super::{
    BRANCH, SENT_BY, drain, drain_at, invite, kind, ms, request_from, response_on, rows, run_timers,
};

/// Alice's BYE.
fn bye() -> rsip::Request {
    request_from("BYE", BRANCH, SENT_BY)
}

/// A response to the BYE.
fn answer(status: &str) -> rsip::Response {
    response_on(status, "BYE", BRANCH, "8321234356")
}

#[test]
fn retransmissions_get_the_last_response_and_timer_j_ends_it() {
    let t0 = Instant::now();
    let mut tx = ServerNonInvite::new(t0, Timers::default(), &bye()).expect("a BYE");
    assert_eq!(tx.state(), State::Trying);
    assert_eq!(tx.poll_timeout(), None);
    tx.handle_request(t0 + ms(500), &bye()).expect("mine");
    assert_eq!(
        drain(&mut tx),
        vec![],
        "absorbed while the TU has not answered"
    );

    tx.send_response(t0 + ms(600), answer("100 Trying"))
        .expect("provisional");
    tx.handle_request(t0 + ms(1500), &bye()).expect("mine");
    assert_eq!(
        drain_at(&mut tx, 600),
        rows(&[(600, "tx 100"), (600, "tx 100")])
    );
    assert_eq!(tx.state(), State::Proceeding);

    tx.send_response(t0 + ms(2000), answer("200 OK"))
        .expect("final");
    assert_eq!(tx.state(), State::Completed);
    tx.handle_request(t0 + ms(3500), &bye()).expect("mine");
    assert_eq!(
        drain_at(&mut tx, 2000),
        rows(&[(2000, "tx 200"), (2000, "tx 200")])
    );
    assert_eq!(
        kind(tx.send_response(t0 + ms(3600), answer("500 Oops"))),
        LateResponse
    );
    assert_eq!(
        kind(tx.send_response(t0 + ms(3600), answer("180 Ringing"))),
        LateResponse
    );

    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(34_000, "terminated")]),
        "Timer J is 64×T1 from the final"
    );
    tx.handle_request(t0 + ms(35_000), &bye())
        .expect("ignored once terminated");
    assert_eq!(drain(&mut tx), vec![]);
}

#[test]
fn refusals_and_transport_error() {
    let t0 = Instant::now();
    let timers = Timers::default();
    assert_eq!(
        kind(ServerNonInvite::new(t0, timers, &invite())),
        WrongMethod
    );
    let ack = request_from("ACK", BRANCH, SENT_BY);
    assert_eq!(
        kind(ServerNonInvite::new(t0, timers, &ack)),
        AckWithoutTransaction
    );

    let mut tx = ServerNonInvite::new(t0, timers, &bye()).expect("a BYE");
    let elsewhere = request_from("BYE", BRANCH, "198.51.100.7:5060");
    assert_eq!(kind(tx.handle_request(t0, &elsewhere)), NotMine);
    let to_invite = response_on("200 OK", "INVITE", BRANCH, "x");
    assert_eq!(kind(tx.send_response(t0, to_invite)), NotMine);

    tx.send_response(t0, answer("200 OK")).expect("final");
    tx.handle_transport_error(t0 + ms(5));
    assert_eq!(
        drain_at(&mut tx, 5),
        rows(&[(5, "tx 200"), (5, "transport error"), (5, "terminated")])
    );
    assert!(tx.is_terminated());
}
