//! `/admin` (the dashboard) and `/admin/settings` (the store settings): admins only.

use axum::{Json, extract::State};
use regal_authz::Permission;
use regal_proto::{
    sales::v1::{self as proto, sales_service_client::SalesServiceClient},
    time::to_rfc3339,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http_error::ApiError,
    routes::{
        customers::CustomerOut,
        extract::{Authenticated, RawJson},
        fields::money_out,
        invoices::InvoiceOut,
    },
    state::{AppState, Service},
};

fn client(state: &AppState) -> SalesServiceClient<tonic::transport::Channel> {
    SalesServiceClient::new(state.channel(Service::Sales))
}

fn missing(what: &str) -> ApiError {
    ApiError::from(tonic::Status::internal(format!(
        "sales service sent no {what}"
    )))
}

/// Headline figures of the dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryOut {
    /// Active users (from the auth service).
    total_users: i64,
    /// Active products (from the catalog service).
    total_products: i64,
    /// Active customers.
    total_customers: i64,
    /// Invoices of any status.
    total_invoices: i64,
    /// Expense records.
    total_expenses: i64,
    /// Today's net sales + taxes (UTC day).
    sales_today: String,
    /// Active products at or below the `low_stock_threshold` setting.
    low_stock_products: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentActivityOut {
    /// Up to 5 latest invoices.
    recent_invoices: Vec<InvoiceOut>,
    /// Up to 5 latest customers.
    recent_customers: Vec<CustomerOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    summary: SummaryOut,
    recent_activity: RecentActivityOut,
    /// When these figures were computed.
    last_updated: Option<String>,
}

/// Counts and recent activity for the admin dashboard.
#[utoipa::path(get, path = "/admin", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = DashboardOut), (status = 401), (status = 403)))]
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<DashboardOut>, ApiError> {
    caller.require(Permission::AdminDashboard)?;
    let response = client(&state)
        .get_admin_dashboard(caller.call.request(proto::GetAdminDashboardRequest {}))
        .await?
        .into_inner();
    let summary = response
        .summary
        .ok_or_else(|| missing("dashboard summary"))?;
    let activity = response.recent_activity.unwrap_or_default();
    Ok(Json(DashboardOut {
        summary: SummaryOut {
            total_users: summary.total_users,
            total_products: summary.total_products,
            total_customers: summary.total_customers,
            total_invoices: summary.total_invoices,
            total_expenses: summary.total_expenses,
            sales_today: money_out(summary.sales_today),
            low_stock_products: summary.low_stock_products,
        },
        recent_activity: RecentActivityOut {
            recent_invoices: activity
                .recent_invoices
                .into_iter()
                .map(|invoice| InvoiceOut::from_message(Some(invoice)))
                .collect::<Result<_, _>>()?,
            recent_customers: activity
                .recent_customers
                .into_iter()
                .map(CustomerOut::from)
                .collect(),
        },
        last_updated: to_rfc3339(response.last_updated.as_ref()),
    }))
}

/// The store settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    store_name: String,
    address: String,
    /// ISO 4217 code.
    currency: String,
    receipt_footer: String,
    /// A product at or below this stock level counts as low stock.
    low_stock_threshold: i64,
}

impl SettingsOut {
    fn from_message(settings: Option<proto::StoreSettings>) -> Result<Self, ApiError> {
        let settings = settings.ok_or_else(|| missing("settings"))?;
        Ok(Self {
            store_name: settings.store_name,
            address: settings.address,
            currency: settings.currency,
            receipt_footer: settings.receipt_footer,
            low_stock_threshold: settings.low_stock_threshold,
        })
    }
}

/// A partial update: absent (or null) fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateSettingsBody {
    store_name: Option<String>,
    address: Option<String>,
    /// ISO 4217: three letters.
    currency: Option<String>,
    receipt_footer: Option<String>,
    /// >= 0.
    low_stock_threshold: Option<i64>,
}

#[utoipa::path(get, path = "/admin/settings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = SettingsOut), (status = 401), (status = 403)))]
pub async fn get_settings(
    State(state): State<AppState>,
    caller: Authenticated,
) -> Result<Json<SettingsOut>, ApiError> {
    caller.require(Permission::Settings)?;
    let response = client(&state)
        .get_settings(caller.call.request(proto::GetSettingsRequest {}))
        .await?
        .into_inner();
    SettingsOut::from_message(response.settings).map(Json)
}

#[utoipa::path(put, path = "/admin/settings", tag = "admin", security(("bearer" = [])),
    request_body = UpdateSettingsBody,
    responses((status = 200, body = SettingsOut), (status = 401), (status = 403),
              (status = 422)))]
pub async fn update_settings(
    State(state): State<AppState>,
    caller: Authenticated,
    body: RawJson,
) -> Result<Json<SettingsOut>, ApiError> {
    caller.require(Permission::Settings)?;
    let body: UpdateSettingsBody = body.parse()?;
    let request = caller.call.request(proto::UpdateSettingsRequest {
        store_name: body.store_name,
        address: body.address,
        currency: body.currency,
        receipt_footer: body.receipt_footer,
        low_stock_threshold: body.low_stock_threshold,
    });
    let response = client(&state).update_settings(request).await?.into_inner();
    SettingsOut::from_message(response.settings).map(Json)
}
