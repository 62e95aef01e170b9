//! The HTTP edge: the router and the listener with graceful shutdown.
//!
//! This is an IO-edge module. [`router`] builds the axum `Router` with no socket, so tests
//! drive it with `oneshot`; [`serve`] binds it and runs until SIGINT or SIGTERM.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use voxgate_bridge::ws::{self, CallHandler};

use crate::app::App;
use crate::control::Control;

/// All routes voxgate serves: health, metrics, the control API (every route of which checks
/// its Bearer key) and, with an [`App`], the 46elks WebSocket leg (which checks its own
/// token).
pub(crate) fn router(app: Option<&App>, control: Option<&Control>) -> Router {
    let mut base = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if let Some(control) = control {
        base = base.merge(voxgate_control_api::router(control.state.clone()));
    }
    let Some(app) = app else { return base };
    let handler: Arc<dyn CallHandler> = Arc::new(app.pipeline.clone());
    let metrics_state = (app.pipeline.clone(), control.map(|c| c.state.clone()));
    base.route("/metrics", get(metrics).with_state(metrics_state))
        .merge(ws::router(app.ws.clone(), handler))
}

/// Prometheus text exposition of the call counters and per-turn latency histograms.
async fn metrics(
    State((pipeline, control)): State<(
        voxgate_pipeline::Pipeline,
        Option<voxgate_control_api::AppState>,
    )>,
) -> impl IntoResponse {
    let content_type = "text/plain; version=0.0.4; charset=utf-8";
    let mut text = pipeline.render_metrics();
    if let Some(control) = control {
        control.events().render(&mut text);
    }
    ([(header::CONTENT_TYPE, content_type)], text)
}

/// Liveness: the process is up and serving HTTP.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Readiness: the engines are loaded before the listener is bound, so a server that
/// answers is ready.
async fn readyz() -> Json<Value> {
    Json(json!({ "status": "ready" }))
}

/// Serves `router` on `listener` until a shutdown signal.
pub(crate) async fn serve(listener: tokio::net::TcpListener, router: Router) -> anyhow::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("voxgate stopped");
    Ok(())
}

/// Binds `addr`, with the error naming it.
pub(crate) async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("binding {addr}: {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "voxgate listening; GET /healthz");
    Ok(listener)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use super::*;

    async fn get_json(uri: &str) -> (StatusCode, Value) {
        let req = Request::get(uri).body(Body::empty()).expect("request");
        let res = router(None, None).oneshot(req).await.expect("infallible");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn healthz_answers_ok() {
        let (status, body) = get_json("/healthz").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
    }

    #[tokio::test]
    async fn unknown_route_is_404() {
        let (status, _) = get_json("/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
