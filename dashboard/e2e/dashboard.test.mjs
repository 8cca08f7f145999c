// The dashboard end to end, in a real browser against a real suite (scripts/e2e.mjs starts
// it on a fresh database). The steps share one shop's day, so they run in order: the
// admin sets up two products and a cashier; the cashier opens the drawer, sells two
// products with change due, checks the receipt and the stock, refunds one line and closes
// the drawer with the right expected cash; a cashier is refused the users screen.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, newPage, screenshot, signIn } from "./browser.mjs";

const ADMIN = { username: "admin", password: "admin123" };
const CASHIER = { username: "casey", password: "cashier-pass-1", fullName: "Casey Till" };
const TEA = { sku: "TEA-01", name: "Green tea", price: "4.20", tax: "16", barcode: "4006381333931", stock: "10" };
const BOOK = { sku: "NOTE-01", name: "Notebook", price: "12.50", tax: "0", barcode: "9780306406157", stock: "5" };

let browser;
let admin;
let cashier;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

function noProblems(session) {
  assert.deepEqual(session.problems, [], "the page logged errors");
}

async function createProduct(page, product) {
  await page.getByTestId("product-new").click();
  const editor = page.getByTestId("product-editor");
  await editor.getByTestId("field-sku").fill(product.sku);
  await editor.getByTestId("field-name").fill(product.name);
  await editor.getByTestId("field-unitPrice").fill(product.price);
  await editor.getByTestId("field-taxRate").fill(product.tax);
  await editor.getByTestId("field-barcode").fill(product.barcode);
  await editor.getByTestId("field-stockLevel").fill(product.stock);
  await editor.getByTestId("product-save").click();
  await page.getByTestId(`product-row-${product.sku}`).waitFor();
}

async function stockOf(page, sku) {
  await page.getByTestId("nav-products").click();
  await page.getByTestId("product-search").fill(sku);
  await page.getByRole("button", { name: "Search" }).click();
  const cell = page.getByTestId(`stock-${sku}`);
  await cell.waitFor();
  return (await cell.textContent())?.trim();
}

test("an admin signs in, sees the overview and sets up products and a cashier", async () => {
  admin = await newPage(browser);
  const { page } = admin;
  await signIn(page, ADMIN.username, ADMIN.password);
  await page.getByTestId("overview").waitFor();
  assert.match(await page.getByTestId("who").textContent(), /admin/);
  for (const screen of ["overview", "counter", "drawer", "refunds", "products", "reports", "users", "audit"]) {
    assert.equal(await page.getByTestId(`nav-${screen}`).count(), 1, `admin sees ${screen}`);
  }

  await page.getByTestId("nav-products").click();
  await createProduct(page, TEA);
  await createProduct(page, BOOK);
  assert.equal(await page.getByTestId(`stock-${TEA.sku}`).textContent(), TEA.stock);

  await page.getByTestId("nav-users").click();
  const form = page.locator("form", { has: page.getByRole("button", { name: "Create user" }) });
  await form.getByLabel("Full name").fill(CASHIER.fullName);
  await form.getByLabel("Email").fill("casey@example.com");
  await form.getByLabel("Username").fill(CASHIER.username);
  await form.getByLabel("Password (8+)").fill(CASHIER.password);
  await form.getByLabel("Role").selectOption({ label: "cashier" });
  await form.getByRole("button", { name: "Create user" }).click();
  await page.getByText(`Created ${CASHIER.username}`).waitFor();
  await page.getByRole("cell", { name: CASHIER.username, exact: true }).waitFor();
  await screenshot(page, "users");
  noProblems(admin);
});

