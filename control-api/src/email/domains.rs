//! A circle's sending domains: `add_domain`, `verify_domain`, `list_domains`,
//! `remove_domain` and `bootstrap_managed_domain`.
//!
//! A domain belongs to one circle. Adding it stores a random token (100 random bits,
//! `vgv_...`) and answers the DNS records to publish; verifying looks the token up in DNS,
//! now, without a cache ([`voxgate_mail::dns::TxtResolver`]), and marks the domain
//! verified. Only then may a `stalwart_managed` element send from it or receive at it
//! ([`super::account::check_sender_domain`], [`super::addresses`]).
//!
//! The records, in this order:
//!
//! | type | name                             | value                                         | purpose        | listed when              |
//! |------|----------------------------------|-----------------------------------------------|----------------|--------------------------|
//! | TXT  | `_voxgate-verification.<domain>` | `voxgate-verification=<token>`                | `verification` | always (`required`)      |
//! | TXT  | `<domain>`                       | `v=spf1 include:<first platform domain> ~all` | `spf`          | a platform mailbox exists |
//! | TXT  | `voxgate._domainkey.<domain>`    | `v=DKIM1; k=rsa; p=<public key>`              | `dkim`         | the domain has a key     |
//! | TXT  | `_dmarc.<domain>`                | `v=DMARC1; p=none`                            | `dmarc`        | always                   |
//!
//! DKIM: adding a domain makes it a 2048-bit RSA key ([`voxgate_mail::dkim`]); the private
//! key is sealed with `secrets.key` (bound to the domain's id) and never leaves the store
//! except to sign. Mail whose `From` is on a verified domain of the circle is signed with
//! it, whichever server submits it. A deployment without `secrets.key` adds domains
//! without keys (and says so in the log); adding the domain again once the key is there
//! makes one. The DMARC record is a starter (`p=none`: report, do not reject) for a domain
//! that has none; owners tighten it once reports show their mail aligns.
//!
//! The verification record sits on its own name so that it never mixes with the domain's
//! other TXT records (SPF allows one `v=spf1` record per name, RFC 7208 §3.2). The SPF
//! record is advice: it lets receivers accept mail the platform sends for the domain, and
//! `~all` (soft fail) does not break mail the domain already sends from elsewhere; a domain
//! that has a `v=spf1` record already adds the `include:` to it instead. Without
//! a platform voxgate sends through the element's own SMTP server, whose SPF the domain's
//! owner knows better, so no SPF record is suggested. Managed domains (the circle's name
//! under the first platform domain, `bootstrap_managed_domain`) are the platform's to
//! publish: they list no records, are verified from the start and cannot be removed.
//!
//! Each record is `{type, name, value, purpose, required}`. Verification reads only the
//! first; a domain once verified stays verified (`verify_domain` answers 200 at once), a
//! record not (yet) found is 422 `EMAIL_DOMAIN_NOT_VERIFIED` naming what DNS holds, and a
//! lookup that fails is 502 `EMAIL_DNS_FAILED`; both are retryable.
//!
//! Who owns what: a platform domain and its subdomains are reserved (only bootstrap creates
//! one); a domain another circle added is refused with 403
//! `EMAIL_DOMAIN_OWNED_BY_OTHER_CIRCLE`, whether or not that circle verified it.

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use voxgate_mail::dkim::{self, DkimKey};
use voxgate_mail::dns::TxtResolver;

use super::PlatformMail;
use super::address::is_domain;
use super::audit::{self, Subject};
use crate::e164::clip;
use crate::error::{ApiError, ErrorCode};
use crate::ids::{new_id, rfc3339};
use crate::secrets::Secret;
use crate::state::AppState;
use crate::store::{DomainRecord, Element};

/// The label the verification TXT record sits under.
pub const VERIFICATION_LABEL: &str = "_voxgate-verification";
/// What the verification TXT value starts with; the token follows.
pub const VERIFICATION_PREFIX: &str = "voxgate-verification=";

