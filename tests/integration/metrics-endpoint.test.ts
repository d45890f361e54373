/**
 * GET /metrics and its tokens against a real SQLite database (handlers called directly):
 * 401 with no token, a wrong one, a session cookie or a revoked token; 200 with the
 * Prometheus text with a token an admin created (shown once, stored hashed); tokens are
 * named, several at a time, admins only; refused scrapes and token changes are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
let database: TempDatabase | undefined;
let m: {
  db: typeof import("@/lib/db/client").db;
  createSession: typeof import("@/lib/auth/sessions").createSession;
  metrics: typeof import("@/app/metrics/route");
  tokens: typeof import("@/app/api/settings/metrics-tokens/route");
  token: typeof import("@/app/api/settings/metrics-tokens/[id]/route");
  state: typeof import("@/lib/metrics/state").metricsState;
};
const cookies: Record<"admin" | "operator", string> = { admin: "", operator: "" };

const scrape = (authorization?: string, cookie?: string) =>
  m.metrics.GET(
    new Request(`${ORIGIN}/metrics`, {
      headers: { host: "127.0.0.1:3999", "x-switchyard-remote": "127.0.0.9", ...(authorization ? { authorization } : {}), ...(cookie ? { cookie } : {}) },
    }),
  );

const api = (method: string, path: string, as: "admin" | "operator", json?: unknown) =>
  new Request(`${ORIGIN}${path}`, {
    method,
    headers: { host: "127.0.0.1:3999", origin: ORIGIN, cookie: cookies[as], "x-switchyard-remote": "127.0.0.1", ...(json ? { "content-type": "application/json" } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });

async function createToken(name: string): Promise<{ token: string; metricsToken: { id: string; name: string } }> {
  const res = await m.tokens.POST(api("POST", "/api/settings/metrics-tokens", "admin", { name }));
  expect(res.status).toBe(201);
  return res.json();
}

beforeAll(async () => {
  database = await openTempDatabase("metrics-endpoint");
  m = {
    db: (await import("@/lib/db/client")).db,
    createSession: (await import("@/lib/auth/sessions")).createSession,
    metrics: await import("@/app/metrics/route"),
    tokens: await import("@/app/api/settings/metrics-tokens/route"),
    token: await import("@/app/api/settings/metrics-tokens/[id]/route"),
    state: (await import("@/lib/metrics/state")).metricsState,
  };
  for (const role of ["admin", "operator"] as const) {
    const user = await m.db().user.create({ data: { username: `${role}1`, passwordHash: "x", role } });
    cookies[role] = `sy_session=${(await m.createSession(user.id)).token}`;
  }
  m.state().observeService({ name: "web", desired: 3, ready: 3 }, [
    { replicaId: "abc1234567", deltas: null, up: true, reason: "up", activeConnections: 0, memoryBytes: 1, memoryLimitBytes: 2, cpuPercent: 0 },
  ]);
});

afterAll(async () => {
  await database?.close();
});

describe("GET /metrics", () => {
  it("refuses a scrape with no token, a wrong one, or a session cookie (401, WWW-Authenticate), and audits it", async () => {
    await createToken("prom-a");
    const wrong = `Bearer sy_metrics_${"0".repeat(64)}`;
    for (const res of [await scrape(), await scrape(wrong), await scrape("Bearer nonsense"), await scrape(undefined, cookies.admin)]) {
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(await res.text()).not.toContain("switchyard_");
    }
    const denied = await m.db().event.findMany({ where: { kind: "metrics.denied" } });
    expect(denied).toHaveLength(1); // one event per address and minute, counting the repeats
    expect(denied[0].message).toContain("127.0.0.9");
  });

  it("answers the Prometheus text to a token an admin created; only its hash is stored; last use is recorded", async () => {
    const { token, metricsToken } = await createToken("prom-b");
    expect(token).toMatch(/^sy_metrics_[0-9a-f]{64}$/);
    const row = await m.db().metricsToken.findUniqueOrThrow({ where: { id: metricsToken.id } });
    expect(row.tokenHash).not.toContain(token.slice(11));
    expect(row.lastUsedAt).toBeNull();

    const res = await scrape(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain('switchyard_replica_up{service="web",replica="abc1234567",reason="up"} 1');
    expect(text).toContain('switchyard_service_desired_replicas{service="web"} 3');
    expect((await m.db().metricsToken.findUniqueOrThrow({ where: { id: metricsToken.id } })).lastUsedAt).not.toBeNull();

    // the list shows names and dates, never a token or its hash
    const list = await (await m.tokens.GET(api("GET", "/api/settings/metrics-tokens", "admin"))).text();
    expect(list).toContain("prom-a");
    expect(list).toContain("prom-b");
    expect(list).not.toContain(token);
    expect(list).not.toContain(row.tokenHash);
  });

  it("a revoked token gets 401 at once; the others keep working; create and revoke are audited", async () => {
    const a = await createToken("prom-c");
    const b = await createToken("prom-d");
    const del = await m.token.DELETE(api("DELETE", `/api/settings/metrics-tokens/${a.metricsToken.id}`, "admin"), { params: Promise.resolve({ id: a.metricsToken.id }) });
    expect(del.status).toBe(200);
    expect((await scrape(`Bearer ${a.token}`)).status).toBe(401);
    expect((await scrape(`Bearer ${b.token}`)).status).toBe(200);
    const kinds = (await m.db().event.findMany({ where: { kind: { startsWith: "metrics.token" } } })).map((e) => `${e.kind} ${e.message}`);
    expect(kinds.some((k) => k.startsWith("metrics.token-created") && k.includes('"prom-c"'))).toBe(true);
    expect(kinds.some((k) => k.startsWith("metrics.token-revoked") && k.includes('"prom-c"'))).toBe(true);
  });

  it("counts the autoscaler's changes from its autoscale.scaled events (the collector listens on the event bus)", async () => {
    const { Collector } = await import("@/lib/controller/collector");
    const { recordEvent } = await import("@/lib/events");
    const svc = await m.db().service.create({ data: { name: "api", runtime: "process", adminToken: "t".repeat(32), rules: "{}" } });
    m.state().observeService({ id: svc.id, name: "api", desired: 2, ready: 2 }, []);
    const collector = new Collector();
    collector.start();
    try {
      await recordEvent({ kind: "autoscale.scaled", actor: "autoscaler", serviceId: svc.id, message: "scaled api 2 → 4", data: { from: 2, to: 4 } });
      await recordEvent({ kind: "autoscale.scaled", actor: "autoscaler", serviceId: svc.id, message: "malformed", data: { from: "2" } });
    } finally {
      collector.stop();
    }
    const { token } = await createToken("prom-autoscale");
    const text = await (await scrape(`Bearer ${token}`)).text();
    expect(text).toContain('switchyard_autoscaler_scalings_total{service="api",direction="up"} 1');
    expect(text).not.toContain('direction="down"');
  });

  it("tokens are an admin's: an operator can neither list nor create them; names are unique and checked", async () => {
    expect((await m.tokens.GET(api("GET", "/api/settings/metrics-tokens", "operator"))).status).toBe(403);
    expect((await m.tokens.POST(api("POST", "/api/settings/metrics-tokens", "operator", { name: "x" }))).status).toBe(403);
    expect((await m.tokens.POST(api("POST", "/api/settings/metrics-tokens", "admin", { name: "prom-b" }))).status).toBe(409);
    expect((await m.tokens.POST(api("POST", "/api/settings/metrics-tokens", "admin", { name: "a\nb" }))).status).toBe(400);
    expect((await m.tokens.POST(api("POST", "/api/settings/metrics-tokens", "admin", { name: "" }))).status).toBe(400);
  });
});
