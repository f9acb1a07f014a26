import { test, expect, type Page } from "@playwright/test";
import { Dashboard, LoginPage, hydrated, registerAndSignIn } from "./pages";
import { base32, nextCode, totp } from "./totp";

/** Turns the authenticator app on from the two-step page; returns its secret and the recovery codes. */
async function turnOn(page: Page): Promise<{ secret: Buffer; codes: string[] }> {
  await page.goto("/account/two-step");
  await hydrated(page);
  await expect(page.getByTestId("totp-status")).toContainText("off");
  await page.getByTestId("totp-begin").click();
  await expect(page.getByTestId("totp-pending")).toBeVisible();
  await expect(page.locator(".qr svg")).toBeVisible();
  const secret = base32(await page.getByTestId("totp-secret").innerText());
  expect(secret.length).toBe(20);
  await page.screenshot({ path: "screenshots/two-step-setup.png", fullPage: true });
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByTestId("totp-confirm").click();
  await expect(page.getByTestId("recovery-codes")).toBeVisible();
  const codes = await page.getByTestId("recovery-code").allInnerTexts();
  expect(codes).toHaveLength(10);
  expect(new Set(codes).size).toBe(10);
  await expect(page.getByTestId("totp-status")).toContainText("on");
  await expect(page.getByTestId("recovery-left")).toHaveText("10 recovery codes left.");
  await page.screenshot({ path: "screenshots/two-step-codes.png", fullPage: true });
  return { secret, codes };
}

async function signOut(page: Page) {
  await page.goto("/dashboard");
  await hydrated(page);
  await new Dashboard(page).signOut();
  await expect(page).toHaveURL(/\/login$/);
}

test("an authenticator app is turned on, then asked for after the password", async ({ page }) => {
  const name = await registerAndSignIn(page);
  const { secret } = await turnOn(page);
  await signOut(page);

  // Hydrated: the password leads to the code, and the code to the page asked for.
  const login = new LoginPage(page);
  await login.open("?next=%2Fsessions");
  await login.signIn(name);
  await expect(page).toHaveURL(/\/login\/code\?next=%2Fsessions$/);
  await hydrated(page);
  await page.getByLabel("Code", { exact: true }).fill("000000");
  await page.getByTestId("code-submit").click();
  await expect(page.getByTestId("code-error")).toContainText("not correct");
  await expect(page.getByLabel("Code", { exact: true })).toHaveValue("");
  await page.screenshot({ path: "screenshots/two-step-sign-in.png", fullPage: true });
  await page.getByLabel("Code", { exact: true }).fill(nextCode(secret));
  await page.getByTestId("code-submit").click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByTestId("session").filter({ hasText: "This device" })).toContainText("a one-time code");

});

test("a recovery code signs in once, and turning the app off goes back to the password alone", async ({ page }) => {
  const name = await registerAndSignIn(page);
  const { codes } = await turnOn(page);
  await signOut(page);

  const login = new LoginPage(page);
  await login.open();
  await login.signIn(name);
  await expect(page).toHaveURL(/\/login\/code/);
  await hydrated(page);
  await page.getByLabel("Code", { exact: true }).fill(codes[0].toUpperCase());
  await page.getByTestId("code-submit").click();
  await expect(page).toHaveURL(/\/dashboard$/);

  await page.goto("/account/two-step");
  await expect(page.getByTestId("recovery-left")).toHaveText("9 recovery codes left.");

  // With two-step sign-in on, a code confirms who one is; a password alone does not.
  await page.goto("/reauth?next=%2Faccount%2Ftwo-step");
  await hydrated(page);
  await expect(page.getByLabel("Password")).toHaveCount(0);
  await page.screenshot({ path: "screenshots/reauth-code.png", fullPage: true });
  await page.getByLabel("Code", { exact: true }).fill(codes[1]);
  await page.getByTestId("reauth-code-submit").click();
  await expect(page).toHaveURL(/\/account\/two-step$/);
  await expect(page.getByTestId("recovery-left")).toHaveText("8 recovery codes left.");
  await hydrated(page);
  await page.getByTestId("recovery-renew").click();
  await expect(page.getByTestId("recovery-codes")).toBeVisible();
  const renewed = await page.getByTestId("recovery-code").allInnerTexts();
  expect(renewed).not.toContain(codes[1]);
  await expect(page.getByTestId("recovery-left")).toHaveText("10 recovery codes left.");

  await page.getByTestId("totp-disable").click();
  await expect(page.getByTestId("totp-status")).toContainText("off");
  await signOut(page);
  await login.open();
  await login.signIn(name);
  await expect(page).toHaveURL(/\/dashboard$/);
});

test("without JavaScript: the app is turned on, the codes are shown once, and the code follows the password", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const name = await registerAndSignIn(page, false);
  await page.goto("/account/two-step");
  await page.getByTestId("totp-begin").click();
  await expect(page).toHaveURL(/\/account\/two-step$/);
  const secret = base32(await page.getByTestId("totp-secret").innerText());
  await page.getByLabel("Code from the app").fill(totp(secret));
  await page.getByTestId("totp-confirm").click();
  await expect(page).toHaveURL(/\/account\/two-step$/);
  await expect(page.getByTestId("recovery-code")).toHaveCount(10);
  await expect(page.getByTestId("totp-status")).toContainText("on");
  await page.reload();
  await expect(page.getByTestId("recovery-code")).toHaveCount(0);

  await page.goto("/dashboard");
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  const login = new LoginPage(page, false);
  await login.signIn(name);
  await expect(page).toHaveURL(/\/login\/code\?next=%2Fdashboard$/);
  // The pending sign-in opens nothing.
  await page.goto("/sessions");
  await expect(page).toHaveURL(/\/login\?next=%2Fsessions$/);
  await page.goto("/login/code?next=%2Fsessions");
  await page.getByLabel("Code", { exact: true }).fill(totp(secret));
  await page.getByTestId("code-submit").click();
  await expect(page.getByTestId("code-error")).toContainText(/already used|not correct/);
  await page.getByLabel("Code", { exact: true }).fill(nextCode(secret));
  await page.getByTestId("code-submit").click();
  await expect(page).toHaveURL(/\/sessions$/);
  await context.close();
});
