import { test, expect } from "@playwright/test";
import {
  Dashboard,
  createAdmin,
  hydrated,
  portOf,
  registerAndSignIn,
  signIn,
  twoBrowsers,
  untilAccessCookieExpires,
  untilSignInIsNotRecent,
  watchConsole,
  PASSWORD,
} from "./pages";

// This project's server issues access tokens that live 5 seconds, so the
// browser drops the access cookie quickly and only the refresh cookie is
// left: every step below crosses an expiry. Its sign-ins stop counting as
// recent after 6 seconds. The tests wait for each of those to happen, not
// for a fixed time.
const ACCESS_TTL_MS = 5_000;
const RECENT_MS = 6_000;
const SLACK_MS = 5_000;

test("a signed-in person keeps using the app across access-token expiry", async ({ page, context }) => {
  const console = watchConsole(page);
  const name = await registerAndSignIn(page);

  await untilAccessCookieExpires(context, ACCESS_TTL_MS + SLACK_MS);
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
  expect((await context.cookies()).map((c) => c.name)).toContain("__Host-gatehouse-access");

  // Client-side navigation after another expiry: server functions renew too.
  await hydrated(page);
  await untilAccessCookieExpires(context, ACCESS_TTL_MS + SLACK_MS);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByTestId("session")).toHaveCount(1);
  await expect(page.getByTestId("current")).toHaveText("This device");
  expect(console.map((m) => m.text())).toEqual([]);
});

test("signing out everywhere in one browser signs out another on its next navigation", async ({ browser }) => {
  const { a, b, close } = await twoBrowsers(browser);

  await a.goto("/sessions");
  await expect(a.getByTestId("session")).toHaveCount(2);
  await a.screenshot({ path: "screenshots/sessions.png", fullPage: true });
  await hydrated(a);
  await a.getByTestId("sign-out-everywhere").click();
  await expect(a).toHaveURL(/\/login$/);

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

test("a sensitive action after a while asks for the password, then returns to it", async ({ page }) => {
  const console = watchConsole(page);
  const name = await registerAndSignIn(page);
  await page.getByRole("link", { name: "Account" }).click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);

  // The sign-in stops counting as recent while the form is open.
  await untilSignInIsNotRecent(page, "/account", RECENT_MS + SLACK_MS);
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByLabel("New password again").fill("a brand new passphrase");
  await page.getByTestId("change-password").click();
  await expect(page.getByTestId("form-error")).toContainText("confirm your password to continue");
  await page.getByTestId("reauth-link").click();

  await expect(page).toHaveURL(/\/reauth\?next=%2Faccount$/);
  await hydrated(page);
  await page.screenshot({ path: "screenshots/reauth.png", fullPage: true });
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByTestId("reauth-submit").click();
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await page.getByLabel("New password again").fill("a brand new passphrase");
  await page.getByTestId("change-password").click();
  await expect(page.getByTestId("notice")).toContainText("Your password was changed.");

  // Loading the page itself after a while asks first, too.
  await untilSignInIsNotRecent(page, "/account", RECENT_MS + SLACK_MS);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/reauth\?next=%2Faccount$/);
  // The change kept this session: the person is still signed in.
  await page.goto("/dashboard");
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
  // The one refused call is the one the test provoked; nothing else.
  const others = console.map((m) => m.text()).filter((t) => !t.includes("401 (Unauthorized) (http://127.0.0.1:3101/_fn/change-password)"));
  expect(others).toEqual([]);
});

test("a client-side visit to the admin area after a while asks for the password first", async ({ page, baseURL }) => {
  await signIn(page, createAdmin(portOf(baseURL)));
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  // The sign-in stops counting as recent while the dashboard is open.
  await untilSignInIsNotRecent(page, "/admin", RECENT_MS + SLACK_MS);
  await page.getByRole("link", { name: "Admin" }).click();
  await expect(page).toHaveURL(/\/reauth\?next=%2Fadmin$/);
  await expect(page.getByTestId("user-table")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});
