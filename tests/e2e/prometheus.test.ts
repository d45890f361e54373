/**
 * Prometheus and Grafana (issue 15, part 2) against the real things: three panels (`npm
 * start`, the demo service's 3 process replicas each), on HAProxy, nginx and the builtin
 * proxy, scraped once a second by a real Prometheus (Debian's package, a child of this
 * test with its own data folder and a config written here; job = the engine):
 *
 * - GET /metrics answers 401 without a token, with a wrong one (another panel's too) and
 *   with the session cookie; 200 with the Prometheus text with a token made in Settings;
 * - traffic through each balancer: per replica, PromQL's increase of
 *   switchyard_replica_requests_total over the test's window (the counter now minus the
 *   counter at the window's start) agrees with the replicas' own request counters within
 *   1 %, and so does the latency histogram's _count (HAProxy's request log, nginx's access
 *   log, the builtin proxy gave a timing for every request); on HAProxy also across a
 *   reload in the window (the export's counters never reset);
 * - every query of every panel in grafana/dashboards/switchyard.json parses and returns
 *   data over the window; deploy/prometheus.yml and the card's snippet pass promtool;
 * - the Settings card: create a named token (shown once), it is listed, the scrape config
 *   names this panel, revoke (the token gets 401 at once); both themes, 390 px phone
 *   without sideways scrolling (screenshots settings-prometheus-*).
 *
 * Ports: panels 3420-3429, listeners 18510-18519, replicas 30600-30699 (HAProxy),
 * 30700-30799 (nginx), 30800-30899 (builtin), Prometheus 19100-19109.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort, REPO_ROOT, startPanel, type Panel } from "@/tests/helpers/panel";
import { demoServiceReady } from "@/tests/helpers/demo-service";
import { runLoad, until } from "@/tests/helpers/load";
import { launchBrowser, screenshot, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { hasBinary, needs } from "@/tests/helpers/requirements";

const ADMIN = { username: "prom-admin", password: "prometheus e2e pw" };
const missing =
  needs("prometheus", hasBinary("prometheus", ["--version"])) || needs("haproxy", hasBinary("haproxy", ["-v"])) || needs("nginx", hasBinary("nginx", ["-v"]));

type Sample = { metric: Record<string, string>; value: [number, string] };
type RangeSeries = { metric: Record<string, string>; values: [number, string][] };
type Dashboard = { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { name: string; query: { query: string } }[] } };

/** One panel per engine, each with the demo service's 3 replicas; Prometheus scrapes all three (job = the engine). */
type Engine = "haproxy" | "nginx" | "builtin";
const ENGINES: { engine: Engine; replicaPorts: string }[] = [
  { engine: "haproxy", replicaPorts: "30600-30699" },
  { engine: "nginx", replicaPorts: "30700-30799" },
  { engine: "builtin", replicaPorts: "30800-30899" },
];
type Stack = {
  engine: Engine;
  panel: Panel;
  cookie: string;
  serviceId: string;
  listener: number;
  token: string;
  /** how often this test asked each replica for its count (each asking request is counted too) */
  asked: Record<string, number>;
  /** the window's start (s since epoch) and each replica's own count then */
  t0: number;
  own0: Record<string, number>;
};

const stacks = new Map<Engine, Stack>();
const stack = (engine: Engine): Stack => stacks.get(engine)!;
let prometheus: ChildProcess | undefined;
let promOutput = "";
let promDir = "";
let promUrl = "";

async function promQuery(expr: string, time?: number): Promise<Sample[]> {
  const qs = new URLSearchParams({ query: expr, ...(time ? { time: String(time) } : {}) });
  const res = await fetch(`${promUrl}/api/v1/query?${qs}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
  if (body.status !== "success") throw new Error(`PromQL ${expr}: ${body.error}`);
  return body.data.result;
}

async function promRange(expr: string, start: number, end: number): Promise<{ status: string; error?: string; result: RangeSeries[] }> {
  const qs = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: "1" });
  const body = (await (await fetch(`${promUrl}/api/v1/query_range?${qs}`)).json()) as { status: string; error?: string; data?: { result: RangeSeries[] } };
  return { status: body.status, error: body.error, result: body.data?.result ?? [] };
}

const byReplica = (samples: Sample[]) => Object.fromEntries(samples.map((s) => [s.metric.replica, Number(s.value[1])]));

/** The replicas' data addresses by id, from the panel. */
async function replicaAddresses(s: Stack): Promise<Record<string, string>> {
  const res = await s.panel.request(`/api/services/${s.serviceId}`, { cookie: s.cookie });
  const { service } = (await res.json()) as { service: { instances: { id: string; dataAddr: string | null; state: string }[] } };
  return Object.fromEntries(service.instances.filter((r) => r.state === "ready" && r.dataAddr).map((r) => [r.id, r.dataAddr!]));
}

/**
 * Each replica's own count of the requests the balancer sent it (the demo replica's
 * `requests`), asked directly on its data address, not through the balancer; the asking
 * requests (this one and the earlier ones) are counted too, so they are taken off.
 */
async function ownCounts(s: Stack): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [id, addr] of Object.entries(await replicaAddresses(s))) {
    const body = (await (await fetch(`http://${addr}/`)).json()) as { requests: number; replica: string };
    expect(body.replica).toBe(id);
    s.asked[id] = (s.asked[id] ?? 0) + 1;
    out[id] = body.requests - s.asked[id];
  }
  return out;
}

