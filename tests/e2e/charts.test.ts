/**
 * The service page's charts (issue 12, items 10 and 13), in Chromium against the real
 * panel with the demo service "web" (3 process replicas) under the panel's own traffic,
 * at 1280 px and at 390 px:
 *
 * - the range switches to 15 min / 1 h / 24 h (stored minute points, read through
 *   GET /api/services/:id/metrics) and back to the live 5 minutes;
 * - Pause holds the charts still while ticks keep arriving; Resume moves them again;
 * - hovering one chart shows the crosshair at the same instant on the others;
 * - scaling puts an "S" marker on the charts;
 * - every chart is named (role img with a label, no unnamed "application" tab stop)
 *   and its text reads at 4.5:1 or more in the light and in the dark theme;
 * - with 10 replicas (issue 18) the per-replica series are drawn on a canvas that moves
 *   every second, with no path per series in the DOM, the crosshair still reads the
 *   values, and a replica card off screen holds still until it is scrolled to.
 *
 * Panels 3290-3299, replicas 26800-26999, listener 18380.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import path from "node:path";
import { screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { demoServiceReady } from "@/tests/helpers/demo-service";
import { browserSignedIn } from "@/tests/helpers/panel-browser";

const ADMIN = { username: "carla", password: "charts e2e password" };
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 30_000) => untilShared(what, read, check, timeoutMs, 200);

let panel: Panel;
let cookie: string;
let serviceId: string;

async function signedIn(viewport: { width: number; height: number }): Promise<LaunchedBrowser> {
  const browser = await browserSignedIn(panel, cookie, viewport, `/services/${serviceId}`);
  await until("the live charts to hold a few points", () => chartsState(browser.page), (s) => s.points >= 5);
  return browser;
}

type ChartsState = { range: string; paused: boolean; lastChartT: number; points: number; lastTick: number };

function chartsState(page: Page): Promise<ChartsState> {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLElement>('[data-testid="charts"]');
    const d = document.querySelector<HTMLElement>('[data-testid="service-dashboard"]');
    return {
      range: c?.dataset.range ?? "",
      paused: c?.dataset.paused === "true",
      lastChartT: Number(c?.dataset.chartLastT || 0),
      points: Number(c?.dataset.chartPoints || 0),
      lastTick: Number(d?.dataset.lastTick || 0),
    };
  });
}

/** The drawing of the requests chart: one `d` per band. */
const rpsPaths = (page: Page) => page.getByTestId("chart-rps").locator("path.sy-area").evaluateAll((els) => els.map((el) => el.getAttribute("d") ?? ""));

/** A picture of the charts section alone (docs/screenshots/<name>.png with SCREENSHOTS=1). */
async function shootCharts(page: Page, name: string) {
  await page.mouse.move(1, 1);
  // the sticky header would sit over the section in a picture taken while scrolled
  await page.addStyleTag({ content: "header { position: static !important; }" });
  await page.getByTestId("charts").screenshot({ path: path.join(screenshotDir(), `${name}.png`) });
}

/** The innermost elements that reach past `width` px (to say what overflows). */
function widerThan(page: Page, width: number): Promise<string> {
  return page.evaluate((w) => {
    const out: string[] = [];
    for (const el of document.querySelectorAll("body *")) {
      const r = el.getBoundingClientRect();
      if (r.right <= w + 0.5 || r.width === 0) continue;
      if ([...el.children].some((c) => c.getBoundingClientRect().right > w + 0.5)) continue;
      const id = (el as HTMLElement).dataset?.testid ?? "";
      out.push(`${el.tagName.toLowerCase()}${id ? `[${id}]` : ""}.${String((el as HTMLElement).className?.toString() ?? "").slice(0, 40)} right=${Math.round(r.right)} "${(el.textContent ?? "").slice(0, 30)}"`);
      if (out.length >= 6) break;
    }
    return out.join("; ");
  }, width);
}

