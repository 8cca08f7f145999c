-- Baseline of GetProduct: the catalog's primary-key read of one product
-- (services/catalog/src/store/products.rs, `find`), of a product picked at random
-- among the seeded ones. bench.product_ids numbers them 1..:products (regal-bench
-- writes it; pgbench has no uuid variables), so each transaction also does one small
-- primary-key lookup the service does not: the baseline is, if anything, slower.
-- Run by regal-bench: pgbench -n -M prepared -c 32 -j 2 -T <s> -D products=<N> -f this
\set n random(1, :products)
select id, sku, name, description, unit_price, cost_price, tax_rate, discount,
       vendor_id, stock_level, barcode, category, branch, attributes, is_active, created_at, updated_at
  from catalog.products
 where id = (select id from bench.product_ids where n = :n);
