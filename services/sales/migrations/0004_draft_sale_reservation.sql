-- Selling a draft reserves its stock under a sale id of its own for each attempt, so an
-- attempt that failed (and released its reservation, leaving a tombstone in catalog) never
-- blocks a later one. The invoice keeps its id; reservation_id names the catalog
-- reservation of a sold draft (null: the invoice's own id, as for every other sale), which
-- a cancel releases.
alter table sales.invoices add column reservation_id uuid;
-- The draft a pending sale is selling: one attempt at a time per draft.
alter table sales.pending_sales add column draft_id uuid
    constraint pending_sales_draft_id_key unique;
