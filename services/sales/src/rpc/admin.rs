//! The admin dashboard and the store settings (admins only).

use regal_authz::Permission;
use regal_domain::money::to_message;
use regal_proto::{sales::v1 as proto, time::to_timestamp};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid};
use crate::{
    admin, domain::settings::SettingsChanges, selling::messages::invoice_message,
    store::settings::SettingsRow,
};

fn settings_message(row: SettingsRow) -> proto::StoreSettings {
    proto::StoreSettings {
        store_name: row.store_name,
        address: row.address,
        currency: row.currency,
        receipt_footer: row.receipt_footer,
        low_stock_threshold: row.low_stock_threshold,
    }
}

pub(super) async fn get_admin_dashboard(
    rpc: &SalesRpc,
    request: Request<proto::GetAdminDashboardRequest>,
) -> Result<Response<proto::GetAdminDashboardResponse>, Status> {
    authorize(&request, Permission::AdminDashboard)?;
    let dashboard = admin::dashboard(&rpc.pool, &rpc.auth, &rpc.catalog, &request).await?;
    Ok(Response::new(proto::GetAdminDashboardResponse {
        summary: Some(proto::AdminSummary {
            total_users: dashboard.total_users,
            total_products: dashboard.total_products,
            total_customers: dashboard.counts.customers,
            total_invoices: dashboard.counts.invoices,
            total_expenses: dashboard.counts.expenses,
            sales_today: Some(to_message(dashboard.sales_today)),
            low_stock_products: dashboard.low_stock_products,
        }),
        recent_activity: Some(proto::RecentActivity {
            recent_invoices: dashboard
                .recent_invoices
                .iter()
                .map(invoice_message)
                .collect(),
            recent_customers: dashboard
                .recent_customers
                .iter()
                .map(super::customers::customer_message)
                .collect(),
        }),
        last_updated: Some(to_timestamp(dashboard.last_updated)),
    }))
}

pub(super) async fn get_settings(
    rpc: &SalesRpc,
    request: Request<proto::GetSettingsRequest>,
) -> Result<Response<proto::GetSettingsResponse>, Status> {
    authorize(&request, Permission::Settings)?;
    let row = admin::get_settings(&rpc.pool).await?;
    Ok(Response::new(proto::GetSettingsResponse {
        settings: Some(settings_message(row)),
    }))
}

pub(super) async fn update_settings(
    rpc: &SalesRpc,
    request: Request<proto::UpdateSettingsRequest>,
) -> Result<Response<proto::UpdateSettingsResponse>, Status> {
    let caller = authorize(&request, Permission::Settings)?;
    let changes = SettingsChanges::try_from(request.get_ref()).map_err(invalid)?;
    let row = admin::update_settings(&rpc.pool, &rpc.outbox, &caller, changes).await?;
    Ok(Response::new(proto::UpdateSettingsResponse {
        settings: Some(settings_message(row)),
    }))
}
