/**
 * Issue 14, item 2 in Chromium against the real panel (builtin engine): a user's own app
 * (tests/fixtures/user-app, no replica protocol) runs as a process service; its cards
 * offer the faults that need nothing from the app instead of the protocol's Stress/Faults.
 * Pause on a card: the card lists the active fault with its time left, counting down;
 * its Clear undoes it and the list is gone (the API agrees). At 390 px the card, its
 * fault list and its fault controls fit without sideways scrolling. Screenshots in both
 * themes.
 *
 * Panels 3380-3389, listeners 18472-18479, replicas 29200-29399.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { type Panel } from "@/tests/helpers/panel";
import { startPanelWithBrowser } from "@/tests/helpers/panel-browser";
import { hasChromium, launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { needs } from "@/tests/helpers/requirements";
import { readableCopy } from "@/tests/helpers/readable-copy";

const ADMIN = { username: "fiona", password: "faults on the cards pw" };
const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);

type ServiceRow = { id: string; name: string; replicaProtocol: boolean; instances: { id: string; state: string; inEngine: boolean; faults?: { kind: string }[] }[] };

describe.skipIf(needs("chromium", hasChromium() ? null : "no /usr/bin/chromium (apt-get install chromium)"))("faults on the replica cards", () => {
  let panel: Panel;
  let cookie: string;
  let browser: LaunchedBrowser;
  let svc: ServiceRow;

  const service = async () => ((await (await panel.request(`/api/services/${svc.id}`, { cookie })).json()) as { service: ServiceRow }).service;

  beforeAll(async () => {
    ({ panel, cookie, browser } = await startPanelWithBrowser({ admin: ADMIN, panelPorts: [3380, 3389], balancerPorts: [18472, 18479], portRange: "29200-29399" }));
    const created = await panel.request("/api/services", {
      method: "POST",
      cookie,
      json: { name: "todo", command: [process.execPath, await readableCopy(APP)], replicas: 2, rules: { healthCheck: { path: "/api/health", expectStatus: 200 } } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    svc = ((await created.json()) as { service: ServiceRow }).service;
    expect(svc.replicaProtocol).toBe(false);
    svc = await until("todo with 2 replicas in rotation", service, (s) => s.instances.filter((r) => r.state === "ready" && r.inEngine).length === 2, 90_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  it("Pause lists the fault with its time left, counting down; Clear removes it", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services/${svc.id}`);
    const first = svc.instances[0];
    const card = page.getByTestId("replica-card").filter({ hasText: first.id });
    await card.getByRole("button", { name: `More actions for replica ${first.id}` }).click();
    // no replica protocol: the management plane's buttons are not offered, the faults are
    expect(await card.getByRole("button", { name: `Stress memory of replica ${first.id}` }).count()).toBe(0);
    await card.getByRole("button", { name: `Pause replica ${first.id}` }).click();
    const fault = card.getByTestId("active-fault");
    await fault.waitFor();
    expect(await fault.getAttribute("data-kind")).toBe("pause");
    const left = card.getByTestId("fault-time-left");
    const firstText = (await left.textContent()) ?? "";
    expect(firstText).toMatch(/^[45]:\d\d left$/);
    await until("the time left counts down", async () => (await left.textContent()) ?? "", (t) => t !== firstText && /^[45]:\d\d left$/.test(t), 15_000);
    await card.getByRole("button", { name: `Resume replica ${first.id}` }).waitFor();
    await card.screenshot({ path: path.join(screenshotDir(), "faults-card.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await card.screenshot({ path: path.join(screenshotDir(), "faults-card-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });

    await card.getByRole("button", { name: `Clear replica ${first.id}`, exact: true }).click();
    await card.getByTestId("action-result").getByText("cleared: undid pause").waitFor();
    await until("the fault list gone", () => card.getByTestId("active-faults").count(), (n) => n === 0, 15_000);
    const after = (await service()).instances.find((r) => r.id === first.id);
    expect(after?.faults ?? []).toEqual([]);
  }, 120_000);

  it("at 390 px the card with an active fault and the fault controls fit without sideways scrolling", async () => {
    const second = svc.instances[1];
    const paused = await panel.request(`/api/replicas/${second.id}/actions`, { method: "POST", cookie, json: { action: "pause", seconds: 600 } });
    expect(paused.status).toBe(200);
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.goto(`${panel.url}/services/${svc.id}`);
      const card = phone.page.getByTestId("replica-card").filter({ hasText: second.id });
      await card.getByTestId("active-fault").waitFor();
      expect(await card.getByTestId("fault-time-left").textContent()).toMatch(/^(10:00|9:\d\d) left$/);
      await card.getByRole("button", { name: `More actions for replica ${second.id}` }).click();
      await card.getByTestId("fault-actions").waitFor();
      expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await card.screenshot({ path: path.join(screenshotDir(), "faults-card-phone.png") });
      await card.getByRole("button", { name: `Clear replica ${second.id}`, exact: true }).click();
      await until("the fault list gone", () => card.getByTestId("active-faults").count(), (n) => n === 0, 15_000);
    } finally {
      await phone.close();
    }
  }, 120_000);
});