/** A stack's export of one metric: its job, the demo service. */
const series = (s: Stack, metric: string) => `${metric}{job="${s.engine}", service="web"}`;
const exported = (s: Stack) => `sum by (replica) (${series(s, "switchyard_replica_requests_total")})`;

/** Until Prometheus' figure for this stack stops moving (the collector and the scrapes have caught up): 3 s unchanged. */
async function settled(s: Stack): Promise<number> {
  let last = -1;
  let since = Date.now();
  const v = await until(
    `Prometheus' request count of ${s.engine} to settle`,
    async () => {
      const now = (await promQuery(`sum(${exported(s)})`))[0]?.value[1] ?? "-1";
      if (Number(now) !== last) {
        last = Number(now);
        since = Date.now();
      }
      return Date.now() - since;
    },
    (steadyMs) => steadyMs >= 3000,
    30_000,
    250,
  );
  expect(v).toBeGreaterThanOrEqual(3000);
  return Date.now() / 1000;
}

/** Starts the stack's window: settled, the replicas' counts, and a scrape after the start. */
async function openWindow(s: Stack): Promise<void> {
  await settled(s);
  s.own0 = await ownCounts(s);
  s.t0 = Date.now() / 1000;
  await until("Prometheus to have scraped after the window's start", () => promQuery(`timestamp(up{job="${s.engine}"})`), (r) => Number(r[0]?.value[1]) > s.t0 + 1, 10_000, 200);
}

/** Load through the stack's balancer; the replicas counted exactly what it sent. */
async function loadThrough(s: Stack, maxRequests: number): Promise<void> {
  const before = Object.values(await ownCounts(s)).reduce((a, v) => a + v, 0);
  const load = await runLoad(s.listener, { concurrency: 6, durationMs: 8000, maxRequests });
  expect(load.failed).toBe(0);
  const served = Object.values(await ownCounts(s)).reduce((a, v) => a + v, 0) - before;
  console.log(`[prometheus] ${s.engine}: the load had ${load.ok} answers; the replicas counted ${served}`);
  expect(served).toBe(load.ok); // the replicas' counters, the truth the export is held to, are themselves right
}

/**
 * PromQL's increase over the stack's window per replica (the counter now minus the counter
 * at the window's start) against the replicas' own counts: within 1 %. The same for the
 * latency histogram's _count: the engine gave a timing for every request.
 */
async function agreesWithReplicas(s: Stack, label: string): Promise<void> {
  const own1 = await ownCounts(s);
  const t1 = await settled(s);
  const offsetMs = Math.round((t1 - s.t0) * 1000);
  const increase = (metric: string) => `sum by (replica) (${series(s, metric)}) - sum by (replica) (${series(s, metric)} offset ${offsetMs}ms)`;
  const expr = increase("switchyard_replica_requests_total");
  const prom = byReplica(await promQuery(expr, t1));
  const timed = byReplica(await promQuery(increase("switchyard_replica_request_duration_seconds_count"), t1));
  const rate = byReplica(await promQuery(`sum by (replica) (rate(${series(s, "switchyard_replica_requests_total")}[${offsetMs}ms]))`, t1));
  const rows = Object.keys(own1).map((id) => {
    const own = own1[id] - (s.own0[id] ?? 0);
    return { id, own, prom: prom[id], timed: timed[id], off: prom[id] === undefined ? Infinity : Math.abs(prom[id] - own) / Math.max(own, 1), ownRate: own / (t1 - s.t0), promRate: rate[id] };
  });
  console.log(
    `[prometheus] ${s.engine}, ${label}: window ${(t1 - s.t0).toFixed(1)} s; PromQL: ${expr}\n` +
      rows
        .map((r) => `  ${r.id}: replica counted ${r.own}, PromQL ${r.prom} (off by ${(r.off * 100).toFixed(3)} %), timed ${r.timed}; rate() ${r.promRate?.toFixed(2)}/s vs ${r.ownRate.toFixed(2)}/s (rate extrapolates to the window's edges)`)
        .join("\n"),
  );
  expect(rows).toHaveLength(3);
  for (const r of rows) {
    expect(r.own).toBeGreaterThan(150); // enough that one request is under 1 %
    expect(r.off, `${r.id}: replica ${r.own}, PromQL ${r.prom}`).toBeLessThanOrEqual(0.01);
    expect(Math.abs((r.timed ?? 0) - r.own), `${r.id}: timed ${r.timed}, served ${r.own}`).toBeLessThanOrEqual(r.own * 0.01);
  }
}

