//! Element operations: `POST /api/{circle}/ops/create` and
//! `/api/{circle}/{slug}/ops/{get,update,version,delete,enable,disable,schema,stats}`.
//! Each checks the key's circle and the operation's role from the element operation table.

use axum::Json;
use axum::http::StatusCode;
use axum::routing::{any, delete, get, patch, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Body, Path, Query};
use crate::auth::{Caller, Role};
use crate::element::merge::merge;
use crate::element::{self, CREATE_ROLE, ElementType, ElementView, check_name, role_of};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::ids::{new_id, now_ms, rfc3339};
use crate::state::AppState;
use crate::store::Element;

/// Attempts of an update that loses a version race to a concurrent one.
const UPDATE_ATTEMPTS: usize = 3;

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/{circle}/ops/create", post(create))
        .route("/api/{circle}/{slug}/ops/get", get(get_element))
        .route("/api/{circle}/{slug}/ops/update", patch(update))
        .route("/api/{circle}/{slug}/ops/version", get(version))
        .route("/api/{circle}/{slug}/ops/delete", delete(delete_element))
        .route("/api/{circle}/{slug}/ops/enable", post(enable))
        .route("/api/{circle}/{slug}/ops/disable", post(disable))
        .route("/api/{circle}/{slug}/ops/schema", get(schema))
        .route("/api/{circle}/{slug}/ops/stats", get(stats))
        .route(
            "/api/{circle}/{slug}/ops/{operation}",
            any(unknown_operation),
        )
}

/// `ops/create` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateElement {
    /// `phone-number`, `email` or `websocket`.
    element_type: String,
    /// Unique per circle: 1-63 of a-z, 0-9, `-`.
    slug: String,
    /// The type's spec; defaults are filled in.
    #[serde(default)]
    #[schema(value_type = Object)]
    spec: Value,
}

/// `ops/update` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateElement {
    /// The change: merged into the spec (RFC 7396), or the whole new spec with `deep: false`.
    #[schema(value_type = Object)]
    spec: Value,
    /// Merge (default) or replace.
    #[serde(default = "yes")]
    deep: bool,
}

fn yes() -> bool {
    true
}

/// `ops/version` query.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct VersionQuery {
    /// Include every version.
    #[serde(default)]
    history: bool,
}

/// The element `slug` of `circle`, after checking the key may run `operation` there.
pub(super) async fn load(
    state: &AppState,
    caller: &Caller,
    circle: &str,
    slug: &str,
    operation: &str,
) -> Result<Element, ApiError> {
    caller.may(circle, role_of(operation).unwrap_or(Role::Admin))?;
    state
        .store()
        .element(&caller.circle.id, slug)
        .await?
        .ok_or_else(|| element_not_found(slug))
}

/// The number of a phone-number element, if it has one (other types have no calls).
fn phone_number(element: &Element) -> Option<&str> {
    (element.element_type == ElementType::PhoneNumber.as_str())
        .then(|| element.spec.get("number").and_then(Value::as_str))
        .flatten()
}

/// Seals an email spec's plain `smtp_password` for element `id` before it is stored
/// (`previous`: the stored spec on update). 503 `SECRETS_UNAVAILABLE` without the key.
fn seal_password(
    state: &AppState,
    spec: &mut Value,
    previous: Option<&Value>,
    id: &str,
) -> Result<(), ApiError> {
    element::email::seal_password(spec, previous, id, state.sealer().ok())
}

fn element_not_found(slug: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::ElementNotFound,
        format!("no element {:?} in this circle", crate::e164::clip(slug)),
    )
}

/// Create an element.
#[utoipa::path(post, path = "/api/{circle}/ops/create", tag = "elements",
    params(("circle" = String, Path)), request_body = CreateElement,
    responses((status = 201, body = ElementView), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path(circle): Path<String>,
    Body(body): Body<CreateElement>,
) -> Result<(StatusCode, Json<ElementView>), ApiError> {
    caller.may(&circle, CREATE_ROLE)?;
    let element_type = ElementType::parse(&body.element_type)?;
    check_name("slug", ErrorCode::ElementInvalidSlug, &body.slug)?;
    let spec = if body.spec.is_null() {
        json!({})
    } else {
        body.spec
    };
    let mut validated = element_type.validate(&spec)?;
    let id = new_id("elm");
    match element_type {
        ElementType::PhoneNumber => element::phone::check_managed(None, &validated.spec)?,
        ElementType::Email => seal_password(&state, &mut validated.spec, None, &id)?,
        ElementType::Websocket => {}
    }
    let now = now_ms();
    let element = Element {
        id,
        circle_id: caller.circle.id.clone(),
        element_type: element_type.as_str().to_owned(),
        slug: body.slug,
        spec: validated.spec,
        enabled: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    state.store().insert_element(&element).await?;
    tracing::info!(circle = %circle, slug = %element.slug, key = %caller.key_id, "element created");
    Ok((
        StatusCode::CREATED,
        Json(ElementView::new(element, validated.warnings)),
    ))
}

/// Get an element.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/get", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = ElementView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_element(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<ElementView>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "get").await?;
    Ok(Json(ElementView::new(element, Vec::new())))
}

