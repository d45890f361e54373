/**
 * The traffic generator's clients are independent (issue 12, item 1): with 3 replicas
 * and 6 clients behind a real balancer, round robin spreads every client over every
 * replica, while source-IP hash and cookie stickiness keep each client on one. Sending
 * in a fixed client order lined 6 clients up with the rotation of 3 replicas, and every
 * client looked stuck to one replica under round robin too.
 *
 * Runs on HAProxy, the builtin proxy and nginx (each skipped, printing why, when its
 * binary is missing). Replicas on 26000-26002 (data) / 26010-26012 (admin); listeners
 * 18341 (HAProxy), 18342 (builtin), 18343 (nginx).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema, type RulesInput } from "@/lib/core/rules";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerService, RunningEngine } from "@/lib/engines/types";
import { startClients } from "@/lib/services/traffic";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, until } from "../helpers/load";
import { applyOk, configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

const RUN_MS = 5000;
const CLIENTS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const replicas: ReplicaProcess[] = [];

beforeAll(async () => {
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ port: 26000 + i, adminPort: 26010 + i, id: `t${i + 1}`, service: "web" }));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
});

type EngineCase = { name: string; port: number; missing: () => string | null; create: (dataDir: string, port: number) => RunningEngine };

const engines: EngineCase[] = [
  { name: "HAProxy", port: 18341, missing: () => hasBinary("haproxy"), create: (dataDir, port) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }) },
  { name: "builtin", port: 18342, missing: () => null, create: (dataDir, port) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port } }) },
  { name: "nginx", port: 18343, missing: () => hasBinary("nginx"), create: (dataDir, port) => createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }) },
];

for (const e of engines) {
  describe.skipIf(needs(e.name.toLowerCase(), e.missing()))(`the traffic generator's clients on ${e.name}`, () => {
    let dataDir: string;
    let engine: RunningEngine;
    const web = (rules: RulesInput): BalancerService => ({ id: "svctrafficweb", name: "web", rules: rulesSchema.parse(rules), servers: replicas.map((r) => serverOf(r)) });

    /** Apply `rules`, wait until the listener reaches every replica, then run 6 clients for RUN_MS: who served whom. */
    async function runWith(rules: RulesInput, distinctSourceIps = true) {
      await applyOk(engine, configAt(e.port, web(rules)));
      await until("every server up", async () => (await engine.stats()).servers.filter((s) => s.health.status === "up" || s.health.status === "nocheck").length, (n) => n === replicas.length, 20_000, 100);
      for (let i = 0; i < CLIENTS; i++) expect((await get(e.port, { localAddress: `127.0.0.${2 + i}` })).status).toBe(200);
      const clients = startClients({ port: e.port, hostHeader: `127.0.0.1:${e.port}`, path: "/" }, { rps: 60, concurrency: 8, clients: CLIENTS, distinctSourceIps });
      await sleep(RUN_MS);
      clients.stop();
      const { servedBy, sent, ok, failed } = clients.counts;
      console.log(`[traffic/${e.name}] ${JSON.stringify(rules)}: ${sent} sent, ${ok} ok, ${failed} failed; ${JSON.stringify(servedBy)}`);
      expect(failed).toBe(0);
      expect(Object.keys(servedBy)).toHaveLength(CLIENTS);
      return Object.entries(servedBy).map(([client, byReplica]) => {
        const ranked = Object.entries(byReplica).sort((a, b) => b[1] - a[1]);
        const total = ranked.reduce((s, [, n]) => s + n, 0);
        return { client, replicas: Object.keys(byReplica).sort(), total, mainReplica: ranked[0]?.[0] ?? null, main: ranked[0]?.[1] ?? 0 };
      });
    }

    beforeAll(async () => {
      dataDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sy-traffic-")));
      fs.chmodSync(dataDir, 0o755); // nginx workers run as nobody
      engine = e.create(dataDir, e.port);
      await engine.start(configAt(e.port, web({})));
    });

    afterAll(async () => {
      await engine?.stop();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("round robin: every client reaches every replica", async () => {
      const rows = await runWith({ algorithm: "round_robin" });
      for (const r of rows) {
        expect(r.total, `${r.client} sent enough to tell`).toBeGreaterThanOrEqual(15);
        expect(r.replicas, `${r.client} under round robin`).toEqual(replicas.map((x) => x.id).sort());
      }
    });

    it("source-IP hash with distinct source addresses: each client stays on one replica", async () => {
      const rows = await runWith({ algorithm: "source_hash" });
      for (const r of rows) {
        expect(r.total).toBeGreaterThanOrEqual(15);
        expect(r.replicas, `${r.client} under source hash`).toHaveLength(1);
      }
    });

    it("cookie stickiness: each client stays on the replica of its first answer", async () => {
      // from one address, so only the cookie can keep a client in place; a request a client
      // sends before its first answer arrived carries no cookie yet (as in a browser): at most 2 such
      const rows = await runWith({ algorithm: "round_robin", sticky: { mode: "cookie" } }, false);
      for (const r of rows) {
        expect(r.total).toBeGreaterThanOrEqual(15);
        expect(r.total - r.main, `${r.client}: requests away from its replica`).toBeLessThanOrEqual(2);
      }
      // and the clients do not all share one replica: round robin placed them
      expect(new Set(rows.map((r) => r.mainReplica)).size).toBeGreaterThan(1);
    });
  });
}
