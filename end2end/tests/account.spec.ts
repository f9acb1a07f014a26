import { test, expect } from "@playwright/test";
import { hydrated, twoBrowsers } from "./pages";

test("changing the password keeps this browser signed in and signs the other out", async ({ browser }) => {
  const { a, b, close } = await twoBrowsers(browser);
  await a.goto("/account");
  await hydrated(a);
  await a.getByLabel("Current password").fill("correct horse battery");
  await a.getByLabel("New password", { exact: true }).fill("a brand new passphrase");
  await a.getByLabel("New password again").fill("a brand new passphrase");
  await a.getByTestId("change-password").click();
  await expect(a.getByTestId("notice")).toContainText("Your password was changed.");
  await expect(a.getByLabel("Current password")).toHaveValue("");
  await expect(a.getByLabel("New password", { exact: true })).toHaveValue("");
  await a.screenshot({ path: "screenshots/account.png", fullPage: true });

  await a.goto("/dashboard");
  await expect(a).toHaveURL(/\/dashboard$/);
  await b.goto("/dashboard");
  await expect(b).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await close();
});
