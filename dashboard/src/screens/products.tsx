// Products: search, barcode lookup, create/edit/archive, and the stock ledger of one
// product (entries IN/OUT/ADJUST). Cashiers read; admins and employees change.

import { useState } from "preact/hooks";
import { type Product, StockEntryType } from "../gen/regal/catalog/v1/catalog_pb";
import { catalog, newIdempotencyKey } from "../api";
import { formatCents, parseCents } from "../money";
import { canEditProducts, type RoleName } from "../routes";
import { Card, dateTime, money, Notice, useAction, useLoad } from "../ui";

interface ProductForm {
  sku: string;
  name: string;
  desc: string;
  unitPrice: string;
  costPrice: string;
  taxRate: string;
  discount: string;
  barcode: string;
  category: string;
  stockLevel: string;
}

const EMPTY: ProductForm = {
  sku: "",
  name: "",
  desc: "",
  unitPrice: "",
  costPrice: "0",
  taxRate: "0",
  discount: "0",
  barcode: "",
  category: "",
  stockLevel: "0",
};

function decimal(label: string, text: string): { value: string } {
  const cents = parseCents(text);
  if (cents === null) throw new Error(`${label}: a number with at most two decimals, e.g. 12.50`);
  return { value: formatCents(cents) };
}

function formOf(product: Product): ProductForm {
  return {
    sku: product.sku,
    name: product.name,
    desc: product.desc,
    unitPrice: product.unitPrice?.value ?? "",
    costPrice: product.costPrice?.value ?? "0",
    taxRate: product.taxRate?.value ?? "0",
    discount: product.discount?.value ?? "0",
    barcode: product.barcode ?? "",
    category: product.category,
    stockLevel: String(product.stockLevel),
  };
}

