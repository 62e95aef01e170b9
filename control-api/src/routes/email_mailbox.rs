//! Mailbox operations over IMAP, `/api/{circle}/{slug}/ops/{operation}` (see
//! [`crate::email::mailbox`]): reading folders and messages, folders, flags, labels, moves,
//! deletes and batches. Each request opens one IMAP connection and logs out.

use axum::Json;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::Value;

use super::email::load_email;
use super::{Body, Path, Query};
use crate::auth::Caller;
use crate::email::mailbox::{
    self, AttachmentQuery, BatchApply, CreateFolder, DeleteMessages, FolderCountsQuery,
    FolderQuery, InboxQuery, LabelChange, ListFoldersQuery, MarkRead, MessageQuery, MoveMessages,
    SearchQuery,
};
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;

type Slug = Path<(String, String)>;

pub(super) fn routes() -> axum::Router<AppState> {
    let ops = "/api/{circle}/{slug}/ops";
    axum::Router::new()
        .route(&format!("{ops}/list-inbox"), get(list_inbox))
        .route(&format!("{ops}/get-message"), get(get_message))
        .route(&format!("{ops}/search"), get(search))
        .route(&format!("{ops}/unread-count"), get(unread_count))
        .route(&format!("{ops}/mark-read"), post(mark_read))
        .route(&format!("{ops}/delete-message"), post(delete_message))
        .route(&format!("{ops}/list_folders"), get(list_folders))
        .route(&format!("{ops}/create_folder"), post(create_folder))
        .route(&format!("{ops}/move_to_folder"), post(move_to_folder))
        .route(&format!("{ops}/apply_label"), post(apply_label))
        .route(&format!("{ops}/remove_label"), post(remove_label))
        .route(&format!("{ops}/folder_counts"), get(folder_counts))
        .route(&format!("{ops}/batch_apply"), post(batch_apply))
        .route(&format!("{ops}/get-attachment"), get(get_attachment))
}

/// A page of a mailbox folder over IMAP, newest first, with a cursor.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list-inbox", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), InboxQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_inbox(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list-inbox").await?;
    mailbox::list_inbox(&state, &element, &query)
        .await
        .map(Json)
}

/// One message over IMAP (`BODY.PEEK`: it stays unread), or a stored one by `message_id`.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/get-message", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), MessageQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_message(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<MessageQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "get-message").await?;
    mailbox::get_message(&state, &element, &query)
        .await
        .map(Json)
}

/// Search a folder by text, sender and dates.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/search", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), SearchQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn search(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "search").await?;
    mailbox::search(&state, &element, &query).await.map(Json)
}

/// Messages without `\Seen` in a folder, and all messages.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/unread-count", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), FolderQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn unread_count(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<FolderQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "unread-count").await?;
    mailbox::unread_count(&state, &element, &query)
        .await
        .map(Json)
}

/// Set (or, with `read: false`, clear) `\Seen`.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/mark-read", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = MarkRead,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn mark_read(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<MarkRead>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "mark-read").await?;
    mailbox::mark_read(&state, &element, &body).await.map(Json)
}

/// Delete messages from a folder for good.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/delete-message", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = DeleteMessages,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete_message(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<DeleteMessages>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "delete-message").await?;
    mailbox::delete_message(&state, &element, &body)
        .await
        .map(Json)
}

/// The mailbox's folders.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/list_folders", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), ListFoldersQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_folders(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(ListFoldersQuery {}): Query<ListFoldersQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "list_folders").await?;
    mailbox::list_folders(&state, &element).await.map(Json)
}

/// Create a folder (an existing one is success).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/create_folder", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = CreateFolder,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create_folder(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<CreateFolder>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "create_folder").await?;
    mailbox::create_folder(&state, &element, &body)
        .await
        .map(Json)
}

/// Move messages to another folder.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/move_to_folder", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = MoveMessages,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn move_to_folder(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<MoveMessages>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "move_to_folder").await?;
    mailbox::move_to_folder(&state, &element, &body)
        .await
        .map(Json)
}

/// Add a label (an IMAP keyword).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/apply_label", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = LabelChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn apply_label(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<LabelChange>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "apply_label").await?;
    mailbox::apply_label(&state, &element, &body)
        .await
        .map(Json)
}

/// Remove a label (an IMAP keyword).
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/remove_label", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = LabelChange,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn remove_label(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<LabelChange>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "remove_label").await?;
    mailbox::remove_label(&state, &element, &body)
        .await
        .map(Json)
}

/// Messages and unread per folder (named, or every selectable one).
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/folder_counts", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), FolderCountsQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn folder_counts(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<FolderCountsQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "folder_counts").await?;
    mailbox::folder_counts(&state, &element, &query)
        .await
        .map(Json)
}

/// Many flag, label, move and delete actions, one IMAP command per group.
#[utoipa::path(post, path = "/api/{circle}/{slug}/ops/batch_apply", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path)), request_body = BatchApply,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn batch_apply(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Body(body): Body<BatchApply>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "batch_apply").await?;
    mailbox::batch_apply(&state, &element, &body)
        .await
        .map(Json)
}

/// One attachment of a message, base64.
#[utoipa::path(get, path = "/api/{circle}/{slug}/ops/get-attachment", tag = "email",
    params(("circle" = String, Path), ("slug" = String, Path), AttachmentQuery),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn get_attachment(
    caller: Caller,
    State(state): State<AppState>,
    Path((circle, slug)): Slug,
    Query(query): Query<AttachmentQuery>,
) -> Result<Json<Value>, ApiError> {
    let element = load_email(&state, &caller, &circle, &slug, "get-attachment").await?;
    mailbox::get_attachment(&state, &element, &query)
        .await
        .map(Json)
}
