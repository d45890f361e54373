/**
 * End to end in a real browser against the real panel (npm start on a fresh data
 * folder, process runtime, ENGINE auto: HAProxy when installed), with the demo
 * service "web" and its 3 replicas: scale 3→5 with the slider, traffic reaches
 * every replica, a memory-stressed replica leaves rotation without failed
 * requests and comes back after Clear (sent to its admin address), scale back
 * to 2, and a viewer sees the page without any action.
 * Panel ports 3120-3139 (HAProxy) / 3600-3604 (nginx: its own, so two runs side by side never race
 * for a free port), replicas 23200-23399 (HAProxy) / 23400-23599 (nginx).
 *
 * The suite runs once per engine (dashboard.test.ts: HAProxy or builtin, as ENGINE=auto
 * picks; dashboard-nginx.test.ts: nginx). nginx reloads on membership changes and prober
 * verdicts, which can cost keep-alive clients a request now and then: for nginx the
 * traffic generator may lose at most 1 % of its requests; HAProxy must lose none.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { io as connectSocket, type Socket } from "socket.io-client";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { launchBrowser, screenshot, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";

export type DashboardSuiteOptions = {
  /** ENGINE for the panel; undefined = the default (auto) */
  engine?: "nginx" | "haproxy" | "builtin";
  portRange: string;
  /** the panel's port, the first free one in [from, to] (docs/TESTING.md) */
  panelPorts: [number, number];
  balancerPort?: number;
  /** share of traffic-generator requests allowed to fail (nginx reloads) */
  maxFailedRatio: number;
  /** screenshot names are prefixed with this ("" for the README's pictures) */
  shotPrefix: string;
};