/// Update an element's spec (deep merge by default); records a version.
#[utoipa::path(patch, path = "/api/{circle}/{slug}/ops/update", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = UpdateElement,
    responses((status = 200, body = ElementView), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
    Body(body): Body<UpdateElement>,
) -> Result<Json<ElementView>, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = load(&state, &caller, &circle, &slug, "update").await?;
        let element_type = ElementType::parse(&current.element_type)?;
        let spec = if body.deep {
            // Defaults that follow other fields go, so that the merge takes them along.
            let mut spec = match element_type {
                ElementType::Email => element::email::unfill(&current.spec),
                _ => current.spec.clone(),
            };
            merge(&mut spec, &body.spec);
            spec
        } else {
            body.spec.clone()
        };
        let mut validated = element_type.validate(&spec)?;
        match element_type {
            ElementType::PhoneNumber => {
                element::phone::check_managed(Some(&current.spec), &validated.spec)?;
            }
            ElementType::Email => {
                seal_password(
                    &state,
                    &mut validated.spec,
                    Some(&current.spec),
                    &current.id,
                )?;
            }
            ElementType::Websocket => {}
        }
        match state
            .store()
            .save_spec(&current.id, current.version, &validated.spec, now_ms())
            .await
        {
            Ok(saved) => return Ok(Json(ElementView::new(saved, validated.warnings))),
            Err(ApiError::Conflict { .. }) if attempt < UPDATE_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}

/// The element's version; `?history=true` for every version.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/version", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path), VersionQuery),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn version(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "version").await?;
    let mut out = json!({"version": element.version, "updated_at": rfc3339(element.updated_at)});
    if query.history {
        let email = element.element_type == ElementType::Email.as_str();
        let history: Vec<Value> = state
            .store()
            .element_versions(&element.id)
            .await?
            .into_iter()
            .map(|mut v| {
                if email {
                    element::email::redact(&mut v.spec);
                }
                json!({"version": v.version, "spec": v.spec, "created_at": rfc3339(v.created_at)})
            })
            .collect();
        out["history"] = Value::Array(history);
    }
    Ok(Json(out))
}

/// Soft-delete an element; refused while calls on its number are active.
#[utoipa::path(delete, path = "/api/{circle}/{slug}/ops/delete", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete_element(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "delete").await?;
    if let Some(number) = phone_number(&element) {
        let (_, active) = state.store().call_counts(number).await?;
        if active > 0 {
            return Err(ApiError::conflict(
                ErrorCode::PhoneCallsActive,
                format!("{active} call(s) on {number} are active; delete after they end"),
            ));
        }
    }
    if element.element_type == ElementType::PhoneNumber.as_str() {
        // A rented number would go on costing rent with nobody to release it.
        if !element.spec["carrier_number_id"].is_null() {
            return Err(ApiError::conflict(
                ErrorCode::PhoneNumberProvisioned,
                "the element rents a number at the carrier; release it first",
            ));
        }
        // A sandbox number goes back to the pool.
        state.store().release_sandbox(&element.id).await?;
        state.store().set_hook(&element.id, None, now_ms()).await?;
    }
    state.store().delete_element(&element.id, now_ms()).await?;
    tracing::info!(circle = %circle, slug = %slug, key = %caller.key_id, "element deleted");
    Ok(Json(json!({"deleted": true, "slug": slug})))
}

async fn set_enabled(
    state: &AppState,
    caller: &Caller,
    circle: &str,
    slug: &str,
    enabled: bool,
) -> Result<Json<ElementView>, ApiError> {
    let operation = if enabled { "enable" } else { "disable" };
    let element = load(state, caller, circle, slug, operation).await?;
    state
        .store()
        .set_element_enabled(&element.id, enabled, now_ms())
        .await?;
    let element = state
        .store()
        .element(&caller.circle.id, slug)
        .await?
        .ok_or_else(|| element_not_found(slug))?;
    Ok(Json(ElementView::new(element, Vec::new())))
}

/// Enable an element.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/enable", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = ElementView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn enable(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<ElementView>, ApiError> {
    set_enabled(&state, &caller, &circle, &slug, true).await
}

/// Disable an element.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/disable", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = ElementView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn disable(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<ElementView>, ApiError> {
    set_enabled(&state, &caller, &circle, &slug, false).await
}

/// Ports, spec schema and operations of the element's type.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/schema", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn schema(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "schema").await?;
    Ok(Json(element::schema(ElementType::parse(
        &element.element_type,
    )?)))
}

/// Versions and activity of an element.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/stats", tag = "elements",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn stats(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path((circle, slug)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "stats").await?;
    let versions = state.store().element_versions(&element.id).await?.len();
    let mut out = json!({
        "element_type": element.element_type,
        "slug": element.slug,
        "enabled": element.enabled,
        "version": element.version,
        "versions": versions,
        "created_at": rfc3339(element.created_at),
        "updated_at": rfc3339(element.updated_at),
    });
    if let Some(number) = phone_number(&element) {
        let (total, active) = state.store().call_counts(number).await?;
        out["calls"] = json!({"total": total, "active": active});
    }
    Ok(Json(out))
}

/// Operations the element type does not have (yet): 404 `OPERATION_NOT_FOUND`.
async fn unknown_operation(
    caller: Caller,
    Path((circle, _slug, operation)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.in_circle(&circle)?;
    Err(ApiError::not_found(
        ErrorCode::OperationNotFound,
        format!("no operation {:?}", crate::e164::clip(&operation)),
    ))
}
