/**
 * HAProxy engine lifecycle and routing against a real haproxy 2.6: routes, headers,
 * a reload that fails after `haproxy -c` passed (rollback), a killed sticky replica,
 * dynamic servers with every algorithm, stop/start, external mode.
 * Listener 127.0.0.1:18091, replicas on 21400-21449 (data) / 21450-21499 (admin).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { algorithms, rulesSchema, type RulesInput } from "@/lib/core/rules";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import type { BalancerConfig, BalancerServer, BalancerService } from "@/lib/engines/types";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, runLoad, waitFor } from "../helpers/load";
import { configAt, serverOf } from "../helpers/engine-config";

const LISTEN_PORT = 18091;
const ECHO_PORT = 21440;

let dataDir: string;
let engine: HaproxyEngine;
const replicas: ReplicaProcess[] = [];
let echo: http.Server;

const service = (name: string, servers: BalancerServer[], rules: RulesInput = {}): BalancerService => ({ id: `svc-${name}`, name, rules: rulesSchema.parse(rules), servers });
const configOf = (...services: BalancerService[]): BalancerConfig => configAt(LISTEN_PORT, ...services);

async function apply(e: HaproxyEngine, config: BalancerConfig) {
  const result = await e.apply(e.render(config), config);
  expect(result).toEqual({ ok: true, reloaded: true });
}

/** Echoes the request line and headers; answers /health. */
function startEcho(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ url: req.url, headers: req.headers });
    res.writeHead(200, { "content-type": "application/json", "x-replica": "echo" });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(ECHO_PORT, "127.0.0.1", () => resolve(server)));
}

function getJson(port: number, reqPath: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: reqPath, headers: host ? { host } : {}, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const web = () => service("web", replicas.slice(0, 3).map((r) => serverOf(r)));

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "sy-hl-"));
  for (let i = 0; i < 4; i++) replicas.push(await startReplica({ port: 21400 + i, adminPort: 21450 + i, id: `l${i + 1}`, service: "web" }));
  echo = await startEcho();
  engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
  await engine.start(configOf(web()));
  await waitFor("servers UP", async () => (await engine.stats()).servers.every((s) => s.health.status === "up"));
});

