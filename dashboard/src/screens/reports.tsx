// Daily report (admin and cashier) and sales report by day/product/cashier/salesman
// (admin), each with a chart.

import { useState } from "preact/hooks";
import { SalesReportGroupBy } from "../gen/regal/sales/v1/sales_pb";
import { sales } from "../api";
import { BarChart } from "../chart";
import { parseCents } from "../money";
import type { RoleName } from "../routes";
import { Card, isoDate, money, Notice, Stat, useLoad } from "../ui";
import { methodName } from "./receipt";

function units(text: string | undefined): number {
  return (parseCents(text ?? "0") ?? 0) / 100;
}

export function Reports(props: { role: RoleName }) {
  const [date, setDate] = useState(isoDate(new Date()));
  const daily = useLoad(async () => (await sales.getDailyReport({ date })).report ?? null, [date]);
  const report = daily.data;
  return (
    <div class="grid">
      <Card title="Daily report" testId="daily-report">
        <label class="row">
          Date
          <input type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
        </label>
        <Notice error={daily.error} />
        {report ? (
          <>
            <div class="stats">
              <Stat label="Invoices" value={String(report.invoicesCount)} />
              <Stat label="Gross sales" value={money(report.grossSales)} />
              <Stat label="Taxes" value={money(report.taxes)} />
              <Stat label="Discounts" value={money(report.discounts)} />
              <Stat label="Refunds" value={money(report.refunds)} />
              <Stat label="Net sales" value={money(report.netSales)} testId="daily-net" />
              <Stat label="Expenses" value={money(report.expenses)} />
            </div>
            <h3>By payment method</h3>
            <table class="list">
              <tbody>
                {report.paymentsByMethod.map((payment) => (
                  <tr key={payment.method}>
                    <td>{methodName(payment.method)}</td>
                    <td class="num">{money(payment.amount)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h3>By cashier</h3>
            <BarChart
              label="Net sales"
              labels={report.byCashier.map((row) => row.cashier)}
              values={report.byCashier.map((row) => units(row.netSales?.value))}
            />
          </>
        ) : null}
      </Card>
      {props.role === "admin" ? <SalesReport /> : null}
    </div>
  );
}

const GROUPS: [SalesReportGroupBy, string][] = [
  [SalesReportGroupBy.DAY, "day"],
  [SalesReportGroupBy.PRODUCT, "product"],
  [SalesReportGroupBy.CASHIER, "cashier"],
  [SalesReportGroupBy.SALESMAN, "salesman"],
];

function SalesReport() {
  const today = new Date();
  const weekAgo = new Date(today.getTime() - 6 * 86_400_000);
  const [from, setFrom] = useState(isoDate(weekAgo));
  const [to, setTo] = useState(isoDate(today));
  const [groupBy, setGroupBy] = useState(SalesReportGroupBy.DAY);
  const result = useLoad(async () => sales.getSalesReport({ from, to, groupBy }), [from, to, groupBy]);
  const rows = result.data?.rows ?? [];
  const totals = result.data?.totals;
  return (
    <Card title="Sales report" testId="sales-report">
      <div class="row">
        <label>
          From <input type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
        <label>
          By
          <select value={String(groupBy)} onChange={(e) => setGroupBy(Number(e.currentTarget.value) as SalesReportGroupBy)}>
            {GROUPS.map(([value, label]) => (
              <option key={value} value={String(value)}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Notice error={result.error} />
      <BarChart label="Net sales" labels={rows.map((row) => row.label || row.key)} values={rows.map((row) => units(row.netSales?.value))} />
      <table class="list">
        <thead>
          <tr>
            <th>{GROUPS.find(([value]) => value === groupBy)?.[1]}</th>
            <th class="num">Invoices</th>
            <th class="num">Qty</th>
            <th class="num">Gross</th>
            <th class="num">Refunds</th>
            <th class="num">Net</th>
            <th class="num">Margin</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <td>{row.label || row.key}</td>
              <td class="num">{String(row.invoicesCount)}</td>
              <td class="num">{String(row.quantity)}</td>
              <td class="num">{money(row.grossSales)}</td>
              <td class="num">{money(row.refunds)}</td>
              <td class="num">{money(row.netSales)}</td>
              <td class="num">{money(row.grossMargin)}</td>
            </tr>
          ))}
          {totals ? (
            <tr class="total">
              <td>Total</td>
              <td class="num">{String(totals.invoicesCount)}</td>
              <td class="num">{String(totals.quantity)}</td>
              <td class="num">{money(totals.grossSales)}</td>
              <td class="num">{money(totals.refunds)}</td>
              <td class="num">{money(totals.netSales)}</td>
              <td class="num">{money(totals.grossMargin)}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </Card>
  );
}
