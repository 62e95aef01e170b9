//! Email operations, `/api/{circle}/{slug}/ops/{operation}` (see [`crate::email`]): sending,
//! the outbox, suppressions and consent, the audit log and stored messages; and the open
//! tracking routes `/t/open/{id}`, `/t/click/{id}`, `/t/unsubscribe/{id}` (their tokens are
//! the proof). Mailbox (IMAP) operations are in `email_mailbox`, domains and addresses in
//! `email_domains`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;

use super::{Body, Path, Query};
use crate::auth::Caller;
use crate::email::audit::{self, EventsQuery};
use crate::email::outbox::{self, OutboxQuery, Review};
use crate::email::send::{self, Kind, ReplyMail, SendMail};
use crate::email::suppress::{self, ConsentChange, SuppressionChange, SuppressionsQuery};
use crate::email::{deliver, messages, track};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::store::Element;

pub(super) fn routes() -> axum::Router<AppState> {
    let ops = "/api/{circle}/{slug}/ops";
    axum::Router::new()
        .route(&format!("{ops}/send"), post(send_mail))
        .route(&format!("{ops}/reply"), post(reply))
        .route(&format!("{ops}/send_tracked"), post(send_tracked))
        .route(&format!("{ops}/rate-status"), get(rate_status))
        .route(&format!("{ops}/list_outbox"), get(list_outbox))
        .route(&format!("{ops}/approve_dispatch"), post(approve_dispatch))
        .route(&format!("{ops}/reject_dispatch"), post(reject_dispatch))
        .route(&format!("{ops}/list-suppressions"), get(list_suppressions))
        .route(&format!("{ops}/add-suppression"), post(add_suppression))
        .route(
            &format!("{ops}/remove-suppression"),
            post(remove_suppression),
        )
        .route(&format!("{ops}/set-consent"), post(set_consent))
        .route(&format!("{ops}/list-events"), get(list_events))
        .route(&format!("{ops}/list-messages"), get(list_messages))
        .route("/t/open/{id}", get(track_open))
        .route("/t/click/{id}", get(track_click))
        .route(
            "/t/unsubscribe/{id}",
            get(unsubscribe_page).post(unsubscribe),
        )
        // Attachments may be 20 MiB (base64: a third more); axum's default is 2 MB.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The largest request body of the email routes.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// An email element `slug`, after the role check.
pub(super) async fn load_email(
    state: &AppState,
    caller: &Caller,
    circle: &str,
    slug: &str,
    operation: &str,
) -> Result<Element, ApiError> {
    let element = super::elements::load(state, caller, circle, slug, operation).await?;
    crate::element::email::spec_of(&element)?;
    Ok(element)
}

type Slug = Path<(String, String)>;

/// Send a message (stored first; the outbox holds it under `send_policy = outbox`).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/send", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = SendMail,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn send_mail(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<SendMail>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "send").await?;
    send::send(&state, &element, &caller.key_id, body, Kind::Send)
        .await
        .map(Json)
}

/// Reply to a stored message: threading headers and "Re: ".
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/reply", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = ReplyMail,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn reply(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<ReplyMail>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "reply").await?;
    send::reply(&state, &element, &caller.key_id, body)
        .await
        .map(Json)
}

/// Send with open and click tracking (the recipients' consent is required).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/send_tracked", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = SendMail,
    responses((status = 200, body = Object), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn send_tracked(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<SendMail>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "send_tracked").await?;
    send::send(&state, &element, &caller.key_id, body, Kind::Tracked)
        .await
        .map(Json)
}

/// The circle's daily cap, what it sent today, and what is left.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/rate-status", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn rate_status(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "rate-status").await?;
    deliver::rate_status(&state, &element.circle_id)
        .await
        .map(Json)
}

/// Drafts waiting for approval (or other outgoing states), newest first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list_outbox", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), OutboxQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_outbox(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list_outbox").await?;
    outbox::list(&state, &element, &query).await.map(Json)
}

/// Approve a pending draft: it is sent at once.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/approve_dispatch", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = Review,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn approve_dispatch(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<Review>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "approve_dispatch").await?;
    outbox::approve(&state, &element, &caller.key_id, &body)
        .await
        .map(Json)
}

/// Reject a pending draft.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/reject_dispatch", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = Review,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn reject_dispatch(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<Review>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "reject_dispatch").await?;
    outbox::reject(&state, &element, &caller.key_id, &body)
        .await
        .map(Json)
}

/// The circle's suppression list, by address.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-suppressions", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), SuppressionsQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_suppressions(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<SuppressionsQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list-suppressions").await?;
    suppress::list(&state, &element, &query).await.map(Json)
}

/// Suppress an address (admin; a reason is required).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/add-suppression", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = SuppressionChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn add_suppression(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<SuppressionChange>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "add-suppression").await?;
    suppress::add(&state, &element, &caller.key_id, &body)
        .await
        .map(Json)
}

/// Lift a suppression (admin; a reason is required).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/remove-suppression", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)),
    request_body = SuppressionChange,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove_suppression(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<SuppressionChange>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "remove-suppression").await?;
    suppress::remove(&state, &element, &caller.key_id, &body)
        .await
        .map(Json)
}

/// Record a contact's consent (`none`, `soft_optin`, `double_optin`).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/set-consent", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = ConsentChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn set_consent(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<ConsentChange>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "set-consent").await?;
    suppress::set_consent(&state, &element, &caller.key_id, &body)
        .await
        .map(Json)
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-events", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), EventsQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_events(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<EventsQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list-events").await?;
    let element_id = if query.circle_wide {
        caller.require(crate::auth::Role::Admin)?;
        None
    } else {
        Some(element.id.as_str())
    };
    audit::list(&state, &element.circle_id, element_id, &query)
        .await
        .map(Json)
}

/// Stored messages both ways (sent and received), newest first.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-messages", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), messages::MessagesQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub(crate) async fn list_messages(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<messages::MessagesQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list-messages").await?;
    messages::list(&state, &element, &query).await.map(Json)
}

/// An open pixel.
async fn track_open(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    track::open(&state, &id).await
}

/// A click redirect.
async fn track_click(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    track::click(&state, &id).await
}

/// The unsubscribe confirmation form.
async fn unsubscribe_page(Path(id): Path<String>) -> Response {
    track::unsubscribe_page(&id).await
}

/// One-click unsubscribe (RFC 8058) or the form's POST; `address=` picks one recipient.
async fn unsubscribe(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let address = form_field(&body, "address");
    track::unsubscribe(&state, &id, address.as_deref()).await
}

/// A field of an `application/x-www-form-urlencoded` body (`None` when absent or not a
/// form).
fn form_field(body: &[u8], name: &str) -> Option<String> {
    body.split(|&b| b == b'&').find_map(|pair| {
        let at = pair.iter().position(|&b| b == b'=')?;
        let key = crate::carrier::webhook::decode(&pair[..at]).ok()?;
        (key == name)
            .then(|| crate::carrier::webhook::decode(&pair[at + 1..]).ok())
            .flatten()
    })
}
