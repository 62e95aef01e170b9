//! The phone-number element's own operations (`000_*.txt`), with the documented names,
//! methods and roles. The work is in [`crate::phone`].

use axum::http::Method;

use super::{ElementCx, Errors, NoInput, Op, op};
use crate::auth::Role;
use crate::phone::calls::{self, AgentCall, GetCall};
use crate::phone::message::{self, CallMessage};
use crate::phone::numbers::{self, Configure, Provision};
use crate::phone::page::PageQuery;
use crate::phone::sip::{self, RegisterTest, SipCall};
use crate::phone::sms::{self, GetSms, SendPayload, SendSms};

/// The phone-number operations.
pub(super) fn ops() -> Vec<Op<ElementCx>> {
    vec![
        op(
            "claim_sandbox_number",
            Method::POST,
            Role::Write,
            "lease a number from the sandbox pool (outbound only, daily SMS cap); idempotent",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            numbers::claim_sandbox(&cx.state, &cx.element).await
        }),
        op(
            "release_sandbox_number",
            Method::POST,
            Role::Write,
            "give the sandbox number back (idempotent)",
        )
        .run(|cx: ElementCx, _: NoInput| async move {
            numbers::release_sandbox(&cx.state, &cx.element).await
        }),
        op(
            "provision",
            Method::POST,
            Role::Write,
            "rent a number at the carrier (country, capabilities) and configure it",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: Provision| async move {
            numbers::provision(&cx.state, &cx.element, body).await
        }),
        op(
            "release",
            Method::POST,
            Role::Write,
            "give the rented number back to the carrier, for good",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            numbers::release(&cx.state, &cx.element).await
        }),
        op(
            "configure",
            Method::POST,
            Role::Write,
            "save the number's own sms_url / voice_start_url and register voxgate's webhooks at the carrier",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: Configure| async move {
            numbers::configure(&cx.state, &cx.element, body).await
        }),
        op(
            "test_connection",
            Method::POST,
            Role::Execute,
            "carrier authentication, account balance and number status; sends nothing",
        )
        .path("test-connection")
        .alias("test_connection")
        .also(Method::GET)
        .errors(Errors::Remote)
        .run(|cx: ElementCx, _: NoInput| async move {
            numbers::test_connection(&cx.state, &cx.element).await
        }),
        op(
            "send-sms",
            Method::POST,
            Role::Write,
            "send an SMS (stored before it is attempted)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SendSms| async move {
            sms::send(&cx.state, &cx.element, body).await
        }),
        op(
            "send",
            Method::POST,
            Role::Execute,
            "send the payload (to, body, sender_id) as an SMS",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SendPayload| async move {
            sms::send(&cx.state, &cx.element, body.payload).await
        }),
        op(
            "list-sms",
            Method::GET,
            Role::Read,
            "SMS both ways, newest first, with a page token",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: PageQuery| async move {
            sms::list(&cx.state, &cx.element, &query).await
        }),
        op("get-sms", Method::GET, Role::Read, "one SMS by message_id")
            .errors(Errors::Input)
            .run(|cx: ElementCx, query: GetSms| async move {
                sms::get(&cx.state, &cx.element, &query.message_id).await
            }),
        op(
            "make-call",
            Method::POST,
            Role::Write,
            "a call over the number's SIP registration; its agent talks when answered",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SipCall| async move {
            sip::dial(&cx.state, &cx.element, body, false).await
        }),
        op(
            "agent-dial",
            Method::POST,
            Role::Execute,
            "the headless SIP UA dials; the bound agent talks when answered",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: SipCall| async move {
            sip::dial(&cx.state, &cx.element, body, true).await
        }),
        op(
            "agent-call",
            Method::POST,
            Role::Write,
            "call a number through the carrier; the bound agent talks when it answers",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: AgentCall| async move {
            calls::agent_call(&cx.state, &cx.element, body).await
        }),
        op(
            "call-message",
            Method::POST,
            Role::Write,
            "call a number and play it a spoken message (at most 1200 characters)",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: CallMessage| async move {
            message::call_message(&cx.state, &cx.element, body).await
        }),
        op(
            "list-calls",
            Method::GET,
            Role::Read,
            "calls on the number, newest first, with a page token",
        )
        .errors(Errors::Input)
        .run(|cx: ElementCx, query: PageQuery| async move {
            calls::list(&cx.state, &cx.element, &query).await
        }),
        op("get-call", Method::GET, Role::Read, "one call by call_id")
            .errors(Errors::Input)
            .run(|cx: ElementCx, query: GetCall| async move {
                calls::get(&cx.state, &cx.element, &query.call_id).await
            }),
        op(
            "sip-register-test",
            Method::POST,
            Role::Execute,
            "one SIP REGISTER round trip with the number's SIP credentials (or sip_user / sip_pass), then unregister",
        )
        .errors(Errors::Remote)
        .run(|cx: ElementCx, body: RegisterTest| async move {
            sip::register_test(&cx.state, &cx.element, body).await
        }),
    ]
}
