//! Telephony REST: numbers (`GET|POST /api/v1/telephony/numbers`, `PATCH|DELETE
//! /api/v1/telephony/numbers/{id}`) and carrier credentials (`GET|POST
//! /api/v1/telephony/providers`, `DELETE /api/v1/telephony/providers/{id}`).
//!
//! The account is the `X-Account-ID` header (400 `ACCOUNT_REQUIRED` without it), which must
//! name the key's circle. Numbers: read to list, write to change. Providers: read to list
//! (never the secret), admin to add or delete. A provider's password is sealed before it is
//! stored and never returned or logged; without the secrets key these routes answer 503.

use axum::Json;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use serde::{Deserialize, Serialize};

use super::{Account, Body, Path, Query, plain_text};
use crate::auth::{Caller, Role};
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::ids::{new_id, now_ms, rfc3339};
use crate::secrets::Secret;
use crate::state::AppState;
use crate::store::{NumberRecord, ProviderRecord};

pub(super) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            "/api/v1/telephony/numbers",
            get(list_numbers).post(create_number),
        )
        .route(
            "/api/v1/telephony/numbers/{id}",
            patch(pin_number).delete(delete_number),
        )
        .route(
            "/api/v1/telephony/providers",
            get(list_providers).post(create_provider),
        )
        .route(
            "/api/v1/telephony/providers/{id}",
            axum::routing::delete(delete_provider),
        )
}

/// Longest id accepted in a body or query (ours are 24 characters).
const ID_MAX: usize = 64;

fn allow(caller: &Caller, account: &Account, role: Role) -> Result<(), ApiError> {
    caller.may(&account.0, role)
}

/// A registered number.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NumberView {
    id: String,
    number: String,
    provider_id: String,
    agent_id: Option<String>,
    created_at: String,
}

impl From<NumberRecord> for NumberView {
    fn from(n: NumberRecord) -> Self {
        Self {
            id: n.id,
            number: n.number,
            provider_id: n.provider_id,
            agent_id: n.agent_id,
            created_at: rfc3339(n.created_at),
        }
    }
}

/// `?agent_id=` filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct NumbersQuery {
    /// Only numbers pinned to this agent.
    agent_id: Option<String>,
}

/// Register a number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateNumber {
    /// E.164.
    number: String,
    /// The provider credential it is reached through.
    provider_id: String,
    /// Pin it to this agent.
    #[serde(default)]
    agent_id: Option<String>,
}

/// Pin (`"agt_..."`) or unpin (`null`) an agent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinNumber {
    agent_id: Option<String>,
}

/// List numbers.
#[utoipa::path(get, path = "/api/v1/telephony/numbers", tag = "telephony",
    params(("X-Account-ID" = String, Header), NumbersQuery),
    responses((status = 200, body = [NumberView]), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_numbers(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Query(query): Query<NumbersQuery>,
) -> Result<Json<Vec<NumberView>>, ApiError> {
    allow(&caller, &account, Role::Read)?;
    if let Some(agent_id) = &query.agent_id {
        plain_text(ErrorCode::InvalidQuery, "agent_id", agent_id, ID_MAX)?;
    }
    let numbers = state
        .store()
        .numbers(
            &caller.circle.id,
            query.agent_id.as_deref().filter(|a| !a.is_empty()),
        )
        .await?;
    Ok(Json(numbers.into_iter().map(NumberView::from).collect()))
}

async fn check_agent(
    state: &AppState,
    circle_id: &str,
    agent_id: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(agent_id) = agent_id
        && (plain_text(ErrorCode::AgentNotFound, "agent_id", agent_id, ID_MAX).is_err()
            || state.store().agent(circle_id, agent_id).await?.is_none())
    {
        return Err(ApiError::invalid(
            ErrorCode::AgentNotFound,
            format!("no agent {:?} in this account", clip(agent_id)),
        ));
    }
    Ok(())
}

/// Register a number bound to a provider credential, optionally pinned to an agent.
#[utoipa::path(post, path = "/api/v1/telephony/numbers", tag = "telephony",
    params(("X-Account-ID" = String, Header)), request_body = CreateNumber,
    responses((status = 201, body = NumberView), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create_number(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Body(body): Body<CreateNumber>,
) -> Result<(StatusCode, Json<NumberView>), ApiError> {
    allow(&caller, &account, Role::Write)?;
    let number = E164::parse(&body.number)?;
    if plain_text(
        ErrorCode::ProviderNotFound,
        "provider_id",
        &body.provider_id,
        ID_MAX,
    )
    .is_err()
        || state
            .store()
            .provider(&caller.circle.id, &body.provider_id)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            ErrorCode::ProviderNotFound,
            format!("no provider {:?} in this account", clip(&body.provider_id)),
        ));
    }
    check_agent(&state, &caller.circle.id, body.agent_id.as_deref()).await?;
    let record = NumberRecord {
        id: new_id("num"),
        circle_id: caller.circle.id.clone(),
        number: number.as_str().to_owned(),
        provider_id: body.provider_id,
        agent_id: body.agent_id,
        created_at: now_ms(),
    };
    state.store().insert_number(&record).await?;
    sync_sip(&state).await;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// Pin or unpin an agent.
#[utoipa::path(patch, path = "/api/v1/telephony/numbers/{id}", tag = "telephony",
    params(("X-Account-ID" = String, Header), ("id" = String, Path)), request_body = PinNumber,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn pin_number(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<PinNumber>,
) -> Result<StatusCode, ApiError> {
    allow(&caller, &account, Role::Write)?;
    check_agent(&state, &caller.circle.id, body.agent_id.as_deref()).await?;
    if state
        .store()
        .pin_number(&caller.circle.id, &id, body.agent_id.as_deref())
        .await?
    {
        sync_sip(&state).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(number_not_found(&id))
    }
}

