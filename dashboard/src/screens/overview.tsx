// The admin overview: today's figures, low stock, recent activity, and charts of today's
// sales by hour and of the top products.

import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { audit, catalog, sales } from "../api";
import { BarChart } from "../chart";
import { parseCents } from "../money";
import { Card, dateTime, isoDate, money, Notice, Stat, useLoad } from "../ui";
import { statusName } from "./refunds";

async function loadOverview() {
  const startOfDay = new Date();
  startOfDay.setHours(0, 0, 0, 0);
  const [dashboard, daily, today, settings, events] = await Promise.all([
    sales.getAdminDashboard({}),
    sales.getDailyReport({ date: isoDate(startOfDay) }),
    sales.listInvoices({ from: timestampFromDate(startOfDay), page: { limit: 200n } }),
    sales.getSettings({}),
    audit.listAuditEvents({ limit: 10n }),
  ]);
  const threshold = settings.settings?.lowStockThreshold ?? 0n;
  const products = await catalog.listProducts({ page: { limit: 200n } });
  const lowStock = products.products
    .filter((product) => product.stockLevel <= threshold)
    .sort((a, b) => Number(a.stockLevel - b.stockLevel));
  // Sales by hour in integer cents (the chart shows units; no arithmetic on floats).
  const byHour = new Array<number>(24).fill(0);
  for (const invoice of today.invoices) {
    if (!invoice.createdAt) continue;
    const hour = timestampDate(invoice.createdAt).getHours();
    byHour[hour]! += parseCents(invoice.totals?.total?.value ?? "0") ?? 0;
  }
  return { dashboard, daily: daily.report, byHour, lowStock, threshold, events: events.events };
}

export function Overview() {
  const { data, error } = useLoad(loadOverview, []);
  if (error) return <Notice error={error} />;
  if (!data) return <p class="loading">Loading…</p>;
  const summary = data.dashboard.summary;
  const top = data.daily?.topProducts ?? [];
  const firstHour = Math.min(8, ...data.byHour.map((cents, hour) => (cents > 0 ? hour : 24)));
  const hours = Array.from({ length: 24 - firstHour }, (_, index) => firstHour + index);
  return (
    <div class="overview" data-testid="overview">
      <div class="stats">
        <Stat label="Sales today" value={money(summary?.salesToday)} testId="sales-today" />
        <Stat label="Invoices today" value={String(data.daily?.invoicesCount ?? 0n)} testId="invoices-today" />
        <Stat label="Invoices (all)" value={String(summary?.totalInvoices ?? 0n)} />
        <Stat label="Products" value={String(summary?.totalProducts ?? 0n)} />
        <Stat label="Low stock" value={String(summary?.lowStockProducts ?? 0n)} testId="low-stock-count" />
        <Stat label="Customers" value={String(summary?.totalCustomers ?? 0n)} />
      </div>
      <div class="grid">
        <Card title="Today's sales by hour">
          <BarChart
            label="Sales"
            labels={hours.map((hour) => `${String(hour).padStart(2, "0")}:00`)}
            values={hours.map((hour) => data.byHour[hour]! / 100)}
            testId="chart-hourly"
          />
        </Card>
        <Card title="Top products today">
          <BarChart
            label="Units sold"
            integer
            labels={top.map((product) => product.name)}
            values={top.map((product) => Number(product.quantity))}
            testId="chart-top"
          />
        </Card>
        <Card title={`Low stock (≤ ${String(data.threshold)})`} testId="low-stock">
          {data.lowStock.length === 0 ? <p class="muted">Nothing is low.</p> : null}
          <table class="list">
            <tbody>
              {data.lowStock.slice(0, 10).map((product) => (
                <tr key={product.id}>
                  <td>{product.sku}</td>
                  <td>{product.name}</td>
                  <td class="num">{String(product.stockLevel)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Recent invoices">
          <table class="list">
            <tbody>
              {(data.dashboard.recentActivity?.recentInvoices ?? []).map((invoice) => (
                <tr key={invoice.id}>
                  <td>{invoice.invoiceNo}</td>
                  <td>{dateTime(invoice.createdAt)}</td>
                  <td>{statusName(invoice.status)}</td>
                  <td class="num">{money(invoice.totals?.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Recent activity">
          <table class="list">
            <tbody>
              {data.events.map((event) => (
                <tr key={event.id}>
                  <td>{dateTime(event.occurredAt)}</td>
                  <td>
                    {event.entity} {event.action}
                  </td>
                  <td>{event.actorRole}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
      </div>
    </div>
  );
}
