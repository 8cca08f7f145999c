// Money in the UI: the server's two-decimal strings are shown as they come; the only
// arithmetic the UI does (the counter's preview of the total and the change due) is in
// integer cents, never in floating point, following the server's pricing rules
// (services/sales/src/domain/pricing.rs).

/** Parses "12.50", "12.5", "12" or "-3.00" into integer cents; null when not plain money. */
export function parseCents(text: string): number | null {
  const match = /^(-)?(\d{1,10})(?:\.(\d{0,2}))?$/.exec(text.trim());
  if (!match) return null;
  const units = Number(match[2]);
  const fraction = Number((match[3] ?? "").padEnd(2, "0"));
  const cents = units * 100 + fraction;
  return match[1] ? -cents : cents;
}

/** 1250 → "12.50", -5 → "-0.05". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const magnitude = Math.abs(cents);
  const units = Math.floor(magnitude / 100);
  const fraction = String(magnitude % 100).padStart(2, "0");
  return `${sign}${units}.${fraction}`;
}

/** A percentage rate "16.00" in hundredths of a percent (1600). */
export function parseRate(text: string): number {
  return parseCents(text) ?? 0;
}

/** numerator / denominator rounded half away from zero (numerator ≥ 0, denominator > 0). */
function divideRounded(numerator: number, denominator: number): number {
  return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

export interface PreviewLine {
  quantity: number;
  unitPriceCents: number;
  /** The product's discount rate, in hundredths of a percent. */
  discountRate: number;
  /** The product's tax rate, in hundredths of a percent. */
  taxRate: number;
}

export interface PreviewTotals {
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
}

/**
 * The totals the server will compute for these lines and an invoice-level discount (an
 * amount): per line gross, the product's own discount rounded half away from zero, the
 * invoice discount spread in proportion to what is left (cents left by rounding go to the
 * largest lines), tax per line rounded half away from zero. Null when the discount is
 * larger than what it could apply to.
 */
export function previewTotals(lines: PreviewLine[], invoiceDiscount: number): PreviewTotals | null {
  const gross = lines.map((line) => line.quantity * line.unitPriceCents);
  const own = lines.map((line, index) => divideRounded(gross[index]! * line.discountRate, 10000));
  const afterOwn = gross.map((value, index) => value - own[index]!);
  const left = afterOwn.reduce((sum, value) => sum + value, 0);
  if (invoiceDiscount < 0 || invoiceDiscount > left) return null;
  const shares = afterOwn.map((weight) =>
    left === 0 ? 0 : Math.floor((invoiceDiscount * weight) / left),
  );
  let leftCents = invoiceDiscount - shares.reduce((sum, value) => sum + value, 0);
  const order = afterOwn
    .map((weight, index) => ({ weight, index }))
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  while (leftCents > 0 && order.some(({ index }) => shares[index]! + 1 <= afterOwn[index]!)) {
    for (const { index } of order) {
      if (leftCents <= 0) break;
      if (shares[index]! + 1 <= afterOwn[index]!) {
        shares[index]! += 1;
        leftCents -= 1;
      }
    }
  }
  const totals: PreviewTotals = { subtotal: 0, discount: 0, tax: 0, total: 0 };
  lines.forEach((line, index) => {
    const discount = own[index]! + shares[index]!;
    const net = gross[index]! - discount;
    const tax = divideRounded(net * line.taxRate, 10000);
    totals.subtotal += gross[index]!;
    totals.discount += discount;
    totals.tax += tax;
    totals.total += net + tax;
  });
  return totals;
}
