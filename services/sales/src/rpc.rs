//! The `regal.sales.v1.SalesService` handlers. Methods not built yet answer UNIMPLEMENTED
//! through the generated defaults.

use regal_proto::sales::v1::sales_service_server::SalesService;
use sqlx::PgPool;

pub struct SalesRpc {
    #[allow(dead_code)]
    pool: PgPool,
}

impl SalesRpc {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl SalesService for SalesRpc {}
