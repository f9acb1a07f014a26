import { test, expect } from "@playwright/test";
import { LoginPage, RegisterPage, hydrated, uniqueName } from "./pages";
import { base32, totp } from "./totp";

// Against the server that requires two-step sign-in of everyone.
test("a person who must have two-step sign-in sets it up right after signing in, and nothing else opens before", async ({ page }) => {
  const name = uniqueName();
  const register = new RegisterPage(page);
  await register.open();
  await register.register(name);
  await expect(page).toHaveURL(/\/login$/);
  const login = new LoginPage(page);
  await login.open();
  await login.signIn(name);
  await expect(page).toHaveURL(/\/account\/two-step$/);
  await expect(page.getByTestId("two-step-required")).toContainText("or add a passkey, to continue");
  await page.screenshot({ path: "screenshots/two-step-required.png", fullPage: true });

  for (const path of ["/dashboard", "/sessions", "/account"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/account\/two-step$/);
  }
  // A client-side navigation meets the same rule.
  await hydrated(page);
  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect(page).toHaveURL(/\/account\/two-step$/);

  await hydrated(page);
  await page.getByTestId("totp-begin").click();
  const secret = base32(await page.getByTestId("totp-secret").innerText());
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByTestId("totp-confirm").click();
  await expect(page.getByTestId("recovery-codes")).toBeVisible();
  await expect(page.getByTestId("two-step-required")).not.toContainText("to continue");
  await expect(page.getByTestId("totp-disable")).toBeVisible();

  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/dashboard$/);
  await page.goto("/sessions");
  await expect(page.getByTestId("session").filter({ hasText: "This device" })).toContainText("a one-time code");
});
