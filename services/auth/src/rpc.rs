//! The `regal.auth.v1.AuthService` handlers. Methods not built yet answer UNIMPLEMENTED
//! through the generated defaults.

use regal_proto::auth::v1::auth_service_server::AuthService;
use sqlx::PgPool;

pub struct AuthRpc {
    #[allow(dead_code)]
    pool: PgPool,
}

impl AuthRpc {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl AuthService for AuthRpc {}
