/**
 * The API reference (issue 15 part 3): /api/docs is Swagger UI served by the panel
 * itself (no request leaves it), under its own Content-Security-Policy with no
 * violation, showing every operation of /api/openapi.json; a caller without a session
 * gets a page that says where to sign in, and the document itself needs a session.
 * Light and dark themes and a 390 px phone: screenshots api-docs, api-docs-dark,
 * api-docs-phone. Ports: panels 3430-3439; no controller, so no engine or replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";

const ADMIN = { username: "docs-admin", password: "docs admin password" };

let panel: Panel;
let cookie = "";
const browsers: LaunchedBrowser[] = [];

async function signedInBrowser(viewport: { width: number; height: number }, colorScheme: "light" | "dark") {
  const b = await launchBrowser({ viewport });
  browsers.push(b);
  await b.page.emulateMedia({ colorScheme });
  await b.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
  const problems: string[] = [];
  const elsewhere: string[] = [];
  b.page.on("console", (m) => {
    if (m.type() === "error" || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  b.page.on("pageerror", (e) => problems.push(e.message));
  b.page.on("request", (r) => {
    if (!r.url().startsWith(panel.url) && !r.url().startsWith("data:")) elsewhere.push(r.url());
  });
  return { page: b.page, problems, elsewhere };
}

beforeAll(async () => {
  panel = await startPanel({
    port: await findFreePort(3430, 3439),
    env: { CONTROLLER: "false", DEMO_SERVICE: "false", ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password },
    startTimeoutMs: 300_000,
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
});

afterAll(async () => {
  for (const b of browsers) await b.close();
  await panel?.stop();
});

describe("the API reference", () => {
  it("needs a session: the document answers 401, the page says where to sign in", async () => {
    expect((await panel.request("/api/openapi.json")).status).toBe(401);
    const page = await panel.request("/api/docs");
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain('href="/login"');
    expect((await panel.request("/api/docs/swagger-ui-bundle.js")).status).toBe(401);
    const doc = await panel.request("/api/openapi.json", { cookie });
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
    expect((await panel.request("/api/docs/package.json", { cookie })).status).toBe(404);
  });

  it("shows every operation in Swagger UI, served by the panel, with no policy violation (light, dark, phone)", async () => {
    const doc = (await (await panel.request("/api/openapi.json", { cookie })).json()) as { paths: Record<string, Record<string, unknown>> };
    const count = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    for (const [name, viewport, scheme] of [
      ["api-docs", { width: 1280, height: 900 }, "light"],
      ["api-docs-dark", { width: 1280, height: 900 }, "dark"],
      ["api-docs-phone", { width: 390, height: 844 }, "light"],
    ] as const) {
      const { page, problems, elsewhere } = await signedInBrowser(viewport, scheme);
      const res = await page.goto(`${panel.url}/api/docs`);
      expect(res?.status()).toBe(200);
      expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'self';/);
      await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
      expect(await page.locator(".opblock").count()).toBe(count);
      expect((await page.locator("html").getAttribute("class")) ?? "").toBe(scheme === "dark" ? "dark-mode" : "");
      // an operation opens with its parameters and answers (its role is in the document)
      await page.locator(".opblock-summary-path", { hasText: "/api/services/{id}" }).first().click();
      await page.locator(".opblock.is-open .responses-table").first().waitFor();
      if (viewport.width === 390) expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.locator(".opblock.is-open").first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(screenshotDir(), `${name}.png`) }); // the viewport: the whole reference is thousands of pixels tall
      expect(problems).toEqual([]);
      expect(elsewhere).toEqual([]);
    }
    console.log(`api docs: ${count} operations shown`);
  });
});
