//! The boundary's decisions, over a router of two routes.

use axum::body::Body;
use axum::http::Method;
use axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN;
use axum::routing::get;
use tower::ServiceExt;

use super::*;

const HOST_NAME: &str = "127.0.0.1:7878";

fn app(allowed_origins: &[&str]) -> Router {
    let config = ServerConfig {
        allowed_origins: allowed_origins.iter().map(|o| o.to_string()).collect(),
        ..ServerConfig::default()
    };
    let router = Router::new().route(
        "/thing",
        get(|| async { "read" }).post(|| async { StatusCode::CREATED }),
    );
    guarded(router, Boundary::new(&config, "127.0.0.1".parse().unwrap()))
}

async fn send(app: Router, method: Method, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri("/thing");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn a_foreign_host_is_misdirected_whatever_it_asks() {
    for method in [Method::GET, Method::POST] {
        let response = send(app(&[]), method, &[("host", "evil.example:7878"), JSON]).await;
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
    }
    let response = send(app(&[]), Method::GET, &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::MISDIRECTED_REQUEST,
        "no Host"
    );
}

#[tokio::test]
async fn a_foreign_page_is_refused_and_gets_no_cors_headers() {
    for method in [Method::GET, Method::POST, Method::OPTIONS] {
        let headers = [
            ("host", HOST_NAME),
            ("origin", "http://evil.example"),
            ("access-control-request-method", "POST"),
            JSON,
        ];
        let response = send(app(&[]), method, &headers).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(!response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
    }
}

#[tokio::test]
async fn the_dashboard_and_programs_pass() {
    let own = ("origin", "http://127.0.0.1:7878");
    let response = send(app(&[]), Method::POST, &[("host", HOST_NAME), own, JSON]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(!response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
    let response = send(app(&[]), Method::GET, &[("host", "localhost:7878")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
}

#[tokio::test]
async fn an_allowed_page_gets_its_preflight_and_cors_headers() {
    let page = ("origin", "https://tools.example");
    let app = app(&["https://tools.example"]);
    let preflight = [
        ("host", HOST_NAME),
        page,
        ("access-control-request-method", "POST"),
    ];
    let response = send(app.clone(), Method::OPTIONS, &preflight).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://tools.example"
    );
    let response = send(
        app.clone(),
        Method::POST,
        &[("host", HOST_NAME), page, JSON],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://tools.example"
    );
    let refused = send(app, Method::DELETE, &[("host", HOST_NAME), page, JSON]).await;
    assert_eq!(refused.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        refused.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN),
        "the page may read why it was refused"
    );
}
