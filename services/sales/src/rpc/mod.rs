//! `regal.sales.v1.SalesService`. The trait is implemented once, here, by delegating each
//! method to the module of its area; each area module holds thin handlers that check the
//! caller's permission, turn the request into domain values and call the use case.

mod admin;
mod custom_orders;
mod customers;
mod drawer;
mod expenses;
mod invoices;
mod refunds;
mod reports;
mod salesmen;

use regal_authz::{Permission, Principal, principal};
use regal_config::PaginationSettings;
use regal_errors::{FieldViolation, ServiceError};
use regal_outbox::{EventContext, Outbox};
use regal_proto::{
    auth::v1::auth_service_client::AuthServiceClient,
    catalog::v1::catalog_service_client::CatalogServiceClient,
    common::v1::DeleteResponse,
    sales::v1::{self as proto, sales_service_server::SalesService},
};
use regal_server::{event_context, page_bounds};
use sqlx::PgPool;
use tonic::{Request, Response, Status, transport::Channel};
use uuid::Uuid;

use crate::selling::committer::Committer;

/// What every handler may use: the service's pool and outbox, and clients of the services
/// it calls (catalog for stock and prices, auth for the dashboard's user count).
pub struct SalesRpc {
    pub(crate) pool: PgPool,
    pub(crate) outbox: Outbox,
    pub(crate) catalog: CatalogServiceClient<Channel>,
    pub(crate) auth: AuthServiceClient<Channel>,
    pub(crate) pagination: PaginationSettings,
    pub(crate) committer: Committer,
}

impl SalesRpc {
    pub fn new(
        pool: PgPool,
        outbox: Outbox,
        catalog: Channel,
        auth: Channel,
        pagination: PaginationSettings,
    ) -> Self {
        Self {
            committer: Committer::start(pool.clone(), outbox.clone()),
            pool,
            outbox,
            catalog: CatalogServiceClient::new(catalog),
            auth: AuthServiceClient::new(auth),
            pagination,
        }
    }
}

impl SalesRpc {
    /// Offset and limit of a list call.
    pub(crate) fn page(
        &self,
        page: Option<&regal_proto::common::v1::PageRequest>,
    ) -> Result<(i64, i64), Status> {
        Ok(page_bounds(page, &self.pagination)?)
    }
}

/// The caller of an rpc once it holds the permission it needs: who they are, and the
/// audit context of the call.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub principal: Principal,
    pub context: EventContext,
}

/// The caller's principal once it has `permission` (PERMISSION_DENIED otherwise).
pub(crate) fn authorize<T>(request: &Request<T>, permission: Permission) -> Result<Caller, Status> {
    let principal: &Principal = principal(request)?;
    principal.require(permission)?;
    Ok(Caller {
        principal: principal.clone(),
        context: event_context(request, Some(principal)),
    })
}

/// Field problems as INVALID_ARGUMENT with bad-request details (the gateway's 422).
pub(crate) fn invalid(violations: impl Into<Vec<FieldViolation>>) -> Status {
    Status::from(ServiceError::Validation(violations.into()))
}

/// The id of the record a call is about.
pub(crate) fn path_id(id: &str) -> Result<Uuid, Status> {
    regal_domain::parse_path_id(id).map_err(|violation| invalid(vec![violation]))
}

#[tonic::async_trait]
impl SalesService for SalesRpc {
    async fn list_customers(
        &self,
        request: Request<proto::ListCustomersRequest>,
    ) -> Result<Response<proto::ListCustomersResponse>, Status> {
        customers::list_customers(self, request).await
    }

    async fn create_customer(
        &self,
        request: Request<proto::CreateCustomerRequest>,
    ) -> Result<Response<proto::CreateCustomerResponse>, Status> {
        customers::create_customer(self, request).await
    }

    async fn get_customer(
        &self,
        request: Request<proto::GetCustomerRequest>,
    ) -> Result<Response<proto::GetCustomerResponse>, Status> {
        customers::get_customer(self, request).await
    }

    async fn update_customer(
        &self,
        request: Request<proto::UpdateCustomerRequest>,
    ) -> Result<Response<proto::UpdateCustomerResponse>, Status> {
        customers::update_customer(self, request).await
    }