export function Products(props: { role: RoleName }) {
  const editable = canEditProducts(props.role);
  const [search, setSearch] = useState("");
  const [barcode, setBarcode] = useState("");
  const [filter, setFilter] = useState<{ search?: string; barcode?: string }>({});
  const list = useLoad(
    async () => (await catalog.listProducts({ ...filter, page: { limit: 100n } })).products,
    [filter.search, filter.barcode],
  );
  const [editing, setEditing] = useState<Product | "new" | null>(null);
  const [stockOf, setStockOf] = useState<Product | null>(null);

  return (
    <div class="grid">
      <Card title="Products" testId="products">
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            setFilter({ search: search.trim() || undefined, barcode: barcode.trim() || undefined });
          }}
        >
          <input data-testid="product-search" placeholder="Search name or SKU" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
          <input data-testid="product-barcode" placeholder="Barcode" value={barcode} onInput={(e) => setBarcode(e.currentTarget.value)} />
          <button type="submit">Search</button>
          {editable ? (
            <button type="button" data-testid="product-new" onClick={() => setEditing("new")}>
              New product
            </button>
          ) : null}
        </form>
        <Notice error={list.error} />
        <table class="list" data-testid="product-table">
          <thead>
            <tr>
              <th>SKU</th>
              <th>Name</th>
              <th>Barcode</th>
              <th class="num">Price</th>
              <th class="num">Tax %</th>
              <th class="num">Stock</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(list.data ?? []).map((product) => (
              <tr key={product.id} data-testid={`product-row-${product.sku}`}>
                <td>{product.sku}</td>
                <td>{product.name}</td>
                <td>{product.barcode ?? ""}</td>
                <td class="num">{money(product.unitPrice)}</td>
                <td class="num">{money(product.taxRate)}</td>
                <td class="num" data-testid={`stock-${product.sku}`}>
                  {String(product.stockLevel)}
                </td>
                <td class="actions">
                  <button type="button" onClick={() => setStockOf(product)}>
                    Stock
                  </button>
                  {editable ? (
                    <button type="button" data-testid={`edit-${product.sku}`} onClick={() => setEditing(product)}>
                      Edit
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      {editing ? (
        <ProductEditor
          product={editing === "new" ? null : editing}
          canArchive={props.role === "admin"}
          onDone={() => {
            setEditing(null);
            list.reload();
          }}
        />
      ) : null}
      {stockOf ? <StockEntries product={stockOf} editable={editable} onChanged={list.reload} /> : null}
    </div>
  );
}

function ProductEditor(props: { product: Product | null; canArchive: boolean; onDone: () => void }) {
  const [form, setForm] = useState<ProductForm>(props.product ? formOf(props.product) : EMPTY);
  const save = useAction();
  const field = (name: keyof ProductForm, label: string, extra: Record<string, string> = {}) => (
    <label>
      {label}
      <input
        data-testid={`field-${name}`}
        value={form[name]}
        onInput={(e) => {
          const value = e.currentTarget.value;
          setForm((current) => ({ ...current, [name]: value }));
        }}
        {...extra}
      />
    </label>
  );
  const submit = () =>
    save.run(async () => {
      const common = {
        sku: form.sku.trim(),
        name: form.name.trim(),
        desc: form.desc,
        unitPrice: decimal("Price", form.unitPrice),
        costPrice: decimal("Cost", form.costPrice),
        taxRate: decimal("Tax rate", form.taxRate),
        discount: decimal("Discount", form.discount),
        barcode: form.barcode.trim() || undefined,
        category: form.category.trim(),
      };
      const stockLevel = BigInt(Math.floor(Number(form.stockLevel) || 0));
      if (props.product) {
        await catalog.updateProduct({ id: props.product.id, ...common });
      } else {
        await catalog.createProduct({ ...common, stockLevel });
      }
      props.onDone();
      return "Saved";
    });
  return (
    <Card title={props.product ? `Edit ${props.product.name}` : "New product"} testId="product-editor">
      <form
        class="stack"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        {field("sku", "SKU", { required: "" })}
        {field("name", "Name", { required: "" })}
        {field("desc", "Description")}
        {field("unitPrice", "Unit price", { inputMode: "decimal", required: "" })}
        {field("costPrice", "Cost price", { inputMode: "decimal" })}
        {field("taxRate", "Tax rate %", { inputMode: "decimal" })}
        {field("discount", "Discount %", { inputMode: "decimal" })}
        {field("barcode", "Barcode")}
        {field("category", "Category")}
        {props.product ? null : field("stockLevel", "Opening stock", { type: "number", min: "0" })}
        <Notice error={save.error} success={save.success} />
        <div class="row">
          <button type="submit" class="primary" data-testid="product-save" disabled={save.busy}>
            Save
          </button>
          <button type="button" onClick={props.onDone}>
            Cancel
          </button>
          {props.product && props.canArchive ? (
            <button
              type="button"
              class="danger"
              data-testid="product-archive"
              onClick={() =>
                void save.run(async () => {
                  if (!props.product || !window.confirm(`Archive ${props.product.name}?`)) return;
                  await catalog.deleteProduct({ id: props.product.id });
                  props.onDone();
                })
              }
            >
              Archive
            </button>
          ) : null}
        </div>
      </form>
    </Card>
  );
}

const ENTRY_TYPES: [StockEntryType, string][] = [
  [StockEntryType.IN, "IN (received)"],
  [StockEntryType.OUT, "OUT (taken out)"],
  [StockEntryType.ADJUST, "ADJUST (signed correction)"],
];

function StockEntries(props: { product: Product; editable: boolean; onChanged: () => void }) {
  const entries = useLoad(
    async () => (await catalog.listStockEntries({ productId: props.product.id, page: { limit: 50n } })).entries,
    [props.product.id],
  );
  const [type, setType] = useState(StockEntryType.IN);
  const [qty, setQty] = useState("");
  const [ref, setRef] = useState("");
  const add = useAction();
  return (
    <Card title={`Stock of ${props.product.name}`} testId="stock-entries">
      {props.editable ? (
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void add.run(async () => {
              const quantity = Math.trunc(Number(qty));
              if (!Number.isFinite(quantity) || quantity === 0) throw new Error("Quantity: a whole number, not zero.");
              await catalog.createStockEntry({
                productId: props.product.id,
                qty: BigInt(quantity),
                type,
                ref,
                idempotencyKey: newIdempotencyKey(),
              });
              setQty("");
              setRef("");
              entries.reload();
              props.onChanged();
              return "Stock entry recorded";
            });
          }}
        >
          <select value={String(type)} onChange={(e) => setType(Number(e.currentTarget.value) as StockEntryType)}>
            {ENTRY_TYPES.map(([value, label]) => (
              <option key={value} value={String(value)}>
                {label}
              </option>
            ))}
          </select>
          <input class="qty" type="number" placeholder="Qty" value={qty} onInput={(e) => setQty(e.currentTarget.value)} />
          <input placeholder="Reference" value={ref} onInput={(e) => setRef(e.currentTarget.value)} />
          <button type="submit" disabled={add.busy}>
            Add entry
          </button>
        </form>
      ) : null}
      <Notice error={add.error ?? entries.error} success={add.success} />
      <table class="list">
        <thead>
          <tr>
            <th>When</th>
            <th>Type</th>
            <th class="num">Qty</th>
            <th>Ref</th>
          </tr>
        </thead>
        <tbody>
          {(entries.data ?? []).map((entry) => (
            <tr key={entry.id}>
              <td>{dateTime(entry.createdAt)}</td>
              <td>{StockEntryType[entry.type]}</td>
              <td class="num">{String(entry.qty)}</td>
              <td>{entry.ref}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
