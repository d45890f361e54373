/**
 * The dashboard tells the truth at a glance (issue 12, items 1, 2, 5 and 7), in Chromium
 * against the real panel with the demo service "web" (3 process replicas):
 *
 * - the traffic generator's 6 clients each reach all 3 replicas under round robin, and
 *   the page says so;
 * - a replica given +300 ms and 30 % errors through its admin API shows both on its
 *   card (errors by class, latency labelled for what it is: HAProxy's average of its
 *   last 1024 requests, or percentiles where the engine has a distribution, the builtin
 *   proxy here) and in the per-replica charts, while the other cards show none;
 * - the stacked errors chart draws no outlines (a zero series drew a line along the
 *   top of the 5xx area);
 * - every page works at 390 px: no sideways scrolling, the header folds into a menu.
 *
 * Panels 3260-3279, replicas 26100-26399, listeners 18350 (ENGINE auto: HAProxy when
 * installed) and 18351 (builtin).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { launchBrowser, screenshot, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { demoServiceReady } from "@/tests/helpers/demo-service";

const ADMIN = { username: "tess", password: "dashboard truth pw" };
const PHONE = { width: 390, height: 844 };
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type CardFigures = { id: string; inRotation: boolean; errorRate: number | null; errorRate5xx: number | null; latencyKind: string; latencyMs: number | null };

/** What the replica cards say about errors and latency right now (their data attributes). */
function cardFigures(page: Page): Promise<CardFigures[]> {
  return page.$$eval('[data-testid="replica-card"]', (els) =>
    els.map((el) => {
      const d = (el as HTMLElement).dataset;
      const num = (v: string | undefined) => (v === undefined || v === "" ? null : Number(v));
      return { id: d.replicaId ?? "", inRotation: d.inRotation === "true", errorRate: num(d.errorRate), errorRate5xx: num(d.errorRate5xx), latencyKind: d.latencyKind ?? "", latencyMs: num(d.latencyMs) };
    }),
  );
}

/** A panel with the demo service's 3 replicas ready, signed in as the admin in a browser of `width`. */
async function panelWithWeb(env: Record<string, string>): Promise<{ panel: Panel; cookie: string; serviceId: string }> {
  const panel = await startPanel({ port: await findFreePort(3260, 3279), startTimeoutMs: 170_000, env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, ...env } });
  try {
    const cookie = await panel.login(ADMIN.username, ADMIN.password);
    return { panel, cookie, serviceId: await demoServiceReady(panel, cookie) };
  } catch (e) {
    await panel.stop();
    throw e;
  }
}

async function signedInBrowser(panel: Panel, cookie: string, viewport = { width: 1280, height: 900 }): Promise<LaunchedBrowser> {
  const browser = await launchBrowser({ viewport });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
  return browser;
}

/** A full-page picture from the top (the sticky header would otherwise sit mid-page). */
async function shot(page: Page, name: string) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(200);
  return screenshot(page, name);
}

/**
 * Faults on the first replica under traffic: its card and the per-replica charts show
 * them, the others stay clean. `latencyKind` is what the engine gives: "average"
 * (HAProxy) or "percentiles" (builtin, nginx).
 */
