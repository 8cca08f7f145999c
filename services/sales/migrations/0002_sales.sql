-- The sales schema: everything that happens at the till and around it.
--
-- Money is numeric(12,2), rates numeric(5,2) (percentages), quantities bigint. Other
-- services' records (users, products) are referred to by id only: no cross-schema keys.
-- Every figure a report shows is computed from the ledger of sold invoice lines and
-- refund lines below; nothing is summed into a running total that could drift.

-- ---------------------------------------------------------------------------
-- Store settings: one row.
-- ---------------------------------------------------------------------------
create table sales.settings (
    id boolean primary key default true constraint settings_single_row check (id),
    store_name text not null default 'Regal POS',
    address text not null default '',
    currency text not null default 'USD',
    receipt_footer text not null default 'Thank you for shopping with us!',
    low_stock_threshold bigint not null default 10
        constraint settings_low_stock_threshold_non_negative check (low_stock_threshold >= 0),
    updated_at timestamptz not null default now()
);
insert into sales.settings default values;
create trigger settings_set_updated_at before update on sales.settings
    for each row execute function sales.set_updated_at();

-- ---------------------------------------------------------------------------
-- Customers and salesmen: archived (is_active = false), never erased.
-- ---------------------------------------------------------------------------
create table sales.customers (
    id uuid primary key,
    name text not null,
    contacts jsonb not null default '{}',
    billing_addr jsonb not null default '{}',
    shipping_addr jsonb not null default '{}',
    credit_limit numeric(12,2) not null default 0
        constraint customers_credit_limit_non_negative check (credit_limit >= 0),
    balance numeric(12,2) not null default 0,
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index customers_created_at_idx on sales.customers (created_at desc, id desc);
create trigger customers_set_updated_at before update on sales.customers
    for each row execute function sales.set_updated_at();

create table sales.salesmen (
    id uuid primary key,
    name text not null,
    code text not null constraint salesmen_code_key unique,
    commission_rate numeric(5,2) not null default 0
        constraint salesmen_commission_rate_range check (commission_rate between 0 and 100),
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index salesmen_created_at_idx on sales.salesmen (created_at desc, id desc);
create trigger salesmen_set_updated_at before update on sales.salesmen
    for each row execute function sales.set_updated_at();

-- ---------------------------------------------------------------------------
-- Expenses: erased by DELETE.
-- ---------------------------------------------------------------------------
create table sales.expenses (
    id uuid primary key,
    type text not null,
    amount numeric(12,2) not null constraint expenses_amount_positive check (amount > 0),
    date date not null default current_date,
    note text not null default '',
    created_by uuid not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index expenses_created_at_idx on sales.expenses (created_at desc, id desc);
create index expenses_date_idx on sales.expenses (date);
create trigger expenses_set_updated_at before update on sales.expenses
    for each row execute function sales.set_updated_at();

-- ---------------------------------------------------------------------------
-- Shifts and cash drawers.
--
-- A cashier's shift starts when they open a drawer and ends at shift close; the drawer
-- session belongs to exactly one shift. Expected cash of a drawer = opening float + cash
-- tendered on sales − change given − cash refunds + pay-ins − pay-outs, over the
-- invoices, refunds and movements that carry the shift's id.
-- ---------------------------------------------------------------------------
create table sales.shifts (
    id uuid primary key,
    cashier_id uuid not null,
    -- The cashier's username when the shift opened (reports show it; the auth service owns
    -- users, so it is copied rather than joined).
    cashier text not null,
    opened_at timestamptz not null default now(),
    closed_at timestamptz,
    -- Filled at shift close: the Z-report's figures are recomputed from the ledger, these
    -- keep what was counted and concluded at the time.
    counted_cash numeric(12,2),
    expected_cash numeric(12,2),
    variance numeric(12,2),
    constraint shifts_closed_after_opened check (closed_at is null or closed_at >= opened_at)
);
-- At most one open shift per cashier.
create unique index shifts_one_open_per_cashier on sales.shifts (cashier_id) where closed_at is null;
create index shifts_cashier_opened_idx on sales.shifts (cashier_id, opened_at desc);

create table sales.cash_drawers (
    id uuid primary key,
    shift_id uuid not null constraint cash_drawers_shift_id_key unique
        references sales.shifts (id),
    cashier_id uuid not null,
    opening_float numeric(12,2) not null
        constraint cash_drawers_opening_float_non_negative check (opening_float >= 0),
    open_note text,
    opened_at timestamptz not null default now(),
    closed_at timestamptz,
    -- Computed by the server at close.
    expected_amount numeric(12,2),
    -- Counted at close (null when the shift closed it without a count).
    actual_amount numeric(12,2)
        constraint cash_drawers_actual_amount_non_negative check (actual_amount >= 0),
    variance numeric(12,2),
    -- The terminal's own figure, kept for the record only.
    terminal_expected_amount numeric(12,2),
    close_note text
);
-- At most one open drawer per cashier.
create unique index cash_drawers_one_open_per_cashier on sales.cash_drawers (cashier_id)
    where closed_at is null;

create table sales.cash_movements (
    id uuid primary key,
    shift_id uuid not null references sales.shifts (id),
    drawer_id uuid not null references sales.cash_drawers (id),
    kind text not null constraint cash_movements_kind check (kind in ('pay_in', 'pay_out')),
    amount numeric(12,2) not null constraint cash_movements_amount_positive check (amount > 0),
    reason text not null,
    cashier_id uuid not null,
    created_at timestamptz not null default now()
);
create index cash_movements_shift_idx on sales.cash_movements (shift_id);

-- ---------------------------------------------------------------------------
-- Invoices.
--
-- status: draft (saved, nothing sold, no number) | issued | paid | cancelled |
-- partially_refunded | refunded. An invoice row exists only once its sale committed (or
-- as a draft); a sale in flight lives in sales.pending_sales until then.
-- ---------------------------------------------------------------------------
create table sales.invoice_numbers (
    id boolean primary key default true constraint invoice_numbers_single_row check (id),
    -- The last number given. Taken with `update … returning` inside the sale's commit,
    -- so numbers are gap-free: a sale that rolls back gives its number back.
    last_number bigint not null default 0
);
insert into sales.invoice_numbers default values;

create table sales.invoices (
    id uuid primary key,
    -- "INV-000123"; null on a draft.
    invoice_no text constraint invoices_invoice_no_key unique,
    status text not null constraint invoices_status check (status in
        ('draft', 'issued', 'paid', 'cancelled', 'partially_refunded', 'refunded')),
    customer_id uuid references sales.customers (id),
    salesman_id uuid references sales.salesmen (id),
    cashier_id uuid not null,
    -- The cashier's username at the time of sale (reports and receipts show it).
    cashier text not null,
    shift_id uuid references sales.shifts (id),
    -- The invoice-level discount asked for (money), before it is spread over the lines.
    invoice_discount numeric(12,2) not null default 0
        constraint invoices_invoice_discount_non_negative check (invoice_discount >= 0),
    -- Sums of the rounded lines.
    subtotal numeric(12,2) not null default 0,
    tax numeric(12,2) not null default 0,
    discount numeric(12,2) not null default 0,
    total numeric(12,2) not null default 0,
    amount_paid numeric(12,2) not null default 0,
    change_due numeric(12,2) not null default 0
        constraint invoices_change_due_non_negative check (change_due >= 0),
    reprint_count bigint not null default 0,
    -- When the stock was taken (the sale day of every report); null on a draft.
    sold_at timestamptz,
    cancelled_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint invoices_total_is_sum check (total = subtotal - discount + tax),
    constraint invoices_sold_has_number check (
        (status = 'draft' and invoice_no is null and sold_at is null)
        or (status <> 'draft' and invoice_no is not null and sold_at is not null))
);
create index invoices_created_at_idx on sales.invoices (created_at desc, id desc);
create index invoices_sold_at_idx on sales.invoices (sold_at) where sold_at is not null;
create index invoices_customer_idx on sales.invoices (customer_id, created_at desc);
create index invoices_shift_idx on sales.invoices (shift_id);
create trigger invoices_set_updated_at before update on sales.invoices
    for each row execute function sales.set_updated_at();

-- One line per product, with the catalog's data at the time of sale (or of the draft).
create table sales.invoice_items (
    invoice_id uuid not null references sales.invoices (id) on delete cascade,
    line_no integer not null,
    product_id uuid not null,
    sku text not null,
    name text not null,
    quantity bigint not null constraint invoice_items_quantity_positive check (quantity > 0),
    unit_price numeric(12,2) not null,
    cost_price numeric(12,2) not null default 0,
    tax_rate numeric(5,2) not null,
    -- The product's own discount percentage at the time.
    discount_rate numeric(5,2) not null default 0,
    -- Money: quantity × unit_price.
    gross numeric(12,2) not null,
    -- Money taken off the line: the product's discount plus its share of the invoice's.
    discount numeric(12,2) not null,
    -- gross − discount.
    net numeric(12,2) not null,
    -- net × tax_rate / 100, rounded to the cent half away from zero.
    tax numeric(12,2) not null,
    -- net + tax: exactly what was paid for the line.
    line_total numeric(12,2) not null,
    primary key (invoice_id, line_no),
    constraint invoice_items_net check (net = gross - discount),
    constraint invoice_items_line_total check (line_total = net + tax)
);
create index invoice_items_product_idx on sales.invoice_items (product_id);

create table sales.payments (
    id uuid primary key,
    invoice_id uuid not null references sales.invoices (id) on delete cascade,
    position integer not null,
    method text not null constraint payments_method check (method in ('cash', 'card', 'other')),
    amount numeric(12,2) not null constraint payments_amount_positive check (amount > 0),
    created_at timestamptz not null default now(),
    constraint payments_invoice_position_key unique (invoice_id, position)
);

-- A sale between its reservation in catalog and its commit here. Its id is the sale id
-- given to catalog, and the id the invoice gets (a draft keeps its own id when sold). The
-- commit deletes the row in the same transaction as it writes the invoice; a row left
-- behind by a crash is found by the sweeper, which releases the reservation (idempotent in
-- catalog) and deletes it. Whoever deletes the row first decides the sale's fate.
create table sales.pending_sales (
    id uuid primary key,
    -- 'quick_sell' | 'invoice' (a new invoice sold at once) | 'draft' (a draft being sold).
    kind text not null constraint pending_sales_kind check (kind in ('quick_sell', 'invoice', 'draft')),
    cashier_id uuid not null,
    -- The Idempotency-Key of the request, when it had one (released with the sale).
    idempotency_key text,
    -- What was asked, to finish or explain the sale later.
    request jsonb not null,
    created_at timestamptz not null default now()
);
create index pending_sales_created_at_idx on sales.pending_sales (created_at);

-- ---------------------------------------------------------------------------
-- Refunds: a ledger of refunded units. Voiding a refund (DELETE) keeps the row with
-- voided_at set, so reports and the audit trail still see what happened.
-- ---------------------------------------------------------------------------
create table sales.refunds (
    id uuid primary key,
    invoice_id uuid not null references sales.invoices (id),
    -- Money given back = net + tax of the refunded units.
    amount numeric(12,2) not null constraint refunds_amount_non_negative check (amount >= 0),
    net numeric(12,2) not null,
    tax numeric(12,2) not null,
    method text not null default 'cash'
        constraint refunds_method check (method in ('cash', 'card', 'other')),
    reason text not null default '',
    processed_by uuid not null,
    -- The processing user's username at the time.
    processed_by_name text not null,
    shift_id uuid references sales.shifts (id),
    voided_at timestamptz,
    voided_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint refunds_amount_is_sum check (amount = net + tax)
);
create index refunds_created_at_idx on sales.refunds (created_at desc, id desc);
create index refunds_invoice_idx on sales.refunds (invoice_id);
create index refunds_shift_idx on sales.refunds (shift_id);
create trigger refunds_set_updated_at before update on sales.refunds
    for each row execute function sales.set_updated_at();

create table sales.refund_items (
    refund_id uuid not null references sales.refunds (id),
    -- The invoice line refunded.
    line_no integer not null,
    product_id uuid not null,
    quantity bigint not null constraint refund_items_quantity_positive check (quantity > 0),
    -- The refunded units' share of the line, with the invoice's rounding.
    gross numeric(12,2) not null,
    discount numeric(12,2) not null,
    net numeric(12,2) not null,
    tax numeric(12,2) not null,
    cost numeric(12,2) not null default 0,
    primary key (refund_id, line_no),
    constraint refund_items_net check (net = gross - discount)
);
create index refund_items_product_idx on sales.refund_items (product_id);

-- ---------------------------------------------------------------------------
-- Custom orders: erased by DELETE.
-- ---------------------------------------------------------------------------
create table sales.custom_orders (
    id uuid primary key,
    customer_id uuid references sales.customers (id),
    fields jsonb not null default '{}',
    status text not null default 'pending' constraint custom_orders_status check (status in
        ('pending', 'in_progress', 'completed', 'cancelled')),
    linked_invoice uuid references sales.invoices (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index custom_orders_created_at_idx on sales.custom_orders (created_at desc, id desc);
create trigger custom_orders_set_updated_at before update on sales.custom_orders
    for each row execute function sales.set_updated_at();

-- ---------------------------------------------------------------------------
-- Idempotency keys of POST /pos/quick-sell, /invoices and /refunds: the same key from the
-- same user returns the first result and changes nothing more. The key is recorded with
-- INSERT … ON CONFLICT DO NOTHING before the work starts; resource_id is set in the
-- transaction that commits the work, and a failed attempt deletes its key so it can be
-- retried.
create table sales.idempotency_keys (
    user_id uuid not null,
    key text not null,
    -- 'quick_sell' | 'invoice' | 'refund': a key reused for another operation is refused.
    operation text not null,
    -- A digest of the request, so a different request under the same key is refused.
    request_hash text not null,
    -- The invoice or refund made; null while the work is in flight.
    resource_id uuid,
    created_at timestamptz not null default now(),
    primary key (user_id, key)
);
create index idempotency_keys_created_at_idx on sales.idempotency_keys (created_at);
