import { test, expect, type Page } from "@playwright/test";
import { Dashboard, PASSWORD, RegisterPage, registerAndSignIn, uniqueName } from "./pages";

/** Opens a page on a foreign origin that auto-submits a form to `action`. */
async function attackFrom(page: Page, action: string, fields: Record<string, string>) {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
    .join("");
  await page.route("http://evil.example/**", (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><form method="post" action="${action}">${inputs}</form>
             <script>document.forms[0].submit()</script>`,
    }),
  );
  const refused = page.waitForResponse((r) => r.url() === action);
  await page.goto("http://evil.example/attack");
  return refused;
}

test("a foreign page cannot sign the visitor in to the attacker's account", async ({ page, context, baseURL }) => {
  const attacker = uniqueName("mallory");
  const register = new RegisterPage(page);
  await register.open();
  await register.register(attacker);
  await expect(page).toHaveURL(/\/login$/);
  await context.clearCookies();

  const res = await attackFrom(page, `${baseURL}/_fn/login`, { username: attacker, password: PASSWORD, next: "" });
  expect(res.status()).toBe(403);
  expect((await context.cookies()).map((c) => c.name)).not.toContain("__Host-gatehouse-access");
  await page.goto(`${baseURL}/dashboard`);
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
});

test("a foreign page cannot sign the visitor out", async ({ page, baseURL }) => {
  const name = await registerAndSignIn(page);
  const res = await attackFrom(page, `${baseURL}/_fn/logout`, {});
  expect(res.status()).toBe(403);
  await page.goto(`${baseURL}/dashboard`);
  await expect(new Dashboard(page).signedInAs()).toHaveText(`Signed in as ${name}`);
});
