/**
 * The panel's own listener in front of a Swarm service's balancer, with the rules a user sets,
 * on a real 3-node bed (scripts/swarm-bed.sh): the panel's HAProxy serves the service with one
 * server, the Swarm HAProxy's published address, which balances across the tasks with the
 * service's cookie stickiness and slow start; rules the Swarm balancer cannot carry out are
 * refused with 409; the Engine API calls per reconcile are counted and printed; a Swarm service,
 * its balancer and its configs whose service row is gone are swept.
 *
 * Its own bed (namespaces sys<run>, 10.215.<20 + pid % 200>.0/24), panel listener 127.0.0.1:18690,
 * Swarm balancer ports 18692-18695 on the manager's bed address, PORT_RANGE 18696-18699 unused (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { mkdtempSync } from "node:fs";
import { hasBinary, needs } from "../helpers/requirements";
import { waitFor } from "../helpers/load";
import type { ControllerHarness } from "../helpers/controller-harness";
import { swarmBed } from "../helpers/swarm-bed";

const IMAGE = "switchyard/replica:swarm-bed";
const LB_IMAGE = "switchyard/haproxy-bed:local";
const LISTEN = 18690;
const LB_PORT = 18692;
const RUN = process.pid.toString(36).slice(-4);
const BED_NAME = `sys${process.pid}`.slice(0, 8);
const BED_NET = `10.215.${20 + (process.pid % 200)}`;
const BED_DIR = mkdtempSync(path.join(os.tmpdir(), "sysbed-"));
const NAME = `sf${RUN}`;
const COOKIE = "SYTASK";

const bed = swarmBed({ name: BED_NAME, net: BED_NET, dir: BED_DIR, images: [IMAGE, LB_IMAGE] });

const missing = (() => {
  if (process.getuid?.() !== 0) return "root (network namespaces and dockerd)";
  return hasBinary("dockerd", ["--version"]) ?? hasBinary("nsenter", ["--version"]) ?? hasBinary("ip", ["-V"]) ?? hasBinary("haproxy", ["-v"]);
})();

/** One GET / through the panel's listener with the service's host; the task that answered and the cookie it set. */
function viaPanel(host: string, cookie?: string): Promise<{ status: number; replica: string | null; setCookie: string | null }> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port: LISTEN, path: "/", agent: false, timeout: 5000, headers: { host, ...(cookie ? { cookie } : {}) } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        let replica: string | null = null;
        try {
          replica = (JSON.parse(body) as { replica?: string }).replica ?? null;
        } catch {
          /* not the replica app's answer */
        }
        const set = (res.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${COOKIE}=`));
        resolve({ status: res.statusCode ?? 0, replica, setCookie: set ? set.split(";")[0] : null });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, replica: null, setCookie: null }));
  });
}

describe.skipIf(needs("a 3-node swarm bed (scripts/swarm-bed.sh)", missing))("the panel's listener in front of a Swarm balancer, with the service's rules", () => {
  let h: ControllerHarness;
  let managerAddr = "";
  let manager = "";
  let serviceId = "";
  let host = "";
  let routes: {
    services: typeof import("@/app/api/services/route");
    rules: typeof import("@/app/api/services/[id]/rules/route");
  };

  const readyRows = async () => (await h.m.getService(serviceId)).instances.filter((r) => r.state === "ready");
  const events = async (kind: string) => (await h.m.db().event.findMany({ where: { serviceId, kind }, orderBy: { at: "asc" } })).map((e) => e.message);
  const docker = async () => new (await import("dockerode")).default({ socketPath: manager.slice("unix://".length) });

  beforeAll(async () => {
    ({ manager, managerAddr, h } = await bed.upWithPanel(IMAGE, { listen: LISTEN, portRange: "18696-18699", network: `sy-sf-${RUN}`, balancerPorts: "18692-18695", balancerImage: LB_IMAGE }));
    routes = { services: await import("@/app/api/services/route"), rules: await import("@/app/api/services/[id]/rules/route") };
  }, 400_000);

  afterAll(async () => {
    if (h && serviceId) await h.m.controller().stopServiceReplicas({ id: serviceId, name: NAME, runtime: "swarm" }).catch(() => undefined);
    await h?.close();
    const { forget } = await import("@/lib/remember");
    for (const k of ["runtime-swarm", "runtime-swarm-adapter", "cluster-swarm", "cluster-swarm-balancer", "cluster-fronts"]) forget(k);
    const down = await bed.run("down");
    if (!down.ok) console.warn(`swarm-bed down: ${down.out}`);
  }, 120_000);

  it("refuses at creation, with 409 and the reason, rules the Swarm balancer cannot carry out", async () => {
    const res = await h.api(routes.services.POST, "/api/services", { method: "POST", body: { name: `${NAME}x`, runtime: "swarm", image: IMAGE, replicas: 1, dataPort: 8080, adminPort: 9090, rules: { sticky: { mode: "source" } } } });
    const json = (await res.json()) as { error?: { message: string } };
    expect(res.status, JSON.stringify(json)).toBe(409);
    expect(json.error?.message).toMatch(/cannot do source-IP stickiness: every request reaches the Swarm balancer from the panel's listener/);
    expect(await h.m.db().service.count({ where: { name: `${NAME}x` } })).toBe(0);
  });

  it("the panel's listener reaches every task through the Swarm balancer; a client with the cookie stays on its task", async () => {
    const t0 = Date.now();
    const res = await h.api(routes.services.POST, "/api/services", {
      method: "POST",
      body: { name: NAME, runtime: "swarm", image: IMAGE, replicaProtocol: true, replicas: 3, dataPort: 8080, adminPort: 9090, memoryLimitMb: 128, rules: { sticky: { mode: "cookie", cookieName: COOKIE }, slowStartMs: 2000, retries: { count: 3, redispatch: true } } },
    });
    const json = (await res.json()) as { service?: { id: string; rules: { routes: { hosts: string[] }[] } } };
    expect(res.status, JSON.stringify(json)).toBe(201);
    serviceId = json.service!.id;
    // the demo "web" holds the default route: this one is routed by its own host name
    host = json.service!.rules.routes[0].hosts[0] ?? "";
    expect(host).not.toBe("");
    await waitFor("3 ready rows", async () => (await readyRows()).length === 3, 120_000, 250).catch(async (e: unknown) => {
      const all = await h.m.db().event.findMany({ where: { serviceId }, orderBy: { at: "asc" } });
      throw new Error(`${e instanceof Error ? e.message : String(e)}; events: ${all.map((x) => `${x.kind}: ${x.message}`).join(" | ")}`);
    });
    const rows = await readyRows();
    const tasks = new Set(rows.map((r) => `sy-${NAME}.${/^s(\d+)t/.exec(r.id)?.[1]}`));
    await waitFor("the panel's engine forwarding to the Swarm balancer", async () => (await events("rules.applied")).some((m) => m.includes(`forwards ${NAME} to its swarm balancer at ${managerAddr}:${LB_PORT}`)), 60_000, 250);
    const live = (await h.m.controller().engine.liveConfig()) ?? "";
    expect(live).toContain(`server swarm-balancer ${managerAddr}:${LB_PORT} `);
    expect(live).not.toContain(`cookie ${COOKIE}`); // stickiness is the Swarm balancer's, not the panel's one server's
    // every task answers through the panel's listener (no cookie: round robin across the tasks)
    const seen = new Map<string, number>();
    let failed = 0;
    await waitFor(`the panel's listener answering from all 3 tasks (${[...tasks].join(", ")})`, async () => {
      const r = await viaPanel(host);
      if (r.status === 200 && r.replica) seen.set(r.replica, (seen.get(r.replica) ?? 0) + 1);
      else failed++;
      return [...tasks].every((t) => seen.has(t));
    }, 90_000, 50);
    console.log(`[panel-swarm-front] 127.0.0.1:${LISTEN} (Host ${host}) answered from 3 tasks ${Date.now() - t0} ms after create: ${JSON.stringify(Object.fromEntries(seen))}, ${failed} not 200 while the balancer came up`);
    // cookie stickiness, carried out by the Swarm balancer: the first answer sets the cookie, then every request lands on that task
    const first = await viaPanel(host);
    expect(first.status).toBe(200);
    expect(first.setCookie, "the Swarm balancer sets the service's cookie").toMatch(new RegExp(`^${COOKIE}=[0-9a-f]+$`));
    const sticky: string[] = [];
    for (let i = 0; i < 20; i++) sticky.push((await viaPanel(host, first.setCookie!)).replica ?? "none");
    console.log(`[panel-swarm-front] with ${first.setCookie}: 20 requests answered by ${[...new Set(sticky)].join(", ")} (first by ${first.replica})`);
    expect(new Set(sticky)).toEqual(new Set([first.replica]));
  }, 300_000);

  it("refuses source hashing on the running service with 409 and applies cookie rules (the Swarm balancer updated)", async () => {
    const current = (await (await h.api(routes.rules.GET, `/api/services/${serviceId}/rules`, {}, { id: serviceId })).json()) as { rules: Record<string, unknown>; revision: number };
    const put = (rules: Record<string, unknown>) => h.api(routes.rules.PUT, `/api/services/${serviceId}/rules`, { method: "PUT", body: { baseRevision: current.revision, rules } }, { id: serviceId });
    const refused = await put({ ...current.rules, algorithm: "source_hash", route: undefined });
    const body = (await refused.json()) as { error?: { message: string } };
    expect(refused.status, JSON.stringify(body)).toBe(409);
    expect(body.error?.message).toMatch(/algorithm source_hash/);
  });

  it("counts the Engine API calls of the controller following one swarm service (figures printed)", async () => {
    const { swarmRuntime } = await import("@/lib/runtime/registry");
    const rt = swarmRuntime();
    const c0 = rt.apiCalls();
    const t0 = Date.now();
    // a measurement over five resyncs (3 s each) with one swarm service in steady state
    await waitFor("15 s of resyncs", () => Date.now() - t0 >= 15_000, 20_000, 500);
    const calls = rt.apiCalls() - c0;
    const ticks = (Date.now() - t0) / 3000;
    console.log(`[panel-swarm-front] Engine API calls: ${calls} in ${((Date.now() - t0) / 1000).toFixed(1)} s = ${(calls / ticks).toFixed(1)} per 3 s resync for 1 swarm service`);
    expect(calls).toBeGreaterThan(0); // the controller did follow the service meanwhile
    expect((await readyRows()).length).toBe(3);
  }, 60_000);

  it("a Swarm service, its balancer and its configs whose service row is gone are removed by the controller's sweep", async () => {
    const d = await docker();
    const mine = async () => ({
      services: (await d.listServices({ filters: { label: ["switchyard.managed=true"] } })).map((s) => s.Spec?.Name ?? ""),
      configs: (await d.listConfigs({ filters: { label: [`switchyard.balancer-of=${serviceId}`] } })).length,
    });
    const before = await mine();
    expect(before.services.sort()).toEqual([`sy-${NAME}`, `sy-${NAME}-lb`]);
    expect(before.configs).toBeGreaterThan(0);
    // the row gone behind the panel's back (as when a database is restored from before the service)
    await h.m.db().service.delete({ where: { id: serviceId } });
    const t0 = Date.now();
    await waitFor("no Swarm service or config of the panel left", async () => {
      const now = await mine();
      return now.services.length === 0 && now.configs === 0;
    }, 90_000, 500);
    const swept = await h.m.db().event.findMany({ where: { kind: "service.stopped" }, orderBy: { at: "asc" } });
    console.log(`[panel-swarm-front] orphans swept ${Date.now() - t0} ms after the row went: ${swept.map((e) => e.message).join(" | ")}`);
    expect(swept.some((e) => e.message.includes(`sy-${NAME}`))).toBe(true);
    serviceId = "";
  }, 120_000);
});
