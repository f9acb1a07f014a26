import { test, expect } from "@playwright/test";
import { createAdmin, hydrated, portOf, registerAndSignIn, signIn, watchConsole, PASSWORD } from "./pages";

test("a user cannot reach the admin area", async ({ page }) => {
  await registerAndSignIn(page);
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
  await expect(page.getByTestId("user-table")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/forbidden.png", fullPage: true });
});

test("a user following a link in the app to the admin area gets the 403 page, not the data", async ({ page }) => {
  await registerAndSignIn(page);
  await hydrated(page);
  await page.evaluate(() => {
    (window as unknown as { stayed: boolean }).stayed = true;
    const link = Object.assign(document.createElement("a"), { href: "/admin/audit", id: "to-audit", textContent: "Audit" });
    document.querySelector("main")?.append(link);
  });
  await page.locator("#to-audit").click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
  await expect(page.getByRole("table")).toHaveCount(0);
  // The router made the visit in the page: no full load was needed for the rule to hold.
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

test("an admin disables a user, who is signed out on their next navigation", async ({ browser, baseURL }) => {
  const adminName = createAdmin(portOf(baseURL));
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const userName = await registerAndSignIn(user);

  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const console = watchConsole(admin);
  await signIn(admin, adminName);
  await admin.getByRole("link", { name: "Admin" }).click();
  await expect(admin).toHaveURL(/\/admin$/);
  await hydrated(admin);
  await admin.getByLabel("Search by username").fill(userName);
  await admin.getByRole("button", { name: "Search" }).click();
  const row = admin.locator(`[data-testid="user-row"][data-username="${userName}"]`);
  await expect(row).toHaveCount(1);
  await expect(admin.getByTestId("user-row")).toHaveCount(1);
  await expect(row).toContainText("Active");
  await admin.screenshot({ path: "screenshots/admin.png", fullPage: true });
  await row.getByTestId("disable").click();
  await expect(admin.getByTestId("notice")).toHaveText(`${userName} is disabled and signed out everywhere.`);
  await expect(row).toContainText("Disabled");

  await user.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sessions" }).click();
  await expect(user).toHaveURL(/\/login/);
  await user.goto("/dashboard");
  await expect(user).toHaveURL(/\/login\?next=%2Fdashboard$/);

  // The audit log tells the story.
  await admin.getByRole("link", { name: "Audit log" }).click();
  await expect(admin).toHaveURL(/\/admin\/audit$/);
  await expect(admin.locator('[data-testid="audit-row"][data-kind="disable"]').first()).toContainText(userName);
  await admin.screenshot({ path: "screenshots/audit.png", fullPage: true });
  expect(console.map((m) => m.text())).toEqual([]);
  await userContext.close();
  await adminContext.close();
});

test("a reset link issued by an admin lets the person choose a new password once", async ({ browser, baseURL }) => {
  const adminName = createAdmin(portOf(baseURL));
  const userContext = await browser.newContext();
  const user = await userContext.newPage();
  const userName = await registerAndSignIn(user);

  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, adminName);
  await admin.goto(`/admin?search=${userName}`);
  await hydrated(admin);
  await admin.locator(`[data-testid="user-row"][data-username="${userName}"]`).getByTestId("reset-link").click();
  const url = await admin.getByTestId("reset-url").inputValue();
  expect(url).toMatch(/\/reset\?token=grs_[A-Za-z0-9_-]{43}$/);

  await user.goto(url);
  await hydrated(user);
  await expect(user.getByTestId("reset-username")).toHaveText(userName);
  await user.getByLabel("New password", { exact: true }).fill("a fresh new passphrase");
  await user.getByLabel("New password again").fill("a fresh new passphrase");
  await user.screenshot({ path: "screenshots/reset.png", fullPage: true });
  await user.getByTestId("reset-submit").click();
  await expect(user).toHaveURL(/\/login$/);
  await expect(user.getByTestId("flash")).toContainText("Your new password is set");
  await signIn(user, userName, "a fresh new passphrase");

  await user.goto(url);
  await expect(user.getByTestId("reset-dead")).toContainText("already been used");
  await userContext.close();
});

test("a common password is refused with a reason", async ({ page }) => {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill(`c-${Date.now().toString(36)}`);
  await page.getByLabel("Password").fill("password1");
  await page.getByTestId("register-submit").click();
  await expect(page.getByTestId("password-error")).toHaveText(/most common ones/);
  expect(PASSWORD).not.toBe("password1");
});
