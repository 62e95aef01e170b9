use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

use super::*;

struct Nobody;

impl CallHandler for Nobody {
    fn handle(&self, _leg: WsLeg) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}

fn app(token: &str) -> Router {
    let config = WsConfig {
        token: token.into(),
        ..WsConfig::default()
    };
    router(config, Arc::new(Nobody))
}

async fn status(app: Router, uri: &str) -> StatusCode {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    app.oneshot(request).await.expect("infallible").status()
}

#[tokio::test]
async fn wrong_or_missing_token_is_401_before_any_upgrade() {
    let table = [
        ("/api/webhooks/46elks/voice/ws", StatusCode::UNAUTHORIZED),
        (
            "/api/webhooks/46elks/voice/ws?token=",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/ws?token=s3cre",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/ws?token=s3cret2",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/ws?token=S3CRET",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/ws?tok=s3cret",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/ws?token=%zz",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/webhooks/46elks/voice/other?token=s3cret",
            StatusCode::NOT_FOUND,
        ),
    ];
    for (uri, expected) in table {
        assert_eq!(status(app("s3cret"), uri).await, expected, "{uri}");
    }
    // The right token passes auth; a plain GET then fails as a non-upgrade request.
    let ok = status(app("s3cret"), "/api/webhooks/46elks/voice/ws?token=s3cret").await;
    assert!(
        ok.is_client_error() && ok != StatusCode::UNAUTHORIZED,
        "{ok}"
    );
    // An empty configured token refuses everyone.
    let empty = status(app(""), "/api/webhooks/46elks/voice/ws?token=").await;
    assert_eq!(empty, StatusCode::UNAUTHORIZED);
}

#[test]
fn token_comparison() {
    let table = [
        ("abc", Some("abc"), true),
        ("abc", Some("abd"), false),
        ("abc", Some("ab"), false),
        ("abc", Some("abcd"), false),
        ("abc", None, false),
        ("", Some(""), false),
        ("", None, false),
    ];
    for (expected, given, ok) in table {
        assert_eq!(token_matches(expected, given), ok, "{expected:?} {given:?}");
    }
}

#[test]
fn socket_errors_are_classified() {
    let table = [
        (
            "Space limit exceeded: Message too long: 2000 > 1024",
            LegInput::TooLarge(Some(2000)),
        ),
        (
            "Space limit exceeded: Too many headers",
            LegInput::TooLarge(None),
        ),
        (
            "Connection reset without closing handshake",
            LegInput::Closed,
        ),
    ];
    for (text, expected) in table {
        assert_eq!(classify_error(text), expected, "{text}");
    }
}

#[test]
fn leg_inputs_map_to_session_inputs() {
    let text = LegInput::Text("{}".into());
    assert_eq!(text.as_input(), Input::Text("{}"));
    assert_eq!(LegInput::Binary(3).as_input(), Input::Binary { len: 3 });
    assert_eq!(LegInput::Closed.as_input(), Input::Closed);
    assert_eq!(
        LegInput::TooLarge(None).as_input(),
        Input::TooLarge { len: None }
    );
}
