//! Salesmen: admins do everything; employees create, read and update; cashiers read.

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
    domain::{NewSalesman, SalesmanChanges, SalesmanFilter, money::to_message},
    store::salesmen::SalesmanRow,
};

const fn salesmen(action: Action) -> Permission {
    Permission::Crud(Resource::Salesmen, action)
}

pub(super) fn salesman_message(row: &SalesmanRow) -> proto::Salesman {
    proto::Salesman {
        id: row.id.to_string(),
        name: row.name.clone(),
        code: row.code.clone(),
        commission_rate: Some(to_message(row.commission_rate)),
        is_active: row.is_active,
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

pub(super) async fn list_salesmen(
    rpc: &SalesRpc,
    request: Request<proto::ListSalesmenRequest>,
) -> Result<Response<proto::ListSalesmenResponse>, Status> {
    authorize(&request, salesmen(Action::Read))?;
    let body = request.get_ref();
    let (offset, limit) = rpc.page(body.page.as_ref())?;
    let filter = SalesmanFilter::from(body);
    let (rows, total) = BackOffice::new(&rpc.pool, &rpc.outbox)
        .list_salesmen(&filter, offset, limit)
        .await?;
    Ok(Response::new(proto::ListSalesmenResponse {
        salesmen: rows.iter().map(salesman_message).collect(),
        page: Some(PageInfo { total_count: total }),
    }))
}

pub(super) async fn create_salesman(
    rpc: &SalesRpc,
    request: Request<proto::CreateSalesmanRequest>,
) -> Result<Response<proto::CreateSalesmanResponse>, Status> {
    let caller = authorize(&request, salesmen(Action::Create))?;
    let salesman = NewSalesman::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .create_salesman(&caller.context, salesman)
        .await?;
    Ok(Response::new(proto::CreateSalesmanResponse {
        salesman: Some(salesman_message(&row)),
    }))
}

pub(super) async fn get_salesman(
    rpc: &SalesRpc,
    request: Request<proto::GetSalesmanRequest>,
) -> Result<Response<proto::GetSalesmanResponse>, Status> {
    authorize(&request, salesmen(Action::Read))?;
    let id = path_id(&request.get_ref().id)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .get_salesman(id)
        .await?;
    Ok(Response::new(proto::GetSalesmanResponse {
        salesman: Some(salesman_message(&row)),
    }))
}

pub(super) async fn update_salesman(
    rpc: &SalesRpc,
    request: Request<proto::UpdateSalesmanRequest>,
) -> Result<Response<proto::UpdateSalesmanResponse>, Status> {
    let caller = authorize(&request, salesmen(Action::Update))?;
    // Archiving or restoring through an update is a delete: admins only.
    if request.get_ref().is_active.is_some() {
        authorize(&request, salesmen(Action::Delete))?;
    }
    let id = path_id(&request.get_ref().id)?;
    let changes = SalesmanChanges::try_from(request.get_ref()).map_err(invalid)?;
    let row = BackOffice::new(&rpc.pool, &rpc.outbox)
        .update_salesman(&caller.context, id, changes, "update")
        .await?;
    Ok(Response::new(proto::UpdateSalesmanResponse {
        salesman: Some(salesman_message(&row)),
    }))
}

pub(super) async fn delete_salesman(
    rpc: &SalesRpc,
    request: Request<proto::DeleteSalesmanRequest>,
) -> Result<Response<DeleteResponse>, Status> {
    let caller = authorize(&request, salesmen(Action::Delete))?;
    let id = path_id(&request.get_ref().id)?;
    BackOffice::new(&rpc.pool, &rpc.outbox)
        .archive_salesman(&caller.context, id)
        .await?;
    Ok(Response::new(DeleteResponse {
        message: "Salesman deleted successfully".to_owned(),
    }))
}
