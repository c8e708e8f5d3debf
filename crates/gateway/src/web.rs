//! The web player's files: served from the folder `npm run build` writes (`web/dist`), with
//! every path that is not a file answered by `index.html` (the player routes in the browser).
//! Hashed assets are cached for good; `index.html` is checked each time. Gzipped copies
//! written beside the files are sent to browsers that accept them. Without a built player, `/`
//! says how to build it.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// The folder holding the built player's `index.html`: `configured` when set, else `web/dist`
/// under the working directory, else the one in this source tree (for a binary run from a
/// checkout).
pub fn locate(configured: &Path) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = if configured.as_os_str().is_empty() {
        vec![
            PathBuf::from("web/dist"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist"),
        ]
    } else {
        vec![configured.to_path_buf()]
    };
    candidates
        .into_iter()
        .find(|dir| dir.join("index.html").is_file())
}

/// Answers a request no route took: a file of the player, its `index.html`, or how to build it.
pub async fn serve(dir: Option<PathBuf>, request: Request<Body>) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(dir) = dir else {
        return not_built();
    };
    let immutable = request.uri().path().starts_with("/assets/");
    let files = ServeDir::new(&dir)
        .precompressed_gzip()
        .fallback(ServeFile::new(dir.join("index.html")).precompressed_gzip());
    let mut response = match files.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    let cache = if immutable && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn not_built() -> Response {
    let page = Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Beatstream</title></head>\
         <body style=\"font-family: sans-serif; max-width: 40rem; margin: 3rem auto\">\
         <h1>Beatstream is running, but its web player is not built</h1>\
         <p>The API answers under <a href=\"/api/docs\">/api/docs</a>. To get the player, build it \
         (Node.js 20 and npm needed) and reload this page:</p>\
         <pre>make web</pre><p>or</p><pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>\
         <p>The server looks for <code>web/dist</code> under its working directory, or where \
         <code>[http] web_dir</code> (<code>BEATSTREAM_HTTP__WEB_DIR</code>) points.</p>\
         </body></html>",
    );
    (StatusCode::SERVICE_UNAVAILABLE, page).into_response()
}
