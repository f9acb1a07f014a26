import { test, expect, type Browser } from "@playwright/test";
import { Dashboard, hydrated, registerAndSignIn, LoginPage, watchConsole } from "./pages";

// This project's server issues access tokens that live 5 seconds, so the
// browser drops the access cookie quickly and only the refresh cookie is
// left: every step below crosses an expiry.
const ACCESS_TTL_MS = 5_000;

test("a signed-in person keeps using the app across access-token expiry", async ({ page, context }) => {
  const console = watchConsole(page);
  const name = await registerAndSignIn(page);

  await page.waitForTimeout(ACCESS_TTL_MS + 1_000);
  expect((await context.cookies()).map((c) => c.name)).not.toContain("__Host-gatehouse-access");
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
  expect((await context.cookies()).map((c) => c.name)).toContain("__Host-gatehouse-access");

  // Client-side navigation after another expiry: server functions renew too.
  await hydrated(page);
  await page.waitForTimeout(ACCESS_TTL_MS + 1_000);
  await page.getByRole("link", { name: "Sessions" }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByTestId("session")).toHaveCount(1);
  await expect(page.getByTestId("current")).toHaveText("This device");
  expect(console.map((m) => m.text())).toEqual([]);
});

/** One account signed in from two separate browsers. */
async function twoBrowsers(browser: Browser) {
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

test("signing out everywhere in one browser signs out another on its next navigation", async ({ browser }) => {
  const { a, b, close } = await twoBrowsers(browser);

  await a.goto("/sessions");
  await expect(a.getByTestId("session")).toHaveCount(2);
  await a.screenshot({ path: "screenshots/sessions.png", fullPage: true });
  await hydrated(a);
  await a.getByTestId("sign-out-everywhere").click();
  await expect(a).toHaveURL(/\/login\?signed_out=1$/);

  await b.goto("/dashboard");
  await expect(b).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await close();
});

test("ending another session from the sessions page signs that browser out", async ({ browser }) => {
  const { a, b, close } = await twoBrowsers(browser);

  await a.goto("/sessions");
  await hydrated(a);
  await a.getByTestId("end-session").click();
  await expect(a.getByTestId("session")).toHaveCount(1);

  await b.goto("/dashboard");
  await expect(b).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await close();
});

test("changing the password keeps this browser signed in and signs the other out", async ({ browser }) => {
  const { a, b, close } = await twoBrowsers(browser);
  await a.goto("/account");
  await hydrated(a);
  await a.getByLabel("Current password").fill("correct horse battery");
  await a.getByLabel("New password").fill("a brand new passphrase");
  await a.getByTestId("change-password").click();
  await expect(a.getByTestId("notice")).toContainText("Your password was changed.");
  await expect(a.getByLabel("Current password")).toHaveValue("");
  await expect(a.getByLabel("New password")).toHaveValue("");
  await a.screenshot({ path: "screenshots/account.png", fullPage: true });

  await a.goto("/dashboard");
  await expect(a).toHaveURL(/\/dashboard$/);
  await b.goto("/dashboard");
  await expect(b).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await close();
});