/// `add_domain`, `verify_domain`, `remove_domain`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainRequest {
    /// The domain, e.g. `example.com` (case and a trailing dot do not matter).
    #[schema(example = "example.com")]
    pub domain: String,
}

/// `bootstrap_managed_domain` takes no fields: `{}`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BootstrapRequest {}

/// The domain as stored: trimmed, without a trailing dot, lower-cased.
///
/// # Errors
///
/// 400 `EMAIL_INVALID_DOMAIN`.
pub fn parse_domain(text: &str) -> Result<String, ApiError> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if is_domain(&domain) {
        Ok(domain)
    } else {
        Err(ApiError::invalid(
            ErrorCode::EmailInvalidDomain,
            format!(
                "domain: {:?} is not a domain name (example.com)",
                clip(text)
            ),
        ))
    }
}

/// Whether `domain` is a platform domain or under one.
fn reserved(platform: Option<&PlatformMail>, domain: &str) -> bool {
    platform.is_some_and(|p| p.domains.iter().any(|d| is_at_or_under(domain, d)))
}

/// `domain` equals `parent` or is a subdomain of it (ASCII case-insensitive).
pub fn is_at_or_under(domain: &str, parent: &str) -> bool {
    let (domain, parent) = (domain.to_ascii_lowercase(), parent.to_ascii_lowercase());
    domain == parent || domain.ends_with(&format!(".{parent}"))
}

/// The TXT value that proves control of a domain.
pub fn verification_value(token: &str) -> String {
    format!("{VERIFICATION_PREFIX}{token}")
}

/// A DNS record the domain's owner publishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DnsRecord {
    /// Always `TXT`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The name it is published at.
    pub name: String,
    /// Its value.
    pub value: String,
    /// `verification`, `spf`, `dkim` or `dmarc`.
    pub purpose: &'static str,
    /// Whether verify_domain needs it (only the verification record).
    pub required: bool,
}

fn txt(name: String, value: String, purpose: &'static str, required: bool) -> DnsRecord {
    DnsRecord {
        kind: "TXT",
        name,
        value,
        purpose,
        required,
    }
}

/// The records to publish for `record` (see the module doc).
pub fn records(platform: Option<&PlatformMail>, record: &DomainRecord) -> Vec<DnsRecord> {
    if record.managed {
        return Vec::new();
    }
    let mut out = vec![txt(
        format!("{VERIFICATION_LABEL}.{}", record.domain),
        verification_value(&record.token),
        "verification",
        true,
    )];
    if let Some(first) = platform.and_then(|p| p.domains.first()) {
        out.push(txt(
            record.domain.clone(),
            format!("v=spf1 include:{first} ~all"),
            "spf",
            false,
        ));
    }
    if let Some(public) = &record.dkim_public {
        out.push(txt(
            dkim::record_name(&record.domain),
            dkim::record_value(public),
            "dkim",
            false,
        ));
    }
    out.push(txt(
        format!("_dmarc.{}", record.domain),
        DMARC_STARTER.to_owned(),
        "dmarc",
        false,
    ));
    out
}

/// The DMARC record suggested to a domain that has none: monitor only.
pub const DMARC_STARTER: &str = "v=DMARC1; p=none";

/// A new DKIM key for the domain record `id`: the sealed private key and the public key.
/// `None` (logged) without `secrets.key`: the key could not be kept encrypted.
async fn new_dkim_key(state: &AppState, id: &str) -> Result<Option<(Vec<u8>, String)>, ApiError> {
    let Ok(sealer) = state.sealer() else {
        tracing::warn!(domain_id = %id, "no secrets.key: the domain gets no DKIM key");
        return Ok(None);
    };
    let pair = tokio::task::spawn_blocking(dkim::generate)
        .await
        .map_err(|e| ApiError::Store(format!("DKIM key generation: {e}")))?
        .map_err(|e| ApiError::Store(e.to_string()))?;
    let sealed = sealer.seal(id, &Secret::new(pair.private_pem))?;
    Ok(Some((sealed, pair.public_key)))
}

