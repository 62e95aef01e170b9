//! The `email` element's spec: one mailbox, how it sends (SMTP) and receives (IMAP), whose
//! login it uses, and which senders it listens to. Its operations (send, receive, outbox,
//! suppression, audit) live in the email module; this is what they stand on.
//!
//! Validation turns a client's spec into an [`EmailSpec`] with every default filled, so a
//! stored spec is complete and validates to itself:
//! - `address` is required, `local@domain` (`EMAIL_INVALID_ADDRESS`, as `from_address` and
//!   every `accepted_addresses` entry); its domain is stored lower-cased.
//! - Unknown fields, wrong types and broken rules are `EMAIL_INVALID_CONFIG`, naming the field.
//! - The login is, by precedence, the platform mailbox (`stalwart_managed`: the deployment's
//!   own IMAP/SMTP server and per-circle credentials, none of them in the spec), a provider
//!   (`credential_ref`), or the inline `smtp_username` + `smtp_password`, used for SMTP and
//!   IMAP alike. What a higher one makes unused is kept and warned about.
//! - Server defaults are filled only where the host is set and the mailbox is not
//!   `stalwart_managed`: SMTP `starttls` on 587 (465 for `tls`, 25 for `none`), IMAP `tls` on
//!   993 (143 otherwise).
//! - Legacy `auto_send_to_unknown` maps to `send_policy` (true `auto`, false `known_only`)
//!   and is not stored.
//!
//! The inline password is a secret. The routes seal a plain `smtp_password` with
//! [`seal_password`] before it is stored (`{"sealed": base64}`, bound to the element id),
//! show it as [`PASSWORD_MASK`] ([`redact`]), and [`smtp_password`] opens it for the one
//! place that logs in. No message of this module contains it.

mod password;
mod server;
mod syntax;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Validated;
use crate::e164::clip;
pub use crate::element::sealed::SealedField as SmtpPassword;
use crate::error::{ApiError, ErrorCode};
use crate::store::Element;
pub use password::{PASSWORD_MASK, redact, seal_password, smtp_password};
use server::{Server, ServerInput};
use syntax::{address, display_name, domain, list};

/// Most entries of `accepted_addresses` and of `accepted_domains`.
pub const MAX_ACCEPTED: usize = 100;
/// The subject of a send that gives none, unless the spec sets `default_subject`.
pub const DEFAULT_SUBJECT: &str = "Message from voxgate";
/// A stored, valid email spec: every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailSpec {
    /// The mailbox, `local@domain`; the domain lower-cased.
    #[schema(example = "desk@example.com")]
    pub address: String,
    /// The name shown with `from_address`: 1-100 characters, no control characters
    /// (`display_name` is our earlier name, still accepted). Default none.
    pub from_name: Option<String>,
    /// `Reply-To` of outgoing mail when a send names none.
    pub reply_to: Option<String>,
    /// Require TLS for SMTP submission. Default true; false with an `smtp_host` and no
    /// `smtp_security` means plain SMTP (`smtp_security` `none`).
    pub use_tls: bool,
    /// The subject of a send that gives none. Default `Message from voxgate`.
    pub default_subject: String,
    /// Send HTML bodies (multipart/alternative with the text). Default true; false sends
    /// the text part only.
    pub html_enabled: bool,
    /// Open and click tracking on every HTML send (pixel, rewritten links). Default false.
    pub tracking_enabled: bool,
    /// Delivery retries after the first attempt, 0-10. Default 3.
    pub max_retries: u32,
    /// The first retry's wait in ms, doubled after each failure, 500-60000. Default 2000.
    pub retry_backoff_ms: u32,
    /// What a received mail does. Default `invoke`.
    pub mode: EmailMode,
    /// The platform mailbox: the deployment's own IMAP/SMTP server, with credentials
    /// derived per circle. Default false.
    pub stalwart_managed: bool,
    /// Who the element may send to without a review. Default `auto` (or from the legacy
    /// `auto_send_to_unknown`: true `auto`, false `known_only`).
    pub send_policy: SendPolicy,
    /// A provider id (1-64 characters) whose user name and password are the SMTP and IMAP
    /// login. Ignored when `stalwart_managed`.
    pub credential_ref: Option<String>,
    /// The inline SMTP and IMAP login, with `smtp_password`. Ignored when
    /// `credential_ref` or `stalwart_managed` is set.
    pub smtp_username: Option<String>,
    /// The inline password: given as a string, stored sealed, shown as `********`.
    pub smtp_password: Option<SmtpPassword>,
    /// Where received mail is fetched from. Default `imap` when `stalwart_managed` or
    /// `imap_host` is set, else `none`.
    pub mailbox_backend: MailboxBackend,
    /// The SMTP server: a host name or IP address, lower-cased.
    pub smtp_host: Option<String>,
    /// 1-65535. Default by `smtp_security`: 587, 465 (`tls`) or 25 (`none`).
    pub smtp_port: Option<u16>,
    /// Default `starttls`.
    pub smtp_security: Option<Security>,
    /// The IMAP server: a host name or IP address, lower-cased.
    pub imap_host: Option<String>,
    /// 1-65535. Default 993 for `tls`, else 143.
    pub imap_port: Option<u16>,
    /// Default `tls`.
    pub imap_security: Option<Security>,
    /// The sender of outgoing mail. Default `address`.
    pub from_address: String,
    /// Senders the element listens to, lower-cased, without duplicates; at most 100.
    pub accepted_addresses: Vec<String>,
    /// Sender domains the element listens to, lower-cased, without duplicates; at most 100.
    pub accepted_domains: Vec<String>,
}

