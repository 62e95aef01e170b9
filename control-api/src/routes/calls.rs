//! Call records and conversation threads: `GET /api/v1/calls`, `GET /api/v1/calls/{id}`
//! (with its turns), `GET /api/v1/threads?contact=+46...` (with their recent messages). All
//! need `read`, in the key's circle.

use axum::Json;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{Path, Query};
use crate::auth::{Caller, Role};
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::ids::rfc3339;
use crate::state::AppState;
use crate::store::{CallRecord, CallTurn, Thread, ThreadMessage};

/// Messages returned per thread.
const THREAD_MESSAGES: i64 = 200;

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/calls", get(list_calls))
        .route("/api/v1/calls/{id}", get(get_call))
        .route("/api/v1/threads", get(threads))
}

/// A call as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CallView {
    id: String,
    carrier_call_id: String,
    number: String,
    direction: String,
    from: String,
    to: String,
    state: String,
    agent_id: Option<String>,
    thread_id: Option<String>,
    started_at: String,
    answered_at: Option<String>,
    ended_at: Option<String>,
    /// Seconds from answer (or start) to end.
    duration_s: Option<f64>,
    end_reason: Option<String>,
    error: Option<String>,
    /// Present on `GET /api/v1/calls/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    turns: Option<Vec<CallTurn>>,
}

impl CallView {
    pub(crate) fn new(c: CallRecord, turns: Option<Vec<CallTurn>>) -> Self {
        let duration_s = c
            .ended_at
            .map(|end| (end - c.answered_at.unwrap_or(c.started_at)) as f64 / 1000.0);
        Self {
            id: c.id,
            carrier_call_id: c.carrier_call_id,
            number: c.number,
            direction: c.direction,
            from: c.from,
            to: c.to,
            state: c.state,
            agent_id: c.agent_id,
            thread_id: c.thread_id,
            started_at: rfc3339(c.started_at),
            answered_at: c.answered_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
            duration_s,
            end_reason: c.end_reason,
            error: c.error,
            turns,
        }
    }
}

/// `?limit=` (1-500, default 50).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct CallsQuery {
    limit: Option<i64>,
}

/// The circle's calls, newest first.
#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", params(CallsQuery),
    responses((status = 200, body = [CallView]), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_calls(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Query(query): Query<CallsQuery>,
) -> Result<Json<Vec<CallView>>, ApiError> {
    caller.require(Role::Read)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            ErrorCode::InvalidQuery,
            "limit must be between 1 and 500",
        ));
    }
    let calls = state.store().calls(&caller.circle.id, limit).await?;
    Ok(Json(
        calls.into_iter().map(|c| CallView::new(c, None)).collect(),
    ))
}

/// One call with its turns (transcript and per-turn metrics).
#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "calls", params(("id" = String, Path)),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_call(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    caller.require(Role::Read)?;
    let call = state
        .store()
        .call(&caller.circle.id, &id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(ErrorCode::CallNotFound, format!("no call {:?}", clip(&id)))
        })?;
    let turns = state.store().turns(&call.id).await?;
    Ok(Json(CallView::new(call, Some(turns))))
}

/// `?contact=+46...` (required).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct ThreadsQuery {
    /// The contact's E.164 number.
    contact: Option<String>,
}

/// A thread with its recent messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ThreadView {
    id: String,
    contact: String,
    agent_id: String,
    created_at: String,
    #[schema(value_type = Vec<Object>)]
    messages: Vec<MessageView>,
}

#[derive(Debug, Serialize)]
struct MessageView {
    role: String,
    content: String,
    channel: String,
    call_id: Option<String>,
    created_at: String,
}

impl MessageView {
    fn new(m: ThreadMessage) -> Self {
        Self {
            role: m.role,
            content: m.content,
            channel: m.channel,
            call_id: m.call_id,
            created_at: rfc3339(m.created_at),
        }
    }
}

async fn thread_view(state: &AppState, t: Thread) -> Result<ThreadView, ApiError> {
    let messages = state
        .store()
        .recent_messages(&t.id, THREAD_MESSAGES)
        .await?;
    Ok(ThreadView {
        id: t.id,
        contact: t.contact,
        agent_id: t.agent_id,
        created_at: rfc3339(t.created_at),
        messages: messages.into_iter().map(MessageView::new).collect(),
    })
}

/// The circle's threads with a contact (one per agent the contact has talked to).
#[utoipa::path(get, path = "/api/v1/threads", tag = "calls", params(ThreadsQuery),
    responses((status = 200, body = [ThreadView]), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn threads(
    caller: Caller,
    state: axum::extract::State<AppState>,
    Query(query): Query<ThreadsQuery>,
) -> Result<Json<Vec<ThreadView>>, ApiError> {
    caller.require(Role::Read)?;
    let contact = query
        .contact
        .ok_or_else(|| ApiError::invalid(ErrorCode::InvalidQuery, "contact=+E164 is required"))?;
    let contact = E164::parse(&contact)?;
    let mut out = Vec::new();
    for t in state
        .store()
        .threads_by_contact(&caller.circle.id, contact.as_str())
        .await?
    {
        out.push(thread_view(&state, t).await?);
    }
    Ok(Json(out))
}
