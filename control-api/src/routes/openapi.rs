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
    modifiers(&BearerAuth, &Operations, &EveryError),
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

/// The errors every authenticated route may answer, added where a handler's annotation
/// leaves them out: 400 (a bad header, path, query or body), 401 (no or an unknown key),
/// 403 (a key of another circle, or too small a role) and, on paths with an id, 404. All
/// carry the error envelope. The agents' `AgentBody` is opened for its view's extra fields.
struct EveryError;

impl Modify for EveryError {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
        for (path, item) in &mut openapi.paths.paths {
            let has_id = path.contains('{');
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let authenticated = operation.security.is_some();
                for status in [400u16, 401, 403, 404] {
                    if (status == 404 && !has_id) || (status != 400 && !authenticated) {
                        continue;
                    }
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description("error envelope")
                                    .content(
                                        "application/json",
                                        Content::new(Some(RefOr::Ref(Ref::from_schema_name(
                                            "ErrorBody",
                                        )))),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
        // `AgentView` flattens `AgentBody`, which refuses unknown fields as a request body;
        // as part of a view it must allow the view's own (`id`, `created_at`, `updated_at`).
        if let Some(components) = openapi.components.as_mut()
            && let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(body))) =
                components.schemas.get_mut("AgentBody")
        {
            body.additional_properties = None;
        }
    }
}

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/api/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}