    async fn delete_customer(
        &self,
        request: Request<proto::DeleteCustomerRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        customers::delete_customer(self, request).await
    }

    async fn list_salesmen(
        &self,
        request: Request<proto::ListSalesmenRequest>,
    ) -> Result<Response<proto::ListSalesmenResponse>, Status> {
        salesmen::list_salesmen(self, request).await
    }

    async fn create_salesman(
        &self,
        request: Request<proto::CreateSalesmanRequest>,
    ) -> Result<Response<proto::CreateSalesmanResponse>, Status> {
        salesmen::create_salesman(self, request).await
    }

    async fn get_salesman(
        &self,
        request: Request<proto::GetSalesmanRequest>,
    ) -> Result<Response<proto::GetSalesmanResponse>, Status> {
        salesmen::get_salesman(self, request).await
    }

    async fn update_salesman(
        &self,
        request: Request<proto::UpdateSalesmanRequest>,
    ) -> Result<Response<proto::UpdateSalesmanResponse>, Status> {
        salesmen::update_salesman(self, request).await
    }

    async fn delete_salesman(
        &self,
        request: Request<proto::DeleteSalesmanRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        salesmen::delete_salesman(self, request).await
    }

    async fn list_expenses(
        &self,
        request: Request<proto::ListExpensesRequest>,
    ) -> Result<Response<proto::ListExpensesResponse>, Status> {
        expenses::list_expenses(self, request).await
    }

    async fn create_expense(
        &self,
        request: Request<proto::CreateExpenseRequest>,
    ) -> Result<Response<proto::CreateExpenseResponse>, Status> {
        expenses::create_expense(self, request).await
    }

    async fn get_expense(
        &self,
        request: Request<proto::GetExpenseRequest>,
    ) -> Result<Response<proto::GetExpenseResponse>, Status> {
        expenses::get_expense(self, request).await
    }

    async fn update_expense(
        &self,
        request: Request<proto::UpdateExpenseRequest>,
    ) -> Result<Response<proto::UpdateExpenseResponse>, Status> {
        expenses::update_expense(self, request).await
    }

    async fn delete_expense(
        &self,
        request: Request<proto::DeleteExpenseRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        expenses::delete_expense(self, request).await
    }

    async fn list_custom_orders(
        &self,
        request: Request<proto::ListCustomOrdersRequest>,
    ) -> Result<Response<proto::ListCustomOrdersResponse>, Status> {
        custom_orders::list_custom_orders(self, request).await
    }

    async fn create_custom_order(
        &self,
        request: Request<proto::CreateCustomOrderRequest>,
    ) -> Result<Response<proto::CreateCustomOrderResponse>, Status> {
        custom_orders::create_custom_order(self, request).await
    }

    async fn get_custom_order(
        &self,
        request: Request<proto::GetCustomOrderRequest>,
    ) -> Result<Response<proto::GetCustomOrderResponse>, Status> {
        custom_orders::get_custom_order(self, request).await
    }

    async fn update_custom_order(
        &self,
        request: Request<proto::UpdateCustomOrderRequest>,
    ) -> Result<Response<proto::UpdateCustomOrderResponse>, Status> {
        custom_orders::update_custom_order(self, request).await
    }

    async fn delete_custom_order(
        &self,
        request: Request<proto::DeleteCustomOrderRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        custom_orders::delete_custom_order(self, request).await
    }

    async fn list_invoices(
        &self,
        request: Request<proto::ListInvoicesRequest>,
    ) -> Result<Response<proto::ListInvoicesResponse>, Status> {
        invoices::list_invoices(self, request).await
    }

    async fn create_invoice(
        &self,
        request: Request<proto::CreateInvoiceRequest>,
    ) -> Result<Response<proto::CreateInvoiceResponse>, Status> {
        invoices::create_invoice(self, request).await
    }

    async fn get_invoice(
        &self,
        request: Request<proto::GetInvoiceRequest>,
    ) -> Result<Response<proto::GetInvoiceResponse>, Status> {
        invoices::get_invoice(self, request).await
    }

    async fn update_invoice(
        &self,
        request: Request<proto::UpdateInvoiceRequest>,
    ) -> Result<Response<proto::UpdateInvoiceResponse>, Status> {
        invoices::update_invoice(self, request).await
    }

