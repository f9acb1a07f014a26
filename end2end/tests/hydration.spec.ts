import { test, expect, type Page, type Route } from "@playwright/test";
import { PUBLIC_PAGES, SIGNED_IN_PAGES, createAdmin, portOf, signIn } from "./pages";

// What the server sends is what a person sees first and starts to read or
// click; hydration must not move any of it. Each page is loaded with its
// WebAssembly held back, every visible element is measured, then the
// WebAssembly is let through and, once the page is interactive, the same
// elements are measured again: none may have moved or changed size.
// (Elements that only appear once the page is interactive, such as the
// password Show button, are not in the first set; they sit where they
// move nothing, which the second measurement of everything else checks.)

const WIDTHS = { phone: { width: 360, height: 780 }, desktop: { width: 1280, height: 860 } };
/** Sub-pixel rounding is not a jump. */
const TOLERANCE = 1;

type Box = { key: string; x: number; y: number; w: number; h: number };

/** Every element with a size, keyed by its place in the document. */
function measure(page: Page): Promise<Box[]> {
  return page.evaluate(() => {
    const keyOf = (el: Element): string => {
      const steps: string[] = [];
      for (let at: Element | null = el; at && at !== document.body; at = at.parentElement) {
        const same = at.parentElement ? [...at.parentElement.children].filter((c) => c.tagName === at!.tagName) : [];
        steps.unshift(`${at.tagName.toLowerCase()}[${same.indexOf(at)}]`);
      }
      return steps.join(">");
    };
    return [...document.body.querySelectorAll("*")].flatMap((el) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return [];
      return [{ key: keyOf(el), x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height }];
    });
  });
}

/** The elements of `before` that moved, resized or went away in `after`. */
function jumps(before: Box[], after: Box[]): string[] {
  const now = new Map(after.map((b) => [b.key, b]));
  return before.flatMap((b) => {
    const a = now.get(b.key);
    if (!a) return [`${b.key} disappeared`];
    const off = Math.max(Math.abs(a.x - b.x), Math.abs(a.y - b.y), Math.abs(a.w - b.w), Math.abs(a.h - b.h));
    return off > TOLERANCE ? [`${b.key} moved: ${JSON.stringify(b)} -> ${JSON.stringify(a)}`] : [];
  });
}

/** Loads `path`, measuring it as the server rendered it and once hydrated. */
async function checkNoJump(page: Page, path: string, width: string) {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const hold = async (route: Route) => {
    await held;
    await route.continue();
  };
  await page.route("**/pkg/*.wasm", hold);
  // Module scripts wait for the stylesheet, so at DOMContentLoaded the
  // page is styled as a person first sees it.
  await page.goto(path, { waitUntil: "domcontentloaded" });
  await page.evaluate(() => document.fonts.ready);
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  const before = await measure(page);
  expect(before.length, `${path} rendered something`).toBeGreaterThan(10);

  release();
  await expect(page.locator("body"), `${path} hydrates`).toHaveAttribute("data-hydrated", "true");
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const after = await measure(page);
  await page.unroute("**/pkg/*.wasm", hold);
  expect(jumps(before, after), `${path} at ${width} width`).toEqual([]);
}

for (const [width, size] of Object.entries(WIDTHS)) {
  test.describe(`${width} width`, () => {
    test.use({ viewport: size });

    test(`public pages do not move when they hydrate (${width})`, async ({ page }) => {
      for (const path of PUBLIC_PAGES) await checkNoJump(page, path, width);
    });

    test(`signed-in pages do not move when they hydrate (${width})`, async ({ page, baseURL }) => {
      await signIn(page, createAdmin(portOf(baseURL)));
      for (const path of SIGNED_IN_PAGES) await checkNoJump(page, path, width);
    });
  });
}
