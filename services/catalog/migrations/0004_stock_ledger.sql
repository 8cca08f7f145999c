-- The stock ledger: every change of a product's stock_level is one row here, written in
-- the same transaction as the level's conditional update. Rows are never updated (apart
-- from their descriptive fields) nor deleted; a mistake is cancelled by a REVERSAL entry.
create table catalog.stock_entries (
    id          uuid primary key,
    product_id  uuid not null references catalog.products (id),
    type        text not null check (type in ('IN', 'OUT', 'ADJUST', 'SALE', 'REFUND', 'REVERSAL')),
    -- Positive for IN, OUT, SALE and REFUND (the type gives the direction); signed and
    -- non-zero for ADJUST and REVERSAL.
    qty         bigint not null,
    -- The signed effect on stock_level.
    delta       bigint generated always as (
                    case when type in ('OUT', 'SALE') then -qty else qty end
                ) stored,
    location    text not null default '',
    batch       text not null default '',
    expiry      date,
    ref         text not null default '',
    -- The entry this one cancels (REVERSAL only); each entry is reversed at most once.
    reverses    uuid references catalog.stock_entries (id),
    -- The sale (SALE) or refund (REFUND) that posted it.
    sale_id     uuid,
    refund_id   uuid,
    created_by  uuid,
    created_at  timestamptz not null default now(),
    constraint stock_entries_qty_sign check (
        case when type in ('ADJUST', 'REVERSAL') then qty <> 0 else qty > 0 end
    ),
    constraint stock_entries_reversal_target check ((type = 'REVERSAL') = (reverses is not null))
);

create unique index stock_entries_reverses_key on catalog.stock_entries (reverses) where reverses is not null;
create index stock_entries_newest_idx on catalog.stock_entries (created_at desc, id desc);
create index stock_entries_product_idx on catalog.stock_entries (product_id, created_at desc);
create index stock_entries_sale_idx on catalog.stock_entries (sale_id) where sale_id is not null;
create index stock_entries_refund_idx on catalog.stock_entries (refund_id) where refund_id is not null;

-- The ledger is append-only: what moved stock can never be rewritten or removed.
create function catalog.stock_entries_append_only() returns trigger
language plpgsql as $$
begin
    if tg_op = 'DELETE' then
        raise exception 'stock entries cannot be deleted; post a reversal'
            using errcode = 'restrict_violation';
    end if;
    if new.product_id <> old.product_id or new.type <> old.type or new.qty <> old.qty
       or new.reverses is distinct from old.reverses or new.sale_id is distinct from old.sale_id
       or new.refund_id is distinct from old.refund_id or new.created_by is distinct from old.created_by
       or new.created_at <> old.created_at then
        raise exception 'only location, batch, expiry and ref of a stock entry can change'
            using errcode = 'restrict_violation';
    end if;
    return new;
end;
$$;

create trigger stock_entries_append_only
    before update or delete on catalog.stock_entries
    for each row execute function catalog.stock_entries_append_only();

-- Idempotency keys of manual entries (POST /stock with an Idempotency-Key header): the
-- same key from the same user returns the first entry.
create table catalog.stock_entry_idempotency (
    user_id     uuid not null,
    key         text not null,
    entry_id    uuid not null references catalog.stock_entries (id) deferrable initially deferred,
    fingerprint text not null,
    created_at  timestamptz not null default now(),
    primary key (user_id, key)
);
