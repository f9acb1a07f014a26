import { test, expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { PUBLIC_PAGES, SIGNED_IN_PAGES, createAdmin, hydrated, portOf, signIn } from "./pages";

// Every page, in both colour schemes: axe-core finds no serious or
// critical WCAG 2.2 A/AA violation, nothing is wider than a 360 px phone,
// and a screenshot at phone and desktop width is kept with the run's
// artifacts (test-results/).

const WIDTHS = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 860 } };

async function check(page: Page, path: string, scheme: string, shots: (name: string) => string) {
  await page.goto(path);
  await hydrated(page);
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  const serious = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(serious, `${path} in ${scheme}`).toEqual([]);
  const slug = path === "/" ? "home" : path.slice(1).split("?")[0].replaceAll("/", "-");
  for (const [label, size] of Object.entries(WIDTHS)) {
    await page.setViewportSize(size);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than a ${size.width} px screen`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: shots(`${slug}-${scheme}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(WIDTHS.desktop);
}

for (const scheme of ["light", "dark"] as const) {
  test.describe(`${scheme} theme`, () => {
    test.use({ colorScheme: scheme });

    test(`public pages pass the accessibility scan (${scheme})`, async ({ page }, info) => {
      for (const path of PUBLIC_PAGES) {
        await check(page, path, scheme, (name) => info.outputPath(name));
      }
    });

    test(`signed-in pages pass the accessibility scan (${scheme})`, async ({ page, baseURL }, info) => {
      await signIn(page, createAdmin(portOf(baseURL)));
      for (const path of SIGNED_IN_PAGES) {
        await check(page, path, scheme, (name) => info.outputPath(name));
      }
    });
  });
}
