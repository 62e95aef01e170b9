//! Agents: `GET|POST /api/v1/agents`, `GET|PATCH|DELETE /api/v1/agents/{id}`, in the key's
//! circle (an `X-Account-ID` header, if sent, must name it). Reading needs `read`; changes
//! need `write`.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::Value;

use super::{Body, Path};
use crate::agent::{AgentBody, AgentView};
use crate::auth::{Caller, Role};
use crate::element::merge::merge;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::state::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/agents", get(list).post(create))
        .route(
            "/api/v1/agents/{id}",
            get(get_agent).patch(update).delete(delete_agent),
        )
}

/// Checks the role and, if the header is there, that `X-Account-ID` is the key's circle.
fn allow(caller: &Caller, headers: &HeaderMap, role: Role) -> Result<(), ApiError> {
    if let Some(account) = headers.get("x-account-id").and_then(|v| v.to_str().ok()) {
        caller.in_circle(account.trim())?;
    }
    caller.require(role)
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::AgentNotFound,
        format!("no agent {:?}", crate::e164::clip(id)),
    )
}

/// List the circle's agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = [AgentView])), security(("bearer" = [])))]
pub(crate) async fn list(
    caller: Caller,
    headers: HeaderMap,
    state: axum::extract::State<AppState>,
) -> Result<Json<Vec<AgentView>>, ApiError> {
    allow(&caller, &headers, Role::Read)?;
    let agents = state.store().agents(&caller.circle.id).await?;
    Ok(Json(
        agents
            .into_iter()
            .map(AgentView::new)
            .collect::<Result<_, _>>()?,
    ))
}

/// Create an agent (`name` required; everything else has a default).
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = Object,
    responses((status = 201, body = AgentView), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create(
    caller: Caller,
    headers: HeaderMap,
    state: axum::extract::State<AppState>,
    Body(patch): Body<Value>,
) -> Result<(StatusCode, Json<AgentView>), ApiError> {
    allow(&caller, &headers, Role::Write)?;
    let record = crate::agent::new_record(&caller.circle.id, &patch)?;
    state.store().insert_agent(&record).await?;
    Ok((StatusCode::CREATED, Json(AgentView::new(record)?)))
}

/// Get an agent.
#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    responses((status = 200, body = AgentView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_agent(
    caller: Caller,
    headers: HeaderMap,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, ApiError> {
    allow(&caller, &headers, Role::Read)?;
    let record = state
        .store()
        .agent(&caller.circle.id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(AgentView::new(record)?))
}

/// Update an agent (merged like element specs).
#[utoipa::path(patch, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    request_body = Object,
    responses((status = 200, body = AgentView), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn update(
    caller: Caller,
    headers: HeaderMap,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
    Body(patch): Body<Value>,
) -> Result<Json<AgentView>, ApiError> {
    allow(&caller, &headers, Role::Write)?;
    if !patch.is_object() {
        return Err(ApiError::invalid(
            ErrorCode::AgentInvalid,
            "an agent is a JSON object",
        ));
    }
    let mut record = state
        .store()
        .agent(&caller.circle.id, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    merge(&mut record.body, &patch);
    let body = AgentBody::validate(&record.body)?;
    record.body = serde_json::to_value(body).map_err(|e| ApiError::Store(e.to_string()))?;
    record.updated_at = state.now_ms();
    if !state.store().update_agent(&record).await? {
        return Err(not_found(&id));
    }
    Ok(Json(AgentView::new(record)?))
}

/// Delete an agent; its numbers are unpinned, its threads stay readable.
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete_agent(
    caller: Caller,
    headers: HeaderMap,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    allow(&caller, &headers, Role::Write)?;
    if state.store().delete_agent(&caller.circle.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
