//! **IO edge**: the HTTP server, its routes, and the handle that stops it.
//!
//! Requests pass, in order: the path rewrite (46elks tolerates path case, doc §2.1: an
//! `/a1/...` path is lower-cased before routing; ids are lower-case anyway), fault
//! injection ([`faults`](crate::faults)), routing, and for `/a1` HTTP Basic
//! authentication against the configured accounts.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router, ServiceExt as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Layer as _;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::store::Sim;
use crate::{account, calls, control, faults, numbers, sms};

/// The account a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Authed(pub(crate) String);

/// The handler extension carrying [`Authed`].
pub(crate) type Auth = Extension<Authed>;

/// Starts simulators.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulator;

impl Simulator {
    /// Binds `config.listen` and serves the simulated 46elks API until
    /// [`SimHandle::shutdown`].
    ///
    /// # Errors
    ///
    /// [`SimError::Bind`] when the address cannot be bound, [`SimError::Client`] when the
    /// webhook client cannot be built.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let listen = config.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: listen,
            source,
        })?;
        let sim = Arc::new(Sim::new(config)?);
        let app =
            middleware::from_fn_with_state(sim.clone(), faults::inject).layer(router(sim.clone()));
        let app = middleware::from_fn(lower_case_api_path).layer(app);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .map_err(SimError::Serve)
        });
        tracing::info!(%addr, "46elks simulator listening");
        Ok(SimHandle {
            addr,
            sim,
            stop,
            server,
        })
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    sim: Arc<Sim>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), SimError>>,
}

impl SimHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, e.g. `http://127.0.0.1:40123/a1` (46elks: `https://api.46elks.com/a1`).
    pub fn api_url(&self) -> String {
        format!("http://{}/a1", self.addr)
    }

    /// Everything the simulator holds: the body of `GET /sim/state`.
    pub fn state(&self) -> serde_json::Value {
        self.sim.with(|store| store.state_json())
    }

    /// Stops serving, lets open requests finish, and stops background tasks (pending
    /// delivery reports, running calls).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        self.sim.abort_tasks();
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "46elks simulator stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "46elks simulator task failed"),
        }
    }
}

/// Serves `config` until ctrl-c, for the `voxgate carrier-sim` subcommand.
///
/// # Errors
///
/// See [`Simulator::start`]; [`SimError::Signal`] when ctrl-c cannot be awaited.
pub async fn run(config: SimConfig) -> Result<(), SimError> {
    let accounts: Vec<String> = config.accounts.iter().map(|a| a.username.clone()).collect();
    let handle = Simulator::start(config).await?;
    tracing::info!(
        api_url = handle.api_url(),
        ?accounts,
        "46elks simulator ready; ctrl-c stops it"
    );
    let signal = tokio::signal::ctrl_c().await.map_err(SimError::Signal);
    handle.shutdown().await;
    signal
}

fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/sms", get(sms::list).post(sms::send::send))
        .route("/sms/{id}", get(sms::get))
        .route("/numbers", get(numbers::list).post(numbers::allocate))
        .route(
            "/numbers/{id}",
            get(numbers::get).post(numbers::configure::configure),
        )
        .route("/me", get(account::me).post(account::update))
        .route("/calls", get(calls::api::list).post(calls::api::create))
        .route("/calls/{id}", get(calls::api::get))
        .layer(middleware::from_fn_with_state(sim.clone(), authenticate));
    Router::new()
        .nest("/a1", api)
        .nest("/sim", control::router())
        .with_state(sim)
}

/// 46elks tolerates path case (`/a1/SMS`, `/a1/Me`, doc §2.1): lower-case API paths before
/// routing. `/sim` paths are left alone (they carry account names).
async fn lower_case_api_path(mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("/a1"));
    if api && path != path.to_lowercase() {
        let mut lowered = path.to_lowercase();
        if let Some(query) = request.uri().query() {
            lowered = format!("{lowered}?{query}");
        }
        let mut parts = request.uri().clone().into_parts();
        if let Ok(pq) = lowered.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

/// HTTP Basic authentication (doc §2.1) against the configured accounts; 401 otherwise.
async fn authenticate(
    State(sim): State<Arc<Sim>>,
    mut request: Request,
    next: Next,
) -> Result<Response, SimError> {
    let (user, password) = basic_credentials(request.headers()).ok_or(SimError::Unauthorized)?;
    let known = sim.with(|store| {
        store
            .accounts
            .iter()
            .any(|a| a.account.username == user && a.account.password == password)
    });
    if !known {
        return Err(SimError::Unauthorized);
    }
    request.extensions_mut().insert(Authed(user));
    Ok(next.run(request).await)
}

/// The `Authorization: Basic` user and password.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_basic_credentials() {
        let mut headers = HeaderMap::new();
        assert_eq!(basic_credentials(&headers), None);
        let value = format!("Basic {}", STANDARD.encode("sim:pa:ss"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("sim".into(), "pa:ss".into()))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&headers), None);
    }
}
