//! `GET /api/openapi.json`: the OpenAPI 3.1 document, generated from the operation tables
//! ([`crate::ops`]) and the other handlers' `#[utoipa::path]` annotations, with the request
//! and response types. Open, like `/healthz`:
//! it describes the API and holds no data.

use axum::Json;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{agents, calls, telephony};
use crate::state::AppState;

/// The control API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "voxgate control API", description = "Circles, elements, agents, telephony, calls and threads."),
    paths(
        agents::list, agents::create, agents::get_agent, agents::update, agents::delete_agent,
        telephony::list_numbers, telephony::create_number, telephony::pin_number,
        telephony::delete_number, telephony::list_providers, telephony::create_provider,
        telephony::delete_provider,
        calls::list_calls, calls::get_call, calls::threads,
    ),
    components(schemas(crate::error::ErrorBody, crate::element::phone::PhoneSpec)),
    modifiers(&BearerAuth, &Operations),
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

/// The element and circle operations, from their tables.
struct Operations;

impl Modify for Operations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        crate::ops::openapi::add_paths(openapi);
    }
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
