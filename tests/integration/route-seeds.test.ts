/**
 * Three seeds' routing (issue 13) on the real engines: HAProxy, nginx and the builtin
 * proxy, each with real replica processes (replica/server.js). Every answer is checked
 * against lib/core's matcher (tryRoute) as well as written out, so an engine and the
 * model cannot drift apart silently.
 *
 * - seed 000: one site under tictactoe.local, api.local and *.local, source stickiness
 *   (here on the default listener; on a listener of its own in route-seed-listener.test.ts);
 * - seed 002: a gateway: /api/notifications stripped and /ws not stripped on one
 *   service, /api/social and /swagger-ui on another, the catch-all / with priority 1 last;
 * - seed 004: the exact path /api/student beside /.
 *
 * On each route a real WebSocket upgrade (RFC 6455 handshake, a masked text frame, the
 * replica's echo) goes through, and every engine sets X-Forwarded-Proto/Host/For and
 * X-Real-IP. Ports: replicas 27800-27806 (data) and 27900-27906 (admin); listeners
 * 18420 (HAProxy), 18421 (nginx), 18422 (builtin).
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routesOfServices } from "@/lib/core/route-match";
import { tryRoute } from "@/lib/core/route-try";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerConfig, RunningEngine } from "@/lib/engines/types";
import { applyOk, serverOf } from "@/tests/helpers/engine-config";
import { until } from "@/tests/helpers/load";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { hasBinary, needs } from "@/tests/helpers/requirements";
import { seedConfig, seedServices, type SeedName } from "@/tests/fixtures/routes/seeds";

/** Replica ids per service: two for the seed-000 site (stickiness needs a choice), one for the others. */
const REPLICAS: Record<string, string[]> = {
  tictactoe: ["ttt-1", "ttt-2"],
  notifications: ["notif-1"],
  social: ["social-1"],
  frontend: ["front-1"],
  student: ["student-1"],
  web: ["web-1"],
};
const replicas = new Map<string, ReplicaProcess>();
const dataDirs: string[] = [];
const fast = { healthCheck: { intervalMs: 300, timeoutMs: 500, rise: 1, fall: 2 } };

function configFor(seed: SeedName, port: number): BalancerConfig {
  return seedConfig(seed, { host: "127.0.0.1", port }, (service) => REPLICAS[service].map((id) => serverOf(replicas.get(id)!)), fast);
}

type Answer = { status: number; replica: string | null; body: Record<string, unknown> | null };

