import { expect, type Browser, type BrowserContext, type Page, type ConsoleMessage } from "@playwright/test";
import { execFileSync } from "node:child_process";

export const PASSWORD = "correct horse battery";

/** A username no other test uses (3-32 chars of [a-z0-9._-]). */
export function uniqueName(prefix = "u"): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Collects console errors and warnings (hydration mismatches show up here). */
export function watchConsole(page: Page): ConsoleMessage[] {
  const seen: ConsoleMessage[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      seen.push({ type: () => msg.type(), text: () => `${msg.text()} (${msg.location().url})` } as ConsoleMessage);
    }
  });
  page.on("pageerror", (err) => {
    seen.push({ type: () => "error", text: () => String(err) } as ConsoleMessage);
  });
  return seen;
}

/** Waits until the app is interactive, when JavaScript is on. */
export async function hydrated(page: Page, js = true): Promise<void> {
  if (js) await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

export class RegisterPage {
  constructor(private page: Page, private js = true) {}

  async open() {
    await this.page.goto("/register");
    await hydrated(this.page, this.js);
  }

  async register(username: string, password = PASSWORD) {
    await this.page.getByLabel("Username").fill(username);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByTestId("register-submit").click();
  }
}

export class LoginPage {
  constructor(private page: Page, private js = true) {}

  async open(query = "") {
    await this.page.goto(`/login${query}`);
    await hydrated(this.page, this.js);
  }

  async signIn(username: string, password = PASSWORD) {
    await this.page.getByLabel("Username").fill(username);
    await this.page.getByLabel("Password").fill(password);
    await this.page.getByTestId("login-submit").click();
  }

  error() {
    return this.page.getByTestId("form-error");
  }

  /** The one-time message the step before left for this page. */
  notice() {
    return this.page.getByTestId("flash");
  }
}

export class Dashboard {
  constructor(private page: Page) {}

  signedInAs() {
    return this.page.getByTestId("signed-in-as");
  }

  async signOut() {
    await this.page.getByTestId("sign-out").click();
  }
}

/** Registers a fresh account through the form and lands on the sign-in page; returns its name. */
export async function registerFresh(page: Page, js = true): Promise<string> {
  const name = uniqueName();
  const register = new RegisterPage(page, js);
  await register.open();
  await register.register(name);
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page, js);
  return name;
}

/** Registers and signs in a fresh account; returns its name. */
export async function registerAndSignIn(page: Page, js = true): Promise<string> {
  const name = await registerFresh(page, js);
  await new LoginPage(page, js).signIn(name);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
  return name;
}

/** One row of the server's page table (`gatehouse pages --json`). */
interface PageRule {
  path: string;
  access: "anyone" | "signed_in" | "admin";
  fresh: boolean;
}

/** The page table, from the release build the suite runs against: a new page is in every list below at once. */
export const PAGE_TABLE: PageRule[] = JSON.parse(
  execFileSync("./target/release/gatehouse", ["pages", "--json"], { cwd: "..", encoding: "utf8" }),
);

/** What a visitor opens to see a page: the reset page needs a link's token to show its form's answer. */
const VISIT: Record<string, string> = { "/reset": "/reset?token=not-a-real-token" };

/** Every page of the site a visitor can reach without signing in, and the 404 page. */
export const PUBLIC_PAGES = [
  ...PAGE_TABLE.filter((p) => p.access === "anyone").map((p) => VISIT[p.path] ?? p.path),
  "/no-such-page",
];
/** Every page of the signed-in area (an administrator sees them all). */
export const SIGNED_IN_PAGES = PAGE_TABLE.filter((p) => p.access !== "anyone").map((p) => p.path);

/**
 * Runs the account command line against the database of the server on
 * `port`, as an operator would; returns what it printed.
 */
function operator(port: number, args: string[], input = ""): string {
  return execFileSync("./target/release/gatehouse", args, {
    cwd: "..",
    input,
    encoding: "utf8",
    env: { ...process.env, GATEHOUSE_DATA_DIR: process.env[`GATEHOUSE_E2E_DATA_${port}`] },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Creates an administrator on the server on `port`; returns its name. */
export function createAdmin(port: number): string {
  const name = uniqueName("admin");
  operator(port, ["user", "create", name, "--admin"], `${PASSWORD}\n`);
  return name;
}

/** A fresh password-reset link for `name` on the server on `port`, as a path. */
export function resetLink(port: number, name: string): string {
  const printed = operator(port, ["user", "reset-link", name]);
  const path = printed.match(/\/reset\?token=grs_[A-Za-z0-9_-]+/)?.[0];
  if (!path) throw new Error(`no reset link in: ${printed}`);
  return path;
}

/** The port of the server a page's baseURL points at. */
export function portOf(baseURL: string | undefined): number {
  return Number(new URL(baseURL ?? "http://127.0.0.1:3100").port);
}

/** Signs in as `name` from the sign-in page and lands on the dashboard. */
export async function signIn(page: Page, name: string, password = PASSWORD): Promise<void> {
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(name, password);
  await expect(page).toHaveURL(/\/dashboard$/);
}

/** One account signed in from two separate browsers. */
export async function twoBrowsers(browser: Browser) {
  const first = await browser.newContext();
  const a = await first.newPage();
  const name = await registerAndSignIn(a);
  const second = await browser.newContext();
  const b = await second.newPage();
  const login = new LoginPage(b);
  await login.open();
  await login.signIn(name);
  await expect(b).toHaveURL(/\/dashboard$/);
  return { a, b, close: () => Promise.all([first.close(), second.close()]) };
}

/** Waits, without a fixed sleep, until the browser has dropped the access
 * cookie (it lives as long as the token): only the refresh cookie is left. */
export async function untilAccessCookieExpires(context: BrowserContext, within: number): Promise<void> {
  await expect
    .poll(async () => (await context.cookies()).map((c) => c.name), { timeout: within, intervals: [250] })
    .not.toContain("__Host-gatehouse-access");
}

/** Waits, without a fixed sleep, until the server no longer counts this
 * browser's sign-in as recent: `path` (which needs a recent one) answers
 * with the way to confirm the password instead of the page. */
export async function untilSignInIsNotRecent(page: Page, path: string, within: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const res = await page.request.get(path, { maxRedirects: 0 });
        return res.headers()["location"] ?? `${res.status()}`;
      },
      { timeout: within, intervals: [250] },
    )
    .toBe(`/reauth?next=${encodeURIComponent(path)}`);
}
