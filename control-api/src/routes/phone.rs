//! Phone-number operations, `/api/{circle}/{slug}/ops/{operation}` (see
//! [`crate::phone`]), and the carrier's webhooks, `/api/webhooks/46elks/{sms,dlr,
//! voice/start,voice/hangup}` (open: they prove themselves with their own tokens).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use super::{Body, Path, Query};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::phone::page::PageQuery;
use crate::phone::sms::{GetSms, SendSms, Sent, SmsView};
use crate::phone::{calls, hooks, message, numbers, sms};
use crate::state::AppState;
use crate::store::Element;

pub(super) fn routes() -> axum::Router<AppState> {
    let ops = "/api/{circle}/{slug}/ops";
    axum::Router::new()
        .route(&format!("{ops}/claim_sandbox_number"), post(claim_sandbox))
        .route(
            &format!("{ops}/release_sandbox_number"),
            post(release_sandbox),
        )
        .route(&format!("{ops}/provision"), post(provision))
        .route(&format!("{ops}/release"), post(release))
        .route(&format!("{ops}/configure"), post(configure))
        .route(&format!("{ops}/test-connection"), get(test_connection))
        .route(&format!("{ops}/send-sms"), post(send_sms))
        .route(&format!("{ops}/list-sms"), get(list_sms))
        .route(&format!("{ops}/get-sms"), get(get_sms))
        .route(&format!("{ops}/agent-call"), post(agent_call))
        .route(&format!("{ops}/call-message"), post(call_message))
        .route(&format!("{ops}/list-calls"), get(list_calls))
        .route(&format!("{ops}/get-call"), get(get_call))
        .route(&format!("{ops}/make-call"), post(make_call))
        .route(&format!("{ops}/agent-dial"), post(agent_dial))
        .route(&format!("{ops}/sip-register-test"), post(sip_register_test))
        .route("/api/webhooks/46elks/sms", post(hook_sms))
        .route("/api/webhooks/46elks/dlr", post(hook_dlr))
        .route("/api/webhooks/46elks/voice/start", post(hook_voice_start))
        .route("/api/webhooks/46elks/voice/hangup", post(hook_voice_hangup))
        .route("/api/webhooks/46elks/audio/{file}", get(hook_audio))
}

/// The phone-number element `slug`, after checking the key may run `operation`.
async fn load(
    state: &AppState,
    caller: &Caller,
    circle: &str,
    slug: &str,
    operation: &str,
) -> Result<Element, ApiError> {
    let element = super::elements::load(state, caller, circle, slug, operation).await?;
    crate::phone::spec_of(&element)?;
    Ok(element)
}

type Slug = Path<(String, String)>;

/// Lease a sandbox number (idempotent).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/claim_sandbox_number", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn claim_sandbox(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "claim_sandbox_number").await?;
    numbers::claim_sandbox(&state, &element).await.map(Json)
}

/// Give the sandbox number back (idempotent).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/release_sandbox_number", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn release_sandbox(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "release_sandbox_number").await?;
    numbers::release_sandbox(&state, &element).await.map(Json)
}

/// Rent a number at the carrier and configure it.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/provision", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = numbers::Provision,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn provision(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<numbers::Provision>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "provision").await?;
    numbers::provision(&state, &element, body).await.map(Json)
}

/// Give the rented number back to the carrier, for good.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/release", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn release(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "release").await?;
    numbers::release(&state, &element).await.map(Json)
}

/// Register fresh webhook URLs at the carrier.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/configure", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn configure(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "configure").await?;
    numbers::configure(&state, &element).await.map(Json)
}

/// Phone numbers: account status, balance and number status. Mailboxes: EHLO, STARTTLS
/// and AUTH at the SMTP server (and a login at the IMAP server). Sends nothing.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/test-connection", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn test_connection(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    // Phone numbers and mailboxes share the operation's name (and path).
    let element = super::elements::load(&state, &caller, &circle, &slug, "test-connection").await?;
    if element.element_type == crate::element::ElementType::Email.as_str() {
        return crate::email::connection::test(&state, &element)
            .await
            .map(Json);
    }
    crate::phone::spec_of(&element)?;
    numbers::test_connection(&state, &element).await.map(Json)
}