async function hoverCrosshair(page: Page) {
  const plot = page.getByTestId("chart-rps").getByTestId("time-plot");
  await plot.scrollIntoViewIfNeeded();
  const box = (await plot.boundingBox())!;
  await page.mouse.move(box.x + 52 + (box.width - 62) * 0.95, box.y + box.height / 3);
  const lines = page.locator('[data-testid="crosshair"]');
  await until("a crosshair on several charts", () => lines.count(), (n) => n >= 2);
  const at = await lines.evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.t));
  const inMemory = page.getByTestId("chart-memory").getByTestId("crosshair");
  await inMemory.waitFor();
  expect(await inMemory.getAttribute("data-t")).toBe(at[0]);
  expect(new Set(at).size, "every crosshair at the same instant").toBe(1);
  // the hovered chart reads its values at that instant: where there is data (how far the
  // ticks reach to the left depends on how long the page has been open, so try a few spots)
  const readout = page.getByTestId("chart-rps").getByTestId("crosshair-readout").getByText(/req\/s$/);
  let spot = 0;
  const spots = [0.95, 0.98, 0.9, 0.99, 0.85, 0.97];
  await until(
    "the hovered chart to read its values (req/s) at the crosshair",
    async () => {
      await page.mouse.move(box.x + 52 + (box.width - 62) * spots[spot++ % spots.length], box.y + box.height / 3);
      return readout.count();
    },
    (n) => n > 0,
  );
  await page.mouse.move(1, 1);
  await until("the crosshairs to go when the pointer leaves", () => lines.count(), (n) => n === 0);
}

async function pauseAndResume(page: Page) {
  await page.getByTestId("charts-pause").click();
  const frozen = await chartsState(page);
  expect(frozen.paused).toBe(true);
  const drawn = await rpsPaths(page);
  // ticks keep arriving underneath…
  const later = await until("3 more ticks while paused", () => chartsState(page), (s) => s.lastTick >= frozen.lastChartT + 3000);
  // …and the charts hold still
  expect(later.lastChartT).toBe(frozen.lastChartT);
  expect(await rpsPaths(page)).toEqual(drawn);
  await page.getByTestId("charts-paused-note").getByText(/new points? arrived since/).waitFor();
  await page.getByTestId("charts-pause").click();
  const resumed = await until("the charts to move again after Resume", () => chartsState(page), (s) => !s.paused && s.lastChartT > frozen.lastChartT);
  expect(resumed.lastChartT).toBeGreaterThan(frozen.lastChartT);
  await until("the drawing to change", () => rpsPaths(page), (d) => JSON.stringify(d) !== JSON.stringify(drawn));
}

async function switchRanges(page: Page) {
  for (const [range, leftLabel] of [
    ["15m", "-15m"],
    ["1h", "-1h"],
    ["24h", "-24h"],
  ] as const) {
    await page.getByTestId(`range-${range}`).click();
    const s = await until(`the ${range} range with stored points`, () => chartsState(page), (v) => v.range === range && v.points >= 1);
    expect(s.points).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId(`range-${range}`).getAttribute("aria-pressed")).toBe("true");
    await page.getByTestId("chart-memory").locator("svg text", { hasText: leftLabel }).first().waitFor();
    await page.getByTestId("charts-stored-note").getByText(/From the minute points the panel stores/).waitFor();
  }
  await page.getByTestId("range-5m").click();
  await until("back to the live 5 minutes", () => chartsState(page), (v) => v.range === "5m" && v.points >= 5);
  await page.getByTestId("chart-memory").locator("svg text", { hasText: "-5m" }).first().waitFor();
}

