//! Which servers and login an email element uses, by the spec's precedence: the platform
//! mailbox (`stalwart_managed`, credentials derived per circle), else the provider named by
//! `credential_ref` (kind `email`), else the inline `smtp_username` / sealed
//! `smtp_password`, else no login. The same login serves SMTP and IMAP (app passwords).
//!
//! Also the sender's domain rule: on the platform path the `from_address` must be on a
//! platform domain or on a domain the circle verified; an element with its own SMTP server
//! (the external path) is exempt, because that server decides what it relays.

use voxgate_mail::{Endpoint, Login, Security};

use super::address::Address;
use crate::element::email::{self as spec_mod, EmailSpec, Login as SpecLogin, ServerSettings};
use axum::http::StatusCode;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::Element;

/// The purpose string of derived platform passwords (see [`managed_password`]).
const MANAGED_PURPOSE: &str = "email-platform-mailbox";

/// A server and the login to use on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Where.
    pub endpoint: Endpoint,
    /// Who.
    pub login: Login,
}

/// What an element sends and reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `From`.
    pub from: Address,
    /// `From`'s display name.
    pub from_name: Option<String>,
    /// SMTP submission, when the element can send.
    pub smtp: Option<Server>,
    /// IMAP, when the element has a mailbox.
    pub imap: Option<Server>,
    /// The platform mailbox (`stalwart_managed`).
    pub managed: bool,
}

impl Account {
    /// The SMTP server, or 400 `EMAIL_NOT_CONFIGURED`.
    pub fn smtp_or_error(&self) -> Result<&Server, ApiError> {
        self.smtp.as_ref().ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::EmailNotConfigured,
                "this element cannot send: set smtp_host (or stalwart_managed on a deployment with a platform mailbox)",
            )
        })
    }

    /// The IMAP server, or 400 `EMAIL_MAILBOX_UNAVAILABLE`.
    pub fn imap_or_error(&self) -> Result<&Server, ApiError> {
        self.imap.as_ref().ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::EmailMailboxUnavailable,
                "this element has no mailbox: set mailbox_backend imap with imap_host (or stalwart_managed)",
            )
        })
    }
}

/// The platform login of a circle: `<circle id>@<first platform domain>` (the id, because
/// it never changes).
pub fn managed_username(circle_id: &str, platform_domain: &str) -> String {
    format!("{circle_id}@{platform_domain}")
}

/// The platform password of a circle: an HMAC of the circle id under the secrets key, so
/// the platform mail server and voxgate agree without storing it anywhere.
pub fn managed_password(state: &AppState, circle_id: &str) -> Result<String, ApiError> {
    Ok(state.sealer()?.tag(MANAGED_PURPOSE, circle_id))
}

fn endpoint(settings: &ServerSettings) -> Endpoint {
    Endpoint {
        host: settings.host.clone(),
        port: settings.port,
        security: match settings.security {
            spec_mod::Security::Tls => Security::Tls,
            spec_mod::Security::Starttls => Security::StartTls,
            spec_mod::Security::None => Security::None,
        },
    }
}

/// Resolves the element's account.
///
/// # Errors
///
/// `EMAIL_NOT_CONFIGURED` for `stalwart_managed` on a deployment without a platform
/// mailbox, `EMAIL_CREDENTIAL_MISSING` when `credential_ref` names no provider of the
/// circle, 503 `SECRETS_UNAVAILABLE` when a password cannot be opened.
pub async fn resolve(
    state: &AppState,
    element: &Element,
    spec: &EmailSpec,
) -> Result<Account, ApiError> {
    let from = Address::parse("from_address", &spec.from_address)?;
    let from_name = spec.from_name.clone();
    if spec.stalwart_managed {
        let platform = state.email().platform.as_ref().ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::EmailNotConfigured,
                "stalwart_managed needs a platform mailbox, and this deployment has none (email.platform)",
            )
        })?;
        let domain = platform.domains.first().cloned().unwrap_or_default();
        let login = Login {
            username: managed_username(&element.circle_id, &domain),
            password: managed_password(state, &element.circle_id)?,
        };
        return Ok(Account {
            from,
            from_name,
            smtp: Some(Server {
                endpoint: platform.smtp.clone(),
                login: login.clone(),
            }),
            imap: Some(Server {
                endpoint: platform.imap.clone(),
                login,
            }),
            managed: true,
        });
    }
    let login = login_of(state, element, spec).await?;
    let server = |settings: Option<ServerSettings>| {
        settings.map(|s| Server {
            endpoint: endpoint(&s),
            login: login.clone(),
        })
    };
    Ok(Account {
        from,
        from_name,
        smtp: server(spec.smtp()),
        imap: server(spec.imap()),
        managed: false,
    })
}

