//! Custom orders: admins do everything; cashiers and employees create, read and update.

use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    common::v1::{DeleteResponse, PageInfo},
    sales::v1 as proto,
    time::to_timestamp,
};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, customers::object, invalid, path_id};
use crate::{
    back_office::BackOffice,
    domain::{CustomOrderChanges, CustomOrderFilter, NewCustomOrder},
    store::custom_orders::CustomOrderRow,
};

const fn custom_orders(action: Action) -> Permission {
    Permission::Crud(Resource::CustomOrders, action)
}

fn custom_order_message(row: &CustomOrderRow) -> Result<proto::CustomOrder, Status> {
    Ok(proto::CustomOrder {
        id: row.id.to_string(),
        customer_id: row.customer_id.map(|id| id.to_string()),
        fields: Some(object(&row.fields)),
        status: row.status()?.to_proto() as i32,
        linked_invoice: row.linked_invoice.map(|id| id.to_string()),
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    })
}

pub(super) async fn list_custom_orders(
    rpc: &SalesRpc,
    request: Request<proto::ListCustomOrdersRequest>,
) -> Result<Response<proto::ListCustomOrdersResponse>, Status> {
    authorize(&request, custom_orders(Action::Read))?;
    let body = request.get_ref();
    let (offset, limit) = rpc.page(body.page.as_ref())?;
    let filter = CustomOrderFilter::try_from(body).map_err(invalid)?;
    let (rows, total) = BackOffice::new(&rpc.pool, &rpc.outbox)
        .list_custom_orders(&filter, offset, limit)
        .await?;
    Ok(Response::new(proto::ListCustomOrdersResponse {
        custom_orders: rows
            .iter()
            .map(custom_order_message)
            .collect::<Result<_, _>>()?,
        page: Some(PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_custom_order(
    rpc: &SalesRpc,
    request: Request<proto::CreateCustomOrderRequest>,
) -> Result<Response<proto::CreateCustomOrderResponse>, Status> {
    let caller = authorize(&request, custom_orders(Action::Create))?;
    let order = NewCustomOrder::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .create_custom_order(&caller.context, order)
        .await?;
    Ok(Response::new(proto::CreateCustomOrderResponse {
        custom_order: Some(custom_order_message(&row)?),
    }))
}

pub(super) async fn get_custom_order(
    rpc: &SalesRpc,
    request: Request<proto::GetCustomOrderRequest>,
) -> Result<Response<proto::GetCustomOrderResponse>, Status> {
    authorize(&request, custom_orders(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .get_custom_order(id)
        .await?;
    Ok(Response::new(proto::GetCustomOrderResponse {
        custom_order: Some(custom_order_message(&row)?),
    }))
}

pub(super) async fn update_custom_order(
    rpc: &SalesRpc,
    request: Request<proto::UpdateCustomOrderRequest>,
) -> Result<Response<proto::UpdateCustomOrderResponse>, Status> {
    let caller = authorize(&request, custom_orders(Action::Update))?;
    let id = path_id(&request.get_ref().id)?;
    let changes = CustomOrderChanges::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .update_custom_order(&caller.context, id, changes)
        .await?;
    Ok(Response::new(proto::UpdateCustomOrderResponse {
        custom_order: Some(custom_order_message(&row)?),
    }))
}

pub(super) async fn delete_custom_order(
    rpc: &SalesRpc,
    request: Request<proto::DeleteCustomOrderRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, custom_orders(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    BackOffice::new(&rpc.pool, &rpc.outbox)
        .delete_custom_order(&caller.context, id)
        .await?;
    Ok(Response::new(DeleteResponse {
        message: "Custom order deleted successfully".to_owned(),
    }))
}
