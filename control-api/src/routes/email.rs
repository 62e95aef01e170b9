//! The open tracking routes of sent mail, `/t/open/{id}`, `/t/click/{id}`,
//! `/t/unsubscribe/{id}` (their tokens are the proof). The email operations are in
//! [`crate::ops`].

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::Path;
use crate::email::track;
use crate::state::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/t/open/{id}", get(track_open))
        .route("/t/click/{id}", get(track_click))
        .route(
            "/t/unsubscribe/{id}",
            get(unsubscribe_page).post(unsubscribe),
        )
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
