import { test, expect } from "@playwright/test";
import { LoginPage, PASSWORD, hydrated, registerAndSignIn, uniqueName, watchConsole } from "./pages";

// The Content-Security-Policy is on, the app still hydrates and works
// under it, and it stops what it is there to stop.
test("every page hydrates under the nonce CSP with no violation", async ({ page }) => {
  const seen = watchConsole(page);
  const violations: string[] = [];
  await page.exposeFunction("reportViolation", (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { reportViolation: (v: string) => void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  for (const path of ["/", "/register", "/login"]) {
    const res = await page.goto(path);
    expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[\w-]{22,}'/);
    await hydrated(page);
  }
  await registerAndSignIn(page);
  for (const path of ["/dashboard", "/sessions"]) {
    await page.goto(path);
    await hydrated(page);
  }
  expect(violations).toEqual([]);
  expect(seen.map((m) => m.text())).toEqual([]);
});

test("a script injected without the nonce does not run", async ({ page }) => {
  const violations: string[] = [];
  await page.exposeFunction("reportViolation", (v: string) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      (window as unknown as { reportViolation: (v: string) => void }).reportViolation(e.violatedDirective),
    );
  });
  await page.goto("/login");
  await hydrated(page);
  const ran = await page.evaluate(async () => {
    const s = document.createElement("script");
    s.textContent = "window.injected = true";
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    return (window as unknown as { injected?: boolean }).injected === true;
  });
  expect(ran).toBe(false);
  await expect.poll(() => violations).toContain("script-src-elem");
});

// Throttling as a person meets it: a generic message, the same for a name
// that does not exist, and the right password does not get in meanwhile.
test("after five wrong passwords the sign-in form asks to wait, whoever is named", async ({ page, context }) => {
  const name = uniqueName();
  const res = await page.request.post("/api/register", { data: { username: name, password: PASSWORD } });
  expect(res.status()).toBe(201);
  const login = new LoginPage(page);
  const messages: string[] = [];
  for (const who of [name, `nobody-${name}`.slice(0, 32)]) {
    await login.open();
    for (let i = 0; i < 5; i++) {
      // Wait for each answer: the message alone is the same text every time.
      const answered = page.waitForResponse((r) => r.url().endsWith("/_fn/login"));
      await login.signIn(who, "not the password");
      await answered;
      await expect(login.error()).toHaveText("Bad username or password");
      // The refused password is emptied once the answer is shown: typing the
      // next one before that would lose it.
      await expect(page.getByLabel("Password")).toHaveValue("");
    }
    await login.signIn(who, PASSWORD);
    await expect(login.error()).toHaveText(/^Too many attempts\. Wait \d+ seconds and try again\.$/);
    messages.push((await login.error().textContent()) ?? "");
  }
  await expect(page).toHaveURL(/\/login$/);
  expect((await context.cookies()).filter((c) => c.name.includes("gatehouse"))).toEqual([]);
  expect(messages[0].replace(/\d+/, "N")).toBe(messages[1].replace(/\d+/, "N"));
});
