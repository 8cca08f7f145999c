//! Request extractors of the REST face: the caller, the metadata forwarded to services,
//! JSON bodies with FastAPI-shaped errors, and list parameters.

use std::{collections::HashMap, net::SocketAddr};

use axum::{
    body::Bytes,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Query, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
};
use regal_authz::{Permission, Principal};
use regal_errors::{FieldViolation, RestError};
use serde::de::DeserializeOwned;
use tonic::metadata::{MetadataMap, MetadataValue};

use crate::{http_error::ApiError, state::AppState};

/// What the gateway forwards with every call it makes for a request: the caller's token,
/// the request id, the client's address and the trace context.
#[derive(Debug, Clone, Default)]
pub struct CallMeta {
    authorization: Option<HeaderValue>,
    request_id: Option<HeaderValue>,
    traceparent: Option<HeaderValue>,
    client_address: Option<String>,
}

impl CallMeta {
    fn from_parts(parts: &Parts) -> Self {
        let header = |name| parts.headers.get(name).cloned();
        Self {
            authorization: header(header::AUTHORIZATION),
            request_id: header(header::HeaderName::from_static(
                regal_telemetry::REQUEST_ID_HEADER,
            )),
            // This request's span when spans are exported, else the client's context as is.
            traceparent: regal_telemetry::current_traceparent()
                .and_then(|traceparent| HeaderValue::from_str(&traceparent).ok())
                .or_else(|| header(header::HeaderName::from_static("traceparent"))),
            client_address: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(address)| address.ip().to_string()),
        }
    }

    /// A gRPC request carrying this metadata.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let metadata: &mut MetadataMap = request.metadata_mut();
        let mut copy = |name: &'static str, value: &Option<HeaderValue>| {
            if let Some(value) = value
                && let Ok(value) = MetadataValue::try_from(value.as_bytes())
            {
                metadata.insert(name, value);
            }
        };
        copy("authorization", &self.authorization);
        copy(regal_telemetry::REQUEST_ID_HEADER, &self.request_id);
        copy("traceparent", &self.traceparent);
        if let Some(address) = &self.client_address
            && let Ok(value) = MetadataValue::try_from(address.as_str())
        {
            metadata.insert("x-forwarded-for", value);
        }
        request
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts))
    }
}

/// The authenticated caller (401 otherwise), with the metadata to forward.
pub struct Authenticated {
    pub principal: Principal,
    pub call: CallMeta,
}

impl Authenticated {
    /// 403 unless the caller's role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.principal.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::detail(
                StatusCode::FORBIDDEN,
                "Not enough permissions",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = state.authenticate(&parts.headers).await?;
        Ok(Self {
            principal,
            call: CallMeta::from_parts(parts),
        })
    }
}

/// A JSON body: malformed JSON is 400, a body of the wrong shape is 422 with the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body read but not yet parsed, so that a handler can check the caller's
/// permission first (a caller without it learns nothing about the body's validity).
pub struct RawJson(Bytes);

impl RawJson {
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

impl<S: Send + Sync> FromRequest<S> for RawJson {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(request, state).await.map(Self)
    }
}

/// A JSON body that may be absent (an empty body is `None`).
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        parse_json(&bytes).map(|value| Self(Some(value)))
    }
}

/// A body sent as JSON or as an HTML form (`application/x-www-form-urlencoded`, the
/// OAuth2 password flow of the original backend).
pub struct JsonOrForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form =
            content_type(request.headers()).starts_with("application/x-www-form-urlencoded");
        let bytes = read_body(request, state).await?;
        if !is_form {
            return parse_json(&bytes).map(JsonOrForm);
        }
        let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| ApiError::detail(StatusCode::BAD_REQUEST, "Malformed form body"))?;
        let value = serde_json::to_value(fields).unwrap_or_default();
        deserialize_value(value).map(JsonOrForm)
    }
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

async fn read_body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::detail(status, "Request body too large")
            } else {
                ApiError::detail(StatusCode::BAD_REQUEST, "Could not read the request body")
            }
        })
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError(RestError::validation(&[FieldViolation::new(
            "body",
            "missing",
            "Field required",
        )])));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::detail(
            StatusCode::BAD_REQUEST,
            format!("Malformed JSON body: {error}"),
        )
    })?;
    deserialize_value(value)
}

fn deserialize_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let (field, kind) = match message.strip_prefix("missing field `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                let field = if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                };
                (field, "missing")
            }
            None => (
                path,
                if message.starts_with("invalid type") {
                    "type_error"
                } else {
                    "value_error"
                },
            ),
        };
        let field = field
            .trim_start_matches('.')
            .replace('[', ".")
            .replace(']', "");
        let message = if kind == "missing" {
            "Field required".to_owned()
        } else {
            message
        };
        ApiError(RestError::validation(&[FieldViolation::new(
            field, kind, message,
        )]))
    })
}

/// `skip`, `limit` and the usual list filters, with 422 for values that are not numbers.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub skip: i64,
    pub limit: i64,
    pub include_inactive: bool,
    pub values: HashMap<String, String>,
}

impl ListParams {
    /// A filter's value, trimmed; empty counts as absent.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values
            .get(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ListParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(values) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::detail(StatusCode::BAD_REQUEST, "Malformed query string"))?;
        let mut violations = Vec::new();
        let mut integer = |name: &str| -> i64 {
            match values.get(name).map(|value| value.trim()) {
                None | Some("") => 0,
                Some(value) => match value.parse::<i64>() {
                    Ok(number) if number >= 0 => number,
                    Ok(_) => {
                        violations.push(FieldViolation::new(
                            format!("query.{name}"),
                            "greater_than_equal",
                            "Input should be greater than or equal to 0",
                        ));
                        0
                    }
                    Err(_) => {
                        violations.push(FieldViolation::new(
                            format!("query.{name}"),
                            "int_parsing",
                            "Input should be a valid integer",
                        ));
                        0
                    }
                },
            }
        };
        let skip = integer("skip");
        let limit = integer("limit");
        let include_inactive = match values
            .get("include_inactive")
            .map(|value| value.trim().to_ascii_lowercase())
        {
            None => false,
            Some(value) if ["true", "1", "yes", "on"].contains(&value.as_str()) => true,
            Some(value) if ["false", "0", "no", "off", ""].contains(&value.as_str()) => false,
            Some(_) => {
                violations.push(FieldViolation::new(
                    "query.include_inactive",
                    "bool_parsing",
                    "Input should be a valid boolean",
                ));
                false
            }
        };
        if !violations.is_empty() {
            return Err(ApiError(RestError::validation(&violations)));
        }
        Ok(Self {
            skip,
            limit,
            include_inactive,
            values,
        })
    }
}