/// Send an SMS.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/send-sms", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = SendSms,
    responses((status = 200, body = Sent), (status = 400, body = ErrorBody),
              (status = 402, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn send_sms(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<SendSms>,
) -> Result<Json<Sent>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "send-sms").await?;
    sms::send(&state, &element, body).await.map(Json)
}

/// SMS both ways, newest first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-sms", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path), PageQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_sms(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "list-sms").await?;
    sms::list(&state, &element, &query).await.map(Json)
}

/// One SMS.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/get-sms", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path), GetSms),
    responses((status = 200, body = SmsView), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_sms(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<GetSms>,
) -> Result<Json<SmsView>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "get-sms").await?;
    sms::get(&state, &element, &query.message_id)
        .await
        .map(Json)
}

/// Call a number; an agent talks when it answers.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/agent-call", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = calls::AgentCall,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn agent_call(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<calls::AgentCall>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "agent-call").await?;
    calls::agent_call(&state, &element, body).await.map(Json)
}

/// Call a number and play it a spoken message.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/call-message", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = message::CallMessage,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 502, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn call_message(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<message::CallMessage>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "call-message").await?;
    message::call_message(&state, &element, body)
        .await
        .map(Json)
}

/// Calls on the number, newest first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-calls", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path), PageQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_calls(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "list-calls").await?;
    calls::list(&state, &element, &query).await.map(Json)
}

/// One call on the number, with its turns.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/get-call", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path), calls::GetCall),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_call(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<calls::GetCall>,
) -> Result<Json<crate::routes::calls::CallView>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "get-call").await?;
    calls::get(&state, &element, &query.call_id).await.map(Json)
}

/// A call over the element's SIP trunk; the number's agent talks when it is answered.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/make-call", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = crate::phone::sip::SipCall,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn make_call(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<crate::phone::sip::SipCall>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "make-call").await?;
    crate::phone::sip::dial(&state, &element, body, false)
        .await
        .map(Json)
}

/// A call over the element's SIP trunk with the named agent talking.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/agent-dial", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = crate::phone::sip::SipCall,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn agent_dial(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<crate::phone::sip::SipCall>,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "agent-dial").await?;
    crate::phone::sip::dial(&state, &element, body, true)
        .await
        .map(Json)
}

/// One REGISTER round trip with the element's SIP trunk (digest), then an unregister.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/sip-register-test", tag = "phone",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 502, body = ErrorBody), (status = 503, body = ErrorBody),
              (status = 504, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn sip_register_test(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load(&state, &caller, &circle, &slug, "sip-register-test").await?;
    crate::phone::sip::register_test(&state, &element)
        .await
        .map(Json)
}

/// A webhook's query: the element token, or a delivery report's message and tag.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HookQuery {
    token: Option<String>,
    element: Option<String>,
    sms: Option<String>,
    tag: Option<String>,
}

/// Inbound SMS from the carrier (form-encoded); answered 204 with no body (no reply SMS).
async fn hook_sms(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    hooks::inbound_sms(&state, q.token.as_deref(), &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A delivery report from the carrier.
async fn hook_dlr(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    hooks::delivery_report(&state, q.sms.as_deref(), q.tag.as_deref(), &body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An incoming call: answered with the JSON call action.
async fn hook_voice_start(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    hooks::voice_start(&state, q.token.as_deref(), &body)
        .await
        .map(Json)
}

/// A `call-message` message's audio, fetched by the carrier (its token is the credential).
async fn hook_audio(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HookQuery>,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let wav = message::audio(&state, &file, q.token.as_deref()).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "audio/wav"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        wav,
    ))
}

/// A call ended.
async fn hook_voice_hangup(
    State(state): State<AppState>,
    Query(q): Query<HookQuery>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let tagged = q.element.as_deref().zip(q.tag.as_deref());
    let hangup = hooks::hangup(&state, q.token.as_deref(), tagged, &body).await?;
    tracing::info!(callid = %hangup.callid, state = %hangup.state, "call ended at the carrier");
    Ok(StatusCode::NO_CONTENT)
}
