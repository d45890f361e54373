/**
 * What the README claims about the running panel, against the real thing (`npm start` on
 * a fresh data folder, real HAProxy / nginx, real replicas, Chromium):
 *
 * - ENGINE=auto (unset) runs HAProxy when it is installed;
 * - the session cookie's flags as the real server sends them;
 * - a client-sent `x-switchyard-remote` is overwritten by the server: rotating it does not
 *   get around sign-in throttling, and the audit records the real address;
 * - HAProxy's cookie key is a per-panel secret: in the file HAProxy reads, never in what
 *   the panel sends, stable across a panel restart (sticky cookies keep their replica);
 * - replica admin tokens (and that secret) never reach a browser or a viewer: every HTTP
 *   response and every WebSocket frame of an admin's and a viewer's session is scanned;
 * - options the engine cannot do are refused by the API (nginx has no slow start).
 *
 * Panels 3200-3229, listeners 18304 (HAProxy) / 18305 (nginx), replicas 24800-24999.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamicCookieKey } from "@/lib/engines/haproxy/render";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { hasChromium, launchBrowser } from "@/tests/helpers/browser";
import { get, stickyCookie, waitFor } from "@/tests/helpers/load";
import { hasBinary, needs } from "@/tests/helpers/requirements";

const ADMIN = { username: "claims-admin", password: "claims admin password" };
const VIEWER = { username: "claims-viewer", password: "claims viewer password" };
const TTL_HOURS = 2;
const LISTEN = 18304;

type Seen = { where: string; text: string };

/** Every secret a browser must never see: the services' admin tokens, the cookie secret and the keys derived from it. */
function secretsOf(dataDir: string): Map<string, string> {
  const out = new Map<string, string>();
  const database = new Database(path.join(dataDir, "switchyard.db"), { readonly: true, fileMustExist: true });
  try {
    for (const row of database.prepare("SELECT name, adminToken FROM Service").all() as { name: string; adminToken: string }[]) out.set(`admin token of ${row.name}`, row.adminToken);
  } finally {
    database.close();
  }
  // the replica state files hold the token each replica runs with
  const replicasDir = path.join(dataDir, "replicas");
  for (const id of fs.existsSync(replicasDir) ? fs.readdirSync(replicasDir) : []) {
    const file = path.join(replicasDir, id, "state.json");
    if (!fs.existsSync(file)) continue;
    const token = /"adminToken"\s*:\s*"([^"]+)"/.exec(fs.readFileSync(file, "utf8"))?.[1];
    if (token) out.set(`admin token in ${id}/state.json`, token);
  }
  const secretFile = path.join(dataDir, "cookie-secret");
  if (fs.existsSync(secretFile)) out.set("cookie secret", fs.readFileSync(secretFile, "utf8").trim());
  for (const key of cookieKeysIn(dataDir)) out.set(`dynamic-cookie-key ${key.slice(0, 6)}…`, key);
  return out;
}

function cookieKeysIn(dataDir: string): string[] {
  const cfg = path.join(dataDir, "haproxy", "haproxy.cfg");
  const text = fs.existsSync(cfg) ? fs.readFileSync(cfg, "utf8") : "";
  return [...text.matchAll(/dynamic-cookie-key (\S+)/g)].map((m) => m[1]);
}

/** "<secret name> in <where>" for each secret found in what was seen. */
function leaks(seen: Seen[], secrets: Map<string, string>): string[] {
  const found: string[] = [];
  for (const s of seen) for (const [name, value] of secrets) if (value.length >= 16 && s.text.includes(value)) found.push(`${name} in ${s.where}`);
  return found;
}

/** socket.io event packets ("42[...") in a WebSocket frame or a long-polling answer */
const livePackets = (text: string) => text.split("42[").length - 1;

/**
 * Records every response body and WebSocket frame a page receives (and the frames it
 * sends); `live()` counts the socket.io events received, over either transport.
 */