/// The key to sign mail from `domain` with: the circle's verified domain's, if it has one.
///
/// # Errors
///
/// The store's; 503 `SECRETS_UNAVAILABLE` if the sealed key does not open.
pub async fn signing_key(
    state: &AppState,
    circle_id: &str,
    domain: &str,
) -> Result<Option<DkimKey>, ApiError> {
    let Some(record) = state
        .store()
        .email()
        .domain(&domain.to_ascii_lowercase())
        .await?
    else {
        return Ok(None);
    };
    let (Some(sealed), true, true) = (
        record.dkim_key.as_deref(),
        record.circle_id == circle_id,
        record.verified_at.is_some(),
    ) else {
        return Ok(None);
    };
    let pem = state.sealer()?.open(&record.id, sealed)?;
    DkimKey::new(&record.domain, pem.expose())
        .map(Some)
        .map_err(|e| ApiError::Store(format!("the DKIM key of {}: {e}", record.domain)))
}

/// A domain as `list_domains` shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DomainView {
    /// The domain.
    pub domain: String,
    /// Whether verify_domain found its record.
    pub verified: bool,
    /// When (RFC 3339).
    pub verified_at: Option<String>,
    /// The platform's own (bootstrap_managed_domain).
    pub managed: bool,
    /// When added (RFC 3339).
    pub created_at: String,
    /// The records to publish.
    pub records: Vec<DnsRecord>,
}

fn view(state: &AppState, record: &DomainRecord) -> DomainView {
    DomainView {
        domain: record.domain.clone(),
        verified: record.verified_at.is_some(),
        verified_at: record.verified_at.map(rfc3339),
        managed: record.managed,
        created_at: rfc3339(record.created_at),
        records: records(state.email().platform.as_ref(), record),
    }
}

/// `list_domains`' answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DomainList {
    /// The circle's domains, by name.
    pub domains: Vec<DomainView>,
}

/// `add_domain`'s answer.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AddedDomain {
    /// The domain as stored.
    pub domain: String,
    /// Whether it is verified already.
    pub verified: bool,
    /// The records to publish (the same ones on every call).
    pub records: Vec<DnsRecord>,
    /// Whether this call added it.
    pub added: bool,
    /// Whether this circle had added it before.
    pub already_exists: bool,
    /// Our earlier name for `added`.
    pub created: bool,
}

fn owned_by_other() -> ApiError {
    ApiError::failed(
        StatusCode::FORBIDDEN,
        ErrorCode::EmailDomainOwnedByOtherCircle,
        "another circle has added this domain",
        false,
    )
}

fn not_found(domain: &str) -> ApiError {
    ApiError::not_found(
        ErrorCode::EmailDomainNotFound,
        format!("this circle has no domain {domain} (add_domain)"),
    )
}

/// The circle's record of `domain`; 404 for another circle's or none.
async fn own(state: &AppState, circle_id: &str, domain: &str) -> Result<DomainRecord, ApiError> {
    match state.store().email().domain(domain).await? {
        Some(record) if record.circle_id == circle_id => Ok(record),
        _ => Err(not_found(domain)),
    }
}

