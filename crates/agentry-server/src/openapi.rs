//! `GET /api/v1/openapi.json`: the API described in OpenAPI 3.0, kept beside the code; the
//! property-based fuzz (`scripts/fuzz-api.sh`) and the tests read it.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

pub const DOCUMENT: &str = include_str!("../openapi.json");

pub async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_is_json_with_every_path_under_the_api() {
        let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 15);
        assert!(
            paths
                .keys()
                .all(|p| p.starts_with("/api/") || p == "/metrics")
        );
    }
}
