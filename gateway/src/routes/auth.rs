//! `/auth/login`, `/auth/refresh`, `/auth/logout`, `/auth/me`.

use axum::{Json, extract::State};
use regal_proto::auth::v1::{
    GetMeRequest, LoginRequest, LogoutRequest, RefreshRequest, TokenPair,
    auth_service_client::AuthServiceClient,
};
use regal_proto::common::v1::DeleteResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        extract::{Authenticated, CallMeta, JsonBody, JsonOrForm, OptionalJsonBody},
        users::UserOut,
    },
    state::{AppState, Service},
};

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshBody {
    refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LogoutBody {
    refresh_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensOut {
    access_token: String,
    refresh_token: String,
    token_type: String,
    expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub message: String,
}

/// The answer of every `Delete*` call: `{"message": "..."}`.
impl From<DeleteResponse> for MessageOut {
    fn from(response: DeleteResponse) -> Self {
        Self {
            message: response.message,
        }
    }
}

impl From<TokenPair> for TokensOut {
    fn from(pair: TokenPair) -> Self {
        Self {
            access_token: pair.access_token,
            refresh_token: pair.refresh_token,
            token_type: pair.token_type,
            expires_in: pair.expires_in,
        }
    }
}

fn client(state: &AppState) -> AuthServiceClient<tonic::transport::Channel> {
    AuthServiceClient::new(state.channel(Service::Auth))
}

fn tokens(pair: Option<TokenPair>) -> Result<Json<TokensOut>, ApiError> {
    pair.map(|pair| Json(TokensOut::from(pair)))
        .ok_or_else(|| ApiError::from(tonic::Status::internal("auth service sent no tokens")))
}

/// Signs in with a username and password (JSON, or the OAuth2 password form).
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokensOut), (status = 401), (status = 422), (status = 429)))]
pub async fn login(
    State(state): State<AppState>,
    call: CallMeta,
    JsonOrForm(body): JsonOrForm<LoginBody>,
) -> Result<Json<TokensOut>, ApiError> {
    let request = call.request(LoginRequest {
        username: body.username,
        password: body.password,
    });
    let response = client(&state).login(request).await?.into_inner();
    tokens(response.tokens)
}

/// Spends a refresh token for a new pair; reusing a spent one revokes its session.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, body = TokensOut), (status = 401), (status = 422)))]
pub async fn refresh(
    State(state): State<AppState>,
    call: CallMeta,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<Json<TokensOut>, ApiError> {
    let request = call.request(RefreshRequest {
        refresh_token: body.refresh_token,
    });
    let response = client(&state).refresh(request).await?.into_inner();
    tokens(response.tokens)
}

/// Ends the session: the access token and the refresh family stop working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = LogoutBody,
    security(("bearer" = [])), responses((status = 200, body = MessageOut), (status = 401)))]
pub async fn logout(
    State(state): State<AppState>,
    caller: Authenticated,
    OptionalJsonBody(body): OptionalJsonBody<LogoutBody>,
) -> Result<Json<MessageOut>, ApiError> {
    let request = caller.call.request(LogoutRequest {
        refresh_token: body.and_then(|body| body.refresh_token),
    });
    let response = client(&state).logout(request).await?.into_inner();
    Ok(Json(MessageOut {
        message: response.message,
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 401)))]
pub async fn me(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<UserOut>, ApiError> {
    let response = client(&state)
        .get_me(caller.call.request(GetMeRequest {}))
        .await?
        .into_inner();
    UserOut::from_message(response.user).map(Json)
}
