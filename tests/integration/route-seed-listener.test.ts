/**
 * Seed 000's site on its own port (issue 13, done-when): the site (tictactoe.local,
 * api.local and *.local, source stickiness) is served on a listener of its own (its
 * route names `listeners: ["site"]`), on real HAProxy, nginx and builtin with real
 * replicas. The default listener keeps another service (web.test) and does NOT serve the
 * site: for the site's names it answers what lib/core's tryRoute/matchRoute says with the
 * default listener (no route: the engine's own 503). Every answer, on both listeners, is
 * checked against lib/core with the listener it came in on, and written out too.
 *
 * Ports: replicas 28600-28602 (data) and 28700-28702 (admin); listeners 18460/18461
 * (HAProxy default/site), 18462/18463 (nginx), 18464/18465 (builtin).
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesOfServices } from "@/lib/core/route-match";
import { tryRoute } from "@/lib/core/route-try";
import { rulesSchema } from "@/lib/core/rules";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerConfig, RunningEngine } from "@/lib/engines/types";
import { serverOf } from "@/tests/helpers/engine-config";
import { until } from "@/tests/helpers/load";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { hasBinary, needs } from "@/tests/helpers/requirements";
import { seedServices } from "@/tests/fixtures/routes/seeds";

const REPLICAS: Record<string, string[]> = { tictactoe: ["sl-ttt-1", "sl-ttt-2"], web: ["sl-web-1"] };
const replicas = new Map<string, ReplicaProcess>();
const dataDirs: string[] = [];
const fast = { healthCheck: { intervalMs: 300, timeoutMs: 500, rise: 1, fall: 2 } };

/** Seed 000's site with its routes on the "site" listener; web.test on the default listener. */
function configFor(defaultPort: number, sitePort: number): BalancerConfig {
  const host = "127.0.0.1";
  const [site] = seedServices["seed-000-site"];
  const siteRoutes = (site.rules.routes ?? []).map((r) => ({ ...r, listeners: ["site"] }));
  const servers = (name: string) => REPLICAS[name].map((id) => serverOf(replicas.get(id)!));
  return {
    listen: { host, port: defaultPort },
    listeners: [
      { name: "default", host, port: defaultPort, protocol: "http" },
      { name: "site", host, port: sitePort, protocol: "http" },
    ],
    services: [
      { id: "svc-tictactoe", name: "tictactoe", rules: rulesSchema.parse({ ...fast, ...site.rules, routes: siteRoutes }), servers: servers("tictactoe") },
      { id: "svc-web", name: "web", rules: rulesSchema.parse({ ...fast, routes: [{ hosts: ["web.test"], path: "/" }] }), servers: servers("web") },
    ],
  };
}

type Answer = { status: number; replica: string | null; path: string | null };

function get(port: number, host: string, target: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, headers: { host }, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let body: { path?: unknown } | null = null;
        try {
          body = JSON.parse(text) as { path?: unknown };
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, replica: (res.headers["x-replica"] as string | undefined) ?? null, path: typeof body?.path === "string" ? body.path : null });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from 127.0.0.1:${port} within 5 s`)));
    req.on("error", reject);
  });
}

const serviceOf = (replica: string | null) => Object.entries(REPLICAS).find(([, ids]) => replica !== null && ids.includes(replica))?.[0] ?? null;

/** Requests sent to both listeners; what each should get is written out per listener (null: 503 from the engine). */
const CASES: { host: string; target: string; site: string | null; default: string | null }[] = [
  { host: "tictactoe.local", target: "/", site: "tictactoe", default: null },
  { host: "api.local", target: "/play?x=1", site: "tictactoe", default: null },
  { host: "lobby.local", target: "/a", site: "tictactoe", default: null },
  { host: "deep.lobby.local", target: "/", site: "tictactoe", default: null },
  { host: "local", target: "/", site: null, default: null },
  { host: "web.test", target: "/w", site: null, default: "web" },
];

type EngineUnderTest = { kind: string; ports: [number, number]; missing: () => string | null; create: (dataDir: string, port: number) => RunningEngine };

const engines: EngineUnderTest[] = [
  {
    kind: "haproxy",
    ports: [18460, 18461],
    missing: () => hasBinary("haproxy", ["-v"]),
    create: (dataDir, port) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }),
  },
  {
    kind: "nginx",
    ports: [18462, 18463],
    missing: () => hasBinary("nginx", ["-v"]),
    create: (dataDir, port) => {
      chmodSync(dataDir, 0o755); // workers run as nobody when nginx starts as root
      return createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" });
    },
  },
  { kind: "builtin", ports: [18464, 18465], missing: () => null, create: (dataDir, port) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port } }) },
];

beforeAll(async () => {
  const ids = Object.entries(REPLICAS).flatMap(([service, list]) => list.map((id) => ({ id, service })));
  const started = await Promise.all(ids.map(({ id, service }, i) => startReplica({ port: 28600 + i, adminPort: 28700 + i, id, service })));
  started.forEach((r) => replicas.set(r.id, r));
});

afterAll(async () => {
  await Promise.all([...replicas.values()].map((r) => r.stop()));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

for (const target of engines) {
  describe.skipIf(needs(target.kind, target.missing()))(`seed 000 on its own listener on ${target.kind}`, () => {
    let engine: RunningEngine | null = null;
    afterAll(async () => {
      await engine?.stop();
    });

    it("the site's names are served on its own port only, with source stickiness; the default listener answers as lib/core says for that listener", async () => {
      const [defaultPort, sitePort] = target.ports;
      const dataDir = mkdtempSync(path.join(os.tmpdir(), `sy-seed-listener-${target.kind}-`));
      dataDirs.push(dataDir);
      engine = target.create(dataDir, defaultPort);
      const config = configFor(defaultPort, sitePort);
      await engine.start(config);
      const routes = routesOfServices(config.services).map((r) => ({ ...r, stripPrefix: r.entry.stripPrefix }));
      const portOf = { default: defaultPort, site: sitePort } as const;
      // health checks passed on both services before the cases
      await until(`${target.kind}: tictactoe.local on the site listener`, () => get(sitePort, "tictactoe.local", "/"), (a) => serviceOf(a.replica) === "tictactoe");
      await until(`${target.kind}: web.test on the default listener`, () => get(defaultPort, "web.test", "/"), (a) => serviceOf(a.replica) === "web");
      let checked = 0;
      for (const c of CASES) {
        for (const listener of ["site", "default"] as const) {
          const want = c[listener];
          const model = tryRoute(routes, c.host, c.target, listener).reached;
          expect(model?.service ?? null, `lib/core for ${c.host}${c.target} on ${listener}`).toBe(want);
          const a = await get(portOf[listener], c.host, c.target);
          const label = `${target.kind} ${listener} listener (port ${portOf[listener]}): ${c.host}${c.target}`;
          if (want === null) expect({ status: a.status, replica: a.replica }, label).toEqual({ status: 503, replica: null });
          else expect({ service: serviceOf(a.replica), path: a.path }, label).toEqual({ service: want, path: model!.upstreamPath });
          checked++;
        }
      }
      expect(checked).toBe(CASES.length * 2);
      // source stickiness on the site's own port: one client keeps its replica over every name
      const hits: (string | null)[] = [];
      for (let i = 0; i < 12; i++) hits.push((await get(sitePort, ["tictactoe.local", "api.local", "z.local"][i % 3], "/")).replica);
      expect(hits.every((h) => serviceOf(h) === "tictactoe"), `replicas: ${hits.join(" ")}`).toBe(true);
      expect(new Set(hits).size, `replicas one client reached: ${hits.join(" ")}`).toBe(1);
    });
  });
}