/// Numbers changed: the SIP leg's live trunk registrations follow. A failure here is
/// logged, not answered: the change itself is stored, and the next sync catches up.
async fn sync_sip(state: &AppState) {
    if let Err(e) = crate::phone::sip::sync_registrations(state).await {
        tracing::error!(code = e.code(), "syncing SIP trunk registrations failed");
    }
}

fn number_not_found(id: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::NumberNotFound,
        format!("no number {:?}", clip(id)),
    )
}

/// Delete a number.
#[utoipa::path(delete, path = "/api/v1/telephony/numbers/{id}", tag = "telephony",
    params(("X-Account-ID" = String, Header), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub(crate) async fn delete_number(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    allow(&caller, &account, Role::Write)?;
    if state.store().delete_number(&caller.circle.id, &id).await? {
        sync_sip(&state).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(number_not_found(&id))
    }
}

/// A provider credential, without its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderView {
    id: String,
    kind: String,
    name: String,
    username: String,
    /// A SIP trunk's registrar.
    #[serde(skip_serializing_if = "Option::is_none")]
    registrar: Option<String>,
    created_at: String,
}

impl From<ProviderRecord> for ProviderView {
    fn from(p: ProviderRecord) -> Self {
        Self {
            id: p.id,
            kind: p.kind,
            name: p.name,
            username: p.username,
            registrar: p.registrar,
            created_at: rfc3339(p.created_at),
        }
    }
}

/// Add a carrier credential.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProvider {
    /// `46elks` (carrier API credentials), `sip` (a SIP trunk) or `email` (a mail login:
    /// SMTP submission and IMAP with an app password).
    kind: String,
    /// A label.
    #[serde(default)]
    name: String,
    /// API user name, or the SIP user name.
    username: String,
    /// API or SIP password; sealed at rest, never returned.
    password: String,
    /// A SIP trunk's registrar, `sip:host[:port]` (kind `sip` only; required there).
    #[serde(default)]
    registrar: Option<String>,
}

impl std::fmt::Debug for CreateProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateProvider")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("username", &self.username)
            .field("registrar", &self.registrar)
            .finish_non_exhaustive()
    }
}

/// List provider credentials (never their secrets).
#[utoipa::path(get, path = "/api/v1/telephony/providers", tag = "telephony",
    params(("X-Account-ID" = String, Header)),
    responses((status = 200, body = [ProviderView])), security(("bearer" = [])))]
pub(crate) async fn list_providers(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
) -> Result<Json<Vec<ProviderView>>, ApiError> {
    allow(&caller, &account, Role::Read)?;
    let providers = state.store().providers(&caller.circle.id).await?;
    Ok(Json(
        providers.into_iter().map(ProviderView::from).collect(),
    ))
}

/// Add a provider credential; the password is sealed at rest.
#[utoipa::path(post, path = "/api/v1/telephony/providers", tag = "telephony",
    params(("X-Account-ID" = String, Header)), request_body = CreateProvider,
    responses((status = 201, body = ProviderView), (status = 400, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create_provider(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Body(body): Body<CreateProvider>,
) -> Result<(StatusCode, Json<ProviderView>), ApiError> {
    allow(&caller, &account, Role::Admin)?;
    match (body.kind.as_str(), &body.registrar) {
        ("46elks" | "email", None) => {}
        ("46elks" | "email", Some(_)) => {
            return Err(ApiError::invalid(
                ErrorCode::ProviderInvalid,
                "registrar is for kind sip only",
            ));
        }
        ("sip", Some(registrar)) => {
            crate::phone::sip::registrar_host(registrar)?;
        }
        ("sip", None) => {
            return Err(ApiError::invalid(
                ErrorCode::ProviderInvalid,
                "a sip provider needs registrar (sip:host[:port])",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                ErrorCode::ProviderInvalid,
                "kind must be 46elks, sip or email",
            ));
        }
    }
    if body.username.is_empty() || body.password.is_empty() || body.password.len() > 1024 {
        return Err(ApiError::invalid(
            ErrorCode::ProviderInvalid,
            "username and password are required (the password at most 1024 bytes)",
        ));
    }
    plain_text(ErrorCode::ProviderInvalid, "username", &body.username, 256)?;
    plain_text(ErrorCode::ProviderInvalid, "name", &body.name, 256)?;
    let sealer = state.sealer()?;
    let id = new_id("prv");
    let sealed_secret = sealer.seal(&id, &Secret::new(body.password))?;
    let name = if body.name.is_empty() {
        body.kind.clone()
    } else {
        body.name
    };
    let record = ProviderRecord {
        id,
        circle_id: caller.circle.id.clone(),
        kind: body.kind,
        name,
        username: body.username,
        sealed_secret,
        registrar: body.registrar,
        created_at: now_ms(),
    };
    state.store().insert_provider(&record).await?;
    tracing::info!(provider = %record.id, key = %caller.key_id, "provider credential added");
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// Delete a provider credential; 409 while a number uses it.
#[utoipa::path(delete, path = "/api/v1/telephony/providers/{id}", tag = "telephony",
    params(("X-Account-ID" = String, Header), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn delete_provider(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    allow(&caller, &account, Role::Admin)?;
    if state
        .store()
        .delete_provider(&caller.circle.id, &id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            ErrorCode::ProviderNotFound,
            format!("no provider {:?}", clip(&id)),
        ))
    }
}
