import { defineConfig, devices } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The suite starts the release build itself, on its own port and with a
// fresh data directory, so it never touches a developer's running app.
const port = Number(process.env.GATEHOUSE_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// A second instance whose access tokens live 5 seconds and whose sign-ins
// stop counting as recent after 6, for the token lifecycle and
// re-authentication tests.
const shortPort = port + 1;
const shortURL = `http://127.0.0.1:${shortPort}`;
// A third that requires two-step sign-in of everyone (GATEHOUSE_REQUIRE_MFA).
const strictPort = port + 2;
const strictURL = `http://127.0.0.1:${strictPort}`;

// Each server's data directory, decided once in the runner and inherited
// by the workers, so a test can run the account command line against the
// same database the server uses.
function dataDir(name: string): string {
  const key = `GATEHOUSE_E2E_DATA_${name}`;
  process.env[key] ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-"));
  return process.env[key] as string;
}

// Every server's log, as JSON lines at debug level, is kept here for the
// check that no password, token, cookie or key ever reaches a log
// (check-logs.mjs, run by scripts/test.sh after the suite).
process.env.GATEHOUSE_E2E_LOG_DIR ??= mkdtempSync(join(tmpdir(), "gatehouse-e2e-logs-"));
const logDir = process.env.GATEHOUSE_E2E_LOG_DIR;

function server(listen: number, extra: Record<string, string> = {}) {
  return {
    command: `exec ./target/release/gatehouse >>"${join(logDir, `server-${listen}.log`)}" 2>&1`,
    cwd: "..",
    url: `http://127.0.0.1:${listen}/login`,
    timeout: 30_000,
    reuseExistingServer: false,
    stdout: "ignore" as const,
    stderr: "pipe" as const,
    env: {
      GATEHOUSE_ADDR: `127.0.0.1:${listen}`,
      GATEHOUSE_DATA_DIR: dataDir(String(listen)),
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_SITE_ADDR: `127.0.0.1:${listen}`,
      LEPTOS_ENV: "PROD",
      GATEHOUSE_LOG: "debug,hyper=info,h2=info",
      GATEHOUSE_LOG_FORMAT: "json",
      // The whole suite registers, fails to sign in, opens reset links and
      // views the sign-in page (each view starts a passkey sign-in, for
      // autofill) from one address.
      GATEHOUSE_REGISTRATIONS_PER_ADDRESS: "10000",
      GATEHOUSE_LOGIN_FAILURES_PER_ADDRESS: "10000",
      GATEHOUSE_RESET_ATTEMPTS_PER_ADDRESS: "10000",
      GATEHOUSE_PASSKEY_SIGN_INS_PER_ADDRESS: "10000",
      ...extra,
    },
  };
}

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "chromium", use: { ...devices["Desktop Chrome"] }, testIgnore: /lifecycle|required-two-step|passkeys/ },
    // Browsers refuse an IP address as a passkey's site: these run at localhost.
    { name: "passkeys", use: { ...devices["Desktop Chrome"], baseURL: `http://localhost:${port}` }, testMatch: /passkeys/ },
    { name: "two-step required", use: { ...devices["Desktop Chrome"], baseURL: strictURL }, testMatch: /required-two-step/ },
    { name: "short-lived tokens", use: { ...devices["Desktop Chrome"], baseURL: shortURL }, testMatch: /lifecycle/ },
  ],
  webServer: [
    server(port),
    server(shortPort, {
      GATEHOUSE_ACCESS_TTL_SECS: "5",
      GATEHOUSE_CLOCK_LEEWAY_SECS: "0",
      GATEHOUSE_REAUTH_WINDOW_SECS: "6",
    }),
    server(strictPort, { GATEHOUSE_REQUIRE_MFA: "all" }),
  ],
});
