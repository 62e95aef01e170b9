//! Email domains and addresses, `/api/{circle}/{slug}/ops/{operation}` of an email element
//! (see [`crate::email::domains`] and [`crate::email::addresses`]). Domains belong to the
//! circle, so any of its email elements reaches them; addresses belong to the element.

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::Value;

use super::email::load_email;
use super::{Body, Path};
use crate::auth::Caller;
use crate::email::addresses::{self, AddressRequest};
use crate::email::domains::{self, BootstrapRequest, DomainRequest};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    let ops = "/api/{circle}/{slug}/ops";
    axum::Router::new()
        .route(&format!("{ops}/add_domain"), post(add_domain))
        .route(&format!("{ops}/verify_domain"), post(verify_domain))
        .route(&format!("{ops}/list_domains"), get(list_domains))
        .route(&format!("{ops}/remove_domain"), post(remove_domain))
        .route(
            &format!("{ops}/bootstrap_managed_domain"),
            post(bootstrap_managed_domain),
        )
        .route(&format!("{ops}/provision-address"), post(provision_address))
        .route(&format!("{ops}/remove-address"), post(remove_address))
        .route(&format!("{ops}/list-addresses"), get(list_addresses))
}

type Slug = Path<(String, String)>;

/// Add a sending domain: the DNS records to publish (idempotent: the same token again).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/add_domain", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = DomainRequest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn add_domain(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<DomainRequest>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "add_domain").await?;
    domains::add(&state, &element, &body).await.map(Json)
}

/// Look the domain's verification TXT record up in DNS and mark it verified.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/verify_domain", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = DomainRequest,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn verify_domain(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<DomainRequest>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "verify_domain").await?;
    domains::verify(&state, &element, &body).await.map(Json)
}

/// The circle's domains, by name, with their records.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list_domains", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_domains(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list_domains").await?;
    domains::list(&state, &element).await.map(Json)
}

/// Remove a domain of the circle (not its managed one).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/remove_domain", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = DomainRequest,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove_domain(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<DomainRequest>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "remove_domain").await?;
    domains::remove(&state, &element, &body).await.map(Json)
}

/// The circle's domain under the first platform domain, verified at once (idempotent).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/bootstrap_managed_domain", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = BootstrapRequest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn bootstrap_managed_domain(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(BootstrapRequest {}): Body<BootstrapRequest>,
) -> Result<Json<Value>, ApiError> {
    let operation = "bootstrap_managed_domain";
    let element = load_email(&state, &caller, &circle, &slug, operation).await?;
    domains::bootstrap(&state, &element, &caller.circle.name)
        .await
        .map(Json)
}

/// Add a receiving address to the element (idempotent).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/provision-address", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = AddressRequest,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn provision_address(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<AddressRequest>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "provision-address").await?;
    addresses::provision(&state, &element, &body)
        .await
        .map(Json)
}

/// Remove a receiving address (not the primary one).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/remove-address", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = AddressRequest,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove_address(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<AddressRequest>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "remove-address").await?;
    addresses::remove(&state, &element, &body).await.map(Json)
}

/// The element's receiving addresses, the primary one first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-addresses", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_addresses(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list-addresses").await?;
    addresses::list(&state, &element).await.map(Json)
}