async function faultsShowOnTheirCard(page: Page, panel: Panel, cookie: string, latencyKind: "average" | "percentiles", shotName: string | null) {
  await until("3 replicas in rotation", () => cardFigures(page), (c) => c.length === 3 && c.every((r) => r.inRotation));
  const victim = (await cardFigures(page))[0].id;
  const res = await panel.request(`/api/replicas/${victim}/actions`, { method: "POST", cookie, json: { action: "faults", latencyMs: 300, errorRate: 0.3 } });
  expect(res.status, await res.clone().text()).toBe(200);

  const seen = await until(
    "the faulty replica's card to show errors and ~300 ms, the others neither",
    () => cardFigures(page),
    (c) => {
      const v = c.find((r) => r.id === victim);
      const others = c.filter((r) => r.id !== victim);
      return (
        v !== undefined &&
        (v.errorRate ?? 0) >= 10 &&
        (v.errorRate5xx ?? 0) >= 10 &&
        (v.latencyMs ?? 0) >= 250 &&
        others.length === 2 &&
        others.every((r) => r.errorRate === 0 && r.latencyMs !== null && r.latencyMs < 100)
      );
    },
    40_000,
  );
  console.log(`[dashboard-truth/${latencyKind}] cards: ${JSON.stringify(seen)}`);
  expect(seen.every((r) => r.latencyKind === latencyKind)).toBe(true);

  const card = page.locator(`[data-testid="replica-card"][data-replica-id="${victim}"]`);
  const quality = card.getByTestId("replica-quality");
  await quality.getByText(/^errors · last \d+ s$/).waitFor();
  await quality.getByText(/^5xx \d/).waitFor();
  if (latencyKind === "average") {
    await quality.getByText("latency · average").waitFor();
    await quality.getByText("avg of last 1024 requests").waitFor();
  } else {
    // a bucketed distribution knows a percentile to its bucket: "250–500 ms"
    await quality.getByText(/^latency p95 · last \d+ s$/).waitFor();
    const p95 = /^(\d+)–(\d+) ms$/.exec((await quality.getByTestId("replica-latency").textContent())?.trim() ?? "");
    expect(p95, "the p95 as a bucket range").not.toBeNull();
    expect(Number(p95![1])).toBeGreaterThanOrEqual(250);
    await quality.getByText(/^p50 \d+–\d+ ms$/).waitFor();
  }

  // the per-replica charts name the victim with a value (legend) and explain what a latency line is
  const errorsChart = page.getByTestId("chart-replica-errors");
  const latencyChart = page.getByTestId("chart-replica-latency");
  await errorsChart.locator("li", { hasText: victim }).waitFor();
  await latencyChart.getByText(latencyKind === "average" ? /^Not percentiles: HAProxy's own average/ : /^Each second's p95 per replica/).waitFor();
  await until("both per-replica charts to draw a line per replica", async () => [await errorsChart.locator('path.sy-line:not([d=""])').count(), await latencyChart.locator('path.sy-line:not([d=""])').count()], ([e, l]) => e === 3 && l === 3, 10_000);

  // the stacked errors chart: areas without outlines, so the zero "connection errors" draws no line on the 5xx area
  const errorsArea = page.getByTestId("chart-errors");
  await until("the errors chart to draw its areas", () => errorsArea.locator("path.sy-area").count(), (n) => n === 3, 10_000);
  const strokes = await errorsArea.locator("path.sy-area").evaluateAll((els) => els.map((el) => el.getAttribute("stroke") ?? "none"));
  expect(strokes.length).toBeGreaterThanOrEqual(3);
  expect(strokes.filter((s) => s !== "none"), "outlined paths in the stacked errors chart").toEqual([]);

  if (shotName) {
    await sleep(8000); // a few seconds of the fault on the charts
    await shot(page, shotName);
  }
  const cleared = await panel.request(`/api/replicas/${victim}/actions`, { method: "POST", cookie, json: { action: "clear" } });
  expect(cleared.status).toBe(200);
}

