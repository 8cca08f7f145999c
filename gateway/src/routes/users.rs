//! `/users` (admin only).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::IntoResponse,
};
use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    auth::v1::{self as proto, auth_service_client::AuthServiceClient},
    common::v1::PageRequest,
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        auth::MessageOut,
        extract::{Authenticated, ListParams, RawJson},
    },
    state::{AppState, Service},
};

/// A user as the REST contract shows it (never a password or hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    id: String,
    full_name: String,
    email: String,
    username: String,
    role: String,
    is_active: bool,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl UserOut {
    pub fn from_message(user: Option<proto::User>) -> Result<Self, ApiError> {
        let user = user
            .ok_or_else(|| ApiError::from(tonic::Status::internal("auth service sent no user")))?;
        let role = match user.role() {
            proto::Role::Admin => "admin",
            proto::Role::Cashier => "cashier",
            proto::Role::Employee => "employee",
            proto::Role::Unspecified => "",
        };
        Ok(Self {
            role: role.to_owned(),
            created_at: to_rfc3339(user.created_at.as_ref()),
            updated_at: to_rfc3339(user.updated_at.as_ref()),
            id: user.id,
            full_name: user.full_name,
            email: user.email,
            username: user.username,
            is_active: user.is_active,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserBody {
    full_name: String,
    email: String,
    username: String,
    password: String,
    role: String,
    is_active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserBody {
    full_name: Option<String>,
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
    role: Option<String>,
    is_active: Option<bool>,
}

fn client(state: &AppState) -> AuthServiceClient<tonic::transport::Channel> {
    AuthServiceClient::new(state.channel(Service::Auth))
}

/// The proto role for a role name; an unknown name is sent as unspecified so the auth
/// service reports it with the other invalid fields.
fn role_value(role: &str) -> i32 {
    let role = match role.trim().to_ascii_lowercase().as_str() {
        "admin" => proto::Role::Admin,
        "cashier" => proto::Role::Cashier,
        "employee" => proto::Role::Employee,
        _ => proto::Role::Unspecified,
    };
    role as i32
}

const fn users(action: Action) -> Permission {
    Permission::Crud(Resource::Users, action)
}

/// Lists users, newest first; the total is in `X-Total-Count`.
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    params(("skip" = Option<i64>, Query), ("limit" = Option<i64>, Query),
           ("search" = Option<String>, Query), ("include_inactive" = Option<bool>, Query)),
    responses((status = 200, body = [UserOut]), (status = 401), (status = 403), (status = 422)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    params: ListParams,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(users(Action::Read))?;
    let request = caller.call.request(proto::ListUsersRequest {
        page: Some(PageRequest {
            skip: params.skip,
            limit: params.limit,
        }),
        include_inactive: params.include_inactive,
        search: params.text("search"),
    });
    let response = client(&state).list_users(request).await?.into_inner();
    let total = response
        .page
        .map(|page| page.total_count)
        .unwrap_or_default();
    let users: Vec<UserOut> = response
        .users
        .into_iter()
        .map(|user| UserOut::from_message(Some(user)))
        .collect::<Result<_, _>>()?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(users)))
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = CreateUserBody,
    responses((status = 201, body = UserOut), (status = 401), (status = 403), (status = 409), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<impl IntoResponse, ApiError> {
    caller.require(users(Action::Create))?;
    let body: CreateUserBody = body.parse()?;
    let request = caller.call.request(proto::CreateUserRequest {
        full_name: body.full_name,
        email: body.email,
        username: body.username,
        password: body.password,
        role: role_value(&body.role),
        is_active: body.is_active,
    });
    let response = client(&state).create_user(request).await?.into_inner();
    let user = UserOut::from_message(response.user)?;
    let location = HeaderValue::from_str(&format!("/users/{}", user.id)).ok();
    let mut headers = HeaderMap::new();
    if let Some(location) = location {
        headers.insert(header::LOCATION, location);
    }
    Ok((StatusCode::CREATED, headers, Json(user)))
}

/// One user (admin).
#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 404)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<UserOut>, ApiError> {
    caller.require(users(Action::Read))?;
    let response = client(&state)
        .get_user(caller.call.request(proto::GetUserRequest { id }))
        .await?
        .into_inner();
    UserOut::from_message(response.user).map(Json)
}

/// Changes the given fields (admin). A new password or `is_active: false` ends all of
/// the user's sessions.
#[utoipa::path(put, path = "/users/{id}", tag = "users", security(("bearer" = [])), request_body = UpdateUserBody,
    responses((status = 200, body = UserOut), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
    body: RawJson,
) -> Result<Json<UserOut>, ApiError> {
    caller.require(users(Action::Update))?;
    let body: UpdateUserBody = body.parse()?;
    let role = body.role.as_deref().map(role_value);
    let request = caller.call.request(proto::UpdateUserRequest {
        id,
        full_name: body.full_name,
        email: body.email,
        username: body.username,
        password: body.password,
        role,
        is_active: body.is_active,
    });
    let response = client(&state).update_user(request).await?.into_inner();
    UserOut::from_message(response.user).map(Json)
}

/// Deactivates a user and ends their sessions (admin).
#[utoipa::path(delete, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = MessageOut), (status = 404), (status = 409)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> Result<Json<MessageOut>, ApiError> {
    caller.require(users(Action::Delete))?;
    let response = client(&state)
        .delete_user(caller.call.request(proto::DeleteUserRequest { id }))
        .await?;
    Ok(Json(response.into_inner().into()))
}
