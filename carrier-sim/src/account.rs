//! `GET /a1/me` and `POST /a1/me`: the account (doc §2.7).
//!
//! The object has the documented keys: `mobilenumber`, `displayname`, `id`, `currency`,
//! `balance` (1/10000 of the currency, like `cost`), `email`, `creditalert`. Only
//! `creditalert` can be changed, as the update-account page shows.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::error::SimError;
use crate::form::Fields;
use crate::server::{Auth, Authed};
use crate::store::Sim;

/// `GET /a1/me`.
pub(crate) async fn me(State(sim): State<Arc<Sim>>, auth: Auth) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    sim.with(|store| store.account_mut(&user).map(|a| a.me_json()))
        .map(Json)
        .ok_or(SimError::Unauthorized)
}

/// `POST /a1/me` with `creditalert` (an amount in 1/10000 of the currency).
pub(crate) async fn update(
    State(sim): State<Arc<Sim>>,
    auth: Auth,
    fields: Fields,
) -> Result<Json<Value>, SimError> {
    let Authed(user) = auth.0;
    let creditalert = match fields.get("creditalert") {
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| SimError::BadRequest("Invalid creditalert".into()))?,
        ),
        None => None,
    };
    sim.with(|store| {
        let account = store.account_mut(&user).ok_or(SimError::Unauthorized)?;
        if let Some(alert) = creditalert {
            account.creditalert = alert;
        }
        Ok(Json(account.me_json()))
    })
}
