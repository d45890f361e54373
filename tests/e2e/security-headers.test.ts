/**
 * The Content-Security-Policy and Permissions-Policy the server sets (issue 10, Low)
 * must not break the panel: in a real Chromium, the pages hydrate, sign-in works, the
 * live channel connects (socket.io, connect-src 'self'), and the browser reports no
 * policy violation on any page. Panel port 3241 (the hardening range 3240-3259); no
 * controller, so no engine or replicas are needed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type LaunchedBrowser } from "@/tests/helpers/browser";
import { startPanel, type Panel } from "@/tests/helpers/panel";

const ADMIN = { username: "csp-admin", password: "csp admin password" };

let panel: Panel;
let browser: LaunchedBrowser;
const violations: string[] = [];

beforeAll(async () => {
  panel = await startPanel({ port: 3241, env: { CONTROLLER: "false", DEMO_SERVICE: "false", ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password }, startTimeoutMs: 300_000 });
  browser = await launchBrowser();
  browser.page.on("console", (m) => {
    if (/Content Security Policy|Permissions policy|Permissions-Policy/i.test(m.text())) violations.push(m.text());
  });
  // (page errors are not policy violations: printed, not asserted here)
  browser.page.on("pageerror", (e) => console.log(`page error on ${browser.page.url()}: ${e.message.slice(0, 200)}`));
});

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe("the panel works under its Content-Security-Policy", () => {
  it("sign-in, then every page hydrates and the live channel connects, with no policy violation", async () => {
    const { page } = browser;
    const res = await page.goto(`${panel.url}/login`);
    expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'self'/);
    await page.locator('input[name="username"]').fill(ADMIN.username);
    await page.locator('input[name="password"]').fill(ADMIN.password);
    await page.getByRole("button", { name: /sign in/i }).click();
    await page.waitForURL((u) => u.pathname === "/services");
    // the pages with a live badge show it live (the socket connected); the others load their scripts
    for (const p of ["/services", "/events"]) {
      await page.goto(`${panel.url}${p}`);
      await page.locator('[data-testid="connection-state"][data-state="live"]').waitFor({ timeout: 15_000 });
    }
    for (const p of ["/balancer", "/settings"]) {
      await page.goto(`${panel.url}${p}`, { waitUntil: "load" });
      await page.getByTestId("current-user").waitFor();
    }
    expect(violations).toEqual([]);
  });
});
