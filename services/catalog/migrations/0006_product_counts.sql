-- How many products each category holds, active and archived, kept by a trigger in the
-- transaction that adds, archives, restores, re-categorises or erases a product. The
-- product list's X-Total-Count reads these few rows instead of counting every product
-- (with 10,000 products the count was ~90 % of a page's database time). Filters that
-- these rows cannot answer (search, sku, barcode) still count the products themselves.
create table catalog.product_counts (
    category  text    not null,
    is_active boolean not null,
    -- No check (products >= 0): a check applies to the row proposed by the insert below,
    -- whose delta is -1 when a product leaves its row.
    products  bigint  not null,
    primary key (category, is_active)
);

insert into catalog.product_counts (category, is_active, products)
select category, is_active, count(*) from catalog.products group by category, is_active;

-- One statement moves the count out of the old row and into the new one, in key order,
-- so two products moved between the same categories in opposite directions at once
-- cannot deadlock on the counters.
create function catalog.count_products() returns trigger
language plpgsql as $$
begin
    insert into catalog.product_counts as counts (category, is_active, products)
    select category, is_active, sum(delta)
      from (select old.category, old.is_active, -1 where tg_op in ('UPDATE', 'DELETE')
            union all
            select new.category, new.is_active, 1 where tg_op in ('INSERT', 'UPDATE'))
           as moved (category, is_active, delta)
     group by category, is_active
     order by category, is_active
    on conflict (category, is_active)
        do update set products = counts.products + excluded.products;
    return null;
end
$$;

create trigger products_counted
    after insert or delete on catalog.products
    for each row execute function catalog.count_products();

-- Stock moves (the hot path) set neither column, so they never touch the counters.
create trigger products_recounted
    after update of category, is_active on catalog.products
    for each row
    when (old.category is distinct from new.category or old.is_active is distinct from new.is_active)
    execute function catalog.count_products();
