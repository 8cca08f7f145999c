//! Stored rows as `regal.catalog.v1` messages.

use regal_proto::{catalog::v1 as proto, time::to_timestamp};
use tonic::Status;

use crate::{
    catalog::{ReservedLine, RestockedLine},
    domain::money::to_message,
    store::{products::ProductRow, stock::StockEntryRow, vendors::VendorRow},
};

fn object(value: &serde_json::Value) -> prost_types::Struct {
    value
        .as_object()
        .map(regal_proto::json::object_to_struct)
        .unwrap_or_default()
}

pub fn product(row: &ProductRow) -> proto::Product {
    proto::Product {
        id: row.id.to_string(),
        sku: row.sku.clone(),
        name: row.name.clone(),
        desc: row.description.clone(),
        unit_price: Some(to_message(row.unit_price)),
        cost_price: Some(to_message(row.cost_price)),
        tax_rate: Some(to_message(row.tax_rate)),
        discount: Some(to_message(row.discount)),
        vendor_id: row.vendor_id.map(|id| id.to_string()),
        stock_level: row.stock_level,
        barcode: row.barcode.clone(),
        category: row.category.clone(),
        branch: row.branch.clone(),
        attributes: Some(object(&row.attributes)),
        is_active: row.is_active,
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

pub fn vendor(row: &VendorRow) -> proto::Vendor {
    proto::Vendor {
        id: row.id.to_string(),
        name: row.name.clone(),
        contacts: Some(object(&row.contacts)),
        terms: Some(object(&row.terms)),
        balance: Some(to_message(row.balance)),
        is_active: row.is_active,
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

pub fn stock_entry(row: &StockEntryRow) -> Result<proto::StockEntry, Status> {
    let entry_type = row.entry_type()?.to_proto();
    Ok(proto::StockEntry {
        id: row.id.to_string(),
        product_id: row.product_id.to_string(),
        qty: row.qty,
        r#type: entry_type as i32,
        location: row.location.clone(),
        batch: row.batch.clone(),
        expiry: row.expiry.map(|date| date.to_string()).unwrap_or_default(),
        r#ref: row.reference.clone(),
        created_by: row.created_by.map(|id| id.to_string()).unwrap_or_default(),
        created_at: Some(to_timestamp(row.created_at)),
    })
}

pub fn reserved_line(line: &ReservedLine) -> proto::ReservedLine {
    proto::ReservedLine {
        product_id: line.product_id.to_string(),
        sku: line.sku.clone(),
        name: line.name.clone(),
        quantity: line.quantity,
        unit_price: Some(to_message(line.unit_price)),
        cost_price: Some(to_message(line.cost_price)),
        tax_rate: Some(to_message(line.tax_rate)),
        discount: Some(to_message(line.discount)),
    }
}

pub fn restocked_line(line: &RestockedLine) -> proto::StockLine {
    proto::StockLine {
        product_id: line.product_id.to_string(),
        quantity: line.quantity,
    }
}
