import { test, expect } from "@playwright/test";
import {
  Dashboard,
  LoginPage,
  RegisterPage,
  hydrated,
  portOf,
  registerAndSignIn,
  registerFresh,
  resetLink,
  watchConsole,
} from "./pages";

for (const js of [true, false]) {
  test.describe(js ? "with JavaScript" : "without JavaScript", () => {
    test.use({ javaScriptEnabled: js });

    test("a flash says what just happened, once", async ({ page }) => {
      await registerFresh(page, js);
      const login = new LoginPage(page, js);
      await expect(login.notice()).toHaveText("Your account is ready. Sign in to continue.");
      await expect(login.notice()).toHaveAttribute("role", "status");
      await page.reload();
      await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
      await expect(login.notice()).toHaveCount(0);
    });

    test("a refused sign-in keeps the username, never the password, and focuses the error", async ({ page }) => {
      const console = watchConsole(page);
      const name = await registerFresh(page, js);
      const login = new LoginPage(page, js);
      await login.signIn(name, "not the password");
      await expect(login.error()).toHaveText("Bad username or password");
      await expect(login.error()).toBeFocused();
      await expect(page.getByLabel("Username")).toHaveValue(name);
      await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
      await expect(login.notice()).toBeHidden();
      expect(page.url()).not.toContain("__err");
      // The same refusal again empties the password again.
      await page.getByLabel("Password", { exact: true }).fill("not the password");
      const answered = page.waitForResponse("**/_fn/login");
      await page.getByTestId("login-submit").click();
      await answered;
      await expect(login.error()).toHaveText("Bad username or password");
      await expect(page.getByLabel("Password", { exact: true })).toHaveValue("");
      await expect(page.getByLabel("Username")).toHaveValue(name);
      // The message belongs to that attempt: a reload is a clean form.
      await page.reload();
      await hydrated(page, js);
      await expect(login.error()).toBeHidden();
      await expect(page.getByLabel("Username")).toHaveValue("");
      // The browser notes the 401 itself; nothing else may be said.
      const said = console.map((m) => m.text()).filter((t) => !t.startsWith("Failed to load resource"));
      if (js) expect(said).toEqual([]);
    });

    test("a refused new password on the reset page says why beside the field, and the link still works", async ({
      page,
      baseURL,
    }, info) => {
      const name = await registerFresh(page, js);
      const link = resetLink(portOf(baseURL), name);
      await page.goto(link);
      await hydrated(page, js);
      const again = page.getByLabel("New password again");
      await page.getByLabel("New password", { exact: true }).fill("a fresh new passphrase");
      await again.fill("a fresh new pass");
      await page.getByTestId("reset-submit").click();
      await expect(page.getByTestId("confirm_password-error")).toContainText("do not match");
      await expect(again).toBeFocused();
      expect(page.url()).toContain(link);
      expect(page.url()).not.toContain("__err");
      await page.screenshot({ path: info.outputPath("reset-refused.png"), fullPage: true });

      await page.getByLabel("New password", { exact: true }).fill("a fresh new passphrase");
      await again.fill("a fresh new passphrase");
      await page.getByTestId("reset-submit").click();
      await expect(page).toHaveURL(/\/login$/);
      await expect(new LoginPage(page, js).notice()).toContainText("Your new password is set");
      await new LoginPage(page, js).signIn(name, "a fresh new passphrase");
      await expect(page).toHaveURL(/\/dashboard$/);
    });

    test("signing out says so", async ({ page }) => {
      await registerAndSignIn(page, js);
      await new Dashboard(page).signOut();
      await expect(page).toHaveURL(/\/login$/);
      await expect(new LoginPage(page, js).notice()).toHaveText("You have been signed out.");
      await expect(page.getByTestId("header-user")).toHaveCount(0);
    });

    test("error pages answer with their status, in the site's design", async ({ page }, info) => {
      const missing = await page.goto("/no-such-page");
      expect(missing?.status()).toBe(404);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found");
      await expect(page.getByRole("banner")).toBeVisible();

      await registerAndSignIn(page, js);
      const forbidden = await page.goto("/admin");
      expect(forbidden?.status()).toBe(403);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("You do not have access to this page");
      await expect(page.getByTestId("error-page")).toContainText("You are signed in");
      await expect(page.getByTestId("header-user")).toBeVisible();
      await expect(page.getByTestId("error-page").getByRole("link", { name: "Go to your dashboard" })).toBeVisible();
      await page.screenshot({ path: info.outputPath("forbidden.png"), fullPage: true });
    });
  });
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("too many guesses answer 429 with the wait, on the sign-in page", async ({ page }) => {
    const name = await registerFresh(page, false);
    const login = new LoginPage(page, false);
    let last = 0;
    page.on("response", (r) => {
      if (r.request().method() === "GET" && new URL(r.url()).pathname === "/login") last = r.status();
    });
    for (let i = 0; i < 6; i++) {
      await login.signIn(name, `wrong guess ${i}`);
      await expect(login.error()).toBeVisible();
    }
    expect(last).toBe(429);
    await expect(login.error()).toHaveText(/^Too many attempts\. Wait \d+ seconds? and try again\.$/);
    await expect(page.getByLabel("Username")).toHaveValue(name);
  });
});

test("the sign-in button shows it is working and cannot send twice", async ({ page }) => {
  const name = await registerFresh(page, true);
  let calls = 0;
  await page.route("**/_fn/login", async (route) => {
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await route.continue();
  });
  const login = new LoginPage(page);
  await login.signIn(name);
  const button = page.getByTestId("login-submit");
  await expect(button).toBeDisabled();
  await expect(button).toHaveText("Signing in…");
  // Neither another click nor Enter in a field sends the form again.
  await button.click({ force: true });
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/\/dashboard$/);
  expect(calls).toBe(1);
});

test("the README's screenshots: the sign-in page and a dashboard", async ({ page }) => {
  // The suite's database is fresh for every run, so a fixed, friendly
  // name is free here (and used by no other test).
  await page.setViewportSize({ width: 1100, height: 760 });
  const register = new RegisterPage(page);
  await register.open();
  await register.register("ada");
  await expect(page).toHaveURL(/\/login$/);
  await expect(new LoginPage(page).notice()).toBeVisible();
  await page.screenshot({ path: "screenshots/readme-sign-in.png" });
  await hydrated(page);
  // A history worth showing: a refused guess, an earlier sign-in, this one.
  const login = new LoginPage(page);
  await login.signIn("ada", "a wrong guess");
  await expect(login.error()).toBeVisible();
  await login.signIn("ada");
  await expect(page).toHaveURL(/\/dashboard$/);
  await new Dashboard(page).signOut();
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await login.signIn("ada");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("tile-last-sign-in")).toContainText("UTC");
  await page.screenshot({ path: "screenshots/readme-dashboard.png", fullPage: true });
});