/// What a received mail does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailMode {
    /// Each mail invokes the agent once.
    Invoke,
    /// Mails are turns of a conversation thread with the sender.
    Conversation,
}

/// Who the element may send to without a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SendPolicy {
    /// Anyone.
    Auto,
    /// Every mail waits in the outbox for a review.
    Outbox,
    /// Only known contacts; others are refused.
    KnownOnly,
}

/// Where received mail is fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailboxBackend {
    /// An IMAP server: `imap_host`, or the platform's.
    Imap,
    /// Nowhere: the element only sends.
    None,
}

/// How a mail server connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// TLS from the first byte (SMTPS 465, IMAPS 993).
    Tls,
    /// Plain, upgraded with STARTTLS.
    Starttls,
    /// Plain text throughout.
    None,
}

/// One server the element talks to, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Connection protection.
    pub security: Security,
}

/// Whose login the element uses, by precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login<'a> {
    /// The platform mailbox's derived credentials.
    Platform,
    /// The user name and password of this provider id.
    Provider(&'a str),
    /// `smtp_username` and the sealed `smtp_password` ([`smtp_password`]).
    Inline {
        /// `smtp_username`.
        username: &'a str,
    },
    /// No login: the servers take mail without one.
    Anonymous,
}

macro_rules! wire_names {
    ($($ty:ident { $($variant:ident => $name:literal),+ })+) => {$(
        impl $ty {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
    )+};
}

wire_names! {
    EmailMode { Invoke => "invoke", Conversation => "conversation" }
    SendPolicy { Auto => "auto", Outbox => "outbox", KnownOnly => "known_only" }
    MailboxBackend { Imap => "imap", None => "none" }
    Security { Tls => "tls", Starttls => "starttls", None => "none" }
}

impl EmailSpec {
    /// The SMTP server, unless the platform's is used or none is set.
    pub fn smtp(&self) -> Option<ServerSettings> {
        let host = self
            .smtp_host
            .as_deref()
            .filter(|_| !self.stalwart_managed)?;
        Some(Server::SMTP.settings(host, self.smtp_port, self.smtp_security))
    }

    /// The IMAP server, unless the platform's is used, none is set or nothing is fetched.
    pub fn imap(&self) -> Option<ServerSettings> {
        let fetched = !self.stalwart_managed && self.mailbox_backend == MailboxBackend::Imap;
        let host = self.imap_host.as_deref().filter(|_| fetched)?;
        Some(Server::IMAP.settings(host, self.imap_port, self.imap_security))
    }

    /// Whose login the element uses.
    pub fn login(&self) -> Login<'_> {
        if self.stalwart_managed {
            Login::Platform
        } else if let Some(id) = &self.credential_ref {
            Login::Provider(id)
        } else if let Some(username) = &self.smtp_username {
            Login::Inline { username }
        } else {
            Login::Anonymous
        }
    }
}

