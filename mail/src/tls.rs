//! The TLS client settings every mail connection shares: the web PKI roots plus, when
//! configured, one extra CA (a company's private CA, or a test CA).
//!
//! Policy is configuration, as in rustls: the roots are decided once, when the settings are
//! made, and every connection (SMTP through `lettre`, IMAP through `tokio-rustls`) uses the
//! same ones. The crypto provider is always *ring*, passed explicitly, so nothing depends
//! on which provider the process happened to install as its default.
//!
//! `lettre` builds its own rustls configuration from its `TlsParameters`; it gets the same
//! trust through [`TlsSettings::extra_ca_pem`] (its defaults already include the web PKI
//! roots).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::{MailError, MailResult};

/// Which servers a mail connection trusts: the web PKI, plus an optional extra CA.
#[derive(Clone)]
pub struct TlsSettings {
    /// The extra CA certificates as given (PEM), for `lettre`.
    extra_ca_pem: Option<Arc<[u8]>>,
    /// How many certificates that PEM held (for `Debug`).
    extra_ca_count: usize,
    /// The rustls configuration, built once.
    config: Arc<ClientConfig>,
}

impl TlsSettings {
    /// Trusts the web PKI roots (Mozilla's, from `webpki-roots`) only.
    pub fn web_pki() -> Self {
        Self {
            extra_ca_pem: None,
            extra_ca_count: 0,
            config: client_config_with(web_pki_roots()),
        }
    }

    /// Trusts the web PKI roots and every certificate in `pem` (one or more PEM
    /// `CERTIFICATE` blocks).
    ///
    /// # Errors
    ///
    /// [`MailError::TlsConfig`] if `pem` holds no certificate or one that cannot be a root.
    pub fn with_extra_ca_pem(pem: &[u8]) -> MailResult<Self> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MailError::TlsConfig(format!("extra CA is not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(MailError::TlsConfig(
                "extra CA holds no CERTIFICATE block".into(),
            ));
        }
        let mut roots = web_pki_roots();
        for cert in &certs {
            roots
                .add(cert.clone())
                .map_err(|e| MailError::TlsConfig(format!("extra CA is unusable: {e}")))?;
        }
        Ok(Self {
            extra_ca_pem: Some(Arc::from(pem)),
            extra_ca_count: certs.len(),
            config: client_config_with(roots),
        })
    }

    /// [`TlsSettings::with_extra_ca_pem`] with the PEM read from `path`, or
    /// [`TlsSettings::web_pki`] when `path` is `None` (the usual configuration knob).
    ///
    /// # Errors
    ///
    /// [`MailError::TlsConfig`] if the file cannot be read or is not a usable CA.
    pub fn from_ca_file(path: Option<&Path>) -> MailResult<Self> {
        let Some(path) = path else {
            return Ok(Self::web_pki());
        };
        let pem = std::fs::read(path).map_err(|e| {
            MailError::TlsConfig(format!("cannot read CA file {}: {e}", path.display()))
        })?;
        Self::with_extra_ca_pem(&pem)
            .map_err(|e| MailError::TlsConfig(format!("{}: {e}", path.display())))
    }

    /// The rustls client configuration (ring provider, TLS 1.2 and 1.3, the roots above, no
    /// client certificate).
    pub fn client_config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }

    /// The extra CA as given (PEM), if any: for clients that build their own TLS
    /// configuration (`lettre`'s `TlsParameters`).
    pub fn extra_ca_pem(&self) -> Option<&[u8]> {
        self.extra_ca_pem.as_deref()
    }
}

impl Default for TlsSettings {
    /// [`TlsSettings::web_pki`].
    fn default() -> Self {
        Self::web_pki()
    }
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("web_pki", &true)
            .field("extra_ca_certificates", &self.extra_ca_count)
            .finish()
    }
}

/// The web PKI roots.
fn web_pki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// A client configuration trusting `roots`, on the ring provider.
fn client_config_with(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // Fails only for a provider without a cipher suite for TLS 1.2 or 1.3; ring has
        // both, so this is an invariant of the dependency, not a runtime condition.
        .expect("the ring provider supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_pki_has_no_extra_ca() {
        let settings = TlsSettings::web_pki();
        assert!(settings.extra_ca_pem().is_none());
        assert!(!web_pki_roots().is_empty());
    }

    #[test]
    fn garbage_is_not_a_ca() {
        for pem in [
            &b""[..],
            b"not pem",
            b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
        ] {
            assert!(matches!(
                TlsSettings::with_extra_ca_pem(pem),
                Err(MailError::TlsConfig(_))
            ));
        }
    }

    #[test]
    fn missing_ca_file_is_a_config_error() {
        let err = TlsSettings::from_ca_file(Some(Path::new("/nonexistent/ca.pem")));
        assert!(matches!(err, Err(MailError::TlsConfig(_))));
        assert!(TlsSettings::from_ca_file(None).is_ok());
    }
}
