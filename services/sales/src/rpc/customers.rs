//! Customers: admins do everything; cashiers and employees create, read and update.

use regal_authz::{Action, Permission, Resource};
use regal_proto::{
    common::v1::{DeleteResponse, PageInfo},
    sales::v1 as proto,
    time::to_timestamp,
};
use tonic::{Request, Response, Status};

use super::{SalesRpc, authorize, invalid, path_id};
use crate::{
    back_office::BackOffice,
    domain::{CustomerChanges, CustomerFilter, NewCustomer, money::to_message},
    store::customers::CustomerRow,
};

const fn customers(action: Action) -> Permission {
    Permission::Crud(Resource::Customers, action)
}

/// A stored JSON object as a `google.protobuf.Struct`.
pub(super) fn object(value: &serde_json::Value) -> prost_types::Struct {
    value
        .as_object()
        .map(regal_proto::json::object_to_struct)
        .unwrap_or_default()
}

/// A stored customer as `regal.sales.v1.Customer` (also for the admin dashboard).
pub(super) fn customer_message(row: &CustomerRow) -> proto::Customer {
    proto::Customer {
        id: row.id.to_string(),
        name: row.name.clone(),
        contacts: Some(object(&row.contacts)),
        billing_addr: Some(object(&row.billing_addr)),
        shipping_addr: Some(object(&row.shipping_addr)),
        credit_limit: Some(to_message(row.credit_limit)),
        balance: Some(to_message(row.balance)),
        is_active: row.is_active,
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

pub(super) async fn list_customers(
    rpc: &SalesRpc,
    request: Request<proto::ListCustomersRequest>,
) -> Result<Response<proto::ListCustomersResponse>, Status> {
    authorize(&request, customers(Action::Read))?;
    let body = request.get_ref();
    let (offset, limit) = rpc.page(body.page.as_ref())?;
    let filter = CustomerFilter::from(body);
    let (rows, total) = BackOffice::new(&rpc.pool, &rpc.outbox)
        .list_customers(&filter, offset, limit)
        .await?;
    Ok(Response::new(proto::ListCustomersResponse {
        customers: rows.iter().map(customer_message).collect(),
        page: Some(PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_customer(
    rpc: &SalesRpc,
    request: Request<proto::CreateCustomerRequest>,
) -> Result<Response<proto::CreateCustomerResponse>, Status> {
    let caller = authorize(&request, customers(Action::Create))?;
    let customer = NewCustomer::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .create_customer(&caller.context, customer)
        .await?;
    Ok(Response::new(proto::CreateCustomerResponse {
        customer: Some(customer_message(&row)),
    }))
}

pub(super) async fn get_customer(
    rpc: &SalesRpc,
    request: Request<proto::GetCustomerRequest>,
) -> Result<Response<proto::GetCustomerResponse>, Status> {
    authorize(&request, customers(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .get_customer(id)
        .await?;
    Ok(Response::new(proto::GetCustomerResponse {
        customer: Some(customer_message(&row)),
    }))
}

pub(super) async fn update_customer(
    rpc: &SalesRpc,
    request: Request<proto::UpdateCustomerRequest>,
) -> Result<Response<proto::UpdateCustomerResponse>, Status> {
    let caller = authorize(&request, customers(Action::Update))?;
    // Archiving or restoring through an update is a delete: admins only.
    if request.get_ref().is_active.is_some() {
        authorize(&request, customers(Action::Delete))?;
    }
    let id = path_id(&request.get_ref().id)?;
    let changes = CustomerChanges::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .update_customer(&caller.context, id, changes, "update")
        .await?;
    Ok(Response::new(proto::UpdateCustomerResponse {
        customer: Some(customer_message(&row)),
    }))
}

pub(super) async fn delete_customer(
    rpc: &SalesRpc,
    request: Request<proto::DeleteCustomerRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, customers(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    BackOffice::new(&rpc.pool, &rpc.outbox)
        .archive_customer(&caller.context, id)
        .await?;
    Ok(Response::new(DeleteResponse {
        message: "Customer deleted successfully".to_owned(),
    }))
}
