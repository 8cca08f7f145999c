-- Baseline of POST /pos/quick-sell with 3 lines: the very SQL one quick-sell of 3 lines through the
-- gateway makes Postgres run, statement by statement and transaction by transaction, as
-- captured with log_statement = 'all' from the sales-saga branch (e338a43); the sales commit
-- rewritten from services/sales/src/selling/committer.rs as it writes a batch of one sale
-- (the statement shapes of a batch, arrays of one; the lines as a VALUES list where the
-- service unnests arrays), and catalog's stock moves from services/catalog/src/catalog/
-- ledger.rs (`post_entries`: levels, ledger rows and audit events one statement each for
-- all the lines) — RE-CHECK against the sales service and catalog's ReserveStock
-- as they change, and update this script when they differ.
--
-- The service writes the sales that reach their commit together in one transaction (one
-- lock of the invoice counter, one WAL flush, one statement per kind of row); a pgbench
-- client runs one sale per transaction, so this baseline is what the same SQL gives with no
-- batching, and the service may pass 100 % of it.
--
-- Run by regal-bench on a copy of the seeded database (never the suite's own data):
-- pgbench -n -M prepared -c 32 -j 2 -T <s> -D products=<N> -f this
-- Differences, all in the baseline's favour or neutral: ids the services make in Rust
-- are made here by gen_random_uuid() or from two random numbers (the sale id), product
-- ids come from bench.product_ids by number (a small primary-key lookup the service does
-- not make), prices are constants (the service computes them from catalog's answer), and
-- the JSON payloads are fixed texts of the same shape and size. The audit relays' later
-- work on the outbox rows is not part of a quick-sell's own SQL and is not here.

\set n1 random(1, :products)
\set n2 (:n1 % :products) + 1
\set n3 (:n2 % :products) + 1
\set q random(1, 3)
\set minus_q -1 * :q
\set s1 random(1, 9223372036854775806)
\set s2 random(1, 9223372036854775806)

-- sales: claim the Idempotency-Key and write the pending sale, one statement (autocommit)
with claimed as (
  insert into sales.idempotency_keys (user_id, key, operation, request_hash)
  values ('00000000-0000-7000-8000-0000000000b1'::uuid, 'pgbench-' || :s1::text || '-' || :s2::text, 'quick_sell', 'ab0ce412e5a93e52a5c8ca47d73793ed3da72d27102ec7534357177d0c91ef07')
  on conflict do nothing returning user_id, key)
insert into sales.pending_sales (id, kind, cashier_id, idempotency_key, request)
select (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, 'quick_sell', claimed.user_id, claimed.key,
       '{"lines": [["01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", 1], ["01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", 1], ["01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", 1]], "discount": "0", "payments": [], "customer_id": null, "salesman_id": null}'::jsonb
  from claimed;

-- catalog: ReserveStock, one transaction
begin;
insert into catalog.reservations (kind, id, created_by) values ('sale', (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, '00000000-0000-7000-8000-0000000000b1'::uuid) on conflict do nothing;
select id, sku, name, description, unit_price, cost_price, tax_rate, discount, vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at
  from catalog.products where id = any(array(select id from bench.product_ids where n in (:n1, :n2, :n3))) order by id for update;
update catalog.products as product set stock_level = product.stock_level + moved.delta
  from unnest(array[(select id from bench.product_ids where n = :n1), (select id from bench.product_ids where n = :n2), (select id from bench.product_ids where n = :n3)]::uuid[], array[-1 * :q::bigint, -1, -1]::int8[]) as moved (id, delta)
 where product.id = moved.id and product.stock_level + moved.delta >= 0 returning product.id, product.stock_level;
insert into catalog.stock_entries (id, product_id, type, qty, location, batch, expiry, ref, reverses, sale_id, refund_id, created_by)
select * from unnest(array[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()]::uuid[], array[(select id from bench.product_ids where n = :n1), (select id from bench.product_ids where n = :n2), (select id from bench.product_ids where n = :n3)]::uuid[], array['SALE', 'SALE', 'SALE']::text[], array[:q::bigint, 1, 1]::int8[],
                     array['', '', '']::text[], array['', '', '']::text[], array[null, null, null]::date[], array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid::text, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid::text, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid::text]::text[],
                     array[null, null, null]::uuid[], array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid]::uuid[], array[null, null, null]::uuid[], array['00000000-0000-7000-8000-0000000000b1'::uuid, '00000000-0000-7000-8000-0000000000b1'::uuid, '00000000-0000-7000-8000-0000000000b1'::uuid]::uuid[])
returning id, product_id, type, qty, delta, location, batch, expiry, ref, reverses, sale_id, refund_id, created_by, created_at;
insert into catalog.outbox (event_id, service, entity, entity_id, action, actor_id, actor_role, request_id, client_addr, trace_context, changes)
select event.event_id, 'catalog', event.entity, event.entity_id, event.action, event.actor_id, event.actor_role, event.request_id, event.client_addr, event.trace_context, event.changes
  from unnest(array[gen_random_uuid(), gen_random_uuid(), gen_random_uuid()]::uuid[], array['stock_entry', 'stock_entry', 'stock_entry']::text[], array[gen_random_uuid()::text, gen_random_uuid()::text, gen_random_uuid()::text]::text[], array['create', 'create', 'create']::text[],
              array['00000000-0000-7000-8000-0000000000b1'::uuid, '00000000-0000-7000-8000-0000000000b1'::uuid, '00000000-0000-7000-8000-0000000000b1'::uuid]::uuid[], array['admin', 'admin', 'admin']::text[], array['01a20eaf-b330-714c-8f8c-fc2895b6b503', '01a20eaf-b330-714c-8f8c-fc2895b6b503', '01a20eaf-b330-714c-8f8c-fc2895b6b503']::text[], array['127.0.0.1', '127.0.0.1', '127.0.0.1']::text[], array[null, null, null]::text[],
              array['{"after": {"id": "01a20eaf-b337-7402-ac8d-ec172ac0b7c3", "qty": 1, "ref": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "type": "SALE", "batch": "", "delta": -1, "expiry": null, "sale_id": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "location": "", "reverses": null, "refund_id": null, "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "stock_level_after": 999999999}}', '{"after": {"id": "01a20eaf-b337-7402-ac8d-ec172ac0b7c3", "qty": 1, "ref": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "type": "SALE", "batch": "", "delta": -1, "expiry": null, "sale_id": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "location": "", "reverses": null, "refund_id": null, "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "stock_level_after": 999999999}}', '{"after": {"id": "01a20eaf-b337-7402-ac8d-ec172ac0b7c3", "qty": 1, "ref": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "type": "SALE", "batch": "", "delta": -1, "expiry": null, "sale_id": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "location": "", "reverses": null, "refund_id": null, "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "stock_level_after": 999999999}}']::jsonb[])
       as event (event_id, entity, entity_id, action, actor_id, actor_role, request_id, client_addr, trace_context, changes);
update catalog.reservations set lines = '[{"sku": "BENCH-000001", "name": "Bench product 1", "discount": "0", "quantity": 1, "tax_rate": "16.00", "cost_price": "0.50", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}, {"sku": "BENCH-000001", "name": "Bench product 1", "discount": "0", "quantity": 1, "tax_rate": "16.00", "cost_price": "0.50", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}, {"sku": "BENCH-000001", "name": "Bench product 1", "discount": "0", "quantity": 1, "tax_rate": "16.00", "cost_price": "0.50", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}]' where kind = 'sale' and id = (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid;
commit;

-- sales: the sale's transaction (a batch of one); the invoice row, numbered by the statement that writes it, last
begin;
delete from sales.pending_sales where id = any(array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid]) returning id;
select cashier_id, id from sales.shifts where cashier_id = any(array['00000000-0000-7000-8000-0000000000b1'::uuid]) and closed_at is null for share;
update sales.idempotency_keys as stored set resource_id = done.resource_id from unnest(array['00000000-0000-7000-8000-0000000000b1'::uuid], array['pgbench-' || :s1::text || '-' || :s2::text], array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid]) as done (user_id, key, resource_id) where stored.user_id = done.user_id and stored.key = done.key;
insert into sales.invoice_items (invoice_id, line_no, product_id, sku, name, quantity, unit_price, cost_price, tax_rate, discount_rate, gross, discount, net, tax, line_total)
VALUES ((lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, 1, (select id from bench.product_ids where n = :n1), 'BENCH-000001', 'Bench product 1', :q::bigint, 1.50, 0.50, 16.00, 0, :q * 1.50, 0, :q * 1.50, :q * 0.24, :q * 1.74),
       ((lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, 2, (select id from bench.product_ids where n = :n2), 'BENCH-000001', 'Bench product 1', 1, 1.50, 0.50, 16.00, 0, 1 * 1.50, 0, 1 * 1.50, 1 * 0.24, 1 * 1.74),
       ((lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, 3, (select id from bench.product_ids where n = :n3), 'BENCH-000001', 'Bench product 1', 1, 1.50, 0.50, 16.00, 0, 1 * 1.50, 0, 1 * 1.50, 1 * 0.24, 1 * 1.74)
returning invoice_id, line_no, product_id, sku, name, quantity, unit_price, cost_price, tax_rate, discount_rate, gross, discount, net, tax, line_total;
insert into sales.payments (id, invoice_id, position, method, amount) select payment.id, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, payment.position, payment.method, payment.amount
  from unnest(array[gen_random_uuid()]::uuid[], array[1]::int4[], array['cash']::text[], array[(:q * 1.50 + 2 * 1.50) + (:q * 0.24 + 2 * 0.24)]::numeric[]) as payment (id, position, method, amount)
returning invoice_id, position, method, amount;
with numbers as (update sales.invoice_numbers set last_number = last_number + cardinality(array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid]) returning last_number - cardinality(array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid]) as base)
insert into sales.invoices (id, invoice_no, status, customer_id, salesman_id, cashier_id, cashier, shift_id, invoice_discount, subtotal, tax, discount, total, amount_paid, change_due, sold_at)
select (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid, 'INV-' || lpad((numbers.base + 1)::text, greatest(6, length((numbers.base + 1)::text)), '0'), 'paid', null, null, '00000000-0000-7000-8000-0000000000b1'::uuid, 'admin', null, 0, (:q * 1.50 + 2 * 1.50), (:q * 0.24 + 2 * 0.24), 0, (:q * 1.50 + 2 * 1.50) + (:q * 0.24 + 2 * 0.24), (:q * 1.50 + 2 * 1.50) + (:q * 0.24 + 2 * 0.24), 0, now() from numbers
returning id, invoice_no, status, customer_id, salesman_id, cashier_id, cashier, shift_id, invoice_discount, subtotal, tax, discount, total, amount_paid, change_due, reprint_count, sold_at, created_at, updated_at;
insert into sales.outbox (event_id, service, entity, entity_id, action, actor_id, actor_role, request_id, client_addr, trace_context, changes)
select event.event_id, 'sales', event.entity, event.entity_id, event.action, '00000000-0000-7000-8000-0000000000b1'::uuid, 'admin', '01a20eaf-b330-714c-8f8c-fc2895b6b503', '127.0.0.1', null, event.changes
  from unnest(array[gen_random_uuid(), gen_random_uuid()]::uuid[], array['invoice', 'payment']::text[],
              array[(lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid::text, (lpad(to_hex(:s1::bigint), 16, '0') || lpad(to_hex(:s2::bigint), 16, '0'))::uuid::text || '/1']::text[], array['sell', 'record']::text[],
              array['{"id": "01a20eaf-b333-7041-b93f-a5de38ce9d87", "tax": "0.24", "items": [{"sku": "BENCH-000001", "tax": "0.24", "discount": "0.00", "quantity": 1, "line_total": "1.74", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}, {"sku": "BENCH-000001", "tax": "0.24", "discount": "0.00", "quantity": 1, "line_total": "1.74", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}, {"sku": "BENCH-000001", "tax": "0.24", "discount": "0.00", "quantity": 1, "line_total": "1.74", "product_id": "01a20eaf-ae4a-70a5-b4b3-9ddc71e22960", "unit_price": "1.50"}], "total": "1.74", "status": "paid", "discount": "0.00", "payments": [{"amount": "1.74", "method": "cash"}], "shift_id": null, "subtotal": "1.50", "cashier_id": "01a20eaf-ad5a-7200-8336-53df84c3fd34", "change_due": "0.00", "invoice_no": "INV-000001", "amount_paid": "1.74", "customer_id": null, "salesman_id": null}', '{"amount": "1.74", "method": "cash", "invoice_id": "01a20eaf-b333-7041-b93f-a5de38ce9d87"}']::jsonb[])
       as event (event_id, entity, entity_id, action, changes);
commit;