async fn login_of(
    state: &AppState,
    element: &Element,
    spec: &EmailSpec,
) -> Result<Login, ApiError> {
    match spec.login() {
        SpecLogin::Platform | SpecLogin::Anonymous => Ok(Login {
            username: String::new(),
            password: String::new(),
        }),
        SpecLogin::Provider(id) => {
            let missing = || {
                ApiError::invalid(
                    ErrorCode::EmailCredentialMissing,
                    format!(
                        "credential_ref {:?} names no provider of this circle (POST /api/v1/telephony/providers with kind email)",
                        crate::e164::clip(id)
                    ),
                )
            };
            let (username, password) = state
                .provider_login(&element.circle_id, id)
                .await?
                .ok_or_else(missing)?;
            Ok(Login {
                username,
                password: password.expose().to_owned(),
            })
        }
        SpecLogin::Inline { username } => {
            let password = spec_mod::smtp_password(spec, state.sealer()?, &element.id)?;
            Ok(Login {
                username: username.to_owned(),
                password: password.map(|p| p.expose().to_owned()).unwrap_or_default(),
            })
        }
    }
}

/// Every address the element receives at: `address`, `accepted_addresses` and the
/// provisioned ones.
pub async fn own_addresses(
    state: &AppState,
    element: &Element,
    spec: &EmailSpec,
) -> Result<Vec<Address>, ApiError> {
    let mut out = Vec::new();
    for text in std::iter::once(&spec.address)
        .chain(std::iter::once(&spec.from_address))
        .chain(&spec.accepted_addresses)
    {
        if let Ok(a) = Address::parse("address", text)
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    for record in state.store().email().addresses(&element.id).await? {
        if let Ok(a) = Address::parse("address", &record.address)
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    Ok(out)
}

/// The sender's domain rule (platform path only): the `from_address` domain is a platform
/// domain or a verified domain of the element's circle.
///
/// # Errors
///
/// 400 `EMAIL_DOMAIN_NOT_VERIFIED`.
pub async fn check_sender_domain(
    state: &AppState,
    element: &Element,
    account: &Account,
) -> Result<(), ApiError> {
    if !account.managed {
        return Ok(());
    }
    let domain = account.from.domain();
    let platform = state
        .email()
        .platform
        .as_ref()
        .is_some_and(|p| p.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)));
    if platform {
        return Ok(());
    }
    // The documented refusals: 412 no add_domain, 403 another circle's, 412 not verified.
    let precondition = |code, message: String| {
        ApiError::failed(StatusCode::PRECONDITION_FAILED, code, message, false)
    };
    match state.store().email().domain(domain).await? {
        None => Err(precondition(
            ErrorCode::EmailDomainNotRegistered,
            format!(
                "from_address is on {domain}, which is neither a platform domain nor registered (add_domain, then verify_domain)"
            ),
        )),
        Some(d) if d.circle_id != element.circle_id => Err(ApiError::failed(
            StatusCode::FORBIDDEN,
            ErrorCode::EmailDomainOwnedByOtherCircle,
            format!("from_address is on {domain}, which another circle registered"),
            false,
        )),
        Some(d) if d.verified_at.is_none() => Err(precondition(
            ErrorCode::EmailDomainNotVerified,
            format!("from_address is on {domain}, which is not verified yet (verify_domain)"),
        )),
        Some(_) => Ok(()),
    }
}
