//! TXT lookups for domain verification, with `hickory-resolver`.
//!
//! This is an IO edge. Verification asks "does this TXT record exist *now*?", right after
//! the user says they added it, so a [`TxtResolver`] never answers from a cache: each
//! [`TxtResolver::txt`] builds a fresh resolver (cheap: a config clone and a few sockets)
//! with a cache size of zero. Timeouts are short (2 s, 2 attempts) so a user waiting on a
//! "verify" button gets an answer quickly; a failed lookup is an error the caller can
//! retry, distinct from "no such record" which is an empty answer.
//!
//! Names are looked up as absolute names (a trailing dot is added), so resolv.conf search
//! domains never turn `_voxgate.example.com` into `_voxgate.example.com.corp.internal`.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::{MailError, MailResult};

/// How long one query waits for an answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// How many times a query is tried per server.
const ATTEMPTS: usize = 2;

/// Looks up TXT records, freshly each time.
#[derive(Debug, Clone)]
pub struct TxtResolver {
    config: ResolverConfig,
    options: ResolverOpts,
}

impl TxtResolver {
    /// Uses the machine's resolvers (`/etc/resolv.conf`), with this module's timeouts.
    ///
    /// # Errors
    ///
    /// [`MailError::Dns`] if the system configuration cannot be read.
    pub fn system() -> MailResult<Self> {
        let (config, options) =
            hickory_resolver::system_conf::read_system_conf().map_err(|e| MailError::Dns {
                name: "/etc/resolv.conf".into(),
                reason: e.to_string(),
            })?;
        Ok(Self::with(config, options))
    }

    /// Asks the one server at `server` (UDP, then TCP for truncated answers).
    pub fn at(server: SocketAddr) -> Self {
        let connection = |mut c: ConnectionConfig| {
            c.port = server.port();
            c
        };
        let name_server = NameServerConfig::new(
            server.ip(),
            true,
            vec![
                connection(ConnectionConfig::udp()),
                connection(ConnectionConfig::tcp()),
            ],
        );
        Self::with(
            ResolverConfig::from_name_servers(vec![name_server]),
            ResolverOpts::default(),
        )
    }

    fn with(config: ResolverConfig, mut options: ResolverOpts) -> Self {
        options.timeout = QUERY_TIMEOUT;
        options.attempts = ATTEMPTS;
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        Self { config, options }
    }

    /// Every TXT record of `name`, each record's strings joined (RFC 7208 §3.3 style: a
    /// long record is split into 255-byte strings that mean one text). A name without TXT
    /// records (NXDOMAIN or no data) is `Ok(vec![])`.
    ///
    /// # Errors
    ///
    /// [`MailError::Dns`] if the servers could not be asked or answered with an error
    /// (timeout, SERVFAIL, refused, a name that is not a domain name).
    pub async fn txt(&self, name: &str) -> MailResult<Vec<String>> {
        let fail = |reason: String| MailError::Dns {
            name: name.to_owned(),
            reason,
        };
        let absolute = if name.ends_with('.') {
            name.to_owned()
        } else {
            format!("{name}.")
        };
        let resolver =
            Resolver::builder_with_config(self.config.clone(), TokioRuntimeProvider::default())
                .with_options(self.options.clone())
                .build()
                .map_err(|e| fail(e.to_string()))?;
        let lookup = match resolver.txt_lookup(absolute.as_str()).await {
            Ok(lookup) => lookup,
            Err(e) if e.is_no_records_found() => return Ok(Vec::new()),
            Err(e) => return Err(fail(e.to_string())),
        };
        let texts = lookup
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::TXT(txt) => Some(
                    txt.txt_data
                        .iter()
                        .map(|part| String::from_utf8_lossy(part))
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect();
        Ok(texts)
    }
}
