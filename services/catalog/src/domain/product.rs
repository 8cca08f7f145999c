//! Products: what a valid one looks like, and what a valid change is.

use regal_errors::FieldViolation;
use regal_proto::catalog::v1 as proto;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    MAX_QUANTITY, Violations, clean_object, money, parse_optional_uuid, search_text, text,
};

pub const SKU_MAX: usize = 50;
pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;
pub const BARCODE_MAX: usize = 64;
pub const LABEL_MAX: usize = 100;

fn sku(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("sku", value, SKU_MAX)
}

fn name(value: &str) -> Result<String, FieldViolation> {
    regal_text::required("name", value, NAME_MAX)
}

/// A barcode as scanned: no spaces inside; empty means none.
fn barcode(value: &str) -> Result<Option<String>, FieldViolation> {
    let barcode = regal_text::optional("barcode", value, BARCODE_MAX)?;
    if barcode.as_deref().is_some_and(|code| code.contains(' ')) {
        return Err(FieldViolation::new(
            "barcode",
            "string_pattern_mismatch",
            "Barcode may not contain spaces",
        ));
    }
    Ok(barcode)
}

fn price(
    field: &str,
    message: Option<&regal_proto::common::v1::Decimal>,
) -> Option<Result<Decimal, FieldViolation>> {
    money::parse_message(field, message)
        .map(|amount| amount.and_then(|amount| money::non_negative(field, amount)))
}

fn rate(
    field: &str,
    message: Option<&regal_proto::common::v1::Decimal>,
) -> Option<Result<Decimal, FieldViolation>> {
    money::parse_message(field, message)
        .map(|amount| amount.and_then(|amount| money::percentage(field, amount)))
}

fn stock_level(value: i64) -> Result<i64, FieldViolation> {
    if value < 0 {
        return Err(FieldViolation::new(
            "stock_level",
            "greater_than_equal",
            "Input should be greater than or equal to 0",
        ));
    }
    if value > MAX_QUANTITY {
        return Err(FieldViolation::new(
            "stock_level",
            "less_than_equal",
            format!("Input should be less than or equal to {MAX_QUANTITY}"),
        ));
    }
    Ok(value)
}

/// A product about to be created.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub unit_price: Decimal,
    pub cost_price: Decimal,
    pub tax_rate: Decimal,
    pub discount: Decimal,
    pub vendor_id: Option<Uuid>,
    /// Posted as an `IN` entry when above zero.
    pub opening_stock: i64,
    pub barcode: Option<String>,
    pub category: String,
    pub branch: String,
    pub attributes: Map<String, Value>,
    pub is_active: bool,
}

impl TryFrom<&proto::CreateProductRequest> for NewProduct {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::CreateProductRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let sku = violations.take(sku(&request.sku));
        let name = violations.take(name(&request.name));
        let description = violations.take(text("desc", &request.desc, DESCRIPTION_MAX));
        let unit_price = match price("unit_price", request.unit_price.as_ref()) {
            Some(result) => violations.take(result),
            None => {
                violations.push(FieldViolation::new(
                    "unit_price",
                    "missing",
                    "Field required",
                ));
                Decimal::ZERO
            }
        };
        let product = Self {
            sku,
            name,
            description,
            unit_price,
            cost_price: violations
                .take_present(price("cost_price", request.cost_price.as_ref()))
                .unwrap_or_default(),
            tax_rate: violations
                .take_present(rate("tax_rate", request.tax_rate.as_ref()))
                .unwrap_or_default(),
            discount: violations
                .take_present(rate("discount", request.discount.as_ref()))
                .unwrap_or_default(),
            vendor_id: violations.take(parse_optional_uuid(
                "vendor_id",
                request.vendor_id.as_deref().unwrap_or_default(),
            )),
            opening_stock: violations.take(stock_level(request.stock_level)),
            barcode: violations.take(barcode(request.barcode.as_deref().unwrap_or_default())),
            category: violations.take(text("category", &request.category, LABEL_MAX)),
            branch: violations.take(text("branch", &request.branch, LABEL_MAX)),
            attributes: violations.take(clean_object("attributes", request.attributes.as_ref())),
            is_active: request.is_active.unwrap_or(true),
        };
        violations.finish(product)
    }
}

/// A partial update: absent fields stay as they are.
#[derive(Debug, Default, Clone)]
pub struct ProductChanges {
    pub sku: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub unit_price: Option<Decimal>,
    pub cost_price: Option<Decimal>,
    pub tax_rate: Option<Decimal>,
    pub discount: Option<Decimal>,
    /// `Some(None)` removes the vendor.
    pub vendor_id: Option<Option<Uuid>>,
    /// A stocktake: the counted level.
    pub stock_level: Option<i64>,
    /// `Some(None)` removes the barcode.
    pub barcode: Option<Option<String>>,
    pub category: Option<String>,
    pub branch: Option<String>,
    pub attributes: Option<Map<String, Value>>,
    pub is_active: Option<bool>,
}

