-- Reservations of the sales service, keyed by the caller's id: the stock taken by a sale
-- (kind 'sale', ReserveStock / ReleaseStock) or put back by a refund (kind 'refund',
-- RestockForRefund / ReverseRefundRestock). The row stores the answer, so a retry with the
-- same id returns it and moves nothing.
create table catalog.reservations (
    kind        text not null check (kind in ('sale', 'refund')),
    id          uuid not null,
    -- The answer's lines (JSON array); empty for a tombstone (a release that arrived
    -- before any reservation, which stops a late reservation from taking stock).
    lines       jsonb not null default '[]'::jsonb,
    created_by  uuid,
    created_at  timestamptz not null default now(),
    -- When the stock was given back (sale) or taken back out (refund).
    undone_at   timestamptz,
    primary key (kind, id)
);