/** `promtool check config --syntax-only` on a config's text (files it names need not exist); its output, or it throws. */
function promtoolSyntax(text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-promtool-")), "prometheus.yml");
  fs.writeFileSync(file, text);
  try {
    return execFileSync("promtool", ["check", "config", "--syntax-only", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

describe.skipIf(missing)("Prometheus scrapes the panel", () => {
  beforeAll(async () => {
    promDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-prometheus-"));
    const jobs: string[] = [];
    for (const { engine, replicaPorts } of ENGINES) {
      const listener = await findFreePort(18510, 18519);
      const panel = await startPanel({
        port: await findFreePort(3420, 3429),
        startTimeoutMs: 170_000,
        env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, ENGINE: engine, BALANCER_PORT: String(listener), PORT_RANGE: replicaPorts },
      });
      const s: Stack = { engine, panel, cookie: "", serviceId: "", listener, token: "", asked: {}, t0: 0, own0: {} };
      stacks.set(engine, s);
      s.cookie = await panel.login(ADMIN.username, ADMIN.password);
      s.serviceId = await demoServiceReady(panel, s.cookie);
      const created = await panel.request("/api/settings/metrics-tokens", { method: "POST", cookie: s.cookie, json: { name: "prometheus-e2e" } });
      expect(created.status).toBe(201);
      s.token = ((await created.json()) as { token: string }).token;
      const tokenFile = path.join(promDir, `${engine}.token`);
      fs.writeFileSync(tokenFile, s.token, { mode: 0o600 });
      jobs.push(
        `  - job_name: ${engine}`,
        "    metrics_path: /metrics",
        "    authorization:",
        "      type: Bearer",
        `      credentials_file: ${tokenFile}`,
        "    static_configs:",
        `      - targets: ["127.0.0.1:${panel.port}"]`,
      );
    }
    const config = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s", "  evaluation_interval: 1s", "scrape_configs:", ...jobs, ""].join("\n");
    fs.writeFileSync(path.join(promDir, "prometheus.yml"), config);
    const promPort = await findFreePort(19100, 19109);
    promUrl = `http://127.0.0.1:${promPort}`;
    prometheus = spawn(
      "prometheus",
      [`--config.file=${path.join(promDir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(promDir, "data")}`, `--web.listen-address=127.0.0.1:${promPort}`, "--log.level=warn"],
      { cwd: promDir, stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout?.on("data", (d: Buffer) => (promOutput += d.toString()));
    prometheus.stderr?.on("data", (d: Buffer) => (promOutput += d.toString()));
    await until(
      "Prometheus to be ready",
      () => fetch(`${promUrl}/-/ready`).then((r) => r.status, () => 0),
      (st) => st === 200 || prometheus?.exitCode !== null,
      60_000,
      200,
    );
    expect(prometheus.exitCode, promOutput).toBeNull();
    // scraping every panel, and each one's 3 replicas exported
    await until("Prometheus to scrape the 3 panels", () => promQuery("up == 1").catch(() => []), (r) => r.length === 3, 30_000, 250);
    for (const s of stacks.values()) await until(`3 replicas in ${s.engine}'s export`, () => promQuery(exported(s)), (r) => r.length === 3, 30_000, 250);
  }, 600_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill("SIGTERM");
      await new Promise((r) => prometheus!.once("exit", r));
    }
    if (promDir) fs.rmSync(promDir, { recursive: true, force: true });
    for (const s of stacks.values()) await s.panel.stop();
  }, 120_000);

  it("GET /metrics: 401 without a token, with a wrong one or with the session cookie; the text with the token", async () => {
    const s = stack("haproxy");
    const metrics = (headers: Record<string, string>) => fetch(`${s.panel.url}/metrics`, { headers, redirect: "manual" });
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer sy_metrics_${"0".repeat(64)}` }, { cookie: s.cookie }, { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` }, { authorization: `Bearer ${stack("nginx").token}` }]) {
      const res = await metrics(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(await res.text()).not.toContain("switchyard_replica");
    }
    const t = Date.now();
    const res = await metrics({ authorization: `Bearer ${s.token}` });
    const text = await res.text();
    const ms = Date.now() - t;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    for (const name of ["switchyard_replica_requests_total", "switchyard_replica_up", "switchyard_replica_memory_bytes", "switchyard_service_ready_replicas", "switchyard_engine_applies_total"]) expect(text).toContain(`# TYPE ${name}`);
    console.log(`[prometheus] one scrape: ${text.length} bytes in ${ms} ms`);
    // the replica label is the replica's id, never an address
    const replicas = Object.keys(await replicaAddresses(s));
    for (const line of text.split("\n").filter((l) => l.startsWith("switchyard_replica_up{"))) expect(replicas.some((id) => line.includes(`replica="${id}"`))).toBe(true);
    expect(text).not.toMatch(/replica="[^"]*(127\.0\.0\.1|:\d+)/);
  });

  it("HAProxy: per replica, PromQL's increase over the window agrees with the replicas' own counters within 1 %", async () => {
    const s = stack("haproxy");
    await openWindow(s);
    await loadThrough(s, 3000);
    await agreesWithReplicas(s, "after the load");
  }, 120_000);

  it("HAProxy: a reload in the window lowers no counter: the increase still agrees within 1 %", async () => {
    const s = stack("haproxy");
    const reloadsBefore = Number((await promQuery('sum(switchyard_engine_reloads_total{job="haproxy",engine="haproxy",result="ok"})'))[0]?.value[1] ?? 0);
    const current = (await (await s.panel.request(`/api/services/${s.serviceId}/rules`, { cookie: s.cookie })).json()) as { rules: { timeouts: { serverMs: number } }; revision: number };
    const rules = { ...current.rules, timeouts: { ...current.rules.timeouts, serverMs: current.rules.timeouts.serverMs + 1000 } };
    const put = await s.panel.request(`/api/services/${s.serviceId}/rules`, { method: "PUT", cookie: s.cookie, json: { baseRevision: current.revision, rules } });
    expect(put.status, await put.clone().text()).toBe(200);
    await until("the reload in the export", () => promQuery('sum(switchyard_engine_reloads_total{job="haproxy",engine="haproxy",result="ok"})'), (r) => Number(r[0]?.value[1] ?? 0) > reloadsBefore, 20_000, 250);

    await loadThrough(s, 1500);
    const t2 = await settled(s);
    const resets = await promQuery(`resets(${series(s, "switchyard_replica_requests_total")}[${Math.ceil(t2 - s.t0) + 5}s])`, t2);
    expect(resets.length).toBeGreaterThan(0);
    for (const r of resets) expect(Number(r.value[1]), JSON.stringify(r.metric)).toBe(0);
    await agreesWithReplicas(s, "across an HAProxy reload");
  }, 120_000);

  for (const engine of ["nginx", "builtin"] as const) {
    it(`${engine}: per replica, PromQL's increase agrees with the replicas' own counters within 1 %, timings included`, async () => {
      const s = stack(engine);
      await openWindow(s);
      await loadThrough(s, 1500);
      await agreesWithReplicas(s, "after the load");
    }, 120_000);
  }

  it("every query of every panel in the Grafana dashboard parses and returns data", async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "grafana", "dashboards", "switchyard.json"), "utf8")) as Dashboard;
    const end = Date.now() / 1000;
    const t0 = stack("haproxy").t0; // the first window's start: every engine's traffic came after it
    // Grafana's variables as it fills them: every service (allValue .*), 4 scrape intervals for $__rate_interval
    const fill = (expr: string) => expr.replaceAll("$service", ".*").replaceAll("$__rate_interval", "4s").replaceAll("$__interval", "1s").replaceAll("$__range", `${Math.ceil(end - t0)}s`);
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: fill(t.expr) })));
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(["Traffic share per replica", "Requests per replica", "Errors per replica", "p95 latency per replica", "Health: in rotation", "Memory per replica"]),
    );
    for (const q of queries) {
      expect(q.expr, q.panel).not.toContain("$");
      const out = await promRange(q.expr, t0, end);
      const values = out.result.flatMap((s) => s.values.map((v) => Number(v[1]))).filter((v) => Number.isFinite(v));
      console.log(`[prometheus] panel "${q.panel}": ${out.result.length} series, ${values.length} values — ${q.expr}`);
      expect(out.status, `${q.panel}: ${out.error}`).toBe("success");
      expect(values.length, `${q.panel}: no data for ${q.expr}`).toBeGreaterThan(0);
    }
    // the service variable's query
    const variable = dashboard.templating.list.find((v) => v.name === "service")!;
    const metric = /label_values\((\w+), service\)/.exec(variable.query.query)![1];
    const res = (await (await fetch(`${promUrl}/api/v1/label/service/values?match[]=${metric}`)).json()) as { data: string[] };
    expect(res.data).toContain("web");
  }, 60_000);

  it("deploy/prometheus.yml is a valid Prometheus config; the dashboard names the provisioned data source", () => {
    expect(promtoolSyntax(fs.readFileSync(path.join(REPO_ROOT, "deploy", "prometheus.yml"), "utf8"))).toContain("SUCCESS");
    const dashboard = fs.readFileSync(path.join(REPO_ROOT, "grafana", "dashboards", "switchyard.json"), "utf8");
    const uids = new Set([...dashboard.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== "switchyard"));
    const provisioned = /uid: (\S+)/.exec(fs.readFileSync(path.join(REPO_ROOT, "grafana", "provisioning", "datasources", "prometheus.yml"), "utf8"))![1];
    expect([...uids]).toEqual([provisioned]);
  });

  describe("the Settings card", () => {
    let browser: LaunchedBrowser | undefined;
    afterAll(async () => browser?.close());

    it("creates a named token shown once, lists it, shows the scrape config, revokes it; both themes and a phone", async () => {
      const { panel, cookie } = stack("haproxy");
      browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
      await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      const page = browser.page;
      page.on("dialog", (d) => void d.accept());
      await page.goto(`${panel.url}/settings`);
      const card = page.getByTestId("prometheus-panel");
      const whole = card.locator("xpath=ancestor::section[1]"); // the card with its title
      await card.scrollIntoViewIfNeeded();
      // the token Prometheus scrapes with has been used
      await until("last use of prometheus-e2e", async () => (await card.getByTestId("metrics-token-row-prometheus-e2e").innerText()).toLowerCase(), (t) => !t.includes("never"), 10_000, 200);
      const snippet = await card.getByTestId("scrape-config").innerText();
      expect(snippet).toContain(`127.0.0.1:${panel.port}`);
      expect(promtoolSyntax(snippet)).toContain("SUCCESS"); // ready to paste: Prometheus' own checker takes it

      await card.locator('input[name="metrics-token-name"]').fill("grafana-cloud");
      await card.getByRole("button", { name: "Create token" }).click();
      const shown = (await card.getByTestId("metrics-token-value").innerText()).trim();
      expect(shown).toMatch(/^sy_metrics_[0-9a-f]{64}$/);
      await card.getByTestId("metrics-token-row-grafana-cloud").waitFor();
      const ok = await fetch(`${panel.url}/metrics`, { headers: { authorization: `Bearer ${shown}` } });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();

      for (const theme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: theme });
        await whole.screenshot({ path: path.join(screenshotDir(), `settings-prometheus-${theme}.png`) });
      }
      await page.setViewportSize({ width: 390, height: 844 });
      await page.emulateMedia({ colorScheme: "light" });
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      expect(scroll).toBeLessThanOrEqual(width);
      await page.evaluate(() => window.scrollTo(0, 0)); // a full page from the top: the sticky header stays at the top
      await screenshot(page, "settings-prometheus-phone");

      // shown once: after a reload of the page the token is nowhere on it
      await page.reload();
      expect(await page.content()).not.toContain(shown);
      await page.getByRole("button", { name: "Revoke grafana-cloud" }).click();
      await until("the row to go", () => page.getByTestId("metrics-token-row-grafana-cloud").count(), (n) => n === 0, 10_000, 100);
      const refused = await fetch(`${panel.url}/metrics`, { headers: { authorization: `Bearer ${shown}` } });
      expect(refused.status).toBe(401);
    }, 120_000);
  });
});
