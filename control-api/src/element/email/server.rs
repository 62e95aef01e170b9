//! SMTP and IMAP server settings: their field names, defaults and checks.

use super::syntax::{host, is_loopback};
use super::{Security, ServerSettings, config_error};
use crate::error::ApiError;

/// A server's fields as a client gives them.
#[derive(Default)]
pub(super) struct ServerInput {
    pub(super) host: Option<String>,
    pub(super) port: Option<i64>,
    pub(super) security: Option<Security>,
}

/// A server's host, port and security as they are stored.
type Given = (Option<String>, Option<u16>, Option<Security>);

/// SMTP or IMAP: field names and defaults.
#[derive(Clone, Copy)]
pub(super) struct Server {
    pub(super) host_field: &'static str,
    pub(super) port_field: &'static str,
    pub(super) security_field: &'static str,
    pub(super) security: Security,
    pub(super) port: fn(Security) -> u16,
}

impl Server {
    pub(super) const SMTP: Self = Self {
        host_field: "smtp_host",
        port_field: "smtp_port",
        security_field: "smtp_security",
        security: Security::Starttls,
        port: |s| match s {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        },
    };
    pub(super) const IMAP: Self = Self {
        host_field: "imap_host",
        port_field: "imap_port",
        security_field: "imap_security",
        security: Security::Tls,
        port: |s| if s == Security::Tls { 993 } else { 143 },
    };

    /// The settings of `host`, with the defaults for what is unset.
    pub(super) fn settings(
        self,
        host: &str,
        port: Option<u16>,
        security: Option<Security>,
    ) -> ServerSettings {
        let security = security.unwrap_or(self.security);
        ServerSettings {
            host: host.to_owned(),
            port: port.unwrap_or((self.port)(security)),
            security,
        }
    }

    /// The names of the fields `input` gives.
    pub(super) fn given(self, input: &ServerInput) -> impl Iterator<Item = &'static str> {
        [
            (self.host_field, input.host.is_some()),
            (self.port_field, input.port.is_some()),
            (self.security_field, input.security.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }

    /// Host, port and security, each checked; defaults where the host is set and the
    /// platform mailbox is not used.
    pub(super) fn fill(
        self,
        input: &ServerInput,
        stalwart_managed: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Given, ApiError> {
        let host = input
            .host
            .as_deref()
            .map(|h| host(self.host_field, h))
            .transpose()?;
        let port = input
            .port
            .map(|p| {
                u16::try_from(p).ok().filter(|&p| p > 0).ok_or_else(|| {
                    config_error(format!("{} must be 1-65535, not {p}", self.port_field))
                })
            })
            .transpose()?;
        if stalwart_managed {
            return Ok((host, port, input.security));
        }
        let Some(host) = host else {
            return match (port, input.security) {
                (None, None) => Ok((None, None, None)),
                _ => Err(config_error(format!(
                    "{} and {} need {}",
                    self.port_field, self.security_field, self.host_field
                ))),
            };
        };
        let security = input.security.unwrap_or(self.security);
        if security == Security::None && !is_loopback(&host) {
            warnings.push(format!(
                "{} none to {host} sends the password in clear text",
                self.security_field
            ));
        }
        let port = port.unwrap_or((self.port)(security));
        Ok((Some(host), Some(port), Some(security)))
    }
}