impl TryFrom<&proto::UpdateProductRequest> for ProductChanges {
    type Error = Vec<FieldViolation>;

    fn try_from(request: &proto::UpdateProductRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let changes = Self {
            sku: violations.take_present(request.sku.as_deref().map(sku)),
            name: violations.take_present(request.name.as_deref().map(name)),
            description: violations.take_present(
                request
                    .desc
                    .as_deref()
                    .map(|value| text("desc", value, DESCRIPTION_MAX)),
            ),
            unit_price: violations.take_present(price("unit_price", request.unit_price.as_ref())),
            cost_price: violations.take_present(price("cost_price", request.cost_price.as_ref())),
            tax_rate: violations.take_present(rate("tax_rate", request.tax_rate.as_ref())),
            discount: violations.take_present(rate("discount", request.discount.as_ref())),
            vendor_id: violations.take_present(
                request
                    .vendor_id
                    .as_deref()
                    .map(|value| parse_optional_uuid("vendor_id", value)),
            ),
            stock_level: violations.take_present(request.stock_level.map(stock_level)),
            barcode: violations.take_present(request.barcode.as_deref().map(barcode)),
            category: violations.take_present(
                request
                    .category
                    .as_deref()
                    .map(|value| text("category", value, LABEL_MAX)),
            ),
            branch: violations.take_present(
                request
                    .branch
                    .as_deref()
                    .map(|value| text("branch", value, LABEL_MAX)),
            ),
            attributes: violations.take_present(
                request
                    .attributes
                    .as_ref()
                    .map(|object| clean_object("attributes", Some(object))),
            ),
            is_active: request.is_active,
        };
        violations.finish(changes)
    }
}

/// The filters of a product list.
#[derive(Debug, Default, Clone)]
pub struct ProductFilter {
    pub search: Option<String>,
    pub category: Option<String>,
    pub barcode: Option<String>,
    pub sku: Option<String>,
    pub include_inactive: bool,
}

impl From<&proto::ListProductsRequest> for ProductFilter {
    fn from(request: &proto::ListProductsRequest) -> Self {
        let clean = |value: Option<&String>| search_text(value.map(String::as_str));
        Self {
            search: clean(request.search.as_ref()),
            category: clean(request.category.as_ref()),
            barcode: clean(request.barcode.as_ref()),
            sku: clean(request.sku.as_ref()),
            include_inactive: request.include_inactive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regal_proto::common::v1::Decimal as DecimalMessage;

    fn decimal(value: &str) -> Option<DecimalMessage> {
        Some(DecimalMessage {
            value: value.to_owned(),
        })
    }

    fn valid_request() -> proto::CreateProductRequest {
        proto::CreateProductRequest {
            sku: " TEA-01 ".to_owned(),
            name: "<b>Green</b> tea".to_owned(),
            unit_price: decimal("2.5"),
            stock_level: 10,
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_product_is_cleaned_and_defaulted() {
        let product = NewProduct::try_from(&valid_request()).unwrap();
        assert_eq!(product.sku, "TEA-01");
        assert_eq!(product.name, "Green tea");
        assert_eq!(money::to_text(product.unit_price), "2.50");
        assert_eq!(money::to_text(product.cost_price), "0.00");
        assert_eq!(product.opening_stock, 10);
        assert!(product.is_active);
        assert_eq!(product.barcode, None);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let request = proto::CreateProductRequest {
            sku: "x".repeat(SKU_MAX + 1),
            name: "<p></p>".to_owned(),
            unit_price: decimal("-1"),
            cost_price: decimal("1.234"),
            tax_rate: decimal("101"),
            discount: decimal("abc"),
            vendor_id: Some("nope".to_owned()),
            stock_level: -1,
            barcode: Some("12 34".to_owned()),
            ..Default::default()
        };
        let fields: Vec<String> = NewProduct::try_from(&request)
            .unwrap_err()
            .into_iter()
            .map(|violation| violation.field)
            .collect();
        assert_eq!(
            fields,
            [
                "sku",
                "name",
                "unit_price",
                "cost_price",
                "tax_rate",
                "discount",
                "vendor_id",
                "stock_level",
                "barcode"
            ]
        );
    }

    #[test]
    fn a_missing_price_is_required() {
        let request = proto::CreateProductRequest {
            unit_price: None,
            ..valid_request()
        };
        let violations = NewProduct::try_from(&request).unwrap_err();
        assert_eq!(violations[0].field, "unit_price");
        assert_eq!(violations[0].kind, "missing");
    }

    #[test]
    fn an_empty_vendor_or_barcode_removes_it_in_an_update() {
        let changes = ProductChanges::try_from(&proto::UpdateProductRequest {
            vendor_id: Some(String::new()),
            barcode: Some("  ".to_owned()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(changes.vendor_id, Some(None));
        assert_eq!(changes.barcode, Some(None));
        assert_eq!(changes.name, None);
    }
}
