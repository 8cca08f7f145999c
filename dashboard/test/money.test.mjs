// The counter's preview of the total must be the server's total to the cent: these are
// the cases of services/sales/src/domain/pricing.rs, run against src/money.ts.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const directory = mkdtempSync(path.join(os.tmpdir(), "regal-money-"));
after(() => rmSync(directory, { recursive: true, force: true }));
const outfile = path.join(directory, "money.mjs");
await build({ entryPoints: ["src/money.ts"], outfile, format: "esm", bundle: true, logLevel: "silent" });
const { formatCents, parseCents, parseRate, previewTotals } = await import(pathToFileURL(outfile).href);

const line = (quantity, price, tax, discount) => ({
  quantity,
  unitPriceCents: parseCents(price),
  taxRate: parseRate(tax),
  discountRate: parseRate(discount),
});
const totals = (lines, discount) => {
  const result = previewTotals(lines, parseCents(discount));
  return result && [result.subtotal, result.discount, result.tax, result.total].map(formatCents);
};

test("the preview totals follow the server's pricing to the cent", () => {
  const cases = [
    ["tax rounded half away from zero", [line(3, "4.20", "16", "0")], "0", ["12.60", "0.00", "2.02", "14.62"]],
    ["an exact half cent of tax rounds up", [line(1, "0.25", "10", "0")], "0", ["0.25", "0.00", "0.03", "0.28"]],
    ["a product discount rate is rounded to the cent", [line(3, "3.33", "0", "15")], "0", ["9.99", "1.50", "0.00", "8.49"]],
    [
      "the invoice discount's leftover cent goes to the largest line",
      [line(1, "10.00", "0", "0"), line(1, "10.00", "0", "0"), line(1, "10.00", "0", "0")],
      "1.00",
      ["30.00", "1.00", "0.00", "29.00"],
    ],
    [
      "the invoice discount is spread in proportion to the lines",
      [line(1, "1.00", "16", "0"), line(2, "3.50", "16", "0"), line(1, "2.00", "8", "50")],
      "0.05",
      ["10.00", "1.05", "1.35", "10.30"],
    ],
    [
      "the whole remaining amount can be discounted",
      [line(2, "5.00", "16", "10"), line(1, "1.00", "16", "0")],
      "10.00",
      ["11.00", "11.00", "0.00", "0.00"],
    ],
    ["the e2e sale", [line(2, "4.20", "16", "0"), line(1, "12.50", "0", "0")], "0", ["20.90", "0.00", "1.34", "22.24"]],
  ];
  for (const [name, lines, discount, expected] of cases) {
    assert.deepEqual(totals(lines, discount), expected, name);
  }
});

test("a discount larger than what is left has no preview (the server refuses it)", () => {
  assert.equal(totals([line(1, "5.00", "0", "0")], "5.01"), null);
});

test("money is parsed exactly or not at all", () => {
  assert.equal(parseCents("12.5"), 1250);
  assert.equal(parseCents("0.07"), 7);
  assert.equal(parseCents("-3.00"), -300);
  assert.equal(parseCents(" 30 "), 3000);
  for (const bad of ["", "1.234", "1e3", "NaN", "1,000.00", "12.5.0", "abc"]) {
    assert.equal(parseCents(bad), null, bad);
  }
  assert.equal(formatCents(5), "0.05");
  assert.equal(formatCents(-5), "-0.05");
  assert.equal(formatCents(2224), "22.24");
});