test("a cashier signs in to the counter and is refused the users screen", async () => {
  cashier = await newPage(browser);
  const { page } = cashier;
  await signIn(page, CASHIER.username, CASHIER.password);
  await page.getByTestId("counter-search").waitFor();
  assert.match(page.url(), /\/dashboard\/counter$/);
  for (const hidden of ["overview", "users", "audit"]) {
    assert.equal(await page.getByTestId(`nav-${hidden}`).count(), 0, `a cashier does not see ${hidden}`);
  }
  await page.goto("/dashboard/users");
  await page.getByTestId("refused").waitFor();
  assert.match(await page.getByTestId("refused").textContent(), /not available to the cashier role/);
  await screenshot(page, "cashier-refused-users");
  noProblems(cashier);
});

test("the cashier opens the drawer with a float, a pay-in and a pay-out", async () => {
  const { page } = cashier;
  await page.getByTestId("nav-drawer").click();
  await page.getByTestId("open-amount").fill("100.00");
  await page.getByTestId("open-drawer").click();
  await page.getByTestId("move-amount").waitFor();
  await page.getByTestId("move-amount").fill("5.00");
  await page.getByTestId("move-reason").fill("change from the safe");
  await page.getByTestId("pay-in").click();
  await page.getByText("Paid in 5.00").waitFor();
  await page.getByTestId("move-amount").fill("2.00");
  await page.getByTestId("move-reason").fill("milk for the staff room");
  await page.getByTestId("pay-out").click();
  await page.getByText("Paid out 2.00").waitFor();
  await assertText(page.getByTestId("expected-cash"), "103.00");
});

async function assertText(locator, expected) {
  // Wait for the value (screens reload after an action), then compare exactly.
  await locator.filter({ hasText: expected }).waitFor({ timeout: 10_000 }).catch(() => {});
  assert.equal((await locator.textContent())?.trim(), expected);
}

let invoiceNo;

test("the cashier sells two products with change due and gets the receipt", async () => {
  const { page } = cashier;
  await page.getByTestId("nav-counter").click();
  const search = page.getByTestId("counter-search");
  // A scanner types the barcode and Enter, twice: two units of tea.
  for (const quantity of ["1", "2"]) {
    await search.fill(TEA.barcode);
    await search.press("Enter");
    await waitForValue(page.getByTestId(`qty-${TEA.sku}`), quantity);
  }
  await search.fill("Notebook");
  await search.press("Enter");
  await page.getByTestId(`add-${BOOK.sku}`).click();

  // 2 × 4.20 = 8.40, tax 16 % = 1.344 → 1.34; + 12.50 untaxed: 22.24.
  await assertText(page.getByTestId("preview-total"), "22.24");
  await page.getByTestId("cash").fill("30");
  await assertText(page.getByTestId("change-preview"), "Change due: 7.76");
  await screenshot(page, "counter");
  await page.getByTestId("sell").click();

  const receipt = page.getByTestId("receipt");
  await receipt.waitFor();
  await assertText(page.getByTestId("receipt-total"), "22.24");
  await assertText(page.getByTestId("receipt-change"), "7.76");
  invoiceNo = (await page.getByTestId("receipt-no").textContent())?.trim();
  assert.match(invoiceNo ?? "", /^INV-\d+$/);
  assert.match(await receipt.textContent(), /2 × Green tea/);
  assert.match(await receipt.textContent(), /1 × Notebook/);
  await screenshot(page, "counter-receipt");

  await page.getByTestId("reprint").click();
  await page.getByText("DUPLICATE (reprint 1)").waitFor();
  await assertText(page.getByTestId("receipt-total"), "22.24");
  noProblems(cashier);
});

