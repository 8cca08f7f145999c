-- A refund is written (with its audit event) first and restocked in catalog right after,
-- idempotently by its id. restocked_at records that the restock happened; a refund left
-- without it by a crash is restocked by the sweeper.
alter table sales.refunds add column restocked_at timestamptz;
create index refunds_restock_pending_idx on sales.refunds (created_at)
    where restocked_at is null and voided_at is null;