/// Validates `spec` and fills in defaults.
pub fn validate(spec: &Value) -> Result<Validated, ApiError> {
    let (spec, warnings) = fill(spec)?;
    let spec = serde_json::to_value(&spec).map_err(|e| ApiError::Store(e.to_string()))?;
    Ok(Validated { spec, warnings })
}

/// The typed spec of an email element (its stored spec, validated again so that a row
/// written under older rules is read with today's defaults); `OPERATION_NOT_FOUND` for
/// other types.
pub fn spec_of(element: &Element) -> Result<EmailSpec, ApiError> {
    if element.element_type != super::ElementType::Email.as_str() {
        return Err(ApiError::not_found(
            ErrorCode::OperationNotFound,
            format!("{} elements have no email operations", element.element_type),
        ));
    }
    fill(&element.spec).map(|(spec, _)| spec)
}

/// The stored spec without the defaults that follow other fields (`from_address` equal to
/// `address`, `mailbox_backend`, and server security and ports at their defaults), so that
/// a deep-merge update changing `address`, `imap_host` or a security mode takes them along.
pub fn unfill(stored: &Value) -> Value {
    let (Ok((spec, _)), Some(fields)) = (fill(stored), stored.as_object()) else {
        return stored.clone();
    };
    let mut fields = fields.clone();
    if spec.from_address == spec.address {
        fields.remove("from_address");
    }
    if spec.mailbox_backend == default_backend(spec.stalwart_managed, spec.imap_host.is_some()) {
        fields.remove("mailbox_backend");
    }
    for (server, security, port) in [
        (Server::SMTP, spec.smtp_security, spec.smtp_port),
        (Server::IMAP, spec.imap_security, spec.imap_port),
    ] {
        let effective = security.unwrap_or(server.security);
        if security == Some(server.security) {
            fields.remove(server.security_field);
        }
        if port == Some((server.port)(effective)) {
            fields.remove(server.port_field);
        }
    }
    Value::Object(fields)
}

fn config_error(message: impl Into<String>) -> ApiError {
    ApiError::invalid(ErrorCode::EmailInvalidConfig, message)
}

/// A client's spec, field by field: present, of the right type, nothing unknown.
struct Input {
    address: Option<String>,
    from_name: Option<String>,
    display_name: Option<String>,
    reply_to: Option<String>,
    use_tls: Option<bool>,
    default_subject: Option<String>,
    html_enabled: Option<bool>,
    tracking_enabled: Option<bool>,
    max_retries: Option<i64>,
    retry_backoff_ms: Option<i64>,
    mode: Option<EmailMode>,
    stalwart_managed: Option<bool>,
    send_policy: Option<SendPolicy>,
    auto_send_to_unknown: Option<bool>,
    credential_ref: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<SmtpPassword>,
    mailbox_backend: Option<MailboxBackend>,
    smtp: ServerInput,
    imap: ServerInput,
    from_address: Option<String>,
    accepted_addresses: Option<Vec<String>>,
    accepted_domains: Option<Vec<String>>,
}

impl Input {
    fn read(spec: &Value) -> Result<Self, ApiError> {
        let Value::Object(fields) = spec else {
            return Err(config_error("an email spec is a JSON object"));
        };
        let mut fields = fields.clone();
        let mut server = |prefix: &str| -> Result<ServerInput, ApiError> {
            Ok(ServerInput {
                host: take(&mut fields, &format!("{prefix}_host"))?,
                port: take(&mut fields, &format!("{prefix}_port"))?,
                security: take(&mut fields, &format!("{prefix}_security"))?,
            })
        };
        let (smtp, imap) = (server("smtp")?, server("imap")?);
        let input = Self {
            smtp,
            imap,
            address: take(&mut fields, "address")?,
            from_name: take(&mut fields, "from_name")?,
            display_name: take(&mut fields, "display_name")?,
            reply_to: take(&mut fields, "reply_to")?,
            use_tls: take(&mut fields, "use_tls")?,
            default_subject: take(&mut fields, "default_subject")?,
            html_enabled: take(&mut fields, "html_enabled")?,
            tracking_enabled: take(&mut fields, "tracking_enabled")?,
            max_retries: take(&mut fields, "max_retries")?,
            retry_backoff_ms: take(&mut fields, "retry_backoff_ms")?,
            mode: take(&mut fields, "mode")?,
            stalwart_managed: take(&mut fields, "stalwart_managed")?,
            send_policy: take(&mut fields, "send_policy")?,
            auto_send_to_unknown: take(&mut fields, "auto_send_to_unknown")?,
            credential_ref: take(&mut fields, "credential_ref")?,
            smtp_username: take(&mut fields, "smtp_username")?,
            smtp_password: take(&mut fields, "smtp_password")?,
            mailbox_backend: take(&mut fields, "mailbox_backend")?,
            from_address: take(&mut fields, "from_address")?,
            accepted_addresses: take(&mut fields, "accepted_addresses")?,
            accepted_domains: take(&mut fields, "accepted_domains")?,
        };
        match fields.keys().next() {
            None => Ok(input),
            Some(unknown) => Err(config_error(format!(
                "unknown field {:?} in the email spec",
                clip(unknown)
            ))),
        }
    }
}

