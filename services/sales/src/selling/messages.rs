//! Invoices as `regal.sales.v1` messages and as audit-event changes.

use regal_domain::money::{to_message, to_text};
use regal_proto::{sales::v1 as proto, time::to_timestamp};
use serde_json::{Value, json};

use crate::{domain::sale::PaymentMethod, store::invoices::FullInvoice};

pub(crate) fn status_message(status: &str) -> proto::InvoiceStatus {
    match status {
        "draft" => proto::InvoiceStatus::Draft,
        "issued" => proto::InvoiceStatus::Issued,
        "paid" => proto::InvoiceStatus::Paid,
        "cancelled" => proto::InvoiceStatus::Cancelled,
        "partially_refunded" => proto::InvoiceStatus::PartiallyRefunded,
        "refunded" => proto::InvoiceStatus::Refunded,
        _ => proto::InvoiceStatus::Unspecified,
    }
}

/// An invoice with its lines and payments as `regal.sales.v1.Invoice` (also used by the
/// admin dashboard's recent invoices).
pub(crate) fn invoice_message(invoice: &FullInvoice) -> proto::Invoice {
    let row = &invoice.row;
    proto::Invoice {
        id: row.id.to_string(),
        invoice_no: row.invoice_no.clone().unwrap_or_default(),
        customer_id: row.customer_id.map(|id| id.to_string()),
        salesman_id: row.salesman_id.map(|id| id.to_string()),
        cashier_id: row.cashier_id.to_string(),
        shift_id: row.shift_id.map(|id| id.to_string()),
        items: invoice
            .items
            .iter()
            .map(|item| proto::InvoiceItem {
                product_id: item.product_id.to_string(),
                sku: item.sku.clone(),
                name: item.name.clone(),
                quantity: item.quantity,
                unit_price: Some(to_message(item.unit_price)),
                tax_rate: Some(to_message(item.tax_rate)),
                discount: Some(to_message(item.discount)),
                line_total: Some(to_message(item.line_total)),
            })
            .collect(),
        totals: Some(proto::InvoiceTotals {
            subtotal: Some(to_message(row.subtotal)),
            tax: Some(to_message(row.tax)),
            discount: Some(to_message(row.discount)),
            total: Some(to_message(row.total)),
        }),
        taxes: Some(to_message(row.tax)),
        discounts: Some(to_message(row.discount)),
        payments: invoice
            .payments
            .iter()
            .map(|payment| proto::Payment {
                method: PaymentMethod::from_stored(&payment.method).to_message() as i32,
                amount: Some(to_message(payment.amount)),
            })
            .collect(),
        amount_paid: Some(to_message(row.amount_paid)),
        change_due: Some(to_message(row.change_due)),
        status: status_message(&row.status) as i32,
        reprint_count: row.reprint_count,
        created_at: Some(to_timestamp(row.created_at)),
        updated_at: Some(to_timestamp(row.updated_at)),
    }
}

/// What an audit event says about an invoice.
pub(crate) fn invoice_audit(invoice: &FullInvoice) -> Value {
    let row = &invoice.row;
    json!({
        "id": row.id,
        "invoice_no": row.invoice_no,
        "status": row.status,
        "customer_id": row.customer_id,
        "salesman_id": row.salesman_id,
        "cashier_id": row.cashier_id,
        "shift_id": row.shift_id,
        "items": invoice.items.iter().map(|item| json!({
            "product_id": item.product_id,
            "sku": item.sku,
            "quantity": item.quantity,
            "unit_price": to_text(item.unit_price),
            "discount": to_text(item.discount),
            "tax": to_text(item.tax),
            "line_total": to_text(item.line_total),
        })).collect::<Vec<_>>(),
        "subtotal": to_text(row.subtotal),
        "discount": to_text(row.discount),
        "tax": to_text(row.tax),
        "total": to_text(row.total),
        "payments": invoice.payments.iter().map(|payment| json!({
            "method": payment.method,
            "amount": to_text(payment.amount),
        })).collect::<Vec<_>>(),
        "amount_paid": to_text(row.amount_paid),
        "change_due": to_text(row.change_due),
    })
}