afterAll(async () => {
  await engine?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await new Promise((r) => echo?.close(r));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("haproxy engine lifecycle (real haproxy)", () => {
  it("routes by host and path prefix in priority order, strips the prefix, sets forwarded headers, 503 when nothing matches", async () => {
    const api = service("api", [serverOf({ id: "echo", port: ECHO_PORT })], {
      algorithm: "uri_hash",
      route: { host: "api.local", pathPrefix: "/v1", stripPrefix: true, priority: 10 },
    });
    const site = service("site", [serverOf(replicas[0])], { route: { host: "site.local" } });
    await apply(engine, configOf(api, site));
    await waitFor("echo UP", async () => (await engine.stats()).servers.find((s) => s.server === "r-echo")?.health.status === "up");

    const stripped = await getJson(LISTEN_PORT, "/v1/users?id=7", "API.local:18091");
    expect(stripped.status).toBe(200);
    const seen = JSON.parse(stripped.body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("/users?id=7");
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers["x-forwarded-host"]).toBe("API.local:18091");
    expect(JSON.parse((await getJson(LISTEN_PORT, "/v1", "api.local")).body).url).toBe("/");

    expect((await get(LISTEN_PORT, { host: "site.local", path: "/v1/users" })).replica).toBe("l1");
    const miss = await getJson(LISTEN_PORT, "/v1x", "api.local");
    expect(miss.status).toBe(503);
    expect(miss.body).toMatch(/No service matches/);
    expect((await getJson(LISTEN_PORT, "/", "other.local")).status).toBe(503);
  });

  it("accepts dynamic servers with every algorithm", async () => {
    for (const algorithm of algorithms) {
      const svc = service("web", [serverOf(replicas[0])], { algorithm, sticky: { mode: algorithm === "least_conn" ? "source" : "none" } });
      await apply(engine, configOf(svc));
      await engine.addServer(svc, serverOf(replicas[1]));
      await waitFor(`${algorithm}: added server UP`, async () => (await engine.stats()).servers.find((s) => s.server === "r-l2")?.health.status === "up", 5000);
      const load = await runLoad(LISTEN_PORT, { concurrency: 4, durationMs: 400, maxRequests: 400 });
      expect(load.failed).toBe(0);
      await engine.removeServer({ ...svc, servers: [...svc.servers, serverOf(replicas[1])] }, "r-l2");
      expect((await engine.stats()).servers.map((s) => s.server)).toEqual(["r-l1"]);
    }
  });

  it("fast paths: add is idempotent, a new service's first server reloads, unknown servers are not_found", async () => {
    const svc = web();
    await apply(engine, configOf(svc));
    const extra = serverOf(replicas[3], { weight: 4 });
    await engine.addServer(svc, extra);
    await engine.addServer(svc, extra); // again: same address, nothing changes
    await expect(engine.addServer(svc, { ...extra, port: 21499 })).rejects.toMatchObject({ code: "conflict" });
    const row = (await engine.runtime.showStat()).find((r) => r.svname === "r-l4");
    expect(row?.weight).toBe("4");

    const other = service("other", [], { route: { pathPrefix: "/other" } });
    await engine.addServer(other, serverOf(replicas[0]));
    expect(await engine.liveConfig()).toContain("backend be_other");
    await waitFor("other UP", async () => (await engine.stats()).servers.some((s) => s.service === "other" && s.health.status === "up"));
    expect((await get(LISTEN_PORT, { path: "/other" })).replica).toBe("l1");

    await expect(engine.setServerState(svc, "r-nope", "drain")).rejects.toMatchObject({ code: "not_found" });
    await engine.removeServer(svc, "r-nope"); // already gone: no error
    await apply(engine, configOf(web()));
  });

  it("rolls back when the reload itself fails after haproxy -c passed", async () => {
    const config = configOf(web());
    await apply(engine, config);
    const before = await engine.liveConfig();
    // Valid syntax, but the second address is taken by a replica: only the reload finds out.
    const clash = engine.render(config).replace(`    bind 127.0.0.1:${LISTEN_PORT}\n`, `    bind 127.0.0.1:${LISTEN_PORT}\n    bind 127.0.0.1:${replicas[3].port}\n`);
    expect((await engine.check(clash)).ok).toBe(true);
    const load = runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 3000, maxRequests: 20_000 });
    const result = await engine.apply(clash, config);
    const traffic = await load;
    console.log("failed reload:", result, `traffic ok=${traffic.ok} failed=${traffic.failed}`);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.rolledBack).toBe(true);
      expect(result.error).toMatch(/cannot bind|Address already in use/);
    }
    expect(await engine.liveConfig()).toBe(before);
    expect(traffic.failed).toBe(0);
    expect((await engine.status()).error).toMatch(/bind/);
    await apply(engine, config);
    expect((await runLoad(LISTEN_PORT, { concurrency: 2, durationMs: 300, maxRequests: 100 })).failed).toBe(0);
  });

  it("moves a cookie client off a killed replica without a failed request", async () => {
    const victim = await startReplica({ port: 21410, adminPort: 21460, id: "k1", service: "web" });
    try {
      const svc = service("web", [serverOf(victim), serverOf(replicas[1])], { sticky: { mode: "cookie", cookieName: "SID" } });
      await apply(engine, configOf(svc));
      await waitFor("both UP", async () => (await engine.stats()).servers.every((s) => s.health.status === "up"));
      // A cookie for the victim: ask until the balancer sends us there.
      let cookie = "";
      await waitFor("a cookie for k1", async () => {
        const hit = await get(LISTEN_PORT, {});
        if (hit.replica !== "k1") return false;
        cookie = hit.setCookie[0].split(";")[0];
        return true;
      });
      expect((await get(LISTEN_PORT, { cookie })).replica).toBe("k1");
      victim.child.kill("SIGKILL");
      const after: string[] = [];
      let failed = 0;
      for (let i = 0; i < 20; i++) {
        try {
          const hit = await get(LISTEN_PORT, { cookie });
          if (hit.status !== 200) failed++;
          after.push(hit.replica ?? "?");
        } catch {
          failed++;
        }
      }
      console.log("after kill:", after.join(","), "failed", failed);
      expect(failed).toBe(0);
      expect(after).not.toContain("k1");
    } finally {
      await victim.stop();
    }
  });

  it("stops, then starts a fresh master; a stale pid file does not fool start()", async () => {
    // The state file is dumped before each reload: two applies leave r-l1 at 21400 in it.
    await apply(engine, configOf(web()));
    await apply(engine, configOf(web()));
    const old = (await engine.status()).pid;
    await engine.stop();
    expect((await engine.status()).running).toBe(false);
    await expect(get(LISTEN_PORT, {})).rejects.toThrow();
    writeFileSync(engine.paths.pidFile, `${process.pid}\n`); // alive, but not haproxy
    // The state file from the last run names r-l1 at port 21400; the new config moves r-l1.
    expect(readFileSync(engine.paths.stateFile, "utf8")).toMatch(/ r-l1 127\.0\.0\.1 .* 21400 /);
    const moved = service("web", [serverOf({ id: "l1", port: replicas[3].port })]);
    await engine.start(configOf(moved));
    const status = await engine.status();
    expect(status).toMatchObject({ running: true, adopted: false });
    expect(status.pid).not.toBe(old);
    await waitFor("server UP", async () => (await engine.stats()).servers.every((s) => s.health.status === "up"));
    expect((await get(LISTEN_PORT, {})).replica).toBe("l4");
    // Starting again from the same object finds its own master: not an adoption.
    await engine.start(configOf(moved));
    expect((await engine.status()).adopted).toBe(false);
    await apply(engine, configOf(web()));
    await waitFor("servers UP", async () => (await engine.stats()).servers.every((s) => s.health.status === "up"));
    expect((await get(LISTEN_PORT, {})).status).toBe(200);
  });

  it("start() reports haproxy's own error when the listener is taken, and leaves no master behind", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sy-hl-busy-"));
    const clash = createHaproxyEngine({ dataDir: dir, listen: { host: "127.0.0.1", port: LISTEN_PORT }, mode: "supervised" });
    try {
      await expect(clash.start(configOf(web()))).rejects.toThrow(/cannot bind|Address already in use/);
      expect((await clash.status()).running).toBe(false);
    } finally {
      await clash.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("drives an external haproxy through its sockets and config path", async () => {
    const external = createHaproxyEngine({
      dataDir: mkdtempSync(path.join(os.tmpdir(), "sy-hl-ext-")),
      listen: { host: "127.0.0.1", port: LISTEN_PORT },
      mode: "external",
      configPath: engine.paths.config,
      masterSocket: engine.paths.masterSocket,
      runtimeSocket: engine.paths.runtimeSocket,
      stateFile: engine.paths.stateFile,
    });
    try {
      await external.start(configOf(web()));
      const status = await external.status();
      expect(status).toMatchObject({ mode: "external", running: true, adopted: true, pid: (await engine.status()).pid });
      const svc = service("web", replicas.slice(0, 2).map((r) => serverOf(r)), { algorithm: "least_conn" });
      await apply(external, configOf(svc));
      expect(await engine.liveConfig()).toContain("balance leastconn");
      expect((await external.stats()).servers.map((s) => s.server).sort()).toEqual(["r-l1", "r-l2"]);
      await external.stop(); // external: the panel does not stop it
      expect((await engine.status()).running).toBe(true);
    } finally {
      rmSync(external.paths.base, { recursive: true, force: true });
    }
  });
});
