//! `/openapi.json` and Swagger UI at `/docs`, served from assets embedded in the binary
//! (no CDN at run time).

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use utoipa_swagger_ui::Config;

use crate::{http_error::ApiError, state::AppState};

pub fn router(openapi: utoipa::openapi::OpenApi) -> Router<AppState> {
    let openapi = Arc::new(openapi);
    let config = Arc::new(Config::new(["/openapi.json"]));
    let index_config = Arc::clone(&config);
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let openapi = Arc::clone(&openapi);
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .route(
            "/docs",
            get(move || {
                let config = Arc::clone(&index_config);
                async move { swagger_file("", &config) }
            }),
        )
        .route(
            "/docs/{*file}",
            get(move |Path(file): Path<String>| {
                let config = Arc::clone(&config);
                async move { swagger_file(&file, &config) }
            }),
        )
}

fn swagger_file(file: &str, config: &Arc<Config<'static>>) -> Response {
    match utoipa_swagger_ui::serve(file, Arc::clone(config)) {
        Ok(Some(swagger_file)) => {
            let mut bytes = swagger_file.bytes.into_owned();
            if swagger_file.content_type.starts_with("text/html") {
                // Served at `/docs` as well as `/docs/`: anchor the relative asset links.
                let html = String::from_utf8_lossy(&bytes).replacen(
                    "<head>",
                    "<head><base href=\"/docs/\">",
                    1,
                );
                bytes = html.into_bytes();
            }
            let mut response =
                ([(header::CONTENT_TYPE, swagger_file.content_type)], bytes).into_response();
            if swagger_file.gzpipped {
                response.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            response
        }
        Ok(None) => ApiError::detail(StatusCode::NOT_FOUND, "Not Found").into_response(),
        Err(error) => {
            tracing::error!(error = %error, "swagger ui asset could not be served");
            ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                .into_response()
        }
    }
}
