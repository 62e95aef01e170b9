//! Registration (RFC 3261 §10.2): REGISTER with digest authentication, refreshed before it
//! runs out, retried with backoff when it fails.
//!
//! One [`Registration`] keeps one Call-ID and a climbing CSeq for every REGISTER it sends
//! (§10.2.4), answers 401/407 once per challenge (a `stale=true` challenge again), follows
//! 423 Interval Too Brief to the registrar's Min-Expires, and refreshes when
//! [`refresh_after`] of the granted time has passed. A failure (a final error, or no answer)
//! is reported and retried after [`RETRY_AFTER`], doubling up to [`MAX_RETRY_AFTER`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rsip::headers::{Header, UntypedHeader as _};
use rsip::prelude::ToTypedHeader as _;
use rsip::{Method, Request, Response};

use super::outbound::{challenge_of, next_attempt};
use super::{UaEvent, UserAgent};
use crate::auth::{Credentials, DigestClient};
use crate::transaction::{Output, TransactionKey};

/// The first retry after a failed registration.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// The longest wait between retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// When to refresh a registration granted for `granted` seconds: halfway for short ones,
/// a minute early for long ones (most registrars grant 3600 s; refreshing at half would
/// double the load for nothing).
pub fn refresh_after(granted: u32) -> Duration {
    let granted = Duration::from_secs(u64::from(granted));
    (granted / 2).max(granted.saturating_sub(Duration::from_secs(60)))
}

/// A registration of this user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegRef(pub u64);

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegState {
    /// A REGISTER is in flight.
    Registering,
    /// Registered; refresh at the timer.
    Registered,
    /// Failed; retry at the timer.
    Failed,
    /// An unregister (expires 0) is in flight.
    Unregistering,
}

/// One registration, made by [`UserAgent::register`]: one Call-ID and a climbing CSeq,
/// refreshed before it runs out and retried with backoff.
#[derive(Debug)]
pub struct Registration {
    registrar: SocketAddr,
    aor: String,
    auth: Option<DigestClient>,
    expires: u32,
    call_id: String,
    from_tag: String,
    cseq: u32,
    state: RegState,
    /// The REGISTER in flight and its transaction.
    pending: Option<(TransactionKey, Request)>,
    /// Challenges answered for the REGISTER in flight.
    auth_tries: u32,
    timer: Option<Instant>,
    retry: Duration,
}

impl Registration {
    pub(super) fn new(
        registrar: SocketAddr,
        aor: String,
        credentials: Option<Credentials>,
        expires: u32,
        call_id: String,
        from_tag: String,
    ) -> Self {
        Self {
            registrar,
            aor,
            auth: credentials.map(DigestClient::new),
            expires,
            call_id,
            from_tag,
            cseq: 0,
            state: RegState::Registering,
            pending: None,
            auth_tries: 0,
            timer: None,
            retry: RETRY_AFTER,
        }
    }

    /// When it next needs the user agent: a refresh or a retry.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    /// The Request-URI of a REGISTER: the domain of the address of record (§10.2).
    fn registrar_uri(&self) -> String {
        let aor = self.aor.trim_start_matches("sip:");
        let domain = aor.rsplit_once('@').map_or(aor, |(_, d)| d);
        format!("sip:{domain}")
    }
}

