-- Suppliers of products. Archived (is_active = false) rather than erased: products keep
-- referring to them.
create table catalog.vendors (
    id         uuid primary key,
    name       text not null,
    contacts   jsonb not null default '{}'::jsonb check (jsonb_typeof(contacts) = 'object'),
    terms      jsonb not null default '{}'::jsonb check (jsonb_typeof(terms) = 'object'),
    balance    numeric(12, 2) not null default 0,
    is_active  boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index vendors_newest_idx on catalog.vendors (created_at desc, id desc);

create trigger vendors_set_updated_at
    before update on catalog.vendors
    for each row execute function catalog.set_updated_at();