function get(port: number, host: string, target: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: target, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: Record<string, unknown> | null = null;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, replica: (res.headers["x-replica"] as string | undefined) ?? null, body });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from 127.0.0.1:${port} within 5 s`)));
    req.on("error", reject);
  });
}

/** The service a replica id belongs to. */
const serviceOf = (replica: string | null) => Object.entries(REPLICAS).find(([, ids]) => replica !== null && ids.includes(replica))?.[0] ?? null;

/**
 * A WebSocket round trip written by hand (no library): the upgrade request, the 101 with
 * the right Sec-WebSocket-Accept, one masked text frame out and the echo frame back.
 */
function websocketEcho(port: number, host: string, target: string, text: string): Promise<{ status: number; accepted: boolean; echo: string }> {
  const key = randomBytes(16).toString("base64");
  const expectAccept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error(`no WebSocket answer for ${host}${target} within 5 s`)));
    let buf = Buffer.alloc(0);
    let head: { status: number; accepted: boolean } | null = null;
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0])?.[1] ?? 0);
        const accept = lines.find((l) => l.toLowerCase().startsWith("sec-websocket-accept:"))?.slice(21).trim();
        head = { status, accepted: accept === expectAccept };
        buf = buf.subarray(end + 4);
        if (status !== 101) {
          socket.destroy();
          return resolve({ ...head, echo: "" });
        }
        const payload = Buffer.from(text);
        const mask = randomBytes(4);
        const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      if (buf.length < 2) return;
      const len = buf[1] & 127;
      if (buf.length < 2 + len) return;
      const echo = buf.subarray(2, 2 + len).toString("utf8");
      socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
      resolve({ ...head, echo });
    });
  });
}

type EngineUnderTest = { kind: string; port: number; missing: () => string | null; create: (dataDir: string, port: number) => RunningEngine };

const engines: EngineUnderTest[] = [
  {
    kind: "haproxy",
    port: 18420,
    missing: () => hasBinary("haproxy", ["-v"]),
    create: (dataDir, port) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }),
  },
  {
    kind: "nginx",
    port: 18421,
    missing: () => hasBinary("nginx", ["-v"]),
    create: (dataDir, port) => {
      chmodSync(dataDir, 0o755); // workers run as nobody when nginx starts as root
      return createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" });
    },
  },
  { kind: "builtin", port: 18422, missing: () => null, create: (dataDir, port) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port } }) },
];

/** Requests per seed: Host header, target, and the service and target the replica should see (null: 503, no route). */
const CASES: Record<SeedName, { host: string; target: string; want: { service: string; target: string } | null }[]> = {
  "seed-000-site": [
    { host: "tictactoe.local", target: "/", want: { service: "tictactoe", target: "/" } },
    { host: "api.local:18420", target: "/play?x=1", want: { service: "tictactoe", target: "/play?x=1" } },
    { host: "lobby.local", target: "/a", want: { service: "tictactoe", target: "/a" } },
    { host: "deep.lobby.local", target: "/", want: { service: "tictactoe", target: "/" } },
    { host: "local", target: "/", want: null },
    { host: "tictactoe.test", target: "/", want: null },
  ],
  "seed-002-gateway": [
    { host: "gw.test", target: "/api/notifications/list?x=1", want: { service: "notifications", target: "/list?x=1" } },
    { host: "gw.test", target: "/api/notifications", want: { service: "notifications", target: "/" } },
    { host: "gw.test", target: "/ws", want: { service: "notifications", target: "/ws" } },
    { host: "gw.test", target: "/ws/room", want: { service: "notifications", target: "/ws/room" } },
    { host: "gw.test", target: "/api/social/feed", want: { service: "social", target: "/api/social/feed" } },
    { host: "gw.test", target: "/swagger-ui/index.html", want: { service: "social", target: "/swagger-ui/index.html" } },
    { host: "gw.test", target: "/", want: { service: "frontend", target: "/" } },
    { host: "gw.test", target: "/api/notificationsx", want: { service: "frontend", target: "/api/notificationsx" } },
    { host: "gw.test", target: "/wsx", want: { service: "frontend", target: "/wsx" } },
  ],
  "seed-004-exact": [
    { host: "school.test", target: "/api/student", want: { service: "student", target: "/api/student" } },
    { host: "school.test", target: "/api/student?id=3", want: { service: "student", target: "/api/student?id=3" } },
    { host: "school.test", target: "/api/student/1", want: { service: "web", target: "/api/student/1" } },
    { host: "school.test", target: "/api/students", want: { service: "web", target: "/api/students" } },
    { host: "school.test", target: "/", want: { service: "web", target: "/" } },
  ],
};

/** A WebSocket on every route of each seed: Host, target, and the echo's "<service> <target>" the replica must report. */
const SOCKETS: Record<SeedName, { host: string; target: string; want: string }[]> = {
  "seed-000-site": [
    { host: "tictactoe.local", target: "/game", want: "tictactoe /game" },
    { host: "x.local", target: "/", want: "tictactoe /" },
  ],
  "seed-002-gateway": [
    { host: "gw.test", target: "/ws", want: "notifications /ws" },
    { host: "gw.test", target: "/api/notifications/live", want: "notifications /live" },
    { host: "gw.test", target: "/api/social/live", want: "social /api/social/live" },
    { host: "gw.test", target: "/swagger-ui/ws", want: "social /swagger-ui/ws" },
    { host: "gw.test", target: "/chat", want: "frontend /chat" },
  ],
  "seed-004-exact": [
    { host: "school.test", target: "/api/student", want: "student /api/student" },
    { host: "school.test", target: "/api/student/ws", want: "web /api/student/ws" },
  ],
};

beforeAll(async () => {
  const ids = Object.values(REPLICAS).flat();
  const started = await Promise.all(
    ids.map((id, i) => startReplica({ port: 27800 + i, adminPort: 27900 + i, id, service: Object.entries(REPLICAS).find(([, r]) => r.includes(id))![0] })),
  );
  started.forEach((r) => replicas.set(r.id, r));
});

afterAll(async () => {
  await Promise.all([...replicas.values()].map((r) => r.stop()));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

for (const target of engines) {
  describe.skipIf(needs(target.kind, target.missing()))(`seed routes on ${target.kind}`, () => {
    let engine: RunningEngine | null = null;
    beforeAll(() => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), `sy-route-seeds-${target.kind}-`));
      dataDirs.push(dataDir);
      engine = target.create(dataDir, target.port);
    });
    afterAll(async () => {
      await engine?.stop();
    });

    const seeds = Object.keys(seedServices) as SeedName[];
    seeds.forEach((seed, n) => {
      it(`${seed}: every request reaches the service lib/core names, with its target; a WebSocket goes through every route; X-Forwarded-* and X-Real-IP set`, async () => {
        const config = configFor(seed, target.port);
        if (n === 0) await engine!.start(config);
        else await applyOk(engine!, config);
        const routes = routesOfServices(config.services).map((r) => ({ ...r, stripPrefix: r.entry.stripPrefix }));
        // every service's replicas up (health checks passed) before the cases
        for (const c of CASES[seed].filter((x) => x.want)) {
          await until(`${target.kind} ${seed}: ${c.host}${c.target} served by ${c.want!.service}`, () => get(target.port, c.host, c.target), (a) => serviceOf(a.replica) === c.want!.service);
        }
        for (const c of CASES[seed]) {
          const model = tryRoute(routes, c.host, c.target).reached;
          expect(model ? { service: model.service, target: model.upstreamPath } : null, `lib/core for ${c.host}${c.target}`).toEqual(c.want);
          const a = await get(target.port, c.host, c.target);
          if (c.want === null) {
            expect({ status: a.status, replica: a.replica }, `${c.host}${c.target}`).toEqual({ status: 503, replica: null });
          } else {
            expect({ service: serviceOf(a.replica), target: a.body?.path }, `${c.host}${c.target}`).toEqual(c.want);
          }
        }
        for (const s of SOCKETS[seed]) {
          const ws = await websocketEcho(target.port, s.host, s.target, "hello");
          expect(ws, `WebSocket ${s.host}${s.target}`).toEqual({ status: 101, accepted: true, echo: `${s.want} hello` });
        }
        const first = CASES[seed][0];
        const seen = await get(target.port, first.host, `${first.target}${first.target.includes("?") ? "&" : "?"}headers`);
        expect(seen.body?.forwarded, `forwarded headers on ${target.kind}`).toEqual({ proto: "http", host: first.host, for: "127.0.0.1", realIp: "127.0.0.1" });
        if (seed === "seed-000-site") {
          // source stickiness: one client address keeps its replica, over every name of the site
          const hits = [];
          for (let i = 0; i < 12; i++) hits.push((await get(target.port, ["tictactoe.local", "api.local", "z.local"][i % 3], "/")).replica);
          expect(new Set(hits).size, `replicas one client reached: ${hits.join(" ")}`).toBe(1);
        }
      });
    });
  });
}