export function dashboardSuite(opts: DashboardSuiteOptions): void {
  const expectFailedWithin = (c: { sent: number; failed: number }) => {
    if (c.failed > 0) console.log(`[dashboard${opts.engine ? `/${opts.engine}` : ""}] traffic generator: ${c.failed} of ${c.sent} failed`);
    expect(c.failed).toBeLessThanOrEqual(Math.floor(c.sent * opts.maxFailedRatio));
  };

  const ADMIN = { username: "admin", password: "dashboard admin pw" };
  const VIEWER = { username: "vera-viewer", password: "viewer password 2" };

  let panel: Panel;
  let browser: LaunchedBrowser;
  let adminCookie: string;
  let serviceId: string;

  type CardInfo = { id: string; state: string; inRotation: boolean; rps: number; share: number; health: string };

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** What the replica cards say right now (their data attributes). */
  async function cards(page: Page): Promise<CardInfo[]> {
    return page.$$eval('[data-testid="replica-card"]', (els) =>
      els.map((el) => {
        const d = (el as HTMLElement).dataset;
        return { id: d.replicaId ?? "", state: d.state ?? "", inRotation: d.inRotation === "true", rps: Number(d.rps), share: Number(d.share), health: d.health ?? "" };
      }),
    );
  }

  /** Poll the page every 250 ms until `check` holds; the message and the last value say what was expected when it does not. */
  const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);

  async function trafficCounts(page: Page) {
    const n = async (id: string) => Number((await page.getByTestId(id).textContent())?.trim() ?? "NaN");
    return { sent: await n("traffic-sent"), ok: await n("traffic-ok"), failed: await n("traffic-failed") };
  }

  /** A full-page picture from the top (the sticky header would otherwise sit mid-page). */
  async function shot(page: Page, name: string) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await sleep(200);
    return screenshot(page, name);
  }

  async function scaleWithSlider(page: Page, from: number, to: number) {
    await until("the slider to unlock", () => page.getByTestId("scale-control").getAttribute("data-locked"), (v) => v === "false");
    await page.getByLabel("desired replicas").fill(String(to));
    const confirm = page.getByRole("alertdialog", { name: "confirm scaling" });
    await confirm.getByText(`Scale web from ${from} to ${to} replicas?`).waitFor();
    await confirm.getByRole("button", { name: "Apply" }).click();
    await until("the desired count to change", () => page.getByTestId("desired-replicas").textContent(), (v) => v?.trim() === String(to), 10_000);
  }

  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(...opts.panelPorts),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, PORT_RANGE: opts.portRange, ...(opts.engine ? { ENGINE: opts.engine } : {}), ...(opts.balancerPort ? { BALANCER_PORT: String(opts.balancerPort) } : {}) },
    });
    adminCookie = await panel.login(ADMIN.username, ADMIN.password);
    // the demo service exists on a fresh panel; wait until its 3 replicas are ready
    const web = await until(
      "the demo service web with 3 ready replicas",
      async () => {
        const res = await panel.request("/api/services", { cookie: adminCookie });
        const { services } = (await res.json()) as { services: { id: string; name: string; instances: { state: string }[] }[] };
        return services.find((s) => s.name === "web") ?? null;
      },
      (s) => s !== null && s.instances.filter((r) => r.state === "ready").length === 3,
      90_000,
    );
    serviceId = web!.id;
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    await browser.context.addCookies([{ name: "sy_session", value: adminCookie.split("=")[1], url: panel.url }]);
  });

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  describe(`the live dashboard in a browser${opts.engine ? ` (${opts.engine})` : ""}`, () => {
    it("lists the demo service with its replicas and route", async () => {
      const { page } = browser;
      await page.goto(`${panel.url}/services`);
      const card = page.locator('[data-testid="service-card"][data-service="web"]');
      await card.waitFor();
      await until("web to show 3 of 3 in rotation", () => card.getByTestId("service-replicas").textContent(), (t) => /3 in rotation of 3 desired/.test(t ?? ""), 15_000);
      await page.getByRole("button", { name: "New service" }).waitFor();
    });

    it("the New service form validates with the API's schema before sending", async () => {
      const { page } = browser;
      await page.getByRole("button", { name: "New service" }).click();
      const form = page.getByTestId("service-form");
      await form.locator('input[name="name"]').fill("Bad_Name");
      await form.locator('input[name="adminPort"]').fill("8000");
      await form.getByRole("button", { name: "Create service" }).click();
      await form.getByText("a DNS label", { exact: false }).waitFor();
      await form.getByText("the data and admin ports must differ").waitFor();
      await form.getByRole("button", { name: "Cancel" }).click();
    });

    it("scales web from 3 to 5 with the slider and sees five replicas in rotation", async () => {
      const { page } = browser;
      await page.goto(`${panel.url}/services/${serviceId}`);
      await until("3 replicas in rotation", () => cards(page), (c) => c.length === 3 && c.every((r) => r.inRotation));
      await scaleWithSlider(page, 3, 5);
      const five = await until("5 replicas in rotation", () => cards(page), (c) => c.length === 5 && c.every((r) => r.inRotation), 60_000);
      expect(new Set(five.map((c) => c.id)).size).toBe(5);
      await until("the slider to unlock", () => page.getByTestId("scale-control").getAttribute("data-locked"), (v) => v === "false", 10_000);
      await page.getByTestId("event-list").getByText("admin scaled web from 3 to 5 replicas").waitFor();
    });

    it("starts traffic from the page and every replica serves some of it", async () => {
      const { page } = browser;
      await page.locator('input[name="traffic-rps"]').fill("80");
      await page.locator('input[name="traffic-clients"]').fill("6");
      await page.locator('input[name="traffic-duration"]').fill("240");
      await page.getByRole("button", { name: "Start traffic" }).click();
      await page.getByRole("button", { name: "Stop traffic" }).waitFor();
      await until("requests/s above zero on every replica", () => cards(page), (c) => c.length === 5 && c.every((r) => r.rps > 0), 20_000);
      await until("the client × replica table", () => page.getByTestId("client-row").count(), (n) => n === 6, 10_000);
      // let the charts fill before the pictures
      await sleep(25_000);
      const counts = await trafficCounts(page);
      expect(counts.sent).toBeGreaterThan(0);
      expectFailedWithin(counts);
      await shot(page, opts.shotPrefix + "service-under-load");
      await page.emulateMedia({ colorScheme: "dark" });
      await shot(page, opts.shotPrefix + "service-under-load-dark");
      await page.emulateMedia({ colorScheme: "light" });

      // the list under load: live requests/s per service
      await page.goto(`${panel.url}/services`);
      const card = page.locator('[data-testid="service-card"][data-service="web"]');
      await until("web to show 5 of 5 in rotation", () => card.getByTestId("service-replicas").textContent(), (t) => /5 in rotation of 5 desired/.test(t ?? ""), 15_000);
      await sleep(2000);
      await shot(page, opts.shotPrefix + "services-list");
      await page.goto(`${panel.url}/services/${serviceId}`);
      await until("the traffic still flowing to every replica", () => cards(page), (c) => c.length === 5 && c.every((r) => r.rps > 0), 15_000);
    });

    it("a replica stressed past its memory threshold leaves rotation with no failed request; Clear brings it back", async () => {
      const { page } = browser;
      const victim = (await cards(page))[0].id;
      const card = page.locator(`[data-testid="replica-card"][data-replica-id="${victim}"]`);
      await card.getByRole("button", { name: "More actions" }).click();
      await card.getByLabel("memory to allocate (MB)").fill("230");
      await card.getByRole("button", { name: "Stress memory" }).click();
      await card.getByTestId("action-result").getByText("holding 230 MB", { exact: false }).waitFor({ timeout: 10_000 });
      const stressedAt = Date.now();

      // within a few seconds the balancer isolates it: down, 0% share; the others keep serving
      const isolated = await until(
        "the stressed replica to be down with 0% share",
        () => cards(page),
        (c) => {
          const v = c.find((r) => r.id === victim);
          return v !== undefined && v.state === "down" && v.share === 0 && c.filter((r) => r.id !== victim).every((r) => r.inRotation && r.rps > 0);
        },
        15_000,
      );
      expect(Date.now() - stressedAt).toBeLessThan(10_000);
      expect(isolated.find((r) => r.id === victim)?.health).toBe("down");
      await card.getByTestId("isolated-note").getByText("Clear still reaches it directly on its admin address", { exact: false }).waitFor();
      expectFailedWithin(await trafficCounts(page));
      await sleep(3000); // a few seconds of isolation on the charts
      expect((await cards(page)).find((r) => r.id === victim)?.share).toBe(0);
      await shot(page, opts.shotPrefix + "service-replica-isolated");

      // Clear goes to its admin address even though the balancer isolates it
      await card.getByRole("button", { name: `Clear replica ${victim}`, exact: true }).click();
      await card.getByTestId("action-result").getByText("cleared: released", { exact: false }).waitFor({ timeout: 10_000 });
      await until("the cleared replica back in rotation and serving", () => cards(page), (c) => c.find((r) => r.id === victim)?.inRotation === true && (c.find((r) => r.id === victim)?.rps ?? 0) > 0, 20_000);
      expectFailedWithin(await trafficCounts(page));
    });

    it("shows reconnecting when the live channel drops, and catches up the missed seconds when back", async () => {
      const { page, context } = browser;
      const dash = page.getByTestId("service-dashboard");
      const connection = page.getByTestId("connection-state").first();
      type Ring = { points: number; first: number; last: number };
      /** The page's 1-second ring (at most 300 points), read in one go. */
      const pageRing = (): Promise<Ring> =>
        dash.evaluate((el) => {
          const d = (el as HTMLElement).dataset;
          return { points: Number(d.historyPoints), first: Number(d.firstTick), last: Number(d.lastTick) };
        });
      // The server's ring, as a browser watching web gets it (the last 300 seconds), on a socket of our own that stays online.
      const socket: Socket = connectSocket(panel.url, { transports: ["websocket"], extraHeaders: { cookie: adminCookie, origin: panel.url } });
      const serverRing = async (): Promise<Ring> => {
        const ack = (await socket.timeout(10_000).emitWithAck("watch", { serviceId })) as { snapshot?: { history?: { t: number }[] } };
        const ticks = ack.snapshot?.history ?? [];
        return { points: ticks.length, first: ticks[0]?.t ?? NaN, last: ticks[ticks.length - 1]?.t ?? NaN };
      };
      try {
        expect(await connection.getAttribute("data-state")).toBe("live");
        const before = await pageRing();
        await context.setOffline(true);
        try {
          await until("the page to say it is reconnecting", () => connection.getAttribute("data-state"), (s) => s === "reconnecting", 15_000);
          // seconds the page misses: 5 or more, far fewer than the 300 it keeps
          await until("5 seconds on the server that the offline page has not seen", serverRing, (r) => r.last >= before.last + 5000, 30_000);
        } finally {
          await context.setOffline(false);
        }
        await until("the live channel back", () => connection.getAttribute("data-state"), (s) => s === "live", 20_000);
        // The snapshot on re-watch fills the seconds missed while offline: at the same last second the
        // page holds exactly the server's ring (same first second, same number of points), whether
        // or not the 300 points are full. A hole would show as an older first second or fewer points.
        const both = await until(
          "the page's ring to equal the server's at the same second",
          async () => ({ page: await pageRing(), server: await serverRing() }),
          ({ page: p, server: s }) => p.last === s.last && p.first === s.first && p.points === s.points,
          20_000,
        );
        console.log(`[dashboard${opts.engine ? `/${opts.engine}` : ""}] after the outage the page holds ${both.page.points} points, ${(both.page.last - before.last) / 1000} s past the last one before it, as the server does`);
        expect(both.page.last).toBeGreaterThanOrEqual(before.last + 5000);
      } finally {
        socket.close();
      }
      expectFailedWithin(await trafficCounts(page));
    });

    it("scales back to 2: the others drain and go, still without failed requests", async () => {
      const { page } = browser;
      await scaleWithSlider(page, 5, 2);
      let sawDraining = false;
      await until(
        "two replicas left, both in rotation",
        async () => {
          const c = await cards(page);
          if (c.some((r) => r.state === "draining" || r.state === "stopping")) sawDraining = true;
          return c;
        },
        (c) => c.length === 2 && c.every((r) => r.inRotation),
        90_000,
      );
      expect(sawDraining).toBe(true);
      await until("the traffic to be served by the two", () => cards(page), (c) => c.length === 2 && c.every((r) => r.rps > 0), 15_000);
      expectFailedWithin(await trafficCounts(page));
      await page.getByRole("button", { name: "Stop traffic" }).click();
      await page.getByRole("button", { name: "Start traffic" }).waitFor();
    });

    it("the Rules tab holds the service's rules editor", async () => {
      const { page } = browser;
      await page.getByRole("tab", { name: "Rules" }).click();
      await page.getByTestId("rules-editor").waitFor();
      expect(new URL(page.url()).hash).toBe("#rules");
      await page.getByRole("tab", { name: "Live" }).click();
      await page.getByTestId("replica-grid").waitFor();
    });

    it("a viewer sees the page but no action buttons, and the API refuses actions", async () => {
      const created = await panel.request("/api/users", { method: "POST", cookie: adminCookie, json: { ...VIEWER, role: "viewer" } });
      expect(created.status).toBe(201);
      const viewerCookie = await panel.login(VIEWER.username, VIEWER.password);

      const viewer = await launchBrowser({ viewport: { width: 1280, height: 900 } });
      try {
        await viewer.context.addCookies([{ name: "sy_session", value: viewerCookie.split("=")[1], url: panel.url }]);
        const page = viewer.page;
        await page.goto(`${panel.url}/services`);
        await page.locator('[data-testid="service-card"][data-service="web"]').waitFor();
        expect(await page.getByRole("button", { name: "New service" }).count()).toBe(0);
        expect(await page.getByRole("button", { name: "Edit" }).count()).toBe(0);
        expect(await page.getByRole("button", { name: "Delete" }).count()).toBe(0);

        await page.goto(`${panel.url}/services/${serviceId}`);
        const seen = await until("the viewer to see 2 replicas in rotation", () => cards(page), (c) => c.length === 2 && c.every((r) => r.inRotation), 15_000);
        expect(seen).toHaveLength(2);
        expect(await page.getByTestId("replica-actions").count()).toBe(0);
        for (const name of ["Clear", "More actions", "Start traffic", "Stop traffic", "Apply"]) {
          expect(await page.getByRole("button", { name }).count(), `button ${name}`).toBe(0);
        }
        // reading is not an action: a viewer reads each replica's logs (issue 12, item 12), secrets replaced by the server
        for (const r of seen) expect(await page.getByRole("button", { name: `Logs of replica ${r.id}`, exact: true }).count(), `Logs of ${r.id}`).toBe(1);
        expect(await page.getByLabel("desired replicas").isDisabled()).toBe(true);
        await shot(page, opts.shotPrefix + "service-viewer");

        const res = await panel.request(`/api/replicas/${seen[0].id}/actions`, { method: "POST", cookie: viewerCookie, json: { action: "clear" } });
        expect(res.status).toBe(403);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
        const scale = await panel.request(`/api/services/${serviceId}`, { method: "PATCH", cookie: viewerCookie, json: { replicas: 4 } });
        expect(scale.status).toBe(403);
        const traffic = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie: viewerCookie, json: {} });
        expect(traffic.status).toBe(403);
      } finally {
        await viewer.close();
      }
    });

    // nginx only: registered only where it runs, so the default engine's run counts no skip
    if (opts.engine === "nginx") it("the Balancer page shows the nginx records the panel counted, and that none were lost", async () => {
      const { page } = browser;
      await page.goto(`${panel.url}/balancer`);
      const lost = page.getByTestId("records-lost");
      await lost.waitFor();
      expect((await lost.textContent())?.trim()).toBe("nginx log records lost: 0");
    });
  });
}
