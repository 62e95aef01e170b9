//! The non-INVITE client transaction (§17.1.2).

use std::time::Instant;

use super::super::TransactionErrorKind::{AckWithoutTransaction, WrongMethod};
use super::super::{ClientNonInvite, State, Timers};
use super::{
    BRANCH, SENT_BY, drain, drain_at, invite, kind, ms, request_from, response_on, rows, run_timers,
};

/// A BYE client transaction started at `t0`, its first transmission drained.
fn trying(t0: Instant) -> ClientNonInvite {
    let bye = request_from("BYE", BRANCH, SENT_BY);
    let mut tx = ClientNonInvite::new(t0, Timers::default(), bye).expect("a BYE");
    assert_eq!(drain_at(&mut tx, 0), rows(&[(0, "tx BYE")]));
    assert_eq!(tx.state(), State::Trying);
    tx
}

/// A response to the BYE.
fn answer(status: &str) -> rsip::Response {
    response_on(status, "BYE", BRANCH, "8321234356")
}

#[test]
fn timer_e_doubles_up_to_t2_until_timer_f() {
    let t0 = Instant::now();
    let mut tx = trying(t0);
    // Intervals 0.5, 1, 2, then capped at T2 = 4 s; F at 64×T1 = 32 s.
    let expected = rows(&[
        (500, "tx BYE"),
        (1500, "tx BYE"),
        (3500, "tx BYE"),
        (7500, "tx BYE"),
        (11_500, "tx BYE"),
        (15_500, "tx BYE"),
        (19_500, "tx BYE"),
        (23_500, "tx BYE"),
        (27_500, "tx BYE"),
        (31_500, "tx BYE"),
        (32_000, "timeout"),
        (32_000, "terminated"),
    ]);
    assert_eq!(run_timers(&mut tx, t0, 60_000), expected);
    assert!(tx.is_terminated());
}

#[test]
fn in_proceeding_timer_e_fires_every_t2_and_f_still_runs() {
    let t0 = Instant::now();
    let mut tx = trying(t0);
    tx.handle_response(t0 + ms(200), answer("100 Trying"))
        .expect("mine");
    assert_eq!(drain_at(&mut tx, 200), rows(&[(200, "up 100")]));
    assert_eq!(tx.state(), State::Proceeding);
    let expected = rows(&[
        (500, "tx BYE"),
        (4500, "tx BYE"),
        (8500, "tx BYE"),
        (12_500, "tx BYE"),
        (16_500, "tx BYE"),
        (20_500, "tx BYE"),
        (24_500, "tx BYE"),
        (28_500, "tx BYE"),
        (32_000, "timeout"),
        (32_000, "terminated"),
    ]);
    assert_eq!(run_timers(&mut tx, t0, 60_000), expected);
}

#[test]
fn a_final_completes_and_timer_k_absorbs_retransmissions() {
    let t0 = Instant::now();
    let mut tx = trying(t0);
    assert_eq!(run_timers(&mut tx, t0, 600), rows(&[(500, "tx BYE")]));
    tx.handle_response(t0 + ms(700), answer("200 OK"))
        .expect("mine");
    assert_eq!(drain_at(&mut tx, 700), rows(&[(700, "up 200")]));
    assert_eq!(tx.state(), State::Completed);
    tx.handle_response(t0 + ms(1200), answer("200 OK"))
        .expect("mine");
    tx.handle_response(t0 + ms(1300), answer("180 Ringing"))
        .expect("mine");
    assert_eq!(drain(&mut tx), vec![], "retransmissions are absorbed");
    assert_eq!(
        run_timers(&mut tx, t0, 60_000),
        rows(&[(5700, "terminated")]),
        "Timer K is T4 from the final, and no retransmission follows it"
    );
}

#[test]
fn invite_and_ack_are_refused() {
    let t0 = Instant::now();
    assert_eq!(
        kind(ClientNonInvite::new(t0, Timers::default(), invite())),
        WrongMethod
    );
    let ack = request_from("ACK", BRANCH, SENT_BY);
    assert_eq!(
        kind(ClientNonInvite::new(t0, Timers::default(), ack)),
        AckWithoutTransaction
    );
}
