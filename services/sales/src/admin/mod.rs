//! The admin dashboard and the store settings.

use chrono::{DateTime, Utc};
use regal_outbox::{NewEvent, Outbox};
use regal_proto::{
    auth::v1::{ListUsersRequest, auth_service_client::AuthServiceClient},
    catalog::v1::{GetCatalogSummaryRequest, catalog_service_client::CatalogServiceClient},
    common::v1::PageRequest,
};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgPool;
use tonic::{Request, transport::Channel};

use crate::{
    domain::{report::Days, settings::SettingsChanges},
    error::SalesError,
    reporting,
    rpc::Caller,
    store::{
        customers::{self, CustomerRow},
        dashboard::{self, Counts},
        invoices::{self, FullInvoice},
        settings::{self, SettingsRow},
    },
};

/// How many invoices and customers the dashboard lists.
pub const RECENT: i64 = 5;

pub const SETTINGS_ENTITY: &str = "settings";

pub async fn get_settings(pool: &PgPool) -> Result<SettingsRow, SalesError> {
    let mut connection = pool.acquire().await?;
    settings::get(&mut connection).await
}

/// Applies a partial update; an audit event is written when anything changed.
pub async fn update_settings(
    pool: &PgPool,
    outbox: &Outbox,
    caller: &Caller,
    changes: SettingsChanges,
) -> Result<SettingsRow, SalesError> {
    let mut transaction = pool.begin().await?;
    let before = settings::lock(&mut transaction).await?;
    let after = settings::update(&mut transaction, &changes).await?;
    if before.audit_json() != after.audit_json() {
        outbox
            .record(
                &mut transaction,
                &caller.context,
                NewEvent {
                    entity: SETTINGS_ENTITY,
                    entity_id: "store".to_owned(),
                    action: "update",
                    changes: json!({"before": before.audit_json(), "after": after.audit_json()}),
                },
            )
            .await?;
    }
    transaction.commit().await?;
    Ok(after)
}

/// The dashboard's figures, before the recent invoices are attached.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub total_users: i64,
    pub total_products: i64,
    pub low_stock_products: i64,
    pub counts: Counts,
    pub sales_today: Decimal,
    pub recent_invoices: Vec<FullInvoice>,
    pub recent_customers: Vec<CustomerRow>,
    pub last_updated: DateTime<Utc>,
}

/// Gathers the dashboard: users from auth, products from catalog (both asked on the
/// caller's behalf, with the caller's token), the rest from the sales schema.
pub async fn dashboard<T>(
    pool: &PgPool,
    auth: &AuthServiceClient<Channel>,
    catalog: &CatalogServiceClient<Channel>,
    incoming: &Request<T>,
) -> Result<Dashboard, SalesError> {
    let last_updated = Utc::now();
    let threshold = get_settings(pool).await?.low_stock_threshold;
    let users_request = regal_server::forwarded(
        incoming,
        ListUsersRequest {
            page: Some(PageRequest { skip: 0, limit: 1 }),
            include_inactive: false,
            search: None,
        },
    );
    let catalog_request = regal_server::forwarded(
        incoming,
        GetCatalogSummaryRequest {
            low_stock_threshold: threshold,
        },
    );
    let mut auth = auth.clone();
    let mut catalog = catalog.clone();
    let (users, products) = tokio::join!(
        auth.list_users(users_request),
        catalog.get_catalog_summary(catalog_request)
    );
    let users = users.map_err(SalesError::upstream("auth"))?.into_inner();
    let products = products
        .map_err(SalesError::upstream("catalog"))?
        .into_inner();
    let mut connection = pool.acquire().await?;
    let counts = dashboard::counts(&mut connection).await?;
    let recent_invoices = invoices::latest(&mut connection, RECENT).await?;
    let recent_customers = customers::latest(&mut connection, RECENT).await?;
    drop(connection);
    let today = reporting::figures_of(pool, Days::one(last_updated.date_naive())).await?;
    Ok(Dashboard {
        total_users: users.page.map(|page| page.total_count).unwrap_or_default(),
        total_products: products.total_products,
        low_stock_products: products.low_stock_products,
        counts,
        sales_today: today.net_sales + today.taxes,
        recent_invoices,
        recent_customers,
        last_updated,
    })
}
