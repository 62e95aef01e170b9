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

use super::{Account, Path, Query, UserBody, plain_text};
use crate::auth::{Caller, Role};
use crate::e164::{E164, clip};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::ids::{new_id, rfc3339};
use crate::provider::driven;
use crate::secrets::Secret;
use crate::state::AppState;
use crate::store::{NumberPatch, NumberRecord, ProviderRecord};

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

/// A registered number, as the telephony REST document names its fields.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NumberView {
    /// `num_...`.
    id: String,
    /// The number, E.164.
    e164: String,
    /// The provider credential it is reached through (`prv_...`).
    credentials_id: String,
    /// That credential's provider (`46elks`, `sip`, `twilio`, ...).
    provider: String,
    /// The agent that answers it, if pinned.
    agent_id: Option<String>,
    /// Whether calls to it are taken.
    inbound_enabled: bool,
    /// Whether calls from it may be placed.
    outbound_enabled: bool,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
}

impl NumberView {
    fn new(n: NumberRecord, provider: String) -> Self {
        Self {
            id: n.id,
            e164: n.number,
            credentials_id: n.provider_id,
            provider,
            agent_id: n.agent_id,
            inbound_enabled: n.inbound_enabled,
            outbound_enabled: n.outbound_enabled,
            created_at: rfc3339(n.created_at),
            updated_at: rfc3339(n.updated_at),
        }
    }
}

/// `GET /api/v1/telephony/numbers`: an object, as documented.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct NumberList {
    numbers: Vec<NumberView>,
}

/// `?agent_id=` filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct NumbersQuery {
    /// Only numbers pinned to this agent.
    agent_id: Option<String>,
}

/// Register a number (`handlers.CreateNumberRequest`). Server-set fields (`id`,
/// `created_at`, `updated_at`) are ignored if supplied, as documented (`UserBody`); any
/// other unknown field is refused. `number` and `provider_id` are accepted as older names of `e164` and
/// `credentials_id`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateNumber {
    /// E.164, e.g. `+12025550123`.
    #[serde(alias = "number")]
    e164: String,
    /// The provider credential it is reached through, e.g. `prv_...`.
    #[serde(alias = "provider_id")]
    credentials_id: String,
    /// The credential's provider, e.g. `twilio`; when given it must match the credential.
    #[serde(default)]
    provider: Option<String>,
    /// Pin it to this agent.
    #[serde(default)]
    agent_id: Option<String>,
    /// Take calls to it (default on).
    #[serde(default = "on")]
    inbound_enabled: bool,
    /// Place calls from it (default on).
    #[serde(default = "on")]
    outbound_enabled: bool,
}

fn on() -> bool {
    true
}

/// Pin (`"agt_..."`) or unpin (`null` or absent) an agent (`handlers.UpdateNumberRequest`);
/// `inbound_enabled` / `outbound_enabled` switch a direction where given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinNumber {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    inbound_enabled: Option<bool>,
    #[serde(default)]
    outbound_enabled: Option<bool>,
}