/// Takes field `name` out of `fields`: absent and `null` are unset.
fn take<T: DeserializeOwned>(
    fields: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(|e| match name {
                // The message of a password would describe the password.
                "smtp_password" => config_error(
                    "smtp_password must be a string (or the stored {\"sealed\": ...} value)",
                ),
                _ => config_error(format!("{name}: {e}")),
            }),
    }
}

/// Validates `spec` into the filled [`EmailSpec`] and its warnings.
fn fill(spec: &Value) -> Result<(EmailSpec, Vec<String>), ApiError> {
    let mut input = Input::read(spec)?;
    let mut warnings = Vec::new();
    // The document's Quick Start names only `from_address`: it is then the mailbox too.
    let address = match (&input.address, &input.from_address) {
        (Some(a), _) => address("address", a)?,
        (None, Some(from)) => address("from_address", from)?,
        (None, None) => address("address", "")?,
    };
    let from_address = match &input.from_address {
        Some(from) => self::address("from_address", from)?,
        None => address.clone(),
    };
    let use_tls = input.use_tls.unwrap_or(true);
    if !use_tls && input.smtp.host.is_some() && input.smtp.security.is_none() {
        input.smtp.security = Some(Security::None);
    }
    let from_name = match (input.from_name.take(), input.display_name.take()) {
        (Some(name), legacy) => {
            if legacy.is_some() {
                warnings.push("display_name is ignored: from_name is set".to_owned());
            }
            Some(display_name(name)?)
        }
        (None, legacy) => legacy.map(display_name).transpose()?,
    };
    let reply_to = input
        .reply_to
        .as_deref()
        .map(|r| self::address("reply_to", r))
        .transpose()?;
    let default_subject = match input.default_subject.take() {
        Some(subject)
            if subject.is_empty()
                || subject.len() > 998
                || subject.chars().any(char::is_control) =>
        {
            return Err(config_error(
                "default_subject must be 1-998 bytes without control characters",
            ));
        }
        Some(subject) => subject,
        None => DEFAULT_SUBJECT.to_owned(),
    };
    let html_enabled = input.html_enabled.unwrap_or(true);
    let tracking_enabled = input.tracking_enabled.unwrap_or(false);
    if tracking_enabled && !html_enabled {
        warnings.push(
            "tracking_enabled has no effect with html_enabled false: the open-tracking pixel needs an HTML body"
                .to_owned(),
        );
    }
    let (max_retries, retry_backoff_ms) = super::retries(
        input.max_retries,
        input.retry_backoff_ms,
        ErrorCode::EmailInvalidConfig,
    )?;
    let stalwart_managed = input.stalwart_managed.unwrap_or(false);
    let send_policy = send_policy(&input, &mut warnings);
    check_login(&input, stalwart_managed, &mut warnings)?;
    let (smtp_host, smtp_port, smtp_security) =
        Server::SMTP.fill(&input.smtp, stalwart_managed, &mut warnings)?;
    let (imap_host, imap_port, imap_security) =
        Server::IMAP.fill(&input.imap, stalwart_managed, &mut warnings)?;
    let mailbox_backend = mailbox_backend(&input, stalwart_managed, &mut warnings)?;
    if !stalwart_managed && smtp_host.is_none() {
        warnings.push("no smtp_host: this element can receive mail but not send it".to_owned());
    }
    let spec = EmailSpec {
        address,
        from_name,
        reply_to,
        use_tls,
        default_subject,
        html_enabled,
        tracking_enabled,
        max_retries,
        retry_backoff_ms,
        mode: input.mode.unwrap_or(EmailMode::Invoke),
        stalwart_managed,
        send_policy,
        credential_ref: input.credential_ref,
        smtp_username: input.smtp_username,
        smtp_password: input.smtp_password,
        mailbox_backend,
        smtp_host,
        smtp_port,
        smtp_security,
        imap_host,
        imap_port,
        imap_security,
        from_address,
        accepted_addresses: list("accepted_addresses", input.accepted_addresses, |a| {
            self::address("accepted_addresses", a).map(|a| a.to_lowercase())
        })?,
        accepted_domains: list("accepted_domains", input.accepted_domains, domain)?,
    };
    Ok((spec, warnings))
}

