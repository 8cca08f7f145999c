//! The web dashboard at `/dashboard`: the single-page app `make dashboard` builds into
//! `DASHBOARD_DIR` (default `dashboard/dist`), served from that directory.
//!
//! - `/dashboard/assets/<file>`: the content-hashed bundle, cached for a year (`immutable`);
//!   a name with anything but letters, digits, `.`, `-` and `_` is refused, so no path can
//!   leave the directory.
//! - `/dashboard` and every other `/dashboard/...` path: `index.html` (the app routes on the
//!   client), never cached, so a new build is picked up on the next load.
//! - No built dashboard: `503 {"detail": ...}` saying how to build it; the API is unaffected.
//!
//! The files are read on each request (a rebuilt dashboard is served without a restart);
//! they are small and the operating system caches them.

use std::path::{Path, PathBuf};

use axum::{
    Router,
    body::Body,
    extract::{Path as UrlPath, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{http_error::ApiError, state::AppState};

/// Where the app is served.
pub const PREFIX: &str = "/dashboard";

const INDEX: &str = "index.html";
const ASSETS: &str = "assets";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(PREFIX, get(index))
        .route("/dashboard/", get(index))
        .route("/dashboard/assets/{file}", get(asset))
        .route("/dashboard/{*client_route}", get(index))
}

async fn index(State(state): State<AppState>) -> Response {
    let directory = state.settings().gateway.dashboard_dir.clone();
    match read(directory.join(INDEX)).await {
        Ok(Some(bytes)) => file_response(bytes, "text/html; charset=utf-8", NO_CACHE),
        Ok(None) => not_built(&directory),
        Err(error) => {
            tracing::error!(error = %error, directory = %directory.display(), "dashboard index could not be read");
            not_built(&directory)
        }
    }
}

async fn asset(State(state): State<AppState>, UrlPath(file): UrlPath<String>) -> Response {
    if !is_plain_file_name(&file) {
        return ApiError::detail(StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let directory = state.settings().gateway.dashboard_dir.clone();
    match read(directory.join(ASSETS).join(&file)).await {
        Ok(Some(bytes)) => file_response(bytes, content_type(&file), IMMUTABLE),
        Ok(None) => ApiError::detail(StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(error) => {
            tracing::error!(error = %error, file, "dashboard asset could not be read");
            ApiError::detail(StatusCode::NOT_FOUND, "Not Found").into_response()
        }
    }
}

/// The file's bytes; `None` when it does not exist (or is not a file).
async fn read(path: PathBuf) -> std::io::Result<Option<Vec<u8>>> {
    let read = tokio::task::spawn_blocking(move || match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    });
    read.await.map_err(std::io::Error::other)?
}

fn not_built(directory: &Path) -> Response {
    ApiError::detail(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "The dashboard is not built: run `make dashboard` (it writes dashboard/dist), or \
             set DASHBOARD_DIR to a built dashboard (looked in {})",
            directory.display()
        ),
    )
    .into_response()
}

fn file_response(bytes: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Letters, digits, `.`, `-`, `_`; not starting with a dot (so never `..`).
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "._-".contains(character))
}

fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map(|(_, extension)| extension);
    match extension {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("map" | "json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_are_served_from_the_assets() {
        for good in [
            "app-JKEQLIAI.js",
            "styles-U5UAC5K4.css",
            "app.js.map",
            "a_b-c.txt",
        ] {
            assert!(is_plain_file_name(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "../Cargo.toml",
            ".env",
            "a/b.js",
            "a\\b.js",
            "%2e%2e",
            "a b.js",
        ] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type("app-X.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("styles-X.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("app-X.js.map"), "application/json");
        assert_eq!(content_type("blob"), "application/octet-stream");
    }
}
