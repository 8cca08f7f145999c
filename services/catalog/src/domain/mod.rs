//! Values the catalog accepts only once they are valid: each request is parsed into one
//! of these at the first line of its handler.

mod product;
mod reservation;
mod stock;
mod vendor;

pub use product::{NewProduct, ProductChanges, ProductFilter};
pub use reservation::{StockLines, parse_reference_id};
pub use stock::{EntryType, NewStockEntry, StockEntryChanges, StockEntryFilter};
pub use vendor::{NewVendor, VendorChanges};

pub use regal_domain::{
    MAX_QUANTITY, Violations, clean_object, money, parse_optional_uuid, parse_path_id, parse_uuid,
    search_text, text,
};
