//! Refunds: thin handlers (permission, parsing, use case, message).

use regal_authz::{Action, Permission, Resource};
use regal_domain::money::to_message;
use regal_proto::{
    common::v1::{DeleteResponse, PageInfo},
    sales::v1 as proto,
    time::{from_timestamp, to_timestamp},
};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid, path_id};
use crate::{
    domain::{
        refund::{MAX_REASON_CHARS, NewRefund},
        sale::PaymentMethod,
    },
    error::SalesError,
    refunding,
    selling::Upstream,
    store::refunds::{self as store, FullRefund, RefundFilter},
};

const fn refunds(action: Action) -> Permission {
    Permission::Crud(Resource::Refunds, action)
}

fn refund_message(refund: &FullRefund) -> proto::Refund {
    proto::Refund {
        id: refund.row.id.to_string(),
        invoice_id: refund.row.invoice_id.to_string(),
        items: refund
            .items
            .iter()
            .map(|item| proto::ItemQuantity {
                product_id: item.product_id.to_string(),
                quantity: item.quantity,
            })
            .collect(),
        amount: Some(to_message(refund.row.amount)),
        reason: refund.row.reason.clone(),
        processed_by: refund.row.processed_by.to_string(),
        created_at: Some(to_timestamp(refund.row.created_at)),
        shift_id: refund.row.shift_id.map(|id| id.to_string()),
        method: PaymentMethod::from_stored(&refund.row.method).to_message() as i32,
    }
}

pub(super) async fn list_refunds(
    rpc: &SalesRpc,
    request: Request<proto::ListRefundsRequest>,
) -> Result<Response<proto::ListRefundsResponse>, Status> {
    authorize(&request, refunds(Action::Read))?;
    let message = request.get_ref();
    let (offset, limit) = rpc.page(message.page.as_ref())?;
    let invoice_id = match message.invoice_id.as_deref() {
        None => None,
        Some(id) => Some(
            regal_domain::parse_uuid("query.invoice_id", id)
                .map_err(|violation| invalid(vec![violation]))?,
        ),
    };
    let filter = RefundFilter {
        invoice_id,
        from: message.from.as_ref().and_then(from_timestamp),
        to: message.to.as_ref().and_then(from_timestamp),
    };
    let mut connection = rpc.pool.acquire().await.map_err(SalesError::from)?;
    let (found, total) = store::list(&mut connection, &filter, offset, limit).await?;
    Ok(Response::new(proto::ListRefundsResponse {
        refunds: found.iter().map(refund_message).collect(),
        page: Some(PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_refund(
    rpc: &SalesRpc,
    request: Request<proto::CreateRefundRequest>,
) -> Result<Response<proto::CreateRefundResponse>, Status> {
    let caller = authorize(&request, refunds(Action::Create))?;
    let new_refund = NewRefund::parse(request.get_ref()).map_err(invalid)?;
    let upstream = Upstream::new(&request, rpc.catalog.clone());
    let created = refunding::create(rpc, &caller, &upstream, new_refund).await?;
    Ok(Response::new(proto::CreateRefundResponse {
        refund: Some(refund_message(&created)),
    }))
}

pub(super) async fn get_refund(
    rpc: &SalesRpc,
    request: Request<proto::GetRefundRequest>,
) -> Result<Response<proto::GetRefundResponse>, Status> {
    authorize(&request, refunds(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let found = refunding::get(rpc, id).await?;
    Ok(Response::new(proto::GetRefundResponse {
        refund: Some(refund_message(&found)),
    }))
}

pub(super) async fn update_refund(
    rpc: &SalesRpc,
    request: Request<proto::UpdateRefundRequest>,
) -> Result<Response<proto::UpdateRefundResponse>, Status> {
    let caller = authorize(&request, refunds(Action::Update))?;
    let id = path_id(&request.get_ref().id)?;
    let reason = match request.get_ref().reason.as_deref() {
        None => None,
        Some(reason) => Some(
            regal_domain::text("reason", reason, MAX_REASON_CHARS)
                .map_err(|violation| invalid(vec![violation]))?,
        ),
    };
    let updated = refunding::update_reason(rpc, &caller, id, reason).await?;
    Ok(Response::new(proto::UpdateRefundResponse {
        refund: Some(refund_message(&updated)),
    }))
}

pub(super) async fn delete_refund(
    rpc: &SalesRpc,
    request: Request<proto::DeleteRefundRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, refunds(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    let upstream = Upstream::new(&request, rpc.catalog.clone());
    refunding::void(rpc, &caller, &upstream, id).await?;
    Ok(Response::new(DeleteResponse {
        message: "Refund deleted successfully".to_owned(),
    }))
}
