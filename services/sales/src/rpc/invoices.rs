//! Invoices, quick-sell and the duplicate bill: thin handlers (permission, parsing, use
//! case, message).

use regal_authz::{Action, Permission, Resource};
use regal_proto::{common::v1::DeleteResponse, sales::v1 as proto, time::from_timestamp};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid, path_id};
use crate::{
    domain::{
        invoice_update::InvoiceUpdate,
        sale::{NewInvoice, QuickSale},
    },
    selling::{Upstream, invoices, messages::invoice_message},
    store::invoices::{self as store, InvoiceFilter},
};

const fn invoice(action: Action) -> Permission {
    Permission::Crud(Resource::Invoices, action)
}

fn status_filter(status: proto::InvoiceStatus) -> Option<&'static str> {
    Some(match status {
        proto::InvoiceStatus::Unspecified => return None,
        proto::InvoiceStatus::Draft => "draft",
        proto::InvoiceStatus::Issued => "issued",
        proto::InvoiceStatus::Paid => "paid",
        proto::InvoiceStatus::Cancelled => "cancelled",
        proto::InvoiceStatus::PartiallyRefunded => "partially_refunded",
        proto::InvoiceStatus::Refunded => "refunded",
    })
}

pub(super) async fn list_invoices(
    rpc: &SalesRpc,
    request: Request<proto::ListInvoicesRequest>,
) -> Result<Response<proto::ListInvoicesResponse>, Status> {
    authorize(&request, invoice(Action::Read))?;
    let message = request.get_ref();
    let (offset, limit) = rpc.page(message.page.as_ref())?;
    let customer_id = match message.customer_id.as_deref() {
        None => None,
        Some(id) => Some(
            regal_domain::parse_uuid("query.customer_id", id)
                .map_err(|violation| invalid(vec![violation]))?,
        ),
    };
    let filter = InvoiceFilter {
        status: status_filter(message.status()),
        customer_id,
        from: message.from.as_ref().and_then(from_timestamp),
        to: message.to.as_ref().and_then(from_timestamp),
    };
    let mut connection = rpc
        .pool
        .acquire()
        .await
        .map_err(crate::error::SalesError::from)?;
    let (found, total) = store::list(&mut connection, &filter, offset, limit).await?;
    Ok(Response::new(proto::ListInvoicesResponse {
        invoices: found.iter().map(invoice_message).collect(),
        page: Some(regal_proto::common::v1::PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_invoice(
    rpc: &SalesRpc,
    request: Request<proto::CreateInvoiceRequest>,
) -> Result<Response<proto::CreateInvoiceResponse>, Status> {
    let caller = authorize(&request, invoice(Action::Create))?;
    let new_invoice = NewInvoice::parse(request.get_ref()).map_err(invalid)?;
    let upstream = Upstream::new(&request, rpc.catalog.clone());
    let created = invoices::create(rpc, &caller, &upstream, new_invoice).await?;
    Ok(Response::new(proto::CreateInvoiceResponse {
        invoice: Some(invoice_message(&created)),
    }))
}

pub(super) async fn get_invoice(
    rpc: &SalesRpc,
    request: Request<proto::GetInvoiceRequest>,
) -> Result<Response<proto::GetInvoiceResponse>, Status> {
    authorize(&request, invoice(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let found = invoices::get(rpc, id).await?;
    Ok(Response::new(proto::GetInvoiceResponse {
        invoice: Some(invoice_message(&found)),
    }))
}

pub(super) async fn update_invoice(
    rpc: &SalesRpc,
    request: Request<proto::UpdateInvoiceRequest>,
) -> Result<Response<proto::UpdateInvoiceResponse>, Status> {
    let caller = authorize(&request, invoice(Action::Update))?;
    let change = InvoiceUpdate::parse(request.get_ref()).map_err(invalid)?;
    let upstream = Upstream::new(&request, rpc.catalog.clone());
    let updated = invoices::update(rpc, &caller, &upstream, change).await?;
    Ok(Response::new(proto::UpdateInvoiceResponse {
        invoice: Some(invoice_message(&updated)),
    }))
}

pub(super) async fn delete_invoice(
    rpc: &SalesRpc,
    request: Request<proto::DeleteInvoiceRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, invoice(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    invoices::delete(rpc, &caller, id).await?;
    Ok(Response::new(DeleteResponse {
        message: "Invoice deleted successfully".to_owned(),
    }))
}

pub(super) async fn quick_sell(
    rpc: &SalesRpc,
    request: Request<proto::QuickSellRequest>,
) -> Result<Response<proto::QuickSellResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let sale = QuickSale::parse(request.get_ref()).map_err(invalid)?;
    let upstream = Upstream::new(&request, rpc.catalog.clone());
    let sold = invoices::quick_sell(rpc, &caller, &upstream, sale).await?;
    Ok(Response::new(proto::QuickSellResponse {
        invoice: Some(invoice_message(&sold)),
    }))
}

pub(super) async fn get_duplicate_bill(
    rpc: &SalesRpc,
    request: Request<proto::GetDuplicateBillRequest>,
) -> Result<Response<proto::GetDuplicateBillResponse>, Status> {
    let caller = authorize(&request, Permission::PointOfSale)?;
    let id = regal_domain::parse_uuid("path.invoice_id", &request.get_ref().invoice_id)
        .map_err(|violation| invalid(vec![violation]))?;
    let text = request.get_ref().format() == proto::ReceiptFormat::Text;
    let reprinted = invoices::reprint(rpc, &caller, id).await?;
    let text_receipt = if text {
        Some(invoices::text_receipt(rpc, &reprinted).await?)
    } else {
        None
    };
    Ok(Response::new(proto::GetDuplicateBillResponse {
        invoice: Some(invoice_message(&reprinted)),
        duplicate: true,
        text_receipt,
    }))
}