/// `add_domain`: stores the domain with a new token, or gives the circle's existing one
/// again (same token).
pub async fn add(
    state: &AppState,
    element: &Element,
    body: &DomainRequest,
) -> Result<AddedDomain, ApiError> {
    let domain = parse_domain(&body.domain)?;
    let platform = state.email().platform.as_ref();
    if reserved(platform, &domain) {
        return Err(ApiError::invalid(
            ErrorCode::EmailDomainReserved,
            format!(
                "{domain} is the platform's (bootstrap_managed_domain gives this circle its own)"
            ),
        ));
    }
    let id = new_id("dom");
    let key = match state.store().email().domain(&domain).await? {
        // Known already: no key to make (unless it has none, below).
        Some(_) => None,
        None => new_dkim_key(state, &id).await?,
    };
    let (dkim_key, dkim_public) = key.unzip();
    let fresh = DomainRecord {
        id,
        circle_id: element.circle_id.clone(),
        domain: domain.clone(),
        token: new_id("vgv"),
        managed: false,
        verified_at: None,
        created_at: state.now_ms(),
        dkim_key,
        dkim_public,
    };
    // Insert first and read back on conflict: two concurrent adds end with one token.
    let created = state.store().email().insert_domain(&fresh).await?;
    let mut record = if created {
        fresh
    } else {
        stored(state, &domain).await?
    };
    if record.circle_id != element.circle_id {
        return Err(owned_by_other());
    }
    if record.dkim_public.is_none()
        && let Some((sealed, public)) = new_dkim_key(state, &record.id).await?
    {
        state
            .store()
            .email()
            .set_domain_dkim(&record.id, &sealed, &public)
            .await?;
        record = stored(state, &domain).await?;
    }
    Ok(AddedDomain {
        verified: record.verified_at.is_some(),
        records: records(platform, &record),
        domain: record.domain,
        added: created,
        already_exists: !created,
        created,
    })
}

async fn stored(state: &AppState, domain: &str) -> Result<DomainRecord, ApiError> {
    let stored = state.store().email().domain(domain).await?;
    stored.ok_or_else(|| ApiError::Store(format!("domain {domain} vanished")))
}

/// The resolver verification asks: `email.dns_server`, else the system's.
fn resolver(state: &AppState) -> Result<TxtResolver, ApiError> {
    match state.email().dns_server {
        Some(server) => Ok(TxtResolver::at(server)),
        None => TxtResolver::system().map_err(|e| dns_failed(&e)),
    }
}

fn dns_failed(error: &voxgate_mail::MailError) -> ApiError {
    ApiError::failed(
        StatusCode::BAD_GATEWAY,
        ErrorCode::EmailDnsFailed,
        error.to_string(),
        true,
    )
}

/// `verify_domain`: looks the verification record up and marks the domain verified.
pub async fn verify(
    state: &AppState,
    element: &Element,
    body: &DomainRequest,
) -> Result<Value, ApiError> {
    let domain = parse_domain(&body.domain)?;
    let record = own(state, &element.circle_id, &domain).await?;
    if let Some(at) = record.verified_at {
        return Ok(verified(&domain, at));
    }
    let name = format!("{VERIFICATION_LABEL}.{domain}");
    let found = resolver(state)?
        .txt(&name)
        .await
        .map_err(|e| dns_failed(&e))?;
    let want = verification_value(&record.token);
    if !found.iter().any(|text| text.trim() == want) {
        return Err(not_yet(&name, &want, &found));
    }
    let now = state.now_ms();
    state
        .store()
        .email()
        .set_domain_verified(&record.id, now)
        .await?;
    let subject = Subject {
        element_id: Some(&element.id),
        ..Subject::default()
    };
    audit::record(
        state,
        &element.circle_id,
        "domain_verified",
        subject,
        json!({"domain": domain}),
    )
    .await?;
    Ok(verified(&domain, now))
}

fn verified(domain: &str, at: i64) -> Value {
    json!({"domain": domain, "verified": true, "verified_at": rfc3339(at)})
}

/// 422 `EMAIL_DOMAIN_NOT_VERIFIED`, saying what DNS holds (retryable: records take a while
/// to appear).
fn not_yet(name: &str, want: &str, found: &[String]) -> ApiError {
    let holds = if found.is_empty() {
        "no TXT record".to_owned()
    } else {
        let texts: Vec<String> = found
            .iter()
            .take(5)
            .map(|t| format!("{:?}", clip(t)))
            .collect();
        format!("TXT {}", texts.join(", "))
    };
    ApiError::failed(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::EmailDomainNotVerified,
        format!(
            "{name} has {holds}, not {want:?}; publish it and try again (DNS may take a while)"
        ),
        true,
    )
}

