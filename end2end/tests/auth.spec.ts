import { test, expect } from "@playwright/test";
import { Dashboard, LoginPage, PASSWORD, RegisterPage, hydrated, registerAndSignIn, uniqueName, watchConsole } from "./pages";

test.describe("with JavaScript", () => {
  test("a person registers, signs in, sees the dashboard and signs out", async ({ page }) => {
    const console = watchConsole(page);
    const name = await registerAndSignIn(page);
    await expect(page.getByTestId("header-user")).toContainText(name);
    await expect(page.getByRole("link", { name: "Sign in" })).toHaveCount(0);
    await page.screenshot({ path: "screenshots/dashboard.png", fullPage: true });

    await new Dashboard(page).signOut();
    await expect(page).toHaveURL(/\/login$/);
    await expect(new LoginPage(page).notice()).toHaveText("You have been signed out.");
    await expect(page.getByTestId("header-user")).toHaveCount(0);
    await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();

    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
    expect(console.map((m) => m.text())).toEqual([]);
  });

  test("signed out, the dashboard redirects to sign-in on the server", async ({ page, request }) => {
    const console = watchConsole(page);
    const res = await request.get("/dashboard", { maxRedirects: 0, headers: { accept: "text/html" } });
    expect(res.status()).toBe(303);
    expect(res.headers()["location"]).toBe("/login?next=%2Fdashboard");
    expect(await res.text()).not.toContain("Signed in as");

    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
    await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
    await expect(page.getByText("Signed in as")).toHaveCount(0);
    await hydrated(page);
    expect(console.map((m) => m.text())).toEqual([]);
  });

  test("the session cookie is HttpOnly, Secure, SameSite, host-only and short-lived", async ({ page, context }) => {
    await registerAndSignIn(page);
    const cookies = await context.cookies();
    const access = cookies.find((c) => c.name === "__Host-gatehouse-access");
    expect(access, JSON.stringify(cookies.map((c) => c.name))).toBeDefined();
    expect(access!.httpOnly).toBe(true);
    expect(access!.secure).toBe(true);
    expect(access!.sameSite).toBe("Lax");
    expect(access!.path).toBe("/");
    expect(access!.domain.startsWith(".")).toBe(false);
    const lifetime = access!.expires - Date.now() / 1000;
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(15 * 60 + 5);

    const visible = await page.evaluate(() => document.cookie);
    expect(visible).not.toContain("gatehouse-access");
    expect(visible).not.toContain(access!.value);
    const html = await page.content();
    expect(html).not.toContain(access!.value);
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(stored).not.toContain(access!.value);
  });

  test("a wrong password shows one generic message and keeps the person on the form", async ({ page }) => {
    const name = uniqueName();
    await new RegisterPage(page).open();
    await new RegisterPage(page).register(name);
    await expect(page).toHaveURL(/\/login$/);
    const login = new LoginPage(page);
    await hydrated(page);
    await login.signIn(name, "not the password");
    await expect(login.error()).toHaveText("Bad username or password");
    await expect(login.notice()).toBeHidden();
    await expect(page).toHaveURL(/\/login/);
    await page.screenshot({ path: "screenshots/login-error.png", fullPage: true });
    await login.signIn("nobody-" + name.slice(0, 20), "not the password");
    await expect(login.error()).toHaveText("Bad username or password");
  });

  test("registration explains what is wrong", async ({ page }) => {
    const register = new RegisterPage(page);
    await register.open();
    await register.register("ab", PASSWORD);
    await expect(page.getByTestId("username-error")).toHaveText("Usernames are at least 3 characters long.");
    await expect(page.getByLabel("Username")).toBeFocused();
    await expect(page.getByLabel("Username")).toHaveAttribute("aria-invalid", "true");
    await register.register(uniqueName(), "short");
    await expect(page.getByTestId("password-error")).toHaveText("Passwords are at least 8 characters long.");
    await expect(page.getByTestId("username-error")).toBeHidden();
    await expect(page.getByLabel("Password", { exact: true })).toBeFocused();
  });

  test("a hostile next parameter lands on the dashboard instead", async ({ page }) => {
    const name = uniqueName();
    await new RegisterPage(page).open();
    await new RegisterPage(page).register(name);
    await expect(page).toHaveURL(/\/login$/);
    for (const next of ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]) {
      const login = new LoginPage(page);
      await login.open(`?next=${encodeURIComponent(next)}`);
      await login.signIn(name);
      await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/dashboard$/);
    }
  });

  test("signing in from a protected page returns there", async ({ page }) => {
    const name = uniqueName();
    await new RegisterPage(page).open();
    await new RegisterPage(page).register(name);
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/next=%2Fdashboard/);
    await hydrated(page);
    await new LoginPage(page).signIn(name);
    await expect(page).toHaveURL(/\/dashboard$/);
  });

  test("the sign-in page looks right", async ({ page }) => {
    await new LoginPage(page).open();
    await expect(page.getByLabel("Username")).toHaveAttribute("autocomplete", "username webauthn");
    await expect(page.getByLabel("Password")).toHaveAttribute("autocomplete", "current-password");
    await page.screenshot({ path: "screenshots/login.png", fullPage: true });
    await page.goto("/");
    await page.screenshot({ path: "screenshots/home.png", fullPage: true });
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the whole journey works with plain form posts", async ({ page }) => {
    await registerAndSignIn(page, false);
    await new Dashboard(page).signOut();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/dashboard");
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
  });

  test("a wrong password shows the message, with nothing internal in the URL", async ({ page }) => {
    const name = uniqueName();
    const register = new RegisterPage(page, false);
    await register.open();
    await register.register(name);
    const login = new LoginPage(page, false);
    await login.signIn(name, "not the password");
    await expect(login.error()).toHaveText("Bad username or password");
    const url = decodeURIComponent(page.url());
    expect(url).not.toMatch(/sql|error running|panicked|\.rs/i);
  });

  test("a copied cookie is useless after sign-out", async ({ page, context, browser }) => {
    await registerAndSignIn(page, false);
    const access = (await context.cookies()).find((c) => c.name === "__Host-gatehouse-access")!;
    await new Dashboard(page).signOut();

    const thief = await browser.newContext({ javaScriptEnabled: false });
    await thief.addCookies([access]);
    const stolen = await thief.newPage();
    await stolen.goto("/dashboard");
    await expect(stolen).toHaveURL(/\/login\?next=%2Fdashboard$/);
    await thief.close();
  });
});