function recordTraffic(page: Page, seen: Seen[]): { settle(): Promise<void>; live(): number } {
  const pending: Promise<void>[] = [];
  let live = 0;
  page.on("response", (res) => {
    const type = res.headers()["content-type"] ?? "";
    if (/^(image|font)\//.test(type)) return;
    pending.push(
      res.text().then(
        (text) => {
          seen.push({ where: `${res.request().method()} ${res.url()}`, text });
          if (res.url().includes("/socket.io/")) live += livePackets(text);
        },
        () => undefined, // redirects and aborted requests have no body
      ),
    );
  });
  page.on("websocket", (ws) => {
    ws.on("framereceived", (f) => {
      live += livePackets(String(f.payload));
      seen.push({ where: `websocket frame from ${ws.url()}`, text: String(f.payload) });
    });
    ws.on("framesent", (f) => seen.push({ where: `websocket frame to ${ws.url()}`, text: String(f.payload) }));
  });
  return { settle: async () => void (await Promise.all(pending)), live: () => live };
}

/** fetch() from inside the page, so the response is one the browser received. */
async function browserFetch(page: Page, url: string, init: { method?: string; body?: unknown } = {}): Promise<number> {
  return page.evaluate(
    async ({ url, method, body }) => {
      const res = await fetch(url, { method, headers: body === undefined ? {} : { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      await res.text();
      return res.status;
    },
    { url, method: init.method ?? "GET", body: init.body },
  );
}

/** Sign in over HTTP from a chosen loopback address, with whatever headers the client likes. */
function signInFrom(panel: Panel, localAddress: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: panel.port, path: "/api/auth/login", method: "POST", localAddress, agent: false, headers: { "content-type": "application/json", origin: panel.url, ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers["set-cookie"] ?? [] }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const missing = needs("chromium", hasChromium() ? null : "/usr/bin/chromium is missing (apt-get install chromium)") || needs("haproxy", hasBinary("haproxy"));

describe.skipIf(missing)("README claims on the running panel (ENGINE unset, HAProxy installed)", () => {
  let panel: Panel;
  let adminCookie = "";
  let serviceId = "";
  let replicaIds: string[] = [];
  /** every API answer the tests below got from the panel over HTTP */
  const answers: Seen[] = [];

  const api = async (p: string, init: { method?: string; json?: unknown; cookie?: string } = {}) => {
    const res = await panel.request(p, { method: init.method, json: init.json, cookie: init.cookie ?? adminCookie });
    const text = await res.text();
    answers.push({ where: `${init.method ?? "GET"} ${p}`, text });
    return { status: res.status, text, json: () => JSON.parse(text) };
  };
  const revision = async () => (await api("/api/balancer")).json().revision as number;
  const putRules = async (rules: unknown) => api(`/api/services/${serviceId}/rules`, { method: "PUT", json: { baseRevision: await revision(), rules } });

  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(3200, 3214),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, PORT_RANGE: "24800-24899", BALANCER_PORT: String(LISTEN), SESSION_TTL_HOURS: String(TTL_HOURS) },
    });
    adminCookie = await panel.login(ADMIN.username, ADMIN.password);
    await waitFor(
      "the demo service web with 3 ready replicas",
      async () => {
        const web = ((await api("/api/services")).json().services as { id: string; name: string; instances: { id: string; state: string }[] }[]).find((s) => s.name === "web");
        if (!web || web.instances.filter((r) => r.state === "ready").length !== 3) return false;
        serviceId = web.id;
        replicaIds = web.instances.map((r) => r.id);
        return true;
      },
      90_000,
      250,
    );
  });

  afterAll(async () => {
    await panel?.stop();
  });

  it("ENGINE unset (auto) runs HAProxy, and the demo service answers through it", async () => {
    const { engine } = (await api("/api/balancer")).json() as { engine: { kind: string; running: boolean; pid: number } };
    expect(engine).toMatchObject({ kind: "haproxy", running: true });
    const argv = fs.readFileSync(`/proc/${engine.pid}/cmdline`, "utf8").split("\0");
    expect(path.basename(argv[0])).toBe("haproxy");
    expect(argv).toContain(path.join(panel.dataDir, "haproxy", "haproxy.cfg"));
    const hit = await get(LISTEN);
    expect(hit.status).toBe(200);
    expect(replicaIds).toContain(hit.replica);
  });

  it(`the real server's session cookie: HttpOnly, SameSite=Lax, Path=/, no Secure over http, Expires after SESSION_TTL_HOURS=${TTL_HOURS}`, async () => {
    const before = Date.now();
    const res = await signInFrom(panel, "127.0.0.1", ADMIN);
    expect(res.status).toBe(200);
    const cookie = res.setCookie.find((c) => c.startsWith("sy_session="))!;
    const attrs = cookie.split(";").slice(1).map((p) => p.trim());
    expect(attrs).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Lax"]));
    expect(attrs.some((a) => /^secure$/i.test(a))).toBe(false);
    const expires = Date.parse(attrs.find((a) => a.startsWith("Expires="))!.slice("Expires=".length));
    expect(expires).toBeGreaterThanOrEqual(Math.floor((before + TTL_HOURS * 3600_000) / 1000) * 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + TTL_HOURS * 3600_000);
  });

  it("a client-sent x-switchyard-remote is overwritten: rotating it does not get around throttling, and events record the real address", async () => {
    const from = "127.0.0.7";
    for (let i = 0; i < 5; i++) {
      // five wrong passwords for one name, five made-up addresses: failures count per (name, address), and only
      // the real address ties them together
      const res = await signInFrom(panel, from, { username: ADMIN.username, password: "wrong password" }, { "x-switchyard-remote": `203.0.113.${i + 1}` });
      expect(res.status).toBe(401);
    }
    const blocked = await signInFrom(panel, from, ADMIN, { "x-switchyard-remote": "198.51.100.99" });
    expect(blocked.status).toBe(429);
    // the same credentials from another address are fine: that name is throttled from that address only
    expect((await signInFrom(panel, "127.0.0.1", ADMIN)).status).toBe(200);
    const { events } = (await api("/api/events?limit=50")).json() as { events: { kind: string; data: { ip?: string } | null }[] };
    const failed = events.filter((e) => e.kind === "auth.failed");
    expect(failed.length).toBeGreaterThanOrEqual(5);
    for (const e of failed.slice(0, 5)) expect(e.data?.ip).toMatch(/^(::ffff:)?127\.0\.0\.7$/);
    expect(JSON.stringify(events)).not.toMatch(/203\.0\.113\.|198\.51\.100\./);
  });

  it("HAProxy's cookie key is this panel's secret: in the file HAProxy reads, shown nowhere", async () => {
    const res = await putRules({ sticky: { mode: "cookie" } });
    expect(res.status).toBe(200);
    const secretFile = path.join(panel.dataDir, "cookie-secret");
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(secretFile, "utf8").trim();
    const [key] = cookieKeysIn(panel.dataDir);
    expect(key).toBe(dynamicCookieKey(serviceId, secret));
    expect(key).not.toBe(dynamicCookieKey(serviceId, "switchyard"));
    // everything that shows a config shows the placeholder
    const shown = [
      res.text,
      (await api("/api/balancer")).text,
      (await api("/api/balancer/export?engine=haproxy")).text,
      (await api("/api/balancer/revisions")).text,
      (await api(`/api/balancer/revisions/${await revision()}`)).text,
      (await api("/api/balancer/preview", { method: "POST", json: { serviceId, rules: { sticky: { mode: "cookie" }, algorithm: "least_conn" } } })).text,
    ];
    for (const text of shown) {
      expect(text).toContain("dynamic-cookie-key <secret>");
      expect(text).not.toContain(key);
      expect(text).not.toContain(secret);
    }
    for (const engine of ["nginx", "builtin", "traefik"]) expect((await api(`/api/balancer/export?engine=${engine}`)).text).not.toContain(key);
  });

  it("no admin token or cookie secret in any response or WebSocket frame of an admin's session in the browser", async () => {
    const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    const seen: Seen[] = [];
    try {
      await browser.context.addCookies([{ name: "sy_session", value: adminCookie.split("=")[1], url: panel.url }]);
      const page = browser.page;
      const traffic = recordTraffic(page, seen);
      for (const p of ["/services", `/services/${serviceId}`, "/balancer", "/events", "/settings"]) await page.goto(`${panel.url}${p}`);
      await page.goto(`${panel.url}/services/${serviceId}`);
      await page.locator('[data-testid="replica-card"]').first().waitFor();
      // the page's own actions and every read the API offers, from inside the browser
      const replica = replicaIds[0];
      const calls: [string, string, unknown?][] = [
        ["POST", `/api/services/${serviceId}/traffic`, { rps: 20, concurrency: 2, durationS: 5, clients: 2 }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "info" }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "stress-memory", mb: 8 }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "faults", latencyMs: 10 }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "clear" }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "drain" }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "ready" }],
        ["POST", `/api/replicas/${replica}/actions`, { action: "weight", weight: 100 }],
        ["GET", `/api/replicas/${replica}/logs?lines=500`],
        ["GET", "/api/services"],
        ["GET", `/api/services/${serviceId}`],
        ["GET", `/api/services/${serviceId}/replicas`],
        ["GET", `/api/services/${serviceId}/rules`],
        ["GET", `/api/services/${serviceId}/traffic`],
        ["GET", "/api/balancer"],
        ["GET", "/api/balancer/revisions"],
        ["GET", "/api/balancer/revisions/1"],
        ["GET", "/api/events?limit=1000"],
        ["GET", "/api/users"],
        ["GET", "/api/auth/me"],
        ...["haproxy", "nginx", "builtin", "traefik"].map((e): [string, string] => ["GET", `/api/balancer/export?engine=${e}`]),
      ];
      for (const [method, url, body] of calls) {
        const status = await browserFetch(page, url, { method, body });
        expect(status, `${method} ${url}`).toBeLessThan(400);
      }
      // live ticks for a while (socket.io: the service room and the event feed)
      await waitFor("live events on the socket", () => traffic.live() > 10, 30_000, 250);
      await traffic.settle();
    } finally {
      await browser.close();
    }
    const secrets = secretsOf(panel.dataDir);
    expect([...secrets.keys()].filter((k) => k.startsWith("admin token")).length).toBeGreaterThanOrEqual(2);
    console.log(`[claims] admin session: scanned ${seen.length} responses and frames for ${secrets.size} secrets`);
    // the scan saw what sits next to a token on the server: replicas and their admin addresses, live and in pages
    expect(seen.some((s) => s.where.startsWith("websocket frame from") && s.text.includes(replicaIds[0]))).toBe(true);
    expect(seen.some((s) => s.where.startsWith("GET") && s.where.includes(`/services/${serviceId}`) && s.text.includes("adminAddr"))).toBe(true);
    expect(leaks(seen, secrets)).toEqual([]);
  });

  it("nor in a viewer's", async () => {
    expect((await api("/api/users", { method: "POST", json: { ...VIEWER, role: "viewer" } })).status).toBe(201);
    const viewerCookie = await panel.login(VIEWER.username, VIEWER.password);
    const browser = await launchBrowser();
    const seen: Seen[] = [];
    try {
      await browser.context.addCookies([{ name: "sy_session", value: viewerCookie.split("=")[1], url: panel.url }]);
      const page = browser.page;
      const traffic = recordTraffic(page, seen);
      for (const p of ["/services", "/balancer", "/events", "/settings", `/services/${serviceId}`]) await page.goto(`${panel.url}${p}`);
      await page.locator('[data-testid="replica-card"]').first().waitFor();
      for (const url of ["/api/services", `/api/services/${serviceId}`, "/api/balancer", "/api/balancer/revisions", "/api/events?limit=1000", "/api/balancer/export?engine=haproxy"]) {
        expect(await browserFetch(page, url), url).toBe(200);
      }
      // what a viewer may not do answers without a secret too
      expect(await browserFetch(page, `/api/replicas/${replicaIds[0]}/actions`, { method: "POST", body: { action: "info" } })).toBe(403);
      // viewers read replica logs (issue 12: they see everything), with secrets replaced: this answer is scanned below too
      expect(await browserFetch(page, `/api/replicas/${replicaIds[0]}/logs?lines=500`)).toBe(200);
      await waitFor("live events on the viewer's socket", () => traffic.live() > 10, 30_000, 250).catch((e: Error) => {
        const socketTraffic = seen.filter((x) => x.where.includes("socket.io")).map((x) => `${x.where}: ${x.text.slice(0, 120)}`);
        throw new Error(`${e.message}; socket.io traffic seen: ${JSON.stringify(socketTraffic.slice(-10))}`);
      });
      await traffic.settle();
    } finally {
      await browser.close();
    }
    const secrets = secretsOf(panel.dataDir);
    console.log(`[claims] viewer session: scanned ${seen.length} responses and frames for ${secrets.size} secrets`);
    expect(leaks(seen, secrets)).toEqual([]);
  });

  it("every API answer these tests got over HTTP is free of them too", () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(leaks(answers, secretsOf(panel.dataDir))).toEqual([]);
  });

  it("the key survives a panel restart: the same secret, the same key, and a sticky cookie keeps its replica", async () => {
    const { cookie, replica: stuckTo } = await stickyCookie(LISTEN);
    const secretBefore = fs.readFileSync(path.join(panel.dataDir, "cookie-secret"), "utf8");
    const [keyBefore] = cookieKeysIn(panel.dataDir);
    await panel.stop({ keepRunning: true });
    panel = await startPanel({
      port: await findFreePort(3215, 3229),
      dataDir: panel.dataDir,
      startTimeoutMs: 170_000,
      env: { PORT_RANGE: "24800-24899", BALANCER_PORT: String(LISTEN), SESSION_TTL_HOURS: String(TTL_HOURS) },
    });
    adminCookie = await panel.login(ADMIN.username, ADMIN.password);
    // a reload rendered by the new panel process
    expect((await putRules({ sticky: { mode: "cookie" }, algorithm: "least_conn" })).status).toBe(200);
    expect(fs.readFileSync(path.join(panel.dataDir, "cookie-secret"), "utf8")).toBe(secretBefore);
    expect(cookieKeysIn(panel.dataDir)).toEqual([keyBefore]);
    for (let i = 0; i < 10; i++) expect((await get(LISTEN, { cookie })).replica).toBe(stuckTo);
  });
});

