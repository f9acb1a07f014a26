import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, RegisterPage, hydrated, uniqueName, watchConsole } from "./pages";

test("a password can be shown and hidden once the page is interactive", async ({ page }) => {
  const seen = watchConsole(page);
  await page.goto("/login");
  await hydrated(page);
  const input = page.locator("#password");
  await input.fill(PASSWORD);
  await expect(input).toHaveAttribute("type", "password");

  await page.getByRole("button", { name: "Show password" }).click();
  await expect(input).toHaveAttribute("type", "text");
  await expect(input).toHaveValue(PASSWORD);
  const hide = page.getByRole("button", { name: "Hide password" });
  await expect(hide).toHaveAttribute("aria-pressed", "true");
  await expect(hide).toHaveAttribute("aria-controls", "password");

  await hide.click();
  await expect(input).toHaveAttribute("type", "password");
  await expect(input).toHaveValue(PASSWORD);
  expect(seen.map((m) => m.text())).toEqual([]);
});

/** The focused element shows a ring a person can see: a solid outline at least 2 px wide. */
async function expectFocusRing(page: Page, what: string) {
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement as Element);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(ring.style, `${what} has a focus ring`).not.toBe("none");
  expect(ring.width, `${what}'s focus ring is visible`).toBeGreaterThanOrEqual(2);
}

test("someone can register and sign in with the keyboard alone", async ({ page }) => {
  const name = uniqueName("kb");
  await new RegisterPage(page).open();
  await new RegisterPage(page).register(name);
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);

  // From the top of the page, Tab reaches the username field.
  await page.locator("body").focus();
  for (let i = 0; i < 10; i++) {
    if (await page.evaluate(() => document.activeElement?.id === "username")) break;
    await page.keyboard.press("Tab");
  }
  await expect(page.locator("#username")).toBeFocused();
  await expectFocusRing(page, "the username field");
  await page.keyboard.type(name);
  await page.keyboard.press("Tab");
  await expect(page.locator("#password")).toBeFocused();
  await expectFocusRing(page, "the password field");
  await page.keyboard.type(PASSWORD);
  // Next in order: the Show button, then the submit button.
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Show password" })).toBeFocused();
  await expectFocusRing(page, "the Show button");
  await page.keyboard.press("Tab");
  await expect(page.getByTestId("login-submit")).toBeFocused();
  await expectFocusRing(page, "the sign-in button");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText(`Signed in as ${name}`);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("no Show button that could not work is offered", async ({ page }) => {
    await page.goto("/login");
    await expect(page.locator("#password")).toHaveAttribute("type", "password");
    await expect(page.getByTestId("password-reveal")).toBeHidden();
  });
});
