/**
 * Issue 14, item 3, in Chromium against the real panel (builtin engine): an external pool
 * created through the New service form (runtime "external", three endpoints typed into the
 * endpoints list, health path /api/health), where the instances are the user's app started
 * by this test on loopback, not by the panel. The service page says where they come from
 * ("external: 3 addresses" and the list) instead of a slider, the cards offer no restart or
 * remove, and the list is edited in the form (one removed, one added) and followed. Both
 * themes and 390 px without sideways scrolling; screenshots.
 *
 * Panels 3400-3409, listeners 18494-18499, endpoints 29900-29903, demo replicas 29910-29919.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Panel } from "@/tests/helpers/panel";
import { startPanelWithBrowser } from "@/tests/helpers/panel-browser";
import { hasChromium, launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared, waitFor } from "@/tests/helpers/load";
import { needs } from "@/tests/helpers/requirements";

const ADMIN = { username: "edna", password: "external pool pw" };
const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);
const addr = (i: number) => `127.0.0.1:${29900 + i}`;

type ServiceRow = { id: string; name: string; endpoints: string[] | null; instances: { id: string; state: string; inEngine: boolean; dataAddr: string | null }[] };

describe.skipIf(needs("chromium", hasChromium() ? null : "no /usr/bin/chromium (apt-get install chromium)"))("an external service from the form", () => {
  let panel: Panel;
  let cookie: string;
  let browser: LaunchedBrowser;
  let svc: ServiceRow;
  const apps: ChildProcess[] = [];

  const services = async () => ((await (await panel.request("/api/services", { cookie })).json()) as { services: ServiceRow[] }).services;
  const pool = async () => (await services()).find((s) => s.name === "pool") ?? null;
  const readyAddrs = (s: ServiceRow | null) => (s?.instances ?? []).filter((r) => r.state === "ready" && r.inEngine).map((r) => r.dataAddr ?? "").sort();

  beforeAll(async () => {
    for (let i = 0; i < 4; i++) {
      apps.push(spawn(process.execPath, [APP], { env: { ...process.env, PORT: String(29900 + i) }, stdio: "ignore" }));
      await waitFor(`the app on ${addr(i)}`, async () => (await fetch(`http://${addr(i)}/api/health`).catch(() => null))?.status === 200, 10_000, 50);
    }
    ({ panel, cookie, browser } = await startPanelWithBrowser({ admin: ADMIN, panelPorts: [3400, 3409], balancerPorts: [18494, 18499], portRange: "29910-29919" }));
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
    for (const a of apps) a.kill();
  });

  it("created in the form with three endpoints: the page shows where they come from, no slider, no restart or remove", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services`);
    await page.getByRole("button", { name: "New service" }).click();
    const form = page.getByTestId("service-form");
    await form.locator('input[name="name"]').fill("pool");
    await form.locator('select[name="runtime"]').selectOption("external");
    // no image, command, count or limits for instances the panel does not start
    expect(await form.locator('input[name="replicas"]').count()).toBe(0);
    expect(await form.locator('input[name="command"]').count()).toBe(0);
    // a scheme is refused on its row before anything is sent
    await form.getByLabel("endpoint 1", { exact: true }).fill(`http://${addr(0)}`);
    await form.getByRole("button", { name: "Create service" }).click();
    await form.getByText(/^endpoint 1: .*no scheme/).waitFor();
    await form.getByLabel("endpoint 1", { exact: true }).fill(addr(0));
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await form.getByLabel("endpoint 2", { exact: true }).fill(addr(1));
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await form.getByLabel("endpoint 3", { exact: true }).fill(addr(2));
    await form.getByLabel("Health path").fill("/api/health");
    await form.getByLabel("Expected status").fill("200");
    await form.getByTestId("service-form-endpoints").screenshot({ path: path.join(screenshotDir(), "external-form-endpoints.png") });
    await form.getByRole("button", { name: "Create service" }).click();
    await page.waitForURL(/\/services\/[a-z0-9]+/, { timeout: 30_000 });

    svc = (await until("pool with its 3 endpoints in rotation", pool, (s) => readyAddrs(s).length === 3, 60_000))!;
    expect(svc.endpoints).toEqual([addr(0), addr(1), addr(2)]);
    expect(readyAddrs(svc)).toEqual([addr(0), addr(1), addr(2)]);

    await page.getByText("external: 3 addresses").first().waitFor();
    const source = page.getByTestId("instance-source");
    expect(await source.getByRole("list", { name: "endpoints" }).locator("li").allTextContents()).toEqual([addr(0), addr(1), addr(2)]);
    expect(await page.locator('input[type="range"]').count()).toBe(0);
    const first = svc.instances.find((r) => r.dataAddr === addr(0))!;
    const card = page.getByTestId("replica-card").filter({ hasText: first.id });
    await card.getByRole("button", { name: `More actions for replica ${first.id}` }).click();
    await card.getByRole("button", { name: `Drain replica ${first.id}` }).waitFor();
    expect(await card.getByRole("button", { name: `Restart replica ${first.id}` }).count()).toBe(0);
    expect(await card.getByRole("button", { name: `Remove replica ${first.id}` }).count()).toBe(0);
    await source.screenshot({ path: path.join(screenshotDir(), "external-instances.png") });
    await page.screenshot({ path: path.join(screenshotDir(), "external-service-page.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await source.screenshot({ path: path.join(screenshotDir(), "external-instances-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
  }, 180_000);

  it("the list edited in the form (one removed, one added) is followed", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services`);
    const card = page.getByTestId("service-card").filter({ has: page.getByTestId("service-source").filter({ hasText: "external: 3 addresses" }) });
    await card.getByRole("button", { name: "Edit" }).click();
    const form = page.getByTestId("service-form");
    await form.getByRole("button", { name: "Remove endpoint 1" }).click();
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await form.getByLabel("endpoint 3", { exact: true }).fill(addr(3));
    await form.getByRole("button", { name: "Save changes" }).click();
    const after = await until("addr 3 in, addr 0 out", pool, (s) => readyAddrs(s).join(" ") === [addr(1), addr(2), addr(3)].join(" ") && s!.instances.length === 3, 60_000);
    expect(after!.endpoints).toEqual([addr(1), addr(2), addr(3)]);
  }, 120_000);

  it("at 390 px the form's endpoints and the service page fit without sideways scrolling", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.goto(`${panel.url}/services/${svc.id}`);
      await phone.page.getByTestId("instance-source").waitFor();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await phone.page.getByTestId("instance-source").screenshot({ path: path.join(screenshotDir(), "external-instances-phone.png") });
      await phone.page.goto(`${panel.url}/services`);
      await phone.page.getByRole("button", { name: "New service" }).click();
      const form = phone.page.getByTestId("service-form");
      await form.locator('select[name="runtime"]').selectOption("external");
      await form.getByLabel("endpoint 1", { exact: true }).fill("api-1.internal.example:8080");
      await form.getByRole("button", { name: "Add endpoint" }).click();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await form.locator('select[name="runtime"]').selectOption("docker");
      await form.locator('select[name="dockerSource"]').selectOption("discover");
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await form.getByTestId("service-form-discover").screenshot({ path: path.join(screenshotDir(), "external-form-discover-phone.png") });
    } finally {
      await phone.close();
    }
  }, 120_000);
});