describe.skipIf(needs("nginx", hasBinary("nginx")))("unsupported options are refused by the API (nginx has no slow start)", () => {
  let panel: Panel;
  let cookie = "";

  beforeAll(async () => {
    panel = await startPanel({
      port: await findFreePort(3200, 3229),
      startTimeoutMs: 170_000,
      env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, ENGINE: "nginx", DEMO_SERVICE: "false", PORT_RANGE: "24900-24999", BALANCER_PORT: "18305", NGINX_SYSLOG_PORT: "18306" },
    });
    cookie = await panel.login(ADMIN.username, ADMIN.password);
  });

  afterAll(async () => {
    await panel?.stop();
  });

  it("rules with slow start: 422 naming nginx's reason, from the preview, the apply and a new service; nothing changes", async () => {
    const json = async (p: string, init: { method?: string; json?: unknown } = {}) => {
      const res = await panel.request(p, { ...init, cookie });
      return { status: res.status, body: await res.json() };
    };
    const created = await json("/api/services", { method: "POST", json: { name: "api", replicas: 0 } });
    expect(created.status).toBe(201);
    const id = created.body.service.id as string;
    const before = (await json("/api/balancer")).body as { revision: number; live: string; engine: { kind: string; capabilities: Record<string, true | string> } };
    expect(before.engine.kind).toBe("nginx");
    // the reason the editor shows next to the disabled option
    const reason = before.engine.capabilities.slowStart;
    expect(reason).toMatch(/nginx Plus/);

    // a route of its own, so the new service below is refused for slow start and not for its route
    const rules = { slowStartMs: 5000, route: { pathPrefix: "/slow" } };
    for (const [what, res] of [
      ["preview", await json("/api/balancer/preview", { method: "POST", json: { serviceId: id, rules } })],
      ["apply", await json(`/api/services/${id}/rules`, { method: "PUT", json: { baseRevision: before.revision, rules } })],
      ["new service", await json("/api/services", { method: "POST", json: { name: "slow", replicas: 0, rules } })],
    ] as const) {
      expect(res.status, what).toBe(422);
      expect(res.body.error.code, what).toBe("unsupported");
      expect(res.body.error.message, what).toBe(`nginx cannot do slow start: ${reason}`);
    }
    const after = (await json("/api/balancer")).body as typeof before;
    expect(after.revision).toBe(before.revision);
    expect(after.live).toBe(before.live);
    expect((await json(`/api/services/${id}/rules`)).body.rules.slowStartMs).toBe(0);
    expect(((await json("/api/services")).body.services as { name: string }[]).map((s) => s.name)).toEqual(["api"]);
  });
});
