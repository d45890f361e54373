/**
 * The autoscaler in Chromium (issue 16, part 1), against the real panel with the demo
 * service "web" (3 process replicas) under the panel's own traffic generator:
 *
 * - turned on through the API (target 5 req/s per replica, 1-4 replicas, the 30 s demo
 *   window), it scales web up under 40 req/s: an AS marker on the desired/ready chart
 *   whose title is the decision's reason, the decision listed on the Autoscaling card;
 * - moving the slider in the page pauses it: the card says who paused it, with Resume,
 *   and Resume runs it again;
 * - alerts (part 3): a rule "the autoscaler at its maximum" fires to a webhook receiver
 *   in the test (127.0.0.1:18549); Settings shows it firing and in the history;
 * - both themes and 390 px without sideways scrolling (screenshots autoscale-card,
 *   autoscale-card-paused, autoscale-card-dark, autoscale-desired-ready, phone-autoscale-card).
 *
 * Panels 3450-3459, replicas 32200-32399, the balancer on a free one of 18541-18548, the receiver 18549.
 */
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { hasChromium, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { needs } from "@/tests/helpers/requirements";
import { until as untilShared } from "@/tests/helpers/load";
import { demoServiceReady } from "@/tests/helpers/demo-service";
import { browserSignedIn, pageWidth, shootCard } from "@/tests/helpers/panel-browser";

const ADMIN = { username: "asha", password: "autoscale e2e password" };
/** the local webhook receiver of the alerts step */
const RECEIVER = 18549;
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000) => untilShared(what, read, check, timeoutMs, 200);

let panel: Panel;
let cookie: string;
let serviceId: string;

async function signedIn(viewport: { width: number; height: number }): Promise<LaunchedBrowser> {
  const browser = await browserSignedIn(panel, cookie, viewport, `/services/${serviceId}`);
  await browser.page.getByTestId("autoscale-card").waitFor();
  return browser;
}


