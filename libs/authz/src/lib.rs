//! Who is calling and what they may do, in one place for every part of Regal POS.
//!
//! - [`Role`] and [`Permission`], with the role → permission table of the REST contract in
//!   [`Role::allows`] (the gateway checks it for REST, each service for gRPC);
//! - [`AccessClaims`] and [`TokenCodec`]: HS256 JWTs with the algorithm pinned, every
//!   registered claim required and checked, and a clock leeway of a few seconds;
//! - [`Principal`], the typed caller that the [`AuthInterceptor`] puts into each request's
//!   extensions so that handlers never parse tokens themselves.

mod permissions;
pub mod revocation;
mod tokens;

pub use permissions::{Action, Permission, Resource, Role};
pub use tokens::{AccessClaims, LEEWAY_SECONDS, TokenCodec, TokenError, bearer_token};

use std::sync::Arc;

use tonic::{Request, Status, service::Interceptor};
use uuid::Uuid;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    /// The access token's `jti`, for the logout denylist.
    pub token_id: String,
    /// The access token's expiry (seconds since the epoch).
    pub expires_at: i64,
    /// The session (refresh-token family) the token belongs to, if any.
    pub session_id: Option<Uuid>,
}

impl Principal {
    pub fn from_claims(claims: &AccessClaims) -> Result<Self, TokenError> {
        Ok(Self {
            user_id: Uuid::parse_str(&claims.sub).map_err(|_| TokenError::Invalid)?,
            username: claims.username.clone(),
            role: claims.role,
            token_id: claims.jti.clone(),
            expires_at: claims.exp,
            session_id: match &claims.sid {
                Some(sid) => Some(Uuid::parse_str(sid).map_err(|_| TokenError::Invalid)?),
                None => None,
            },
        })
    }

    /// PERMISSION_DENIED unless this caller's role has `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), Status> {
        if self.role.allows(permission) {
            Ok(())
        } else {
            Err(Status::permission_denied(
                "Not enough permissions for this operation",
            ))
        }
    }
}

/// Returns the principal the [`AuthInterceptor`] attached to `request`.
pub fn principal<T>(request: &Request<T>) -> Result<&Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| Status::unauthenticated("Not authenticated"))
}

/// gRPC methods that may be called without a token (signing in needs no token).
pub const PUBLIC_METHODS: [&str; 2] = [
    "/regal.auth.v1.AuthService/Login",
    "/regal.auth.v1.AuthService/Refresh",
];

/// The `/package.Service/Method` path of a gRPC call, put into the request extensions by
/// the server (interceptors do not see the URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodPath(pub String);

/// Whether `path` may be called without a token.
pub fn is_public_method(path: &str) -> bool {
    PUBLIC_METHODS.contains(&path)
}

/// Verifies the bearer access token of every call and attaches the [`Principal`].
/// [`PUBLIC_METHODS`] pass without a token.
#[derive(Clone)]
pub struct AuthInterceptor {
    codec: Arc<TokenCodec>,
}

impl AuthInterceptor {
    pub fn new(codec: Arc<TokenCodec>) -> Self {
        Self { codec }
    }
}

impl Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let public = request
            .extensions()
            .get::<MethodPath>()
            .is_some_and(|MethodPath(path)| is_public_method(path));
        if public {
            return Ok(request);
        }
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        let token =
            bearer_token(header).ok_or_else(|| Status::unauthenticated("Not authenticated"))?;
        let claims = self
            .codec
            .verify_access(token)
            .map_err(|error| Status::unauthenticated(error.client_message()))?;
        let principal = Principal::from_claims(&claims)
            .map_err(|error| Status::unauthenticated(error.client_message()))?;
        // The request span's log line names the caller.
        tracing::Span::current().record("user_id", tracing::field::display(principal.user_id));
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}
