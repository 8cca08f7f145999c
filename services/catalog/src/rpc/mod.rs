//! `regal.catalog.v1.CatalogService`: thin handlers that check the caller's permission,
//! turn the request into domain values, and call the use case.

mod messages;

use regal_authz::{Action, Permission, Principal, Resource, principal};
use regal_config::PaginationSettings;
use regal_errors::{FieldViolation, ServiceError};
use regal_proto::{
    catalog::v1::{self as proto, catalog_service_server::CatalogService},
    common::v1::{DeleteResponse, PageInfo},
};
use regal_server::{event_context, page_bounds};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    catalog::{Caller, Catalog},
    domain::{
        self, NewProduct, NewStockEntry, NewVendor, ProductChanges, ProductFilter,
        StockEntryChanges, StockEntryFilter, StockLines, VendorChanges,
    },
};

pub struct CatalogRpc {
    catalog: Catalog,
    pagination: PaginationSettings,
}

impl CatalogRpc {
    pub fn new(catalog: Catalog, pagination: PaginationSettings) -> Self {
        Self {
            catalog,
            pagination,
        }
    }

    fn page(
        &self,
        page: Option<&regal_proto::common::v1::PageRequest>,
    ) -> Result<(i64, i64), Status> {
        Ok(page_bounds(page, &self.pagination)?)
    }
}

/// The caller's principal once it has `permission`, and its audit context.
fn authorize<T>(request: &Request<T>, permission: Permission) -> Result<Caller, Status> {
    let principal: &Principal = principal(request)?;
    principal.require(permission)?;
    Ok(Caller {
        context: event_context(request, Some(principal)),
        user_id: Some(principal.user_id),
    })
}

fn invalid(violations: impl Into<Vec<FieldViolation>>) -> Status {
    Status::from(ServiceError::Validation(violations.into()))
}

fn path_id(id: &str) -> Result<Uuid, Status> {
    domain::parse_path_id(id).map_err(|violation| invalid(vec![violation]))
}

const fn crud(resource: Resource, action: Action) -> Permission {
    Permission::Crud(resource, action)
}

/// Reserving and releasing a sale's stock is part of selling.
const SELL: Permission = Permission::Crud(Resource::Invoices, Action::Create);
/// Restocking (and un-restocking) a refund is part of refunding.
const REFUND: Permission = Permission::Crud(Resource::Refunds, Action::Create);

#[tonic::async_trait]
impl CatalogService for CatalogRpc {
    // ---- products ----

    async fn list_products(
        &self,
        request: Request<proto::ListProductsRequest>,
    ) -> Result<Response<proto::ListProductsResponse>, Status> {
        authorize(&request, crud(Resource::Products, Action::Read))?;
        let body = request.get_ref();
        let (offset, limit) = self.page(body.page.as_ref())?;
        let filter = ProductFilter::from(body);
        let (rows, total) = self.catalog.list_products(&filter, offset, limit).await?;
        Ok(Response::new(proto::ListProductsResponse {
            products: rows.iter().map(messages::product).collect(),
            page: Some(PageInfo { total_count: total }),
        }))
    }