impl UserAgent {
    /// Removes registration `reg` (REGISTER with expires 0); [`UaEvent::Unregistered`]
    /// follows.
    pub fn unregister(&mut self, now: Instant, reg: RegRef) {
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return;
        };
        registration.state = RegState::Unregistering;
        registration.timer = None;
        self.send_register(now, reg);
        self.drain_layer(now);
    }

    /// Forgets registration `reg` without a REGISTER: after a failure nothing is registered
    /// to remove, and a refused REGISTER would only be refused again. No event follows.
    pub fn forget_registration(&mut self, reg: RegRef) {
        self.registrations.remove(&reg);
    }

    /// Sends the next REGISTER of `reg`.
    pub(super) fn send_register(&mut self, now: Instant, reg: RegRef) {
        let via = self.via();
        let contact = self.config.contact();
        let user_agent = self.config.user_agent.clone();
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return;
        };
        let expires = match registration.state {
            RegState::Unregistering => 0,
            _ => registration.expires,
        };
        registration.cseq += 1;
        registration.auth_tries = 0;
        let Ok(uri) = rsip::Uri::try_from(registration.registrar_uri().as_str()) else {
            return;
        };
        let mut headers = rsip::Headers::default();
        headers.push(via.header().into());
        headers.push(rsip::headers::MaxForwards::new("70").into());
        let aor = &registration.aor;
        headers.push(Header::From(rsip::headers::From::new(format!(
            "<{aor}>;tag={}",
            registration.from_tag
        ))));
        headers.push(Header::To(rsip::headers::To::new(format!("<{aor}>"))));
        headers.push(rsip::headers::CallId::new(registration.call_id.clone()).into());
        headers.push(rsip::headers::CSeq::new(format!("{} REGISTER", registration.cseq)).into());
        headers.push(rsip::headers::Contact::new(contact).into());
        headers.push(rsip::headers::Expires::new(expires.to_string()).into());
        headers.push(rsip::headers::UserAgent::new(user_agent).into());
        headers.push(rsip::headers::ContentLength::from(0u32).into());
        let request = Request {
            method: Method::Register,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        let registrar = registration.registrar;
        if let Ok(key) = self.layer.send_request(now, request.clone(), registrar)
            && let Some(registration) = self.registrations.get_mut(&reg)
        {
            registration.pending = Some((key, request));
        }
    }

    /// The registration whose REGISTER is transaction `key`.
    pub(super) fn registration_of(&self, key: &TransactionKey) -> Option<super::RegRef> {
        self.registrations.iter().find_map(|(r, reg)| {
            reg.pending
                .as_ref()
                .is_some_and(|(k, _)| k == key)
                .then_some(*r)
        })
    }

    /// What a REGISTER's transaction said.
    pub(super) fn on_register_output(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        output: Output,
    ) {
        let Some(reg) = self.registration_of(key) else {
            return;
        };
        match output {
            Output::Response(response) => self.on_register_response(now, reg, &response),
            Output::Timeout | Output::TransportError => self.registration_failed(now, reg, None),
            _ => {}
        }
    }

    fn on_register_response(&mut self, now: Instant, reg: RegRef, response: &Response) {
        let status = response.status_code.code();
        match status {
            100..=199 => {}
            200..=299 => self.registered(now, reg, response),
            401 | 407 => {
                if !self.answer_challenge(now, reg, response) {
                    self.registration_failed(now, reg, Some(status));
                }
            }
            423 => {
                let min = header_number(response, "Min-Expires");
                let retried = match (self.registrations.get_mut(&reg), min) {
                    (Some(registration), Some(min)) if min > registration.expires => {
                        registration.expires = min;
                        true
                    }
                    _ => false,
                };
                if retried {
                    self.send_register(now, reg);
                } else {
                    self.registration_failed(now, reg, Some(status));
                }
            }
            _ => self.registration_failed(now, reg, Some(status)),
        }
    }

    fn registered(&mut self, now: Instant, reg: RegRef, response: &Response) {
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return;
        };
        registration.pending = None;
        registration.retry = RETRY_AFTER;
        if registration.state == RegState::Unregistering {
            self.registrations.remove(&reg);
            return self.emit(UaEvent::Unregistered { reg });
        }
        let granted = granted_expires(response).unwrap_or(registration.expires);
        registration.state = RegState::Registered;
        registration.timer = Some(now + refresh_after(granted));
        self.emit(UaEvent::Registered {
            reg,
            expires: granted,
        });
    }

    fn registration_failed(&mut self, now: Instant, reg: RegRef, status: Option<u16>) {
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return;
        };
        registration.pending = None;
        if registration.state == RegState::Unregistering {
            self.registrations.remove(&reg);
            return self.emit(UaEvent::Unregistered { reg });
        }
        registration.state = RegState::Failed;
        registration.timer = Some(now + registration.retry);
        registration.retry = (registration.retry * 2).min(MAX_RETRY_AFTER);
        self.emit(UaEvent::RegistrationFailed { reg, status });
    }

    /// Answers a challenge to the REGISTER in flight; false when it cannot.
    fn answer_challenge(&mut self, now: Instant, reg: RegRef, response: &Response) -> bool {
        let proxy = response.status_code.code() == 407;
        let via = self.via();
        let cnonce = self.token(16);
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return false;
        };
        let Some(challenge) = challenge_of(response, proxy) else {
            return false;
        };
        // One answer per challenge; a stale nonce (the password was right) gets another.
        if registration.auth_tries >= 1 && !challenge.stale() {
            return false;
        }
        let uri = registration.registrar_uri();
        let (Some(client), Some((_, request))) =
            (registration.auth.as_mut(), registration.pending.as_ref())
        else {
            return false;
        };
        let Ok(authorization) = client.authorize(&challenge, "REGISTER", &uri, &cnonce) else {
            return false;
        };
        let mut request = request.clone();
        next_attempt(&mut request, &via, proxy, &authorization.to_string());
        registration.cseq += 1;
        registration.auth_tries += 1;
        let registrar = registration.registrar;
        match self.layer.send_request(now, request.clone(), registrar) {
            Ok(key) => {
                if let Some(registration) = self.registrations.get_mut(&reg) {
                    registration.pending = Some((key, request));
                }
                true
            }
            Err(_) => false,
        }
    }

    /// A registration's refresh or retry is due.
    pub(super) fn on_registration_timer(&mut self, now: Instant, reg: RegRef) {
        let Some(registration) = self.registrations.get_mut(&reg) else {
            return;
        };
        registration.timer = None;
        if registration.state != RegState::Unregistering {
            registration.state = RegState::Registering;
        }
        self.send_register(now, reg);
    }
}

/// The seconds a 200 to REGISTER grants voxgate's binding: the `expires` parameter of the
/// Contact that is ours, else of the only Contact, else the Expires header (§10.2.4).
fn granted_expires(response: &Response) -> Option<u32> {
    let from_contact = response.headers.iter().find_map(|h| match h {
        Header::Contact(c) => c.typed().ok().and_then(|c| {
            c.params.iter().find_map(|p| match p {
                rsip::Param::Expires(e) => e.value().parse().ok(),
                _ => None,
            })
        }),
        _ => None,
    });
    from_contact.or_else(|| header_number(response, "Expires"))
}

/// A header's value as a number of seconds.
fn header_number(response: &Response, name: &str) -> Option<u32> {
    response.headers.iter().find_map(|h| match (h, name) {
        (Header::Expires(v), "Expires") => v.value().trim().parse().ok(),
        (Header::MinExpires(v), "Min-Expires") => v.value().trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_come_before_expiry() {
        for (granted, want) in [(3600, 3_540_000), (120, 60_000), (60, 30_000), (1, 500)] {
            assert_eq!(
                refresh_after(granted),
                Duration::from_millis(want),
                "{granted}"
            );
        }
    }
}