/** Every chart named, no unnamed tab stop, and chart text at 4.5:1 or more on its card. */
async function chartsAccessible(page: Page, theme: string) {
  const report = await page.evaluate(() => {
    // computed colours may be oklch() (Tailwind 4): let a canvas turn any CSS colour into sRGB bytes
    const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true })!;
    const parse = (c: string): number[] => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = "rgba(0, 0, 0, 0)";
      ctx.fillStyle = c;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      return [r, g, b, a / 255];
    };
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => {
        const s = v / 255;
        return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bgOf = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c[3] > 0.9) return c;
      }
      return [255, 255, 255];
    };
    const charts = [...document.querySelectorAll('[data-testid="charts"] figure')];
    const unnamed = charts.filter((f) => !f.querySelector('[role="img"][aria-label]')).map((f) => f.getAttribute("data-testid"));
    const appStops = document.querySelectorAll('[data-testid="charts"] [role="application"], [data-testid="charts"] svg[tabindex="0"]').length;
    const worst: { text: string; ratio: number }[] = [];
    const texts = [...document.querySelectorAll('[data-testid="charts"] figure text, [data-testid="charts"] figure figcaption span, [data-testid="charts"] figure li span, [data-testid="charts"] figure p, [data-testid="charts"] > div h2')];
    for (const el of texts) {
      if (!(el.textContent ?? "").trim()) continue;
      const cs = getComputedStyle(el);
      const fg = parse(el instanceof SVGElement ? cs.fill : cs.color);
      const l1 = lum(fg);
      const l2 = lum(bgOf(el.closest("figure") ?? el));
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      worst.push({ text: (el.textContent ?? "").trim().slice(0, 30), ratio: Math.round(ratio * 100) / 100 });
    }
    worst.sort((a, b) => a.ratio - b.ratio);
    return { charts: charts.length, unnamed, appStops, worst: worst.slice(0, 3), checked: worst.length };
  });
  console.log(`[charts] ${theme}: ${report.charts} charts, ${report.checked} texts checked, lowest contrast ${JSON.stringify(report.worst)}`);
  expect(report.charts).toBeGreaterThanOrEqual(8);
  expect(report.unnamed).toEqual([]);
  expect(report.appStops).toBe(0);
  expect(report.checked).toBeGreaterThan(20);
  expect(report.worst[0].ratio, `lowest contrast of chart text (${report.worst[0].text}) in the ${theme} theme`).toBeGreaterThanOrEqual(4.5);
}

