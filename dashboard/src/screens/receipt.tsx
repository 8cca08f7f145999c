// A receipt as the server computed it; the print stylesheet prints only this.

import type { Invoice } from "../gen/regal/sales/v1/sales_pb";
import { PaymentMethod } from "../gen/regal/sales/v1/sales_pb";
import { dateTime, money } from "../ui";

export function methodName(method: PaymentMethod): string {
  switch (method) {
    case PaymentMethod.CASH:
      return "cash";
    case PaymentMethod.CARD:
      return "card";
    case PaymentMethod.OTHER:
      return "other";
    default:
      return "—";
  }
}

export function Receipt(props: { invoice: Invoice; duplicate: boolean }) {
  const { invoice } = props;
  return (
    <div class="receipt print-only-target" data-testid="receipt">
      {props.duplicate ? <p class="duplicate">DUPLICATE (reprint {String(invoice.reprintCount)})</p> : null}
      <p>
        <strong data-testid="receipt-no">{invoice.invoiceNo}</strong>
        <br />
        {dateTime(invoice.createdAt)}
      </p>
      <table>
        <tbody>
          {invoice.items.map((item) => (
            <tr key={item.productId}>
              <td>
                {String(item.quantity)} × {item.name}
              </td>
              <td class="num">{money(item.lineTotal)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <dl class="totals">
        <dt>Subtotal</dt>
        <dd>{money(invoice.totals?.subtotal)}</dd>
        <dt>Discount</dt>
        <dd>{money(invoice.totals?.discount)}</dd>
        <dt>Tax</dt>
        <dd>{money(invoice.totals?.tax)}</dd>
        <dt class="total">Total</dt>
        <dd class="total" data-testid="receipt-total">
          {money(invoice.totals?.total)}
        </dd>
        {invoice.payments.map((payment, index) => (
          <>
            <dt key={`m${index}`}>Paid {methodName(payment.method)}</dt>
            <dd key={`a${index}`}>{money(payment.amount)}</dd>
          </>
        ))}
        <dt>Change due</dt>
        <dd data-testid="receipt-change">{money(invoice.changeDue)}</dd>
      </dl>
    </div>
  );
}
