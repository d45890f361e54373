/**
 * Dashboard CPU benchmark (issue 12, item 14): how busy a real Chromium's main thread is
 * while it shows a service page under traffic, per minute of wall time.
 *
 * One run, all real: the panel (`npm start` on a temporary DATA_DIR, tests/helpers/panel.ts)
 * with its demo service "web" (process replicas) behind the engine `ENGINE=auto` picks,
 * the panel's own traffic generator sending to the balancer on loopback, and Debian's
 * Chromium through playwright-core. Measured, each for the same time:
 *
 *   0. the reference: a blank page that does a fixed amount of JavaScript work once a
 *      second (REFERENCE_ITERATIONS of a small computation): how slow this machine is
 *      right now (other processes compete for the 2 cores), the baseline of the ratios;
 *   1. the Events page (the app shell and the live socket, no charts);
 *   2. the service page with 6 replicas under traffic;
 *   3. the service page with 50 replicas under traffic.
 *
 * Busy time comes from the Chrome DevTools Protocol's Performance metrics (TaskDuration:
 * every task on the renderer's main thread; ScriptDuration: JavaScript; Layout and
 * RecalcStyle), read before and after the window; long tasks (> 50 ms) from a
 * PerformanceObserver. Figures are printed per minute, as a share of wall time, and as
 * a ratio against the reference of this same run (machines and their load differ; a
 * ratio travels better than seconds).
 *
 *   npm run bench:dashboard -- [--seconds 60] [--rps 200]
 *
 * Ports: panel 3300, listener 18390, replicas 28000-28199.
 */
import os from "node:os";
import { launchBrowser } from "../tests/helpers/browser";
import { startPanel, type Panel } from "../tests/helpers/panel";
import { until } from "../tests/helpers/load";
import { scaleTo, startTraffic, web } from "./demo-service";
import type { Page } from "playwright-core";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg("seconds", 60);
const RPS = arg("rps", 200);
const ADMIN = { username: "bench", password: "dashboard bench pw" };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The reference page's work per second (about 15 ms of one core on the development machine). */
const REFERENCE_ITERATIONS = 4_000_000;
const REFERENCE_PAGE = `<!doctype html><title>reference</title><script>
  setInterval(() => { let x = 0; for (let i = 0; i < ${REFERENCE_ITERATIONS}; i++) x += Math.sqrt(i * 1.0001); document.title = String(x).slice(0, 4); }, 1000);
</script>`;

type Figures = { label: string; replicas: number; seconds: number; taskS: number; scriptS: number; layoutS: number; styleS: number; longTasks: number; longestMs: number };

async function traffic(panel: Panel, cookie: string, id: string): Promise<void> {
  await startTraffic(panel, cookie, id, { rps: RPS, clients: 6, concurrency: 16, durationS: 600 });
}

const LONG_TASKS = `
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: "longtask", buffered: true });
  } catch {}
`;

/** Main-thread figures of `page` over `seconds` of wall time. */
async function measure(page: Page, label: string, replicas: number, seconds: number): Promise<Figures> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable", { timeDomain: "timeTicks" });
  const read = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return Object.fromEntries(metrics.map((m) => [m.name, m.value])) as Record<string, number>;
  };
  await page.evaluate(() => {
    (window as unknown as { __longTasks: number[] }).__longTasks = [];
  });
  const before = await read();
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const after = await read();
  const wall = (Date.now() - t0) / 1000;
  const long = await page.evaluate(() => (window as unknown as { __longTasks?: number[] }).__longTasks ?? []);
  await cdp.detach();
  const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
  return { label, replicas, seconds: wall, taskS: d("TaskDuration"), scriptS: d("ScriptDuration"), layoutS: d("LayoutDuration"), styleS: d("RecalcStyleDuration"), longTasks: long.length, longestMs: long.length ? Math.max(...long) : 0 };
}

function report(rows: Figures[]): void {
  const base = rows[0];
  const perMin = (f: Figures, v: number) => (v * 60) / f.seconds;
  const baseBusy = perMin(base, base.taskS);
  console.log(`\nmain thread per minute of wall time (Chromium, ${SECONDS} s windows, traffic ${RPS} req/s, load average ${os.loadavg()[0].toFixed(1)})`);
  console.log("page                          busy s/min  busy %  script  layout  style  long tasks/min  longest ms  ratio vs reference");
  for (const f of rows) {
    const busy = perMin(f, f.taskS);
    console.log(
      `${f.label.padEnd(30)}${busy.toFixed(2).padStart(10)}${((busy / 60) * 100).toFixed(1).padStart(8)}${perMin(f, f.scriptS).toFixed(2).padStart(8)}${perMin(f, f.layoutS).toFixed(2).padStart(8)}${perMin(f, f.styleS).toFixed(2).padStart(7)}` +
        `${perMin(f, f.longTasks).toFixed(1).padStart(16)}${Math.round(f.longestMs).toString().padStart(12)}${(busy / Math.max(baseBusy, 1e-3)).toFixed(1).padStart(12)}x`,
    );
  }
}

async function main(): Promise<void> {
  const panel = await startPanel({
    port: 3300,
    startTimeoutMs: 300_000,
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: "18390", PORT_RANGE: "28000-28199", MAX_REPLICAS: "50" },
  });
  const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  const rows: Figures[] = [];
  try {
    const cookie = await panel.login(ADMIN.username, ADMIN.password);
    const svc = await until("the demo service web", () => web(panel, cookie), (s) => s !== null && s.instances.length > 0, 120_000, 500);
    await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
    await browser.context.addInitScript(LONG_TASKS);
    const page = browser.page;

    await scaleTo(panel, cookie, svc!.id, 6);
    await traffic(panel, cookie, svc!.id);
    await page.setContent(REFERENCE_PAGE);
    await sleep(3000);
    console.log(`measuring the reference (fixed work once a second) for ${SECONDS} s…`);
    rows.push(await measure(page, "reference: fixed work 1/s", 0, SECONDS));
    await page.goto(`${panel.url}/events`);
    await sleep(5000);
    console.log(`measuring the Events page for ${SECONDS} s…`);
    rows.push(await measure(page, "Events page", 6, SECONDS));

    await page.goto(`${panel.url}/services/${svc!.id}`);
    await page.getByTestId("service-dashboard").waitFor();
    await sleep(5000);
    console.log(`measuring the service page, 6 replicas, for ${SECONDS} s…`);
    rows.push(await measure(page, "service page, 6 replicas", 6, SECONDS));

    console.log("scaling to 50 replicas…");
    await scaleTo(panel, cookie, svc!.id, 50);
    await traffic(panel, cookie, svc!.id);
    await page.reload();
    await page.getByTestId("service-dashboard").waitFor();
    await sleep(5000);
    console.log(`measuring the service page, 50 replicas, for ${SECONDS} s…`);
    rows.push(await measure(page, "service page, 50 replicas", 50, SECONDS));
    report(rows);
  } finally {
    await browser.close();
    await panel.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