describe("the dashboard tells the truth at a glance (ENGINE auto)", () => {
  let panel: Panel;
  let cookie: string;
  let serviceId: string;
  let browser: LaunchedBrowser;
  let engineKind: string;

  beforeAll(async () => {
    ({ panel, cookie, serviceId } = await panelWithWeb({ PORT_RANGE: "26100-26249", BALANCER_PORT: "18350" }));
    browser = await signedInBrowser(panel, cookie);
    const overview = (await (await panel.request("/api/balancer", { cookie })).json()) as { engine?: { kind?: string } };
    engineKind = overview.engine?.kind ?? "";
  });

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  it("round robin: each of the generator's 6 clients reaches all 3 replicas, and the page says so", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/services/${serviceId}`);
    await until("3 replicas in rotation", () => cardFigures(page), (c) => c.length === 3 && c.every((r) => r.inRotation));
    await page.locator('input[name="traffic-rps"]').fill("60");
    await page.locator('input[name="traffic-concurrency"]').fill("16");
    await page.locator('input[name="traffic-clients"]').fill("6");
    await page.locator('input[name="traffic-duration"]').fill("300");
    await page.getByRole("button", { name: "Start traffic" }).click();
    await page.getByRole("button", { name: "Stop traffic" }).waitFor();
    const reached = await until(
      "every client row to show 3 replicas reached",
      () => page.getByTestId("client-row").evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.replicasReached))),
      (n) => n.length === 6 && n.every((x) => x === 3),
      20_000,
    );
    expect(reached).toEqual([3, 3, 3, 3, 3, 3]);
    const verdict = page.getByTestId("traffic-verdict");
    await until("the verdict to hold", () => verdict.getAttribute("data-holds"), (v) => v === "true", 10_000);
    expect(await verdict.getAttribute("data-expectation")).toBe("spread");
    expect((await verdict.textContent())?.trim()).toBe("✓ 6 of 6 clients reached all 3 replicas in rotation");
  });

  it("a replica with +300 ms and 30 % errors shows both on its card and in the charts; the other cards show none", async () => {
    // every engine gives a distribution now (HAProxy through its per-request log, issue 12 item 4)
    console.log(`[dashboard-truth] engine ${engineKind}: percentiles expected on its cards`);
    await faultsShowOnTheirCard(browser.page, panel, cookie, "percentiles", "service-replica-faults");
  });

  it("every page fits a 390 px phone: no sideways scrolling, the header folds into a menu", async () => {
    const phone = await signedInBrowser(panel, cookie, PHONE);
    try {
      const { page } = phone;
      const fits = async (what: string) => {
        const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
        expect(widths.doc, `${what}: document width at 390 px`).toBeLessThanOrEqual(PHONE.width);
        expect(widths.body, `${what}: body width at 390 px`).toBeLessThanOrEqual(PHONE.width);
      };
      const pages: { path: string; ready: (p: Page) => Promise<unknown>; shot: string }[] = [
        { path: "/services", ready: (p) => p.locator('[data-testid="service-card"][data-service="web"]').waitFor(), shot: "phone-services" },
        { path: `/services/${serviceId}`, ready: (p) => until("the client table", () => p.getByTestId("client-row").count(), (n) => n === 6, 15_000), shot: "phone-service" },
        {
          path: `/services/${serviceId}`,
          ready: async (p) => {
            await p.getByRole("tab", { name: "Rules" }).click();
            await p.getByTestId("rules-editor").waitFor();
          },
          shot: "phone-service-rules",
        },
        { path: "/balancer", ready: (p) => p.getByRole("heading", { name: "Balancer", exact: true }).waitFor(), shot: "phone-balancer" },
        { path: "/events", ready: (p) => p.getByTestId("event-list").waitFor(), shot: "phone-events" },
        { path: "/settings", ready: (p) => p.getByText("Add a user").waitFor(), shot: "phone-settings" },
      ];
      for (const p of pages) {
        await page.goto(`${panel.url}${p.path}`);
        await p.ready(page);
        await sleep(1000); // live ticks and charts laid out
        await fits(p.path);
        // the header: the sections and Sign out sit behind Menu
        expect(await page.getByRole("link", { name: "Events" }).count(), `${p.path}: header links folded`).toBe(0);
        await shot(page, p.shot);
      }

      // what opens inside a page fits too: the New service form, a card's More actions
      await page.goto(`${panel.url}/services`);
      await page.getByRole("button", { name: "New service" }).click();
      await page.getByTestId("service-form").waitFor();
      await fits("/services with the New service form");
      await page.goto(`${panel.url}/services/${serviceId}`);
      await page.getByRole("button", { name: "More actions" }).first().click();
      await page.getByRole("button", { name: "Stress memory" }).first().waitFor();
      await fits("/services/:id with More actions open");

      // event messages wrap as text: no message is squeezed to a word per line
      await page.goto(`${panel.url}/events`);
      await page.getByTestId("event-list").waitFor();
      const narrowest = await page.getByTestId("event-list").locator("li > span.break-words").evaluateAll((els) => Math.min(...els.map((el) => el.getBoundingClientRect().width)));
      expect(narrowest).toBeGreaterThan(250);

      // the menu: sections, the user and Sign out, and it takes you there
      await page.getByRole("button", { name: "Menu" }).click();
      const menu = page.getByTestId("phone-menu");
      await menu.waitFor();
      await menu.getByText(ADMIN.username).waitFor();
      await menu.getByRole("button", { name: "Sign out" }).waitFor();
      await fits("the open menu");
      await shot(page, "phone-menu");
      await menu.getByRole("link", { name: "Balancer" }).click();
      await page.waitForURL((u) => u.pathname === "/balancer");
      await until("the menu to close after navigating", () => page.getByTestId("phone-menu").count(), (n) => n === 0, 5000);

      // signed out: the sign-in page fits too
      const signedOut = await launchBrowser({ viewport: PHONE });
      try {
        await signedOut.page.goto(`${panel.url}/login`);
        await signedOut.page.locator('input[name="username"]').waitFor();
        const w = await signedOut.page.evaluate(() => document.documentElement.scrollWidth);
        expect(w, "/login: document width at 390 px").toBeLessThanOrEqual(PHONE.width);
      } finally {
        await signedOut.close();
      }
    } finally {
      await phone.close();
    }
  });

  it("at 1280 px the header shows its links and no Menu", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/events`);
    await page.getByRole("link", { name: "Events" }).waitFor();
    expect(await page.getByRole("button", { name: "Menu" }).count()).toBe(0);
  });
});

describe("per-replica percentiles where the engine has a distribution (ENGINE=builtin)", () => {
  let panel: Panel;
  let cookie: string;
  let serviceId: string;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    ({ panel, cookie, serviceId } = await panelWithWeb({ ENGINE: "builtin", PORT_RANGE: "26250-26399", BALANCER_PORT: "18351" }));
    browser = await signedInBrowser(panel, cookie);
  });

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  it("the faulty replica's card shows p95 and p50/p99 over its window, the others low ones", async () => {
    const started = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: { rps: 60, concurrency: 16, clients: 6, durationS: 120 } });
    expect(started.status).toBe(200);
    await browser.page.goto(`${panel.url}/services/${serviceId}`);
    await faultsShowOnTheirCard(browser.page, panel, cookie, "percentiles", null);
  });
});