describe("service charts: range, pause, crosshair, markers, names (Chromium)", () => {
  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(3290, 3299),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: "18380", PORT_RANGE: "26800-26999" },
    });
    cookie = await panel.login(ADMIN.username, ADMIN.password);
    serviceId = await demoServiceReady(panel, cookie);
    const res = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: { rps: 40, clients: 4, durationS: 600 } });
    expect(res.status, await res.clone().text()).toBe(200);
  }, 300_000);

  afterAll(async () => {
    await panel?.stop();
  }, 60_000);

  it("reads stored minute points through the API and refuses a range it does not know", async () => {
    const bad = await panel.request(`/api/services/${serviceId}/metrics?range=7d`, { cookie });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("bad_request");
    // the collector stores a point per replica at the end of each minute
    const got = await until(
      "a stored minute point for each replica",
      async () => (await (await panel.request(`/api/services/${serviceId}/metrics?range=15m`, { cookie })).json()) as { bucketMs: number; history: { t: number; rps: number; replicas: unknown[] }[] },
      (h) => h.history.some((t) => t.replicas.length === 3 && t.rps > 0),
      130_000,
    );
    expect(got.bucketMs).toBe(60_000);
    expect(Math.max(...got.history.map((t) => t.rps))).toBeGreaterThan(0);
  }, 150_000);

  it("at 1280 px: crosshair on every chart, pause holds them, ranges switch, scaling marks the charts, names and contrast in both themes", async () => {
    const browser = await signedIn({ width: 1280, height: 900 });
    try {
      const page = browser.page;
      await chartsAccessible(page, "light");
      await hoverCrosshair(page);
      await pauseAndResume(page);
      await switchRanges(page);

      const res = await panel.request(`/api/services/${serviceId}`, { method: "PATCH", cookie, json: { replicas: 4 } });
      expect(res.status, await res.clone().text()).toBe(200);
      const marker = page.getByTestId("chart-rps").locator('[data-testid="chart-marker"][data-kind="scale"]');
      await marker.first().waitFor({ timeout: 15_000 });
      expect(await marker.first().getAttribute("title")).toMatch(/scaled web from 3 to 4 replicas/);
      expect(await page.getByTestId("chart-memory").locator('[data-testid="chart-marker"][data-kind="scale"]').count()).toBeGreaterThanOrEqual(1);
      await until("4 replicas drawn in the legend", () => page.getByTestId("chart-memory").locator("li").count(), (n) => n >= 6);

      await shootCharts(page, "service-charts");
      await page.emulateMedia({ colorScheme: "dark" });
      await chartsAccessible(page, "dark");
      // the crosshair and its readout, in the dark theme
      const plot = page.getByTestId("chart-replica-latency").getByTestId("time-plot");
      await plot.scrollIntoViewIfNeeded();
      const box = (await plot.boundingBox())!;
      await page.mouse.move(box.x + 52 + (box.width - 62) * 0.9, box.y + box.height / 2);
      await page.getByTestId("chart-replica-latency").getByTestId("crosshair-readout").waitFor();
      await page.getByTestId("charts").screenshot({ path: path.join(screenshotDir(), "service-charts-dark.png") });
    } finally {
      await browser.close();
    }
  }, 240_000);

  it("at 390 px: no sideways scrolling, and the same crosshair, pause and ranges", async () => {
    const browser = await signedIn({ width: 390, height: 844 });
    try {
      const page = browser.page;
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.body.scrollWidth]);
      expect(Math.max(...widths), `wider than the phone: ${await widerThan(page, 390)}`).toBeLessThanOrEqual(390);
      await hoverCrosshair(page);
      await pauseAndResume(page);
      await switchRanges(page);
      const after = await page.evaluate(() => [document.documentElement.scrollWidth, document.body.scrollWidth]);
      expect(Math.max(...after), `wider than the phone: ${await widerThan(page, 390)}`).toBeLessThanOrEqual(390);
      await shootCharts(page, "phone-service-charts");
    } finally {
      await browser.close();
    }
  }, 240_000);

  it("with 10 replicas: the series on a canvas that moves, hover values, cards off screen held until scrolled to", async () => {
    const res = await panel.request(`/api/services/${serviceId}`, { method: "PATCH", cookie, json: { replicas: 10 } });
    expect(res.status, await res.clone().text()).toBe(200);
    const browser = await signedIn({ width: 1280, height: 900 });
    try {
      const page = browser.page;
      const canvas = page.getByTestId("chart-rps").getByTestId("chart-canvas");
      await until("the requests chart to draw 10 series on a canvas", () => canvas.getAttribute("data-series-count").catch(() => null), (n) => Number(n) >= 10, 60_000);
      // no DOM node per replica's series any more: each per-replica chart draws its 10 or more on a canvas
      // (the service's own charts, latency percentiles, errors by class, desired/ready, keep their few SVG paths)
      const perReplica = ["chart-rps", "chart-share", "chart-memory", "chart-replica-latency", "chart-replica-errors"];
      for (const id of perReplica) {
        expect(await page.getByTestId(id).getByTestId("chart-canvas").getAttribute("data-series-count"), id).toMatch(/^\d+$/);
        expect(await page.getByTestId(id).locator("path.sy-area, path.sy-line").count(), id).toBe(0);
      }
      // the canvas holds a drawing (pixels with colour inside the plot), and it changes as ticks arrive
      // (a short digest of the picture: the error message of a timeout stays readable)
      const picture = () =>
        canvas.evaluate((c: HTMLCanvasElement) => {
          const url = c.toDataURL();
          let h = 0;
          for (let i = 0; i < url.length; i++) h = (h * 31 + url.charCodeAt(i)) | 0;
          return `${url.length}:${h}`;
        });
      const painted = () =>
        canvas.evaluate((c: HTMLCanvasElement) => {
          const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        });
      // a chart with 10 or more series off screen holds still: the viewer looks at it
      await canvas.scrollIntoViewIfNeeded();
      await until("the canvas to hold a drawing", painted, (n) => n > 500, 20_000);
      const first = await picture();
      await until("the canvas drawing to move with the ticks", picture, (p) => p !== first, 15_000);
      await hoverCrosshair(page);
      await page.emulateMedia({ colorScheme: "dark" });
      await until("the canvas still drawn in the dark theme", painted, (n) => n > 500, 10_000);
      await shootCharts(page, "service-charts-canvas-dark");
      await page.emulateMedia({ colorScheme: "light" });

      // at the bottom of the page the first card is far off screen: it holds still; scrolled to, it takes ticks again
      const firstCard = page.getByTestId("replica-grid").locator(":scope > div").first();
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await until("the first replica card to hold while off screen", () => firstCard.getAttribute("data-held"), (h) => h === "true", 10_000);
      await firstCard.scrollIntoViewIfNeeded();
      await until("the first replica card to take ticks again on screen", () => firstCard.getAttribute("data-held"), (h) => h === null, 10_000);
      await shootCharts(page, "service-charts-canvas");
    } finally {
      await browser.close();
    }
  }, 240_000);
});