/// List numbers.
#[utoipa::path(get, path = "/api/v1/telephony/numbers", tag = "telephony",
    params(("X-Account-ID" = String, Header), NumbersQuery),
    responses((status = 200, body = NumberList), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_numbers(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    Query(query): Query<NumbersQuery>,
) -> Result<Json<NumberList>, ApiError> {
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
    let providers = state.store().providers(&caller.circle.id).await?;
    let provider_of = |id: &str| {
        providers
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.kind.clone())
            .unwrap_or_default()
    };
    Ok(Json(NumberList {
        numbers: numbers
            .into_iter()
            .map(|n| {
                let provider = provider_of(&n.provider_id);
                NumberView::new(n, provider)
            })
            .collect(),
    }))
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
    UserBody(body): UserBody<CreateNumber>,
) -> Result<(StatusCode, Json<NumberView>), ApiError> {
    allow(&caller, &account, Role::Write)?;
    let number = E164::parse(&body.e164)?;
    let provider = if plain_text(
        ErrorCode::ProviderNotFound,
        "credentials_id",
        &body.credentials_id,
        ID_MAX,
    )
    .is_err()
    {
        None
    } else {
        state
            .store()
            .provider(&caller.circle.id, &body.credentials_id)
            .await?
    };
    let Some(provider) = provider else {
        return Err(ApiError::invalid(
            ErrorCode::ProviderNotFound,
            format!(
                "no provider credential {:?} in this account",
                clip(&body.credentials_id)
            ),
        ));
    };
    if let Some(named) = &body.provider
        && *named != provider.kind
    {
        return Err(ApiError::invalid(
            ErrorCode::ProviderInvalid,
            format!(
                "provider {:?} does not match credential {} (provider {})",
                clip(named),
                provider.id,
                provider.kind
            ),
        ));
    }
    check_agent(&state, &caller.circle.id, body.agent_id.as_deref()).await?;
    let now = state.now_ms();
    let record = NumberRecord {
        id: new_id("num"),
        circle_id: caller.circle.id.clone(),
        number: number.as_str().to_owned(),
        provider_id: body.credentials_id,
        agent_id: body.agent_id,
        inbound_enabled: body.inbound_enabled,
        outbound_enabled: body.outbound_enabled,
        created_at: now,
        updated_at: now,
    };
    state.store().insert_number(&record).await?;
    sync_sip(&state).await;
    Ok((
        StatusCode::CREATED,
        Json(NumberView::new(record, provider.kind)),
    ))
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
    UserBody(body): UserBody<PinNumber>,
) -> Result<StatusCode, ApiError> {
    allow(&caller, &account, Role::Write)?;
    check_agent(&state, &caller.circle.id, body.agent_id.as_deref()).await?;
    let patch = NumberPatch {
        agent_id: body.agent_id,
        inbound_enabled: body.inbound_enabled,
        outbound_enabled: body.outbound_enabled,
        updated_at: state.now_ms(),
    };
    if state
        .store()
        .update_number(&caller.circle.id, &id, &patch)
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

/// A provider credential, without its secret (the document's provider metadata).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderView {
    /// `prv_...`.
    id: String,
    /// The provider, e.g. `46elks`, `sip`, `email`, `twilio`.
    provider: String,
    /// A label, e.g. `Production Twilio`.
    label: String,
    /// The login's user name (for `46elks`, `sip`, `email`; not secret).
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    /// A SIP trunk's registrar.
    #[serde(skip_serializing_if = "Option::is_none")]
    registrar: Option<String>,
    /// Whether voxgate drives this provider (`46elks`, `sip`, `email`) or only keeps its
    /// credentials for the account.
    driven: bool,
    /// RFC 3339.
    created_at: String,
}

impl From<ProviderRecord> for ProviderView {
    fn from(p: ProviderRecord) -> Self {
        Self {
            driven: driven(&p.kind),
            id: p.id,
            provider: p.kind,
            label: p.name,
            username: p.username,
            registrar: p.registrar,
            created_at: rfc3339(p.created_at),
        }
    }
}

/// `GET /api/v1/telephony/providers`: an object, as documented.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ProviderList {
    providers: Vec<ProviderView>,
}

/// Add a carrier credential (`handlers.CreateProviderRequest`): `provider`, `label`,
/// `credentials` as documented. For the providers voxgate drives, `credentials` is
/// `{username, password}` (`sip` adds `registrar`, `sip:host[:port]`); for any other
/// provider it is any object of strings, kept sealed. The older flat shape (`kind`,
/// `name`, `username`, `password`, `registrar`) is still accepted. Server-set fields are
/// ignored.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProvider {
    /// e.g. `twilio`, `46elks`, `sip`, `email`: lowercase letters, digits, `-`, `_`.
    #[serde(alias = "kind")]
    provider: String,
    /// e.g. `Production Twilio` (default: the provider).
    #[serde(default, alias = "name")]
    label: String,
    /// The credential; sealed at rest, never returned or logged.
    #[serde(default)]
    #[schema(value_type = Object)]
    credentials: Option<serde_json::Map<String, serde_json::Value>>,
    /// Older flat shape: the login's user name.
    #[serde(default)]
    username: Option<String>,
    /// Older flat shape: the password.
    #[serde(default)]
    password: Option<String>,
    /// Older flat shape: a SIP trunk's registrar.
    #[serde(default)]
    registrar: Option<String>,
}

impl std::fmt::Debug for CreateProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateProvider")
            .field("provider", &self.provider)
            .field("label", &self.label)
            .field("username", &self.username)
            .field("registrar", &self.registrar)
            .finish_non_exhaustive()
    }
}

/// Longest sealed credential object, serialized.
const CREDENTIALS_MAX: usize = 8 * 1024;

/// What a credential object holds, once checked: the login of a driven provider, or the
/// whole object of another.
struct Login {
    username: String,
    secret: String,
    registrar: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::ProviderInvalid, message)
}

