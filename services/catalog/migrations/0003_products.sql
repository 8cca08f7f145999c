-- Products that can be sold. Archived (is_active = false) rather than erased: invoices
-- and the stock ledger keep referring to them.
create table catalog.products (
    id          uuid primary key,
    sku         text not null,
    name        text not null,
    description text not null default '',
    unit_price  numeric(12, 2) not null constraint products_unit_price_non_negative check (unit_price >= 0),
    cost_price  numeric(12, 2) not null default 0 constraint products_cost_price_non_negative check (cost_price >= 0),
    -- Percentages: 16.00 = 16 %.
    tax_rate    numeric(12, 2) not null default 0 constraint products_tax_rate_percentage check (tax_rate between 0 and 100),
    discount    numeric(12, 2) not null default 0 constraint products_discount_percentage check (discount between 0 and 100),
    vendor_id   uuid references catalog.vendors (id),
    -- Always the sum of the product's stock entries (catalog.stock_entries.delta); moved
    -- only together with a new entry, by a conditional update in the same transaction.
    stock_level bigint not null default 0 constraint products_stock_level_non_negative check (stock_level >= 0),
    barcode     text,
    category    text not null default '',
    branch      text not null default '',
    attributes  jsonb not null default '{}'::jsonb check (jsonb_typeof(attributes) = 'object'),
    is_active   boolean not null default true,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- Unique among all products, archived ones too (they can be restored); skus compare
-- case-insensitively, barcodes exactly.
create unique index products_sku_key on catalog.products (lower(sku));
create unique index products_barcode_key on catalog.products (barcode) where barcode is not null;
create index products_newest_idx on catalog.products (created_at desc, id desc);
create index products_category_idx on catalog.products (category);
create index products_vendor_idx on catalog.products (vendor_id) where vendor_id is not null;

create trigger products_set_updated_at
    before update on catalog.products
    for each row execute function catalog.set_updated_at();
