// Runs the dashboard's end-to-end tests against a real suite:
//   1. creates a fresh database for the run (dropped afterwards, pass or fail),
//   2. starts `regal serve all` (REGAL_BIN, default ../target/debug/regal) on free ports
//      with a private Redis namespace, serving this dashboard's dist/,
//   3. waits for /health/ready, runs `node --test e2e/` (headless Debian Chromium through
//      playwright-core), and stops the suite.
// Screenshots and the suite's log go to E2E_ARTIFACTS (default ../target/dashboard-e2e).

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dashboardDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const repoDir = path.dirname(dashboardDir);
const regalBin = path.resolve(repoDir, process.env.REGAL_BIN ?? "target/debug/regal");
const artifacts = path.resolve(repoDir, process.env.E2E_ARTIFACTS ?? "target/dashboard-e2e");
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const redisUrl = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const runId = randomBytes(6).toString("hex");
const databaseName = `regal_e2e_${runId}`;
const databaseUrl = adminUrl.replace(/\/[^/?]*(\?.*)?$/, `/${databaseName}$1`);

function psql(sql) {
  const result = spawnSync("psql", [adminUrl, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], { stdio: "inherit" });
  if (result.status !== 0) throw new Error(`psql failed: ${sql}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitForReady(baseUrl, suite, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (suite.exitCode !== null) throw new Error(`regal exited early (code ${suite.exitCode}); see ${artifacts}/suite.log`);
    try {
      const response = await fetch(`${baseUrl}/health/ready`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the suite was not ready within ${timeoutMs / 1000}s; see ${artifacts}/suite.log`);
}

mkdirSync(artifacts, { recursive: true });
const ports = {};
for (const name of ["GATEWAY_PORT", "AUTH_PORT", "CATALOG_PORT", "SALES_PORT", "AUDIT_PORT"]) {
  ports[name] = String(await freePort());
}
const baseUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}`;

psql(`create database ${databaseName}`);
let suite;
let exitCode = 1;
try {
  // Straight to a file: a pipe this process had to drain could fill up and stall the suite.
  const log = openSync(path.join(artifacts, "suite.log"), "w");
  suite = spawn(regalBin, ["serve", "all"], {
    cwd: repoDir,
    env: {
      ...process.env,
      ...ports,
      APP_ENV: "development",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `e2e-${runId}:`,
      AUDIT_STREAM: `e2e-${runId}.audit`,
      DASHBOARD_DIR: path.join(dashboardDir, "dist"),
      LOG_FORMAT: "pretty",
      RUST_LOG: process.env.RUST_LOG ?? "info",
      HEALTH_CHECK_INTERVAL_MS: "200",
    },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      suite?.kill("SIGTERM");
      try {
        psql(`drop database if exists ${databaseName} with (force)`);
      } finally {
        process.exit(1);
      }
    });
  }
  await waitForReady(baseUrl, suite, 60_000);
  console.log(`e2e: suite ready at ${baseUrl} (database ${databaseName})`);
  const tests = spawn(process.execPath, ["--test", "--test-concurrency=1", "--test-timeout=120000", "e2e/"], {
    cwd: dashboardDir,
    stdio: "inherit",
    env: { ...process.env, E2E_BASE_URL: baseUrl, E2E_ARTIFACTS: artifacts },
  });
  exitCode = await new Promise((resolve) => tests.once("exit", (code) => resolve(code ?? 1)));
} catch (error) {
  console.error(`e2e: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  if (suite && suite.exitCode === null) {
    suite.kill("SIGTERM");
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        suite.kill("SIGKILL");
        resolve(undefined);
      }, 20_000);
      suite.once("exit", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }
  try {
    psql(`drop database if exists ${databaseName} with (force)`);
  } catch (error) {
    console.error(`e2e: could not drop ${databaseName}: ${String(error)}`);
  }
}
console.log(`e2e: screenshots and suite.log in ${artifacts}`);
process.exit(exitCode);