impl CreateProvider {
    /// Checks the body and splits it into the stored login.
    fn login(&mut self) -> Result<Login, ApiError> {
        let provider = self.provider.as_str();
        if provider.is_empty()
            || provider.len() > 32
            || !provider
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "provider must be 1-32 lowercase letters, digits, '-' or '_' (e.g. twilio, 46elks, sip, email)",
            ));
        }
        let flat = self.username.is_some() || self.password.is_some() || self.registrar.is_some();
        let login = match (self.credentials.take(), flat) {
            (Some(_), true) => {
                return Err(invalid(
                    "give credentials, or the older username/password fields, not both",
                ));
            }
            (None, false) => return Err(invalid("credentials is required")),
            (None, true) => Login {
                username: self.username.take().unwrap_or_default(),
                secret: self.password.take().unwrap_or_default(),
                registrar: self.registrar.take(),
            },
            (Some(mut object), false) if driven(provider) => {
                let mut text = |key: &str| match object.remove(key) {
                    None => Ok(None),
                    Some(serde_json::Value::String(v)) => Ok(Some(v)),
                    Some(_) => Err(invalid(format!("credentials.{key} must be a string"))),
                };
                let login = Login {
                    username: text("username")?.unwrap_or_default(),
                    secret: text("password")?.unwrap_or_default(),
                    registrar: text("registrar")?,
                };
                if let Some(extra) = object.keys().next() {
                    return Err(invalid(format!(
                        "credentials of a {provider} provider are username, password{}; not {:?}",
                        if provider == "sip" { ", registrar" } else { "" },
                        clip(extra)
                    )));
                }
                login
            }
            (Some(object), false) => {
                if object.is_empty() || !object.values().all(serde_json::Value::is_string) {
                    return Err(invalid("credentials must be a non-empty object of strings"));
                }
                let secret = serde_json::Value::Object(object).to_string();
                if secret.len() > CREDENTIALS_MAX {
                    return Err(invalid(format!(
                        "credentials are at most {CREDENTIALS_MAX} bytes"
                    )));
                }
                return Ok(Login {
                    username: String::new(),
                    secret,
                    registrar: None,
                });
            }
        };
        match (provider, &login.registrar) {
            ("46elks" | "email", None) => {}
            ("sip", Some(registrar)) => {
                crate::phone::sip::registrar_host(registrar)?;
            }
            ("sip", None) => {
                return Err(invalid("a sip provider needs registrar (sip:host[:port])"));
            }
            (_, Some(_)) => return Err(invalid("registrar is for provider sip only")),
            (_, None) => {}
        }
        if login.username.is_empty() || login.secret.is_empty() || login.secret.len() > 1024 {
            return Err(invalid(
                "username and password are required (the password at most 1024 bytes)",
            ));
        }
        plain_text(ErrorCode::ProviderInvalid, "username", &login.username, 256)?;
        Ok(login)
    }
}

/// List provider credentials (never their secrets).
#[utoipa::path(get, path = "/api/v1/telephony/providers", tag = "telephony",
    params(("X-Account-ID" = String, Header)),
    responses((status = 200, body = ProviderList), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn list_providers(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
) -> Result<Json<ProviderList>, ApiError> {
    allow(&caller, &account, Role::Read)?;
    let providers = state.store().providers(&caller.circle.id).await?;
    Ok(Json(ProviderList {
        providers: providers.into_iter().map(ProviderView::from).collect(),
    }))
}

/// Add a provider credential; its credentials are sealed at rest.
#[utoipa::path(post, path = "/api/v1/telephony/providers", tag = "telephony",
    params(("X-Account-ID" = String, Header)), request_body = CreateProvider,
    responses((status = 201, body = ProviderView), (status = 400, body = ErrorBody),
              (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub(crate) async fn create_provider(
    caller: Caller,
    account: Account,
    state: axum::extract::State<AppState>,
    UserBody(mut body): UserBody<CreateProvider>,
) -> Result<(StatusCode, Json<ProviderView>), ApiError> {
    allow(&caller, &account, Role::Admin)?;
    let login = body.login()?;
    plain_text(ErrorCode::ProviderInvalid, "label", &body.label, 256)?;
    let sealer = state.sealer()?;
    let id = new_id("prv");
    let sealed_secret = sealer.seal(&id, &Secret::new(login.secret))?;
    let label = if body.label.is_empty() {
        body.provider.clone()
    } else {
        body.label
    };
    let record = ProviderRecord {
        id,
        circle_id: caller.circle.id.clone(),
        kind: body.provider,
        name: label,
        username: login.username,
        sealed_secret,
        registrar: login.registrar,
        created_at: state.now_ms(),
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
