/**
 * A rollout's progress in Chromium (issue 16, part 2), against the real panel with the
 * demo service "web" (3 process replicas) under the panel's own traffic generator:
 * started from the service page's Rollout card (canary 50 %, a new environment), the card
 * shows its step running with the traffic split and the gate's figures, then promoted;
 * the steps are markers (R) on the charts; both themes and 390 px without sideways
 * scrolling (screenshots rollout-card, rollout-card-dark, phone-rollout-card);
 * the panel stopped mid-rollout (its balancer and replicas keep serving) and started again
 * on the same data goes on from the recorded step and promotes, without starting it over.
 *
 * Panels 3460-3469, replicas 32500-32699, the balancer on a free one of 18551-18559.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { hasChromium } from "@/tests/helpers/browser";
import { needs } from "@/tests/helpers/requirements";
import { until as untilShared } from "@/tests/helpers/load";
import { demoServiceReady } from "@/tests/helpers/demo-service";
import { browserSignedIn, pageWidth, shootCard } from "@/tests/helpers/panel-browser";

const ADMIN = { username: "rosa", password: "rollout e2e password" };
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000) => untilShared(what, read, check, timeoutMs, 200);

let panel: Panel;
let cookie: string;
let serviceId: string;
let balancerPort: string;


describe.skipIf(needs("chromium", hasChromium() ? null : "apt-get install chromium"))("a rollout's progress on the service page (Chromium)", () => {
  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(3460, 3469),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: (balancerPort = String(await findFreePort(18551, 18559))), PORT_RANGE: "32500-32699" },
    });
    cookie = await panel.login(ADMIN.username, ADMIN.password);
    serviceId = await demoServiceReady(panel, cookie);
  }, 300_000);

  afterAll(async () => {
    await panel?.stop();
  }, 60_000);

  it("started from the card: the step running with its split and gate figures, then promoted, markers on the charts; both themes, 390 px", async () => {
    const traffic = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: { rps: 30, clients: 4, durationS: 120 } });
    expect(traffic.status, await traffic.clone().text()).toBe(200);
    const browser = await browserSignedIn(panel, cookie, { width: 1280, height: 900 }, `/services/${serviceId}`);
    try {
      const page = browser.page;
      await page.getByTestId("rollout-card").waitFor();
      expect(await page.getByTestId("rollout-state").getAttribute("data-state")).toBe("none");
      await page.getByTestId("rollout-new").click();
      await page.getByTestId("rollout-weights").fill("50");
      await page.getByTestId("rollout-hold").fill("8");
      await page.getByTestId("rollout-min-requests").fill("20");
      await page.getByTestId("rollout-env").fill("GREETING=v2");
      await page.getByTestId("rollout-start").click();

      // running: the step holds with the new version's share of traffic, the gate's figures of both versions
      await until("the step holding with a split", async () => ({ state: await page.getByTestId("rollout-state").getAttribute("data-state"), split: Number(await page.getByTestId("rollout-split").getAttribute("data-new")) }), (v) => v.state === "running" && v.split > 30, 60_000);
      await page.getByTestId("rollout-steps").locator('li[data-status="current"]').first().waitFor();
      await page.getByTestId("rollout-gate").waitFor({ timeout: 20_000 });
      const gateText = (await page.getByTestId("rollout-gate").textContent()) ?? "";
      console.log(`[rollout e2e] while holding: ${gateText}`);
      expect(gateText).toMatch(/new\d+/);
      await shootCard(page, "rollout-card", "rollout-card");

      // promoted: every step done, the new version at 100 %
      await until("promoted", () => page.getByTestId("rollout-state").getAttribute("data-state"), (s) => s === "promoted", 90_000);
      expect(await page.getByTestId("rollout-steps").locator('li[data-status="done"]').count()).toBe(2);
      expect(await page.getByTestId("rollout-split").getAttribute("data-new")).toBe("100");
      expect(await page.getByTestId("rollout-gate").getAttribute("data-verdict")).toBe("pass");
      // every step change is an event: R markers on the charts
      const markers = page.getByTestId("chart-rps").locator('[data-testid="chart-marker"][data-kind="rollout"]');
      await until("rollout markers on the requests chart", () => markers.count(), (n) => n >= 1, 15_000);
      console.log(`[rollout e2e] marker: ${await markers.first().getAttribute("title")}`);
      // the API agrees: the service runs the new environment
      const svc = (await (await panel.request(`/api/services/${serviceId}`, { cookie })).json()) as { service: { env: Record<string, string> } };
      expect(svc.service.env).toEqual({ GREETING: "v2" });

      await page.emulateMedia({ colorScheme: "dark" });
      await shootCard(page, "rollout-card", "rollout-card-dark");
      await page.emulateMedia({ colorScheme: "light" });
      await page.setViewportSize({ width: 390, height: 844 });
      await until("the page to fit 390 px", () => pageWidth(page), (w) => w <= 390, 5000);
      await shootCard(page, "rollout-card", "phone-rollout-card");
    } finally {
      await browser.close();
    }
  }, 200_000);
  it("the panel restarting during a rollout goes on from its recorded step (the replicas keep serving meanwhile)", async () => {
    const traffic = { rps: 30, clients: 4, durationS: 120 };
    expect((await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: traffic })).status).toBe(200);
    const res = await panel.request(`/api/services/${serviceId}/rollouts`, { method: "POST", cookie, json: { strategy: "canary", weights: [20, 60], holdS: 5, env: { GREETING: "v3" }, gates: { minRequests: 20 } } });
    expect(res.status, await res.clone().text()).toBe(200);
    const id = ((await res.json()) as { rollout: { id: string } }).rollout.id;
    const read = async () => ((await (await panel.request(`/api/services/${serviceId}/rollouts/${id}`, { cookie })).json()) as { rollout: { state: string; step: number } }).rollout;
    await until("the second step", read, (v) => v.step >= 1, 60_000);
    const before = await read();
    // the panel stops (the balancer and replicas keep serving) and starts again on the same data
    const dataDir = panel.dataDir;
    const port = panel.port;
    await panel.stop({ keepRunning: true });
    panel = await startPanel({ port, dataDir, startTimeoutMs: 170_000, env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: balancerPort, PORT_RANGE: "32500-32699" } });
    cookie = await panel.login(ADMIN.username, ADMIN.password);
    const after = await read();
    console.log(`[rollout e2e] before the restart: ${before.state} step ${before.step + 1}; after: ${after.state} step ${after.step + 1}`);
    expect(after.step).toBeGreaterThanOrEqual(before.step);
    expect((await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: traffic })).status).toBe(200);
    const done = await until("promoted after the restart", read, (v) => v.state === "promoted", 90_000);
    expect(done.state).toBe("promoted");
    // step 1 began once: the restarted panel did not start the rollout over
    const events = (await (await panel.request(`/api/events?service=${serviceId}&kind=rollout.step&limit=200`, { cookie })).json()) as { events: { message: string }[] };
    const firstStep = events.events.filter((e) => e.message.startsWith("rollout step 1 of 2"));
    console.log(`[rollout e2e] "rollout step 1 of 2" events: ${firstStep.length}`);
    expect(firstStep.length).toBe(1);
  }, 300_000);
});