/// `list_domains`: the circle's domains, by name.
pub async fn list(state: &AppState, element: &Element) -> Result<DomainList, ApiError> {
    let domains = state.store().email().domains(&element.circle_id).await?;
    Ok(DomainList {
        domains: domains.iter().map(|d| view(state, d)).collect(),
    })
}

/// `remove_domain`: removes a domain of the circle (not a managed one).
pub async fn remove(
    state: &AppState,
    element: &Element,
    body: &DomainRequest,
) -> Result<Value, ApiError> {
    let domain = parse_domain(&body.domain)?;
    let record = own(state, &element.circle_id, &domain).await?;
    if record.managed {
        return Err(ApiError::conflict(
            ErrorCode::EmailDomainManaged,
            format!("{domain} is this circle's managed domain and cannot be removed"),
        ));
    }
    if !state
        .store()
        .email()
        .delete_domain(&element.circle_id, &domain)
        .await?
    {
        return Err(not_found(&domain));
    }
    Ok(json!({"domain": domain, "removed": true}))
}

/// `bootstrap_managed_domain`: `<circle name>.<first platform domain>`, stored managed and
/// verified; the existing one when there is one.
pub async fn bootstrap(
    state: &AppState,
    element: &Element,
    circle_name: &str,
) -> Result<Value, ApiError> {
    let first = state
        .email()
        .platform
        .as_ref()
        .and_then(|p| p.domains.first())
        .ok_or_else(|| {
            ApiError::invalid(
                ErrorCode::EmailNotConfigured,
                "managed domains need a platform mailbox, and this deployment has none (email.platform)",
            )
        })?;
    let domain = parse_domain(&format!("{circle_name}.{first}"))?;
    let now = state.now_ms();
    let fresh = DomainRecord {
        id: new_id("dom"),
        circle_id: element.circle_id.clone(),
        domain: domain.clone(),
        token: new_id("vgv"),
        managed: true,
        verified_at: Some(now),
        created_at: now,
        dkim_key: None,
        dkim_public: None,
    };
    let created = state.store().email().insert_domain(&fresh).await?;
    if created {
        let subject = Subject {
            element_id: Some(&element.id),
            ..Subject::default()
        };
        let detail = json!({"domain": domain, "managed": true});
        audit::record(
            state,
            &element.circle_id,
            "domain_verified",
            subject,
            detail,
        )
        .await?;
    } else if own(state, &element.circle_id, &domain).await.is_err() {
        return Err(owned_by_other());
    }
    Ok(json!({"domain": domain, "verified": true, "managed": true, "created": created}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_parse_lower_cased_without_the_root_dot() {
        for (text, want) in [
            ("Example.COM", "example.com"),
            (" mail.example.se. ", "mail.example.se"),
        ] {
            assert_eq!(parse_domain(text).expect(text), want);
        }
        for bad in [
            "",
            "localhost",
            "a..se",
            "-a.se",
            "a b.se",
            "ex_ample.com",
            ".",
        ] {
            assert_eq!(
                parse_domain(bad).map_err(|e| e.code()),
                Err("EMAIL_INVALID_DOMAIN"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn platform_domains_and_their_subdomains_are_reserved() {
        for (domain, parent, want) in [
            ("mail.vox.se", "mail.vox.se", true),
            ("a.mail.vox.se", "mail.vox.se", true),
            ("A.Mail.Vox.se", "mail.vox.se", true),
            ("xmail.vox.se", "mail.vox.se", false),
            ("vox.se", "mail.vox.se", false),
        ] {
            assert_eq!(
                is_at_or_under(domain, parent),
                want,
                "{domain} under {parent}"
            );
        }
    }
}
