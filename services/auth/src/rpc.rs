//! `regal.auth.v1.AuthService`: thin handlers that check the caller's permission, turn
//! the request into domain values, and call the use case.

use regal_authz::{Action, Permission, Principal, Resource, principal};
use regal_config::PaginationSettings;
use regal_proto::{
    auth::v1::{self as proto, auth_service_server::AuthService},
    common::v1::{DeleteResponse, PageInfo},
    time::to_timestamp,
};
use regal_server::{event_context, page_bounds};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    accounts::{Accounts, Caller, IssuedTokens},
    domain::{NewUser, UserChanges, role_to_proto},
    error::AuthError,
    store::users::UserRow,
};

pub struct AuthRpc {
    accounts: Accounts,
    pagination: PaginationSettings,
}

impl AuthRpc {
    pub fn new(accounts: Accounts, pagination: PaginationSettings) -> Self {
        Self {
            accounts,
            pagination,
        }
    }
}

fn caller<'a, T>(request: &'a Request<T>, principal: Option<&'a Principal>) -> Caller<'a> {
    Caller {
        context: event_context(request, principal),
        principal,
    }
}

fn require<T>(request: &Request<T>, permission: Permission) -> Result<&Principal, Status> {
    let principal = principal(request)?;
    principal.require(permission)?;
    Ok(principal)
}

fn parse_user_id(id: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(id.trim()).map_err(|_| {
        Status::from(regal_errors::ServiceError::invalid(
            "path.id",
            "uuid_parsing",
            "Input should be a valid UUID",
        ))
    })
}

fn token_pair(tokens: IssuedTokens) -> proto::TokenPair {
    proto::TokenPair {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: "bearer".to_owned(),
        expires_in: tokens.expires_in,
    }
}

fn user_message(user: &UserRow) -> Result<proto::User, Status> {
    Ok(proto::User {
        id: user.id.to_string(),
        full_name: user.full_name.clone(),
        email: user.email.clone(),
        username: user.username.clone(),
        role: role_to_proto(user.role()?).into(),
        is_active: user.is_active,
        created_at: Some(to_timestamp(user.created_at)),
        updated_at: Some(to_timestamp(user.updated_at)),
    })
}

const USERS_READ: Permission = Permission::Crud(Resource::Users, Action::Read);
const USERS_CREATE: Permission = Permission::Crud(Resource::Users, Action::Create);
const USERS_UPDATE: Permission = Permission::Crud(Resource::Users, Action::Update);
const USERS_DELETE: Permission = Permission::Crud(Resource::Users, Action::Delete);

#[tonic::async_trait]
impl AuthService for AuthRpc {
    async fn login(
        &self,
        request: Request<proto::LoginRequest>,
    ) -> Result<Response<proto::LoginResponse>, Status> {
        let caller = caller(&request, None);
        let body = request.get_ref();
        let tokens = self
            .accounts
            .login(&caller, &body.username, &body.password)
            .await?;
        Ok(Response::new(proto::LoginResponse {
            tokens: Some(token_pair(tokens)),
        }))
    }

    async fn refresh(
        &self,
        request: Request<proto::RefreshRequest>,
    ) -> Result<Response<proto::RefreshResponse>, Status> {
        let caller = caller(&request, None);
        let tokens = self
            .accounts
            .refresh(&caller, &request.get_ref().refresh_token)
            .await?;
        Ok(Response::new(proto::RefreshResponse {
            tokens: Some(token_pair(tokens)),
        }))
    }

    async fn logout(
        &self,
        request: Request<proto::LogoutRequest>,
    ) -> Result<Response<proto::LogoutResponse>, Status> {
        let principal = principal(&request)?;
        let caller = caller(&request, Some(principal));
        self.accounts
            .logout(&caller, request.get_ref().refresh_token.as_deref())
            .await?;
        Ok(Response::new(proto::LogoutResponse {
            message: "Successfully logged out".to_owned(),
        }))
    }

    async fn get_me(
        &self,
        request: Request<proto::GetMeRequest>,
    ) -> Result<Response<proto::GetMeResponse>, Status> {
        let principal = principal(&request)?;
        let user = self.accounts.me(principal).await?;
        Ok(Response::new(proto::GetMeResponse {
            user: Some(user_message(&user)?),
        }))
    }

    async fn list_users(
        &self,
        request: Request<proto::ListUsersRequest>,
    ) -> Result<Response<proto::ListUsersResponse>, Status> {
        require(&request, USERS_READ)?;
        let body = request.get_ref();
        let (offset, limit) = page_bounds(body.page.as_ref(), &self.pagination)?;
        let search = body
            .search
            .as_deref()
            .map(regal_text::strip_markup)
            .filter(|search| !search.is_empty());
        let (users, total) = self
            .accounts
            .list_users(search.as_deref(), body.include_inactive, offset, limit)
            .await?;
        Ok(Response::new(proto::ListUsersResponse {
            users: users.iter().map(user_message).collect::<Result<_, _>>()?,
            page: Some(PageInfo { total_count: total }),
        }))
    }

    async fn create_user(
        &self,
        request: Request<proto::CreateUserRequest>,
    ) -> Result<Response<proto::CreateUserResponse>, Status> {
        let principal = require(&request, USERS_CREATE)?;
        let caller = caller(&request, Some(principal));
        let new_user = NewUser::try_from(request.get_ref().clone()).map_err(AuthError::from)?;
        let user = self.accounts.create_user(&caller, new_user).await?;
        Ok(Response::new(proto::CreateUserResponse {
            user: Some(user_message(&user)?),
        }))
    }

    async fn get_user(
        &self,
        request: Request<proto::GetUserRequest>,
    ) -> Result<Response<proto::GetUserResponse>, Status> {
        require(&request, USERS_READ)?;
        let id = parse_user_id(&request.get_ref().id)?;
        let user = self.accounts.get_user(id).await?;
        Ok(Response::new(proto::GetUserResponse {
            user: Some(user_message(&user)?),
        }))
    }

    async fn update_user(
        &self,
        request: Request<proto::UpdateUserRequest>,
    ) -> Result<Response<proto::UpdateUserResponse>, Status> {
        let principal = require(&request, USERS_UPDATE)?;
        let caller = caller(&request, Some(principal));
        let id = parse_user_id(&request.get_ref().id)?;
        let changes = UserChanges::try_from_request(request.get_ref()).map_err(AuthError::from)?;
        let user = self.accounts.update_user(&caller, id, changes).await?;
        Ok(Response::new(proto::UpdateUserResponse {
            user: Some(user_message(&user)?),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<proto::DeleteUserRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let principal = require(&request, USERS_DELETE)?;
        let caller = caller(&request, Some(principal));
        let id = parse_user_id(&request.get_ref().id)?;
        self.accounts.delete_user(&caller, id).await?;
        Ok(Response::new(DeleteResponse {
            message: "User deleted successfully".to_owned(),
        }))
    }
}
