//! `/api/openapi.json`, generated from the handlers' annotations, and `/api/docs`, a small
//! self-contained page that renders it (no CDN: a home server may be offline).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub fn render_openapi(mut doc: utoipa::openapi::OpenApi) -> Arc<String> {
    doc.info.title = "Beatstream".into();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.description =
        Some("The Beatstream HTTP API. Errors are `{\"error\": {\"code\", \"message\"}}`.".into());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    Arc::new(serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into()))
}

pub async fn openapi_json(State(json): State<Arc<String>>) -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        (*json).clone(),
    )
}

pub async fn docs_page() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
