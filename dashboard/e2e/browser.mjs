// Headless Chromium from the Debian package (no browser download), driven by playwright-core.
import { chromium } from "playwright-core";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

export const BASE_URL = process.env.E2E_BASE_URL ?? "http://127.0.0.1:8000";
const ARTIFACTS = process.env.E2E_ARTIFACTS ?? "target/dashboard-e2e";

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found) throw new Error("no Chromium found: run scripts/ensure-browser.sh (or set CHROMIUM_PATH)");
  return found;
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI containers cannot use Chromium's sandbox; /dev/shm is small there.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/** A fresh browser context (its own sessionStorage) and page, failing on page errors. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 }, baseURL: BASE_URL });
  // A step that does not happen within 15 s has failed (the suite answers in milliseconds).
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return { context, page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

export async function signIn(page, username, password) {
  await page.goto("/dashboard");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("who").waitFor();
}