fn send_policy(input: &Input, warnings: &mut Vec<String>) -> SendPolicy {
    match (input.send_policy, input.auto_send_to_unknown) {
        (Some(policy), legacy) => {
            if legacy.is_some() {
                warnings.push("auto_send_to_unknown is ignored: send_policy is set".to_owned());
            }
            policy
        }
        (None, Some(false)) => SendPolicy::KnownOnly,
        (None, Some(true) | None) => SendPolicy::Auto,
    }
}

/// The login fields: each well-formed, the inline pair complete, and warnings for what
/// the precedence leaves unused.
fn check_login(
    input: &Input,
    stalwart_managed: bool,
    warnings: &mut Vec<String>,
) -> Result<(), ApiError> {
    if let Some(id) = &input.credential_ref
        && !(1..=64).contains(&id.chars().count())
    {
        return Err(config_error("credential_ref must be 1-64 characters"));
    }
    match (&input.smtp_username, &input.smtp_password) {
        (Some(_), None) => return Err(config_error("smtp_username needs smtp_password")),
        (None, Some(_)) => return Err(config_error("smtp_password needs smtp_username")),
        (Some(user), Some(password)) => check_inline(user, password)?,
        (None, None) => {}
    }
    let inline = input.smtp_username.is_some();
    if stalwart_managed {
        let mut ignored = Vec::new();
        if input.credential_ref.is_some() {
            ignored.push("credential_ref");
        }
        if inline {
            ignored.extend(["smtp_username", "smtp_password"]);
        }
        ignored.extend(Server::SMTP.given(&input.smtp));
        ignored.extend(Server::IMAP.given(&input.imap));
        if !ignored.is_empty() {
            let verb = if ignored.len() == 1 { "is" } else { "are" };
            warnings.push(format!(
                "{} {verb} ignored: stalwart_managed uses the platform mailbox",
                ignored.join(", ")
            ));
        }
    } else if input.credential_ref.is_some() && inline {
        warnings.push(
            "smtp_username/smtp_password are ignored: credential_ref takes precedence".to_owned(),
        );
    }
    Ok(())
}

fn check_inline(user: &str, password: &SmtpPassword) -> Result<(), ApiError> {
    if !(1..=256).contains(&user.chars().count()) || user.chars().any(char::is_control) {
        return Err(config_error(
            "smtp_username must be 1-256 characters without control characters",
        ));
    }
    password::check(password)
}

fn mailbox_backend(
    input: &Input,
    stalwart_managed: bool,
    warnings: &mut Vec<String>,
) -> Result<MailboxBackend, ApiError> {
    let has_host = input.imap.host.is_some();
    let backend = input
        .mailbox_backend
        .unwrap_or_else(|| default_backend(stalwart_managed, has_host));
    match backend {
        MailboxBackend::Imap if !stalwart_managed && !has_host => Err(config_error(
            "mailbox_backend imap needs imap_host (or stalwart_managed)",
        )),
        MailboxBackend::None if !stalwart_managed && has_host => {
            warnings.push("imap settings are ignored: mailbox_backend is none".to_owned());
            Ok(backend)
        }
        _ => Ok(backend),
    }
}

fn default_backend(stalwart_managed: bool, has_imap_host: bool) -> MailboxBackend {
    if stalwart_managed || has_imap_host {
        MailboxBackend::Imap
    } else {
        MailboxBackend::None
    }
}

#[cfg(test)]
mod tests;