describe.skipIf(needs("chromium", hasChromium() ? null : "apt-get install chromium"))("autoscaling in the browser: markers, the card, the slider's pause (Chromium)", () => {
  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(3450, 3459),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(await findFreePort(18541, 18548)), PORT_RANGE: "32200-32399" },
    });
    cookie = await panel.login(ADMIN.username, ADMIN.password);
    serviceId = await demoServiceReady(panel, cookie);
  }, 300_000);

  afterAll(async () => {
    await panel?.stop();
  }, 60_000);

  it("at 1280 px: the autoscaler's decision is a marker with its reason and a line on the card; the slider pauses it, Resume runs it; both themes", async () => {
    const traffic = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: { rps: 40, clients: 4, durationS: 300 } });
    expect(traffic.status, await traffic.clone().text()).toBe(200);
    const put = await panel.request(`/api/services/${serviceId}/autoscale`, {
      method: "PUT",
      cookie,
      json: { enabled: true, minReplicas: 1, maxReplicas: 4, windowS: 30, targets: [{ metric: "rps", value: 5 }] },
    });
    expect(put.status, await put.clone().text()).toBe(200);

    const browser = await signedIn({ width: 1280, height: 900 });
    try {
      const page = browser.page;
      expect(await page.getByTestId("autoscale-state").getAttribute("data-state")).toBe("on");
      // 40 req/s over 3 replicas is about 13 each, 2.7 × the target: up to the maximum 4, once they count (ready 30 s)
      const marker = page.getByTestId("chart-desired-ready").locator('[data-testid="chart-marker"][data-kind="autoscale"]');
      await marker.first().waitFor({ timeout: 90_000 });
      const title = (await marker.first().getAttribute("title")) ?? "";
      console.log(`[autoscale e2e] marker: ${title}`);
      expect(title).toMatch(/autoscaler scaled web: rps\/replica [\d.]+ req\/s > target 5 req\/s: 3 → 4/);
      // the same marker on the other charts, and the decision on the card
      expect(await page.getByTestId("chart-rps").locator('[data-testid="chart-marker"][data-kind="autoscale"]').count()).toBeGreaterThanOrEqual(1);
      await page.getByTestId("autoscale-decision").first().getByText("3 → 4", { exact: true }).waitFor();
      await page.getByTestId("autoscale-status").getByText(/Last check:/).waitFor({ timeout: 15_000 });
      await page.getByTestId("scale-autoscaling").waitFor();
      // the desired line reaches 4, then the ready one
      await until("4 desired and 4 ready in the chart's legend", () => page.getByTestId("chart-desired-ready").locator("li").allTextContents(), (t) => t.join("|").includes("desired4") && t.join("|").includes("ready (in rotation)4"), 60_000);
      await shootCard(page, "autoscale-card", "autoscale-card");
      await page.getByTestId("chart-desired-ready").screenshot({ path: path.join(screenshotDir(), "autoscale-desired-ready.png") });

      // a person moves the slider (one step down) and applies: the autoscaler pauses
      const slider = page.getByRole("slider", { name: "desired replicas" });
      await until("the slider unlocked", () => page.getByTestId("scale-control").getAttribute("data-locked"), (v) => v === "false", 60_000);
      await slider.focus();
      await page.keyboard.press("ArrowLeft");
      await page.getByRole("alertdialog", { name: "confirm scaling" }).getByText(/The autoscaler pauses until resumed/).waitFor();
      await page.getByRole("alertdialog", { name: "confirm scaling" }).getByRole("button", { name: "Apply" }).click();
      const paused = page.getByTestId("autoscale-paused");
      await paused.waitFor({ timeout: 15_000 });
      expect(await paused.textContent()).toMatch(new RegExp(`Paused: ${ADMIN.username} moved the slider`));
      expect(await page.getByTestId("autoscale-state").getAttribute("data-state")).toBe("paused");
      await until("3 desired", () => page.getByTestId("desired-replicas").textContent(), (t) => t === "3");
      await shootCard(page, "autoscale-card", "autoscale-card-paused");

      await page.emulateMedia({ colorScheme: "dark" });
      await shootCard(page, "autoscale-card", "autoscale-card-dark");
      await page.emulateMedia({ colorScheme: "light" });

      await page.getByTestId("autoscale-resume").click();
      await until("the card on again", () => page.getByTestId("autoscale-state").getAttribute("data-state"), (s) => s === "on", 15_000);
      expect(await paused.count()).toBe(0);
      const events = (await (await panel.request(`/api/events?service=${serviceId}&kind=autoscale`, { cookie })).json()) as { events: { kind: string; actor: string }[] };
      expect(events.events.map((e) => e.kind)).toEqual(expect.arrayContaining(["autoscale.updated", "autoscale.scaled", "autoscale.paused", "autoscale.resumed"]));
    } finally {
      await browser.close();
    }
  }, 240_000);

  it("alerts: the autoscaler at its maximum fires to a local webhook, shown on Settings with its history, both themes, 390 px", async () => {
    const received: string[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(RECEIVER, "127.0.0.1", resolve));
    try {
      const put = await panel.request("/api/alerts", {
        method: "PUT",
        cookie,
        json: { webhook: { url: `http://127.0.0.1:${RECEIVER}/hook` }, rules: [{ id: "atmax", kind: "autoscaler_at_max", serviceId, forS: 2, resolveS: 5 }, { id: "down", kind: "replica_down", forS: 5, resolveS: 10 }] },
      });
      expect(put.status, await put.clone().text()).toBe(200);
      // still 40 req/s for a target of 5 over 4 replicas: it wants 7 or 8 and stays at 4
      const firing = await until("a firing alert at the receiver", async () => received.find((b) => b.includes('"firing"')) ?? null, (b) => b !== null, 30_000);
      expect(JSON.parse(firing!)).toMatchObject({ version: 1, status: "firing", alert: { rule: { id: "atmax", kind: "autoscaler_at_max" }, service: { id: serviceId, name: "web" } } });

      const browser = await browserSignedIn(panel, cookie, { width: 1280, height: 900 }, "/settings");
      try {
        const page = browser.page;
        await page.getByTestId("alerts-firing").getByText(/web's autoscaler is at its maximum 4 and wants \d+/).waitFor();
        await page.getByTestId("alerts-history").getByText(/alert firing: web's autoscaler is at its maximum 4/).first().waitFor();
        await page.getByTestId("alerts-history").getByText(/delivered to the webhook \(attempt 1, status 204\)/).first().waitFor();
        expect(await page.getByTestId("alert-rule").count()).toBe(2);
        const panelCard = page.getByTestId("alerts-panel").locator("xpath=ancestor::section[1]");
        await page.addStyleTag({ content: "header { position: static !important; }" });
        await panelCard.scrollIntoViewIfNeeded();
        await panelCard.screenshot({ path: path.join(screenshotDir(), "alerts-panel.png") });
        await page.emulateMedia({ colorScheme: "dark" });
        await panelCard.screenshot({ path: path.join(screenshotDir(), "alerts-panel-dark.png") });
        await page.setViewportSize({ width: 390, height: 844 });
        await page.emulateMedia({ colorScheme: "light" });
        await until("the page to fit 390 px", () => pageWidth(page), (w) => w <= 390, 5000);
        await panelCard.screenshot({ path: path.join(screenshotDir(), "phone-alerts-panel.png") });
      } finally {
        await browser.close();
      }
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  }, 120_000);

  it("at 390 px: the card and the charts without sideways scrolling", async () => {
    const browser = await signedIn({ width: 390, height: 844 });
    try {
      const page = browser.page;
      await page.getByTestId("chart-desired-ready").waitFor();
      expect(await pageWidth(page)).toBeLessThanOrEqual(390);
      await shootCard(page, "autoscale-card", "phone-autoscale-card");
      await page.emulateMedia({ colorScheme: "dark" });
      await shootCard(page, "autoscale-card", "phone-autoscale-card-dark");
      expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
