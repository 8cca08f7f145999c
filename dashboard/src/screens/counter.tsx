// The counter: find or scan a product, build the cart, take payments, sell (with an
// idempotency key, so a retried sale never sells twice), show and print the receipt,
// reprint a duplicate.

import { useState } from "preact/hooks";
import type { Product } from "../gen/regal/catalog/v1/catalog_pb";
import { type Invoice, PaymentMethod } from "../gen/regal/sales/v1/sales_pb";
import { catalog, newIdempotencyKey, sales } from "../api";
import { formatCents, parseCents, parseRate, previewTotals } from "../money";
import { Card, Notice, useAction } from "../ui";
import { Receipt } from "./receipt";

interface CartLine {
  product: Product;
  quantity: number;
}

export function Counter() {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<Product[]>([]);
  const [cart, setCart] = useState<CartLine[]>([]);
  const [discount, setDiscount] = useState("");
  const [cash, setCash] = useState("");
  const [card, setCard] = useState("");
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [duplicate, setDuplicate] = useState(false);
  // One key per sale attempt: kept across retries of the same cart, renewed after a sale.
  const [saleKey, setSaleKey] = useState(newIdempotencyKey());
  const search = useAction();
  const sell = useAction();

  const add = (product: Product) => {
    setInvoice(null);
    setCart((lines) => {
      const existing = lines.find((line) => line.product.id === product.id);
      if (existing) {
        return lines.map((line) =>
          line.product.id === product.id ? { ...line, quantity: line.quantity + 1 } : line,
        );
      }
      return [...lines, { product, quantity: 1 }];
    });
  };

  const find = () =>
    search.run(async () => {
      const text = query.trim();
      if (!text) return;
      // A scanner types the barcode and Enter: an exact barcode goes straight to the cart.
      const byBarcode = await catalog.listProducts({ barcode: text, page: { limit: 5n } });
      if (byBarcode.products.length === 1) {
        add(byBarcode.products[0]!);
        setFound([]);
        setQuery("");
        return `Added ${byBarcode.products[0]!.name}`;
      }
      const bySearch = await catalog.listProducts({ search: text, page: { limit: 20n } });
      setFound(bySearch.products);
      if (bySearch.products.length === 0) throw new Error(`No product matches "${text}"`);
    });

  const discountCents = discount.trim() === "" ? 0 : parseCents(discount);
  const cashCents = cash.trim() === "" ? 0 : parseCents(cash);
  const cardCents = card.trim() === "" ? 0 : parseCents(card);
  const preview =
    discountCents === null
      ? null
      : previewTotals(
          cart.map((line) => ({
            quantity: line.quantity,
            unitPriceCents: parseCents(line.product.unitPrice?.value ?? "0") ?? 0,
            discountRate: parseRate(line.product.discount?.value ?? "0"),
            taxRate: parseRate(line.product.taxRate?.value ?? "0"),
          })),
          discountCents,
        );
  const paid = (cashCents ?? 0) + (cardCents ?? 0);
  const changeDue = preview ? Math.max(0, paid - preview.total) : 0;
  const short = preview ? Math.max(0, preview.total - paid) : 0;

  const doSell = () =>
    sell.run(async () => {
      if (cart.length === 0) throw new Error("The cart is empty.");
      if (discountCents === null || cashCents === null || cardCents === null) {
        throw new Error("Amounts are money with at most two decimals, e.g. 12.50.");
      }
      const payments = [];
      if (cashCents > 0) payments.push({ method: PaymentMethod.CASH, amount: { value: formatCents(cashCents) } });
      if (cardCents > 0) payments.push({ method: PaymentMethod.CARD, amount: { value: formatCents(cardCents) } });
      const response = await sales.quickSell({
        items: cart.map((line) => ({ productId: line.product.id, quantity: BigInt(line.quantity) })),
        discount: discountCents > 0 ? { value: formatCents(discountCents) } : undefined,
        payments,
        idempotencyKey: saleKey,
      });
      if (!response.invoice) throw new Error("The server sent no invoice.");
      setInvoice(response.invoice);
      setDuplicate(false);
      setCart([]);
      setFound([]);
      setQuery("");
      setDiscount("");
      setCash("");
      setCard("");
      setSaleKey(newIdempotencyKey());
      return `Sold: invoice ${response.invoice.invoiceNo}`;
    });

  const reprint = () =>
    sell.run(async () => {
      if (!invoice) return;
      const response = await sales.getDuplicateBill({ invoiceId: invoice.id });
      if (!response.invoice) throw new Error("The server sent no invoice.");
      setInvoice(response.invoice);
      setDuplicate(true);
      return `Duplicate ${response.invoice.invoiceNo} (reprint ${response.invoice.reprintCount})`;
    });

  return (
    <div class="counter">
      <div class="counter-main no-print">
        <Card title="Find or scan a product">
          <form
            class="row"
            onSubmit={(event) => {
              event.preventDefault();
              void find();
            }}
          >
            <input
              data-testid="counter-search"
              placeholder="Barcode, SKU or name"
              value={query}
              autofocus
              onInput={(event) => setQuery(event.currentTarget.value)}
            />
            <button type="submit" disabled={search.busy}>
              Find
            </button>
          </form>
          <Notice error={search.error} success={search.success} />
          {found.length > 0 ? (
            <table class="list">
              <tbody>
                {found.map((product) => (
                  <tr key={product.id}>
                    <td>{product.sku}</td>
                    <td>{product.name}</td>
                    <td class="num">{product.unitPrice?.value}</td>
                    <td class="num">{String(product.stockLevel)} in stock</td>
                    <td>
                      <button
                        type="button"
                        data-testid={`add-${product.sku}`}
                        disabled={product.stockLevel <= 0n}
                        onClick={() => add(product)}
                      >
                        Add
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Card>
        <Card title="Cart" testId="cart">
          {cart.length === 0 ? <p class="muted">Empty.</p> : null}
          <table class="list">
            <tbody>
              {cart.map((line) => (
                <tr key={line.product.id}>
                  <td>{line.product.name}</td>
                  <td class="num">{line.product.unitPrice?.value}</td>
                  <td>
                    <input
                      class="qty"
                      type="number"
                      min="1"
                      data-testid={`qty-${line.product.sku}`}
                      value={line.quantity}
                      onInput={(event) => {
                        const quantity = Math.max(1, Math.floor(Number(event.currentTarget.value) || 1));
                        setCart((lines) =>
                          lines.map((other) =>
                            other.product.id === line.product.id ? { ...other, quantity } : other,
                          ),
                        );
                      }}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() => setCart((lines) => lines.filter((other) => other !== line))}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      </div>
      <div class="counter-side">
        <Card title="Payment" testId="payment">
          <div class="no-print">
            <label>
              Discount (amount)
              <input data-testid="discount" inputMode="decimal" value={discount} onInput={(e) => setDiscount(e.currentTarget.value)} />
            </label>
            <dl class="totals" data-testid="preview">
              <dt>Subtotal</dt>
              <dd>{preview ? formatCents(preview.subtotal) : "—"}</dd>
              <dt>Discount</dt>
              <dd>{preview ? formatCents(preview.discount) : "—"}</dd>
              <dt>Tax</dt>
              <dd>{preview ? formatCents(preview.tax) : "—"}</dd>
              <dt class="total">Total</dt>
              <dd class="total" data-testid="preview-total">
                {preview ? formatCents(preview.total) : "discount too large"}
              </dd>
            </dl>
            <label>
              Cash
              <input data-testid="cash" inputMode="decimal" value={cash} onInput={(e) => setCash(e.currentTarget.value)} />
            </label>
            <label>
              Card
              <input data-testid="card" inputMode="decimal" value={card} onInput={(e) => setCard(e.currentTarget.value)} />
            </label>
            <p class="change" data-testid="change-preview">
              {short > 0 ? `Still to pay: ${formatCents(short)}` : `Change due: ${formatCents(changeDue)}`}
            </p>
            <button
              type="button"
              class="primary big"
              data-testid="sell"
              disabled={sell.busy || cart.length === 0}
              onClick={() => void doSell()}
            >
              Sell
            </button>
            <Notice error={sell.error} success={sell.success} />
          </div>
        </Card>
        {invoice ? (
          <Card title="Receipt" testId="receipt-card">
            <Receipt invoice={invoice} duplicate={duplicate} />
            <div class="row no-print">
              <button type="button" data-testid="print" onClick={() => window.print()}>
                Print
              </button>
              <button type="button" data-testid="reprint" onClick={() => void reprint()}>
                Reprint duplicate
              </button>
            </div>
          </Card>
        ) : null}
      </div>
    </div>
  );
}