async function waitForValue(locator, expected) {
  const deadline = Date.now() + 10_000;
  let value;
  while (Date.now() < deadline) {
    value = (await locator.count()) > 0 ? await locator.inputValue() : undefined;
    if (value === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(value, expected);
}

test("the stock went down by what was sold", async () => {
  const { page } = cashier;
  assert.equal(await stockOf(page, TEA.sku), "8");
  assert.equal(await stockOf(page, BOOK.sku), "4");
  await screenshot(page, "products");
});

test("the cashier refunds one unit of one line and it goes back to stock", async () => {
  const { page } = cashier;
  await page.getByTestId("nav-refunds").click();
  await page.getByTestId("refund-lookup").fill(invoiceNo);
  await page.getByRole("button", { name: "Find" }).click();
  await assertText(page.getByTestId("refund-invoice"), invoiceNo);
  await page.getByTestId(`refund-qty-${TEA.sku}`).fill("1");
  await page.getByTestId("refund-reason").fill("damaged box");
  await page.getByTestId("refund-submit").click();
  // What was paid for one of the two units: 4.20 + half of the line's 1.34 tax.
  await assertText(page.getByTestId("refund-amount"), "Refund amount: 4.87");
  await page.getByText("partially_refunded").first().waitFor();
  await screenshot(page, "refunds");
  assert.equal(await stockOf(page, TEA.sku), "9");
  noProblems(cashier);
});

test("the cashier closes the drawer with the right expected cash", async () => {
  const { page } = cashier;
  await page.getByTestId("nav-drawer").click();
  // 100.00 float + 22.24 kept from the sale (30.00 − 7.76 change) − 4.87 cash refund
  // + 5.00 pay-in − 2.00 pay-out.
  await assertText(page.getByTestId("expected-cash"), "120.37");
  await page.getByTestId("counted").fill("120.37");
  await page.getByTestId("close-drawer").click();
  await assertText(page.getByTestId("close-expected"), "120.37");
  await assertText(page.getByTestId("close-variance"), "0.00");
  await page.getByTestId("close-shift").click();
  await page.getByText("Shift report (Z)").waitFor();
  await screenshot(page, "drawer");
  noProblems(cashier);
});

test("the admin overview, reports and audit log show the day", async () => {
  const { page } = admin;
  await page.getByTestId("nav-overview").click();
  await page.reload();
  await page.getByTestId("overview").waitFor();
  assert.notEqual((await page.getByTestId("sales-today").textContent())?.trim(), "0.00");
  await page.getByTestId("chart-hourly").locator("canvas").waitFor();
  await screenshot(page, "overview");

  await page.getByTestId("nav-reports").click();
  await page.getByTestId("daily-net").waitFor();
  await screenshot(page, "reports");

  await page.getByTestId("nav-audit").click();
  await page.getByTestId("verify-chain").click();
  await page.getByTestId("chain-result").waitFor();
  assert.match(await page.getByTestId("chain-result").textContent(), /^Chain intact/);
  await screenshot(page, "audit");
  noProblems(admin);
});

test("signing out ends the session: a reload shows the sign-in screen", async () => {
  const { page } = cashier;
  await page.getByTestId("sign-out").click();
  await page.getByTestId("sign-in").waitFor();
  await page.reload();
  await page.getByTestId("sign-in").waitFor();
});

test("a rejected access token is refreshed on its own; a spent refresh token ends the session", async () => {
  const { page } = admin;
  const readSession = () => page.evaluate(() => JSON.parse(sessionStorage.getItem("regal.session") ?? "null"));
  const first = await readSession();
  assert.ok(first?.refreshToken, "the session is kept for reloads");

  // An access token the server refuses: the app refreshes the pair and carries on.
  await page.evaluate((session) => {
    sessionStorage.setItem("regal.session", JSON.stringify({ ...session, accessToken: "not-a-jwt" }));
  }, first);
  await page.goto("/dashboard/overview");
  await page.getByTestId("overview").waitFor();
  const second = await readSession();
  assert.notEqual(second.refreshToken, first.refreshToken, "the refresh token was rotated");

  // The spent refresh token again (a stolen copy): the server revokes the family and the
  // app goes back to sign-in, saying why.
  await page.evaluate((session) => {
    sessionStorage.setItem("regal.session", JSON.stringify({ accessToken: "not-a-jwt", refreshToken: session.refreshToken }));
  }, first);
  await page.reload();
  await page.getByTestId("sign-in").waitFor();
  await page.getByText("Your session has ended. Please sign in again.").waitFor();
  noProblems(admin);
});
