import { test, expect, type Page } from "@playwright/test";
import { Dashboard, LoginPage, hydrated, registerAndSignIn } from "./pages";

/** Chromium's virtual authenticator (DevTools protocol, WebAuthn domain): a platform authenticator that keeps passkeys and verifies the user. */
async function authenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function signOut(page: Page) {
  await page.goto("/dashboard");
  await hydrated(page);
  await new Dashboard(page).signOut();
  await expect(page).toHaveURL(/\/login$/);
}

test("a passkey is added on the account page, signs in alone, and is removed", async ({ page }) => {
  const name = await registerAndSignIn(page);
  const { cdp, authenticatorId } = await authenticator(page);

  await page.goto("/account");
  await hydrated(page);
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await page.getByLabel("Name for a new passkey").fill("Laptop");
  await page.getByTestId("passkey-add").click();
  await expect(page.getByTestId("passkey-name")).toHaveText("Laptop");
  await expect(page.getByTestId("passkey")).toContainText("never used");
  await page.screenshot({ path: "screenshots/passkeys-account.png", fullPage: true });
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  // The button. The virtual authenticator answers an autofill request at
  // once, so while the login page loads it waits for a touch (presence);
  // the request it started stays waiting, and the button's is answered.
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
  await signOut(page);
  await hydrated(page);
  await expect(page.getByLabel("Username")).toHaveAttribute("autocomplete", "username webauthn");
  await page.screenshot({ path: "screenshots/passkeys-login.png", fullPage: true });
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });
  await expect(page).toHaveURL(/\/login$/);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
  await page.goto("/sessions");
  await expect(page.getByTestId("session").filter({ hasText: "This device" })).toContainText("with a passkey");

  // Autofill: the login page offers the passkey in the username field,
  // and the virtual authenticator takes the offer without a click.
  await signOut(page);
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);

  // Confirming who one is with it, then removing it.
  await page.goto("/reauth?next=%2Faccount");
  await hydrated(page);
  await expect(page.getByLabel("Password")).toHaveCount(1); // no app on: the password confirms too
  await page.getByTestId("reauth-passkey").click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("passkey")).toContainText("last used");
  await hydrated(page);
  await page.getByTestId("passkey-remove").click();
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  // Removed on the server: autofill's answer is refused, and the page stays.
  await signOut(page);
  await expect(page.getByTestId("passkey-status")).toContainText("not registered here");
  await expect(page).toHaveURL(/\/login$/);
});

test("a passkey unknown to the server is refused with a message, and the password still works", async ({ page }) => {
  const name = await registerAndSignIn(page);
  const { cdp, authenticatorId } = await authenticator(page);
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
  await page.goto("/account");
  await hydrated(page);
  await page.getByLabel("Name for a new passkey").fill("Phone");
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });
  await page.getByTestId("passkey-add").click();
  await expect(page.getByTestId("passkey-name")).toHaveText("Phone");
  // Removed on the server, kept on the device.
  await page.getByTestId("passkey-remove").click();
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: false });
  await signOut(page);
  await hydrated(page);
  await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled: true });
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByTestId("passkey-status")).toContainText("not registered here");
  await expect(page).toHaveURL(/\/login$/);
  await new LoginPage(page).signIn(name);
  await expect(page).toHaveURL(/\/dashboard$/);
});

test("at an IP address the sign-in page stays quiet until the passkey button says where passkeys work", async ({ page, baseURL }) => {
  const local = new URL(baseURL!);
  const atIp = `http://127.0.0.1:${local.port}/login`;
  const offered: string[] = [];
  page.on("request", (r) => r.url().includes("passkey-sign-in-options") && offered.push(r.url()));
  await page.goto(atIp);
  await hydrated(page);
  await expect.poll(() => offered.length).toBeGreaterThan(0);
  // Autofill could not be offered here: nothing on the page says so.
  await expect(page.getByTestId("passkey-status")).toHaveText("");
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByTestId("passkey-status")).toHaveText(
    `Passkeys do not work at an IP address. Open http://localhost:${local.port}/login instead.`,
  );
  await page.screenshot({ path: "screenshots/passkeys-at-an-ip.png" });
});