    async fn delete_invoice(
        &self,
        request: Request<proto::DeleteInvoiceRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        invoices::delete_invoice(self, request).await
    }

    async fn quick_sell(
        &self,
        request: Request<proto::QuickSellRequest>,
    ) -> Result<Response<proto::QuickSellResponse>, Status> {
        invoices::quick_sell(self, request).await
    }

    async fn list_refunds(
        &self,
        request: Request<proto::ListRefundsRequest>,
    ) -> Result<Response<proto::ListRefundsResponse>, Status> {
        refunds::list_refunds(self, request).await
    }

    async fn create_refund(
        &self,
        request: Request<proto::CreateRefundRequest>,
    ) -> Result<Response<proto::CreateRefundResponse>, Status> {
        refunds::create_refund(self, request).await
    }

    async fn get_refund(
        &self,
        request: Request<proto::GetRefundRequest>,
    ) -> Result<Response<proto::GetRefundResponse>, Status> {
        refunds::get_refund(self, request).await
    }

    async fn update_refund(
        &self,
        request: Request<proto::UpdateRefundRequest>,
    ) -> Result<Response<proto::UpdateRefundResponse>, Status> {
        refunds::update_refund(self, request).await
    }

    async fn delete_refund(
        &self,
        request: Request<proto::DeleteRefundRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        refunds::delete_refund(self, request).await
    }

    async fn open_cash_drawer(
        &self,
        request: Request<proto::OpenCashDrawerRequest>,
    ) -> Result<Response<proto::OpenCashDrawerResponse>, Status> {
        drawer::open_cash_drawer(self, request).await
    }

    async fn pay_in(
        &self,
        request: Request<proto::PayInRequest>,
    ) -> Result<Response<proto::PayInResponse>, Status> {
        drawer::pay_in(self, request).await
    }

    async fn pay_out(
        &self,
        request: Request<proto::PayOutRequest>,
    ) -> Result<Response<proto::PayOutResponse>, Status> {
        drawer::pay_out(self, request).await
    }

    async fn close_cash_drawer(
        &self,
        request: Request<proto::CloseCashDrawerRequest>,
    ) -> Result<Response<proto::CloseCashDrawerResponse>, Status> {
        drawer::close_cash_drawer(self, request).await
    }

    async fn close_shift(
        &self,
        request: Request<proto::CloseShiftRequest>,
    ) -> Result<Response<proto::CloseShiftResponse>, Status> {
        drawer::close_shift(self, request).await
    }

    async fn get_shift_report(
        &self,
        request: Request<proto::GetShiftReportRequest>,
    ) -> Result<Response<proto::GetShiftReportResponse>, Status> {
        reports::get_shift_report(self, request).await
    }

    async fn get_daily_report(
        &self,
        request: Request<proto::GetDailyReportRequest>,
    ) -> Result<Response<proto::GetDailyReportResponse>, Status> {
        reports::get_daily_report(self, request).await
    }

    async fn get_sales_report(
        &self,
        request: Request<proto::GetSalesReportRequest>,
    ) -> Result<Response<proto::GetSalesReportResponse>, Status> {
        reports::get_sales_report(self, request).await
    }

    async fn get_duplicate_bill(
        &self,
        request: Request<proto::GetDuplicateBillRequest>,
    ) -> Result<Response<proto::GetDuplicateBillResponse>, Status> {
        invoices::get_duplicate_bill(self, request).await
    }

    async fn get_admin_dashboard(
        &self,
        request: Request<proto::GetAdminDashboardRequest>,
    ) -> Result<Response<proto::GetAdminDashboardResponse>, Status> {
        admin::get_admin_dashboard(self, request).await
    }

    async fn get_settings(
        &self,
        request: Request<proto::GetSettingsRequest>,
    ) -> Result<Response<proto::GetSettingsResponse>, Status> {
        admin::get_settings(self, request).await
    }

    async fn update_settings(
        &self,
        request: Request<proto::UpdateSettingsRequest>,
    ) -> Result<Response<proto::UpdateSettingsResponse>, Status> {
        admin::update_settings(self, request).await
    }
}
