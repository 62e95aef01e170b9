//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the request and response types. Open, like `/healthz`:
//! it describes the API and holds no data.

use axum::Json;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{agents, calls, elements, email, email_domains, email_mailbox, phone, telephony};
use crate::state::AppState;

/// The control API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "voxgate control API", description = "Circles, elements, agents, telephony, calls and threads."),
    paths(
        elements::create, elements::get_element, elements::update, elements::version,
        elements::delete_element, elements::enable, elements::disable, elements::schema,
        elements::stats,
        agents::list, agents::create, agents::get_agent, agents::update, agents::delete_agent,
        telephony::list_numbers, telephony::create_number, telephony::pin_number,
        telephony::delete_number, telephony::list_providers, telephony::create_provider,
        telephony::delete_provider,
        calls::list_calls, calls::get_call, calls::threads,
        phone::claim_sandbox, phone::release_sandbox, phone::provision, phone::release,
        phone::configure, phone::test_connection, phone::send_sms, phone::list_sms,
        phone::get_sms, phone::agent_call, phone::call_message, phone::list_calls, phone::get_call, phone::make_call, phone::agent_dial, phone::sip_register_test,
        email::send_mail, email::reply, email::send_tracked, email::rate_status,
        email::list_outbox, email::approve_dispatch, email::reject_dispatch,
        email::list_suppressions, email::add_suppression, email::remove_suppression,
        email::set_consent, email::list_events, email::list_messages,
        email_mailbox::list_inbox, email_mailbox::get_message, email_mailbox::search,
        email_mailbox::unread_count, email_mailbox::mark_read, email_mailbox::delete_message,
        email_mailbox::list_folders, email_mailbox::create_folder, email_mailbox::move_to_folder,
        email_mailbox::apply_label, email_mailbox::remove_label, email_mailbox::folder_counts,
        email_mailbox::batch_apply, email_mailbox::get_attachment,
        email_domains::add_domain, email_domains::verify_domain, email_domains::list_domains,
        email_domains::remove_domain, email_domains::bootstrap_managed_domain,
        email_domains::provision_address, email_domains::remove_address,
        email_domains::list_addresses,
    ),
    components(schemas(crate::error::ErrorBody, crate::element::phone::PhoneSpec)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