    async fn create_product(
        &self,
        request: Request<proto::CreateProductRequest>,
    ) -> Result<Response<proto::CreateProductResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Products, Action::Create))?;
        let product = NewProduct::try_from(request.get_ref()).map_err(invalid)?;
        let row = self.catalog.create_product(&caller, product).await?;
        Ok(Response::new(proto::CreateProductResponse {
            product: Some(messages::product(&row)),
        }))
    }

    async fn get_product(
        &self,
        request: Request<proto::GetProductRequest>,
    ) -> Result<Response<proto::GetProductResponse>, Status> {
        authorize(&request, crud(Resource::Products, Action::Read))?;
        let id = path_id(&request.get_ref().id)?;
        let row = self.catalog.get_product(id).await?;
        Ok(Response::new(proto::GetProductResponse {
            product: Some(messages::product(&row)),
        }))
    }

    async fn update_product(
        &self,
        request: Request<proto::UpdateProductRequest>,
    ) -> Result<Response<proto::UpdateProductResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Products, Action::Update))?;
        let id = path_id(&request.get_ref().id)?;
        let changes = ProductChanges::try_from(request.get_ref()).map_err(invalid)?;
        let row = self.catalog.update_product(&caller, id, changes).await?;
        Ok(Response::new(proto::UpdateProductResponse {
            product: Some(messages::product(&row)),
        }))
    }

    async fn delete_product(
        &self,
        request: Request<proto::DeleteProductRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Products, Action::Delete))?;
        let id = path_id(&request.get_ref().id)?;
        self.catalog.archive_product(&caller, id).await?;
        Ok(Response::new(DeleteResponse {
            message: "Product deleted successfully".to_owned(),
        }))
    }

    // ---- vendors ----

    async fn list_vendors(
        &self,
        request: Request<proto::ListVendorsRequest>,
    ) -> Result<Response<proto::ListVendorsResponse>, Status> {
        authorize(&request, crud(Resource::Vendors, Action::Read))?;
        let body = request.get_ref();
        let (offset, limit) = self.page(body.page.as_ref())?;
        let search = domain::search_text(body.search.as_deref());
        let (rows, total) = self
            .catalog
            .list_vendors(search.as_deref(), body.include_inactive, offset, limit)
            .await?;
        Ok(Response::new(proto::ListVendorsResponse {
            vendors: rows.iter().map(messages::vendor).collect(),
            page: Some(PageInfo { total_count: total }),
        }))
    }

    async fn create_vendor(
        &self,
        request: Request<proto::CreateVendorRequest>,
    ) -> Result<Response<proto::CreateVendorResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Vendors, Action::Create))?;
        let vendor = NewVendor::try_from(request.get_ref()).map_err(invalid)?;
        let row = self.catalog.create_vendor(&caller, vendor).await?;
        Ok(Response::new(proto::CreateVendorResponse {
            vendor: Some(messages::vendor(&row)),
        }))
    }

    async fn get_vendor(
        &self,
        request: Request<proto::GetVendorRequest>,
    ) -> Result<Response<proto::GetVendorResponse>, Status> {
        authorize(&request, crud(Resource::Vendors, Action::Read))?;
        let id = path_id(&request.get_ref().id)?;
        let row = self.catalog.get_vendor(id).await?;
        Ok(Response::new(proto::GetVendorResponse {
            vendor: Some(messages::vendor(&row)),
        }))
    }

    async fn update_vendor(
        &self,
        request: Request<proto::UpdateVendorRequest>,
    ) -> Result<Response<proto::UpdateVendorResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Vendors, Action::Update))?;
        let id = path_id(&request.get_ref().id)?;
        let changes = VendorChanges::try_from(request.get_ref()).map_err(invalid)?;
        let row = self
            .catalog
            .update_vendor(&caller, id, changes, "update")
            .await?;
        Ok(Response::new(proto::UpdateVendorResponse {
            vendor: Some(messages::vendor(&row)),
        }))
    }

    async fn delete_vendor(
        &self,
        request: Request<proto::DeleteVendorRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Vendors, Action::Delete))?;
        let id = path_id(&request.get_ref().id)?;
        self.catalog.archive_vendor(&caller, id).await?;
        Ok(Response::new(DeleteResponse {
            message: "Vendor deleted successfully".to_owned(),
        }))
    }

    // ---- stock ledger ----

    async fn list_stock_entries(
        &self,
        request: Request<proto::ListStockEntriesRequest>,
    ) -> Result<Response<proto::ListStockEntriesResponse>, Status> {
        authorize(&request, crud(Resource::Stock, Action::Read))?;
        let body = request.get_ref();
        let (offset, limit) = self.page(body.page.as_ref())?;
        let filter = StockEntryFilter::try_from(body).map_err(invalid)?;
        let (rows, total) = self
            .catalog
            .list_stock_entries(&filter, offset, limit)
            .await?;
        Ok(Response::new(proto::ListStockEntriesResponse {
            entries: rows
                .iter()
                .map(messages::stock_entry)
                .collect::<Result<_, _>>()?,
            page: Some(PageInfo { total_count: total }),
        }))
    }

    async fn create_stock_entry(
        &self,
        request: Request<proto::CreateStockEntryRequest>,
    ) -> Result<Response<proto::CreateStockEntryResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Stock, Action::Create))?;
        let entry = NewStockEntry::try_from(request.get_ref()).map_err(invalid)?;
        let row = self.catalog.create_stock_entry(&caller, entry).await?;
        Ok(Response::new(proto::CreateStockEntryResponse {
            entry: Some(messages::stock_entry(&row)?),
        }))
    }

    async fn get_stock_entry(
        &self,
        request: Request<proto::GetStockEntryRequest>,
    ) -> Result<Response<proto::GetStockEntryResponse>, Status> {
        authorize(&request, crud(Resource::Stock, Action::Read))?;
        let id = path_id(&request.get_ref().id)?;
        let row = self.catalog.get_stock_entry(id).await?;
        Ok(Response::new(proto::GetStockEntryResponse {
            entry: Some(messages::stock_entry(&row)?),
        }))
    }

    async fn update_stock_entry(
        &self,
        request: Request<proto::UpdateStockEntryRequest>,
    ) -> Result<Response<proto::UpdateStockEntryResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Stock, Action::Update))?;
        let id = path_id(&request.get_ref().id)?;
        let changes = StockEntryChanges::try_from(request.get_ref()).map_err(invalid)?;
        let row = self
            .catalog
            .update_stock_entry(&caller, id, changes)
            .await?;
        Ok(Response::new(proto::UpdateStockEntryResponse {
            entry: Some(messages::stock_entry(&row)?),
        }))
    }

    async fn delete_stock_entry(
        &self,
        request: Request<proto::DeleteStockEntryRequest>,
    ) -> Result<Response<DeleteResponse>, Status> {
        let caller = authorize(&request, crud(Resource::Stock, Action::Delete))?;
        let id = path_id(&request.get_ref().id)?;
        self.catalog.reverse_stock_entry(&caller, id).await?;
        Ok(Response::new(DeleteResponse {
            message: "Stock entry deleted successfully".to_owned(),
        }))
    }

    // ---- reservations ----

    async fn reserve_stock(
        &self,
        request: Request<proto::ReserveStockRequest>,
    ) -> Result<Response<proto::ReserveStockResponse>, Status> {
        let caller = authorize(&request, SELL)?;
        let body = request.get_ref();
        let sale_id = domain::parse_reference_id("sale_id", &body.sale_id);
        let lines = StockLines::parse(&body.lines);
        let (sale_id, lines) = match (sale_id, lines) {
            (Ok(sale_id), Ok(lines)) => (sale_id, lines),
            (sale_id, lines) => {
                let mut violations: Vec<FieldViolation> = sale_id.err().into_iter().collect();
                violations.extend(lines.err().unwrap_or_default());
                return Err(invalid(violations));
            }
        };
        let reserved = self.catalog.reserve_stock(&caller, sale_id, lines).await?;
        Ok(Response::new(proto::ReserveStockResponse {
            sale_id: sale_id.to_string(),
            lines: reserved.iter().map(messages::reserved_line).collect(),
        }))
    }

    async fn release_stock(
        &self,
        request: Request<proto::ReleaseStockRequest>,
    ) -> Result<Response<proto::ReleaseStockResponse>, Status> {
        let caller = authorize(&request, SELL)?;
        let sale_id = domain::parse_reference_id("sale_id", &request.get_ref().sale_id)
            .map_err(|violation| invalid(vec![violation]))?;
        let released = self.catalog.release_stock(&caller, sale_id).await?;
        Ok(Response::new(proto::ReleaseStockResponse { released }))
    }

    async fn restock_for_refund(
        &self,
        request: Request<proto::RestockForRefundRequest>,
    ) -> Result<Response<proto::RestockForRefundResponse>, Status> {
        let caller = authorize(&request, REFUND)?;
        let body = request.get_ref();
        let refund_id = domain::parse_reference_id("refund_id", &body.refund_id);
        let lines = StockLines::parse(&body.lines);
        let (refund_id, lines) = match (refund_id, lines) {
            (Ok(refund_id), Ok(lines)) => (refund_id, lines),
            (refund_id, lines) => {
                let mut violations: Vec<FieldViolation> = refund_id.err().into_iter().collect();
                violations.extend(lines.err().unwrap_or_default());
                return Err(invalid(violations));
            }
        };
        let restocked = self
            .catalog
            .restock_for_refund(&caller, refund_id, lines)
            .await?;
        Ok(Response::new(proto::RestockForRefundResponse {
            refund_id: refund_id.to_string(),
            lines: restocked.iter().map(messages::restocked_line).collect(),
        }))
    }

    async fn reverse_refund_restock(
        &self,
        request: Request<proto::ReverseRefundRestockRequest>,
    ) -> Result<Response<proto::ReverseRefundRestockResponse>, Status> {
        let caller = authorize(&request, REFUND)?;
        let refund_id = domain::parse_reference_id("refund_id", &request.get_ref().refund_id)
            .map_err(|violation| invalid(vec![violation]))?;
        let reversed = self
            .catalog
            .reverse_refund_restock(&caller, refund_id)
            .await?;
        Ok(Response::new(proto::ReverseRefundRestockResponse {
            reversed,
        }))
    }

    // ---- dashboard ----

    async fn get_catalog_summary(
        &self,
        request: Request<proto::GetCatalogSummaryRequest>,
    ) -> Result<Response<proto::GetCatalogSummaryResponse>, Status> {
        authorize(&request, Permission::AdminDashboard)?;
        let threshold = request.get_ref().low_stock_threshold;
        if threshold < 0 {
            return Err(invalid(vec![FieldViolation::new(
                "low_stock_threshold",
                "greater_than_equal",
                "Input should be greater than or equal to 0",
            )]));
        }
        let (total_products, low_stock_products) = self.catalog.summary(threshold).await?;
        Ok(Response::new(proto::GetCatalogSummaryResponse {
            total_products,
            low_stock_products,
        }))
    }
}
