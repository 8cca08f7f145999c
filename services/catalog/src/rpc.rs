//! The `regal.catalog.v1.CatalogService` handlers. Methods not built yet answer UNIMPLEMENTED
//! through the generated defaults.

use regal_proto::catalog::v1::catalog_service_server::CatalogService;
use sqlx::PgPool;

pub struct CatalogRpc {
    #[allow(dead_code)]
    pool: PgPool,
}

impl CatalogRpc {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[tonic::async_trait]
impl CatalogService for CatalogRpc {}
