// Refunds against an invoice: pick the invoice, the units to give back, the reason and how
// the money goes back. The amount is the server's (what was paid for those units).

import { useState } from "preact/hooks";
import { type Invoice, InvoiceStatus, PaymentMethod, type Refund } from "../gen/regal/sales/v1/sales_pb";
import { newIdempotencyKey, sales } from "../api";
import { Card, dateTime, money, Notice, useAction, useLoad } from "../ui";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function statusName(status: InvoiceStatus): string {
  return (InvoiceStatus[status] ?? "UNSPECIFIED").toLowerCase();
}

export function Refunds() {
  const recent = useLoad(async () => (await sales.listInvoices({ page: { limit: 20n } })).invoices, []);
  const refunds = useLoad(async () => (await sales.listRefunds({ page: { limit: 20n } })).refunds, []);
  const [lookup, setLookup] = useState("");
  const [invoice, setInvoice] = useState<Invoice | null>(null);
  const [quantities, setQuantities] = useState<Record<string, string>>({});
  const [reason, setReason] = useState("");
  const [method, setMethod] = useState(PaymentMethod.CASH);
  const [key, setKey] = useState(newIdempotencyKey());
  const [done, setDone] = useState<Refund | null>(null);
  const find = useAction();
  const refund = useAction();

  const choose = (chosen: Invoice) => {
    setInvoice(chosen);
    setQuantities({});
    setDone(null);
    setKey(newIdempotencyKey());
  };

  const doFind = () =>
    find.run(async () => {
      const text = lookup.trim();
      if (UUID.test(text)) {
        const response = await sales.getInvoice({ id: text });
        if (response.invoice) choose(response.invoice);
        return;
      }
      // Invoice numbers: look through the most recent invoices.
      const response = await sales.listInvoices({ page: { limit: 200n } });
      const match = response.invoices.find((candidate) => candidate.invoiceNo.toLowerCase() === text.toLowerCase());
      if (!match) throw new Error(`No recent invoice numbered "${text}"`);
      choose(match);
    });

  const doRefund = () =>
    refund.run(async () => {
      if (!invoice) return;
      const items = Object.entries(quantities)
        .map(([productId, text]) => ({ productId, quantity: BigInt(Math.floor(Number(text) || 0)) }))
        .filter((item) => item.quantity > 0n);
      if (items.length === 0) throw new Error("Choose at least one unit to refund.");
      const response = await sales.createRefund({ invoiceId: invoice.id, items, reason, method, idempotencyKey: key });
      if (!response.refund) throw new Error("The server sent no refund.");
      setDone(response.refund);
      setKey(newIdempotencyKey());
      setQuantities({});
      const updated = await sales.getInvoice({ id: invoice.id });
      if (updated.invoice) setInvoice(updated.invoice);
      refunds.reload();
      recent.reload();
      return `Refunded ${money(response.refund.amount)} on ${invoice.invoiceNo}`;
    });

  return (
    <div class="grid">
      <Card title="Refund against an invoice" testId="refund">
        <form
          class="row"
          onSubmit={(event) => {
            event.preventDefault();
            void doFind();
          }}
        >
          <input data-testid="refund-lookup" placeholder="Invoice number or id" value={lookup} onInput={(e) => setLookup(e.currentTarget.value)} />
          <button type="submit">Find</button>
        </form>
        <Notice error={find.error} />
        {invoice ? (
          <div class="stack">
            <p>
              <strong data-testid="refund-invoice">{invoice.invoiceNo}</strong> · {statusName(invoice.status)} · total{" "}
              {money(invoice.totals?.total)}
            </p>
            <table class="list">
              <thead>
                <tr>
                  <th>Item</th>
                  <th class="num">Sold</th>
                  <th class="num">Refund</th>
                </tr>
              </thead>
              <tbody>
                {invoice.items.map((item) => (
                  <tr key={item.productId}>
                    <td>{item.name}</td>
                    <td class="num">{String(item.quantity)}</td>
                    <td class="num">
                      <input
                        class="qty"
                        type="number"
                        min="0"
                        max={String(item.quantity)}
                        data-testid={`refund-qty-${item.sku}`}
                        value={quantities[item.productId] ?? ""}
                        onInput={(e) => {
                          const value = e.currentTarget.value;
                          setQuantities((all) => ({ ...all, [item.productId]: value }));
                        }}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <label>
              Reason
              <input data-testid="refund-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
            </label>
            <label>
              Money back as
              <select value={String(method)} onChange={(e) => setMethod(Number(e.currentTarget.value) as PaymentMethod)}>
                <option value={String(PaymentMethod.CASH)}>cash</option>
                <option value={String(PaymentMethod.CARD)}>card</option>
                <option value={String(PaymentMethod.OTHER)}>other</option>
              </select>
            </label>
            <button type="button" class="primary" data-testid="refund-submit" disabled={refund.busy} onClick={() => void doRefund()}>
              Refund
            </button>
            <Notice error={refund.error} success={refund.success} />
            {done ? (
              <p data-testid="refund-amount">
                Refund amount: <strong>{money(done.amount)}</strong>
              </p>
            ) : null}
          </div>
        ) : null}
      </Card>
      <Card title="Recent invoices">
        <Notice error={recent.error} />
        <table class="list">
          <tbody>
            {(recent.data ?? []).map((candidate) => (
              <tr key={candidate.id}>
                <td>
                  <a
                    href="#"
                    onClick={(event) => {
                      event.preventDefault();
                      choose(candidate);
                    }}
                  >
                    {candidate.invoiceNo}
                  </a>
                </td>
                <td>{dateTime(candidate.createdAt)}</td>
                <td>{statusName(candidate.status)}</td>
                <td class="num">{money(candidate.totals?.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Recent refunds">
        <Notice error={refunds.error} />
        <table class="list">
          <tbody>
            {(refunds.data ?? []).map((item) => (
              <tr key={item.id}>
                <td>{dateTime(item.createdAt)}</td>
                <td>{item.reason}</td>
                <td class="num">{money(item.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  );
}
