//! REST errors as FastAPI shaped them: `{"detail": ...}`, with `WWW-Authenticate` on 401
//! and `Retry-After` on 429. gRPC statuses become REST errors through
//! [`regal_errors::RestError::from_status`], the one mapping.

use axum::{
    Json,
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use regal_errors::RestError;

/// A REST error response.
#[derive(Debug)]
pub struct ApiError(pub RestError);

impl ApiError {
    pub fn detail(status: StatusCode, message: impl Into<String>) -> Self {
        Self(RestError::detail(status, message))
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        Self(RestError::from_status(&status))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let RestError {
            status,
            body,
            retry_after_seconds,
        } = self.0;
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Unknown path: `404 {"detail": "Not Found"}`.
pub async fn not_found() -> ApiError {
    ApiError::detail(StatusCode::NOT_FOUND, "Not Found")
}

/// Known path, wrong method: `405 {"detail": "Method Not Allowed"}`.
pub async fn method_not_allowed() -> ApiError {
    ApiError::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

/// Gives the plain-text error responses of the HTTP stack (body limit, extractor
/// rejections) the contract's JSON shape. JSON responses pass untouched.
pub async fn json_error_shapes(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|content_type| content_type.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let rest = match status {
        StatusCode::PAYLOAD_TOO_LARGE => RestError::detail(status, "Request body too large"),
        StatusCode::UNPROCESSABLE_ENTITY => {
            RestError::validation(&[regal_errors::FieldViolation::new(
                "body",
                "value_error",
                if text.is_empty() {
                    "Invalid request body".to_owned()
                } else {
                    text
                },
            )])
        }
        StatusCode::BAD_REQUEST if !text.is_empty() => RestError::detail(status, text),
        _ => RestError::detail(
            status,
            status.canonical_reason().unwrap_or("Error").to_owned(),
        ),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::to_vec(&rest.body).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}
