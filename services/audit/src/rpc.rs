//! The `regal.audit.v1.AuditService` handlers. Methods not built yet answer UNIMPLEMENTED
//! through the generated defaults.

use regal_proto::audit::v1::audit_service_server::AuditService;
use sqlx::PgPool;

pub struct AuditRpc {
    #[allow(dead_code)]
    pool: PgPool,
}

impl AuditRpc {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl AuditService for AuditRpc {}
