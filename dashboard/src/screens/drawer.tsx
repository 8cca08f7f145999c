// The cash drawer (open, pay-in, pay-out, close) and the shift report: X while the shift is
// open, Z once it is closed. Expected cash and variance are the server's.

import { useState } from "preact/hooks";
import type { ShiftReport } from "../gen/regal/sales/v1/sales_pb";
import { newIdempotencyKey, sales } from "../api";
import { parseCents, formatCents } from "../money";
import type { RoleName } from "../routes";
import { Card, dateTime, money, Notice, useAction, useLoad } from "../ui";
import { methodName } from "./receipt";

function amountOf(text: string): { value: string } {
  const cents = parseCents(text);
  if (cents === null) throw new Error("Amounts are money with at most two decimals, e.g. 12.50.");
  return { value: formatCents(cents) };
}

export function Drawer(_props: { role: RoleName }) {
  const report = useLoad(async () => (await sales.getShiftReport({})).report ?? null, []);
  const action = useAction();
  const [openAmount, setOpenAmount] = useState("");
  const [moveAmount, setMoveAmount] = useState("");
  const [reason, setReason] = useState("");
  // One key per pay-in/out: a retry after a lost answer returns the first movement.
  const [moveKey, setMoveKey] = useState(newIdempotencyKey());
  const [counted, setCounted] = useState("");
  const [closed, setClosed] = useState<{ expected: string; actual: string; variance: string } | null>(null);

  const shift = report.data;
  const isOpen = !!shift && !shift.closedAt;
  // The drawer closes first (counted cash); the shift stays open until its Z report.
  const drawerOpen = isOpen && !shift.countedCash;

  const run = (work: () => Promise<string>) =>
    action.run(async () => {
      const message = await work();
      report.reload();
      return message;
    });

  return (
    <div class="grid">
      <Card title="Cash drawer" testId="drawer">
        <Notice error={action.error} success={action.success} />
        {isOpen && !drawerOpen ? (
          <div class="stack">
            <p>The drawer is counted. Close the shift to print its Z report.</p>
            <button
              type="button"
              class="primary"
              data-testid="close-shift"
              disabled={action.busy}
              onClick={() =>
                void run(async () => {
                  await sales.closeShift({});
                  return "Shift closed: Z report below";
                })
              }
            >
              Close shift (Z report)
            </button>
          </div>
        ) : !isOpen ? (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void run(async () => {
                const response = await sales.openCashDrawer({ amount: amountOf(openAmount) });
                setClosed(null);
                return `${response.message}: float ${money(response.amount)}`;
              });
            }}
          >
            <label>
              Opening float
              <input data-testid="open-amount" inputMode="decimal" value={openAmount} onInput={(e) => setOpenAmount(e.currentTarget.value)} required />
            </label>
            <button type="submit" class="primary" data-testid="open-drawer" disabled={action.busy}>
              Open drawer
            </button>
          </form>
        ) : (
          <>
            <form class="stack" onSubmit={(event) => event.preventDefault()}>
              <label>
                Amount
                <input data-testid="move-amount" inputMode="decimal" value={moveAmount} onInput={(e) => setMoveAmount(e.currentTarget.value)} />
              </label>
              <label>
                Reason
                <input data-testid="move-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
              </label>
              <div class="row">
                <button
                  type="button"
                  data-testid="pay-in"
                  disabled={action.busy}
                  onClick={() =>
                    void run(async () => {
                      const response = await sales.payIn({ amount: amountOf(moveAmount), reason, idempotencyKey: moveKey });
                      setMoveAmount("");
                      setReason("");
                      setMoveKey(newIdempotencyKey());
                      return `Paid in ${money(response.amount)}`;
                    })
                  }
                >
                  Pay in
                </button>
                <button
                  type="button"
                  data-testid="pay-out"
                  disabled={action.busy}
                  onClick={() =>
                    void run(async () => {
                      const response = await sales.payOut({ amount: amountOf(moveAmount), reason, idempotencyKey: moveKey });
                      setMoveAmount("");
                      setReason("");
                      setMoveKey(newIdempotencyKey());
                      return `Paid out ${money(response.amount)}`;
                    })
                  }
                >
                  Pay out
                </button>
              </div>
            </form>
            <form
              class="stack"
              onSubmit={(event) => {
                event.preventDefault();
                void run(async () => {
                  const response = await sales.closeCashDrawer({ actualAmount: amountOf(counted) });
                  setClosed({
                    expected: money(response.expectedAmount),
                    actual: money(response.actualAmount),
                    variance: money(response.variance),
                  });
                  setCounted("");
                  return response.message;
                });
              }}
            >
              <label>
                Counted cash
                <input data-testid="counted" inputMode="decimal" value={counted} onInput={(e) => setCounted(e.currentTarget.value)} required />
              </label>
              <button type="submit" class="primary" data-testid="close-drawer" disabled={action.busy}>
                Close drawer
              </button>
            </form>
          </>
        )}
        {closed ? (
          <dl class="totals" data-testid="close-result">
            <dt>Expected</dt>
            <dd data-testid="close-expected">{closed.expected}</dd>
            <dt>Counted</dt>
            <dd>{closed.actual}</dd>
            <dt>Variance</dt>
            <dd data-testid="close-variance">{closed.variance}</dd>
          </dl>
        ) : null}
      </Card>
      <Card title={shift ? (isOpen ? "Shift report (X)" : "Shift report (Z)") : "Shift report"} testId="shift-report">
        <Notice error={report.error && !report.error.includes("no shift") ? report.error : null} />
        {shift ? <ShiftTable report={shift} /> : <p class="muted">No shift yet: open the drawer to start one.</p>}
      </Card>
    </div>
  );
}

function ShiftTable(props: { report: ShiftReport }) {
  const report = props.report;
  return (
    <dl class="totals">
      <dt>Cashier</dt>
      <dd>{report.cashier}</dd>
      <dt>Opened</dt>
      <dd>{dateTime(report.openedAt)}</dd>
      <dt>Closed</dt>
      <dd>{report.closedAt ? dateTime(report.closedAt) : "open"}</dd>
      <dt>Opening float</dt>
      <dd>{money(report.openingFloat)}</dd>
      <dt>Invoices</dt>
      <dd>{String(report.invoicesCount)}</dd>
      <dt>Gross sales</dt>
      <dd>{money(report.grossSales)}</dd>
      <dt>Taxes</dt>
      <dd>{money(report.taxes)}</dd>
      <dt>Discounts</dt>
      <dd>{money(report.discounts)}</dd>
      <dt>Refunds</dt>
      <dd>{money(report.refunds)}</dd>
      <dt>Net sales</dt>
      <dd>{money(report.netSales)}</dd>
      {report.paymentsByMethod.map((payment) => (
        <>
          <dt>Paid {methodName(payment.method)}</dt>
          <dd>{money(payment.amount)}</dd>
        </>
      ))}
      <dt>Pay-ins / pay-outs</dt>
      <dd>
        {money(report.payIns)} / {money(report.payOuts)}
      </dd>
      <dt class="total">Expected cash</dt>
      <dd class="total" data-testid="expected-cash">
        {money(report.expectedCash)}
      </dd>
      <dt>Counted cash</dt>
      <dd>{money(report.countedCash)}</dd>
      <dt>Variance</dt>
      <dd>{money(report.variance)}</dd>
    </dl>
  );
}
