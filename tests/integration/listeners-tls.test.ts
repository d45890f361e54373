/**
 * Listeners and TLS on the real engines (issue 13): one balancer with three listeners,
 * an http one that redirects to https (308, same host and URI), an https one serving
 * two certificates of the panel's local CA picked by SNI, and a plain http one; routes
 * name the listeners they are served on. Checked with node:tls/https against the
 * local CA as the only trusted root. Then: a port taken by another program is
 * refused by the listeners use case before anything is written.
 *
 * Seed 002's gateway (issue 13) then runs over HTTPS on its own listener with the
 * default one redirecting to it: REST with the prefix stripped, the catch-all last, and
 * a WebSocket through TLS.
 *
 * Ports: replicas 28200-28204 (admin 28300-28304); listeners 18430-18439, 18443-18448.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerCertificate, BalancerConfig, BalancerService, RunningEngine } from "@/lib/engines/types";
import { ensureLocalCa, issueLocalCertificate } from "@/lib/tls/local-ca";
import { saveCertificate } from "@/lib/tls/store";
import { checkCertificateAndKey } from "@/lib/tls/pem";
import { serverOf } from "@/tests/helpers/engine-config";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { hasBinary, needs } from "@/tests/helpers/requirements";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";
import { seedConfig } from "@/tests/fixtures/routes/seeds";

const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-listeners-tls-"));
let caPem = "";
const certs: BalancerCertificate[] = [];
const replicas: ReplicaProcess[] = [];

beforeAll(async () => {
  caPem = await ensureLocalCa(tlsDir);
  for (const [i, hosts] of [["a.local"], ["b.local", "*.b.local"]].entries()) {
    const issued = await issueLocalCertificate(tlsDir, hosts);
    const { chainPem, keyPem, facts } = checkCertificateAndKey(issued.chainPem, issued.keyPem);
    const id = `00000000000000a${i}`;
    certs.push({ id, names: facts.names, ...saveCertificate(tlsDir, id, chainPem, keyPem) });
  }
  // keys are the panel's alone
  expect(fs.statSync(certs[0].keyFile).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.join(tlsDir, "tls", "ca.key")).mode & 0o777).toBe(0o600);
  replicas.push(
    await startReplica({ port: 28200, adminPort: 28300, id: "lt-web", service: "web" }),
    await startReplica({ port: 28201, adminPort: 28301, id: "lt-api", service: "api" }),
    ...(await Promise.all(["notifications", "social", "frontend"].map((name, i) => startReplica({ port: 28202 + i, adminPort: 28302 + i, id: `lt-${name}`, service: name })))),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  fs.rmSync(tlsDir, { recursive: true, force: true });
});

function service(name: string, replica: ReplicaProcess, hosts: string[], listeners: string[]): BalancerService {
  return { id: `svc-${name}`, name, rules: rulesSchema.parse({ routes: [{ hosts, path: "/", listeners }] }), servers: [serverOf({ id: replica.id, port: replica.port })] };
}

/** default (http, redirects) on `base`, secure (https, both certificates) on base+1, plain (http) on base+2. */
function configAt(base: number): BalancerConfig {
  const host = "127.0.0.1";
  return {
    listen: { host, port: base },
    listeners: [
      { name: "default", host, port: base, protocol: "http", redirectToHttpsPort: base + 1 },
      { name: "secure", host, port: base + 1, protocol: "https", certificates: certs },
      { name: "plain", host, port: base + 2, protocol: "http" },
    ],
    services: [service("web", replicas[0], ["a.local"], ["secure", "plain"]), service("api", replicas[1], ["b.local", "*.b.local"], ["secure"])],
  };
}

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string; peer?: tls.PeerCertificate; authorized?: boolean };

function collect(res: http.IncomingMessage, resolve: (a: Answer) => void, peer?: tls.PeerCertificate, authorized?: boolean): void {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (c: string) => (body += c));
  res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peer, authorized }));
}

function getHttps(port: number, host: string, target: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, path: target, servername: host, headers: { host: `${host}:${port}` }, ca: caPem, agent: false }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      collect(res, resolve, socket.getPeerCertificate(), socket.authorized);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from https://${host}:${port}`)));
    req.on("error", reject);
    req.end();
  });
}

function getHttp(port: number, host: string, target: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: target, headers: { host: `${host}:${port}` }, agent: false }, (res) => collect(res, resolve));
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from http://${host}:${port}`)));
    req.on("error", reject);
    req.end();
  });
}

async function untilServed(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await getHttps(port, "a.local", "/");
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Seed 002's services on the https listener "websecure" (base+1); the default listener (base) redirects to it. */
function seed002OverHttps(base: number): BalancerConfig {
  const host = "127.0.0.1";
  const seed = seedConfig("seed-002-gateway", { host, port: base }, (name) => [serverOf({ id: `lt-${name}`, port: replicas.find((r) => r.id === `lt-${name}`)!.port })]);
  return {
    ...seed,
    listeners: [
      { name: "default", host, port: base, protocol: "http", redirectToHttpsPort: base + 1 },
      { name: "websecure", host, port: base + 1, protocol: "https", certificates: [certs[0]] },
    ],
    services: seed.services.map((s) => ({ ...s, rules: { ...s.rules, routes: s.rules.routes.map((r) => ({ ...r, listeners: ["websecure"] })) } })),
  };
}

/** A WebSocket round trip over TLS, by hand: the upgrade, the 101 with the right accept key, one masked frame out, the echo back. */
function websocketOverTls(port: number, host: string, target: string, text: string): Promise<{ status: number; accepted: boolean; echo: string }> {
  const key = randomBytes(16).toString("base64");
  const expected = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: host, ca: caPem }, () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    socket.setTimeout(5000, () => socket.destroy(new Error(`no WebSocket answer for wss://${host}${target}`)));
    socket.on("error", reject);
    let buf = Buffer.alloc(0);
    let status = 0;
    let accepted = false;
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (status === 0) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        status = Number(head.slice(9, 12));
        accepted = head.toLowerCase().includes(`sec-websocket-accept: ${expected.toLowerCase()}`);
        buf = buf.subarray(end + 4);
        if (status !== 101) return resolve({ status, accepted, echo: "" });
        const mask = randomBytes(4);
        const payload = Buffer.from(text).map((c, i) => c ^ mask[i & 3]);
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, payload]));
      }
      if (buf.length < 2 || buf.length < 2 + (buf[1] & 127)) return;
      socket.end();
      resolve({ status, accepted, echo: buf.subarray(2, 2 + (buf[1] & 127)).toString("utf8") });
    });
  });
}

type EngineUnderTest = { kind: string; base: number; seedBase: number; missing: () => string | null; create: (dataDir: string, base: number) => RunningEngine };

const engines: EngineUnderTest[] = [
  { kind: "haproxy", base: 18430, seedBase: 18443, missing: () => hasBinary("haproxy", ["-v"]), create: (dataDir, base) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: base }, mode: "supervised" }) },
  {
    kind: "nginx",
    base: 18433,
    seedBase: 18445,
    missing: () => hasBinary("nginx", ["-v"]),
    create: (dataDir, base) => {
      fs.chmodSync(dataDir, 0o755); // workers run as nobody when nginx starts as root
      return createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port: base }, mode: "supervised" });
    },
  },
  { kind: "builtin", base: 18436, seedBase: 18447, missing: () => null, create: (dataDir, base) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port: base } }) },
];

for (const target of engines) {
  describe.skipIf(needs(target.kind, target.missing()))(`listeners and TLS: ${target.kind}`, () => {
    it("serves https with the certificate SNI asks for, redirects http to https, and keeps each route on its listeners", async () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sy-listeners-${target.kind}-`));
      const engine = target.create(dataDir, target.base);
      const config = configAt(target.base);
      const check = await engine.check(engine.render(config));
      expect(check).toEqual({ ok: true });
      try {
        await engine.start(config);
        await untilServed(target.base + 1);
        // SNI a.local: its own certificate, trusted through the local CA, and the web service
        const a = await getHttps(target.base + 1, "a.local", "/x?headers");
        expect(a.authorized).toBe(true);
        expect(a.peer?.subject.CN).toBe("a.local");
        expect(a.status).toBe(200);
        const seenA = JSON.parse(a.body) as { service: string; forwarded: { proto: string } };
        expect(seenA.service).toBe("web");
        expect(seenA.forwarded.proto).toBe("https");
        // SNI b.local and x.b.local: the other certificate, the api service
        for (const host of ["b.local", "x.b.local"]) {
          const b = await getHttps(target.base + 1, host, "/?headers");
          expect(b.authorized).toBe(true);
          expect(b.peer?.subject.CN).toBe("b.local");
          expect(JSON.parse(b.body).service).toBe("api");
        }
        // the default listener redirects: 308, same host, the https port, the same URI
        const r = await getHttp(target.base, "a.local", "/some/path?q=1");
        expect(r.status).toBe(308);
        expect(r.headers.location).toBe(`https://a.local:${target.base + 1}/some/path?q=1`);
        // the plain listener serves web (it names it) but not api (https only)
        const plain = await getHttp(target.base + 2, "a.local", "/?headers");
        expect(plain.status).toBe(200);
        expect(JSON.parse(plain.body)).toMatchObject({ service: "web", forwarded: { proto: "http" } });
        expect((await getHttp(target.base + 2, "b.local", "/")).status).toBe(503);
        // the plain listener turns https on the same port (builtin: its socket is closed and bound again)
        const turned: BalancerConfig = { ...config, listeners: config.listeners!.map((l) => (l.name === "plain" ? { ...l, protocol: "https" as const, certificates: [certs[0]] } : l)) };
        expect(await engine.apply(engine.render(turned), turned)).toMatchObject({ ok: true });
        await untilServed(target.base + 2);
        const now = await getHttps(target.base + 2, "a.local", "/?headers");
        expect(now.authorized).toBe(true);
        expect(JSON.parse(now.body)).toMatchObject({ service: "web", forwarded: { proto: "https" } });
        // seed 002's gateway over HTTPS on its own listener, the default one redirecting to it
        const seed = seed002OverHttps(target.seedBase);
        await engine.stop();
        await engine.start(seed);
        await untilServed(target.seedBase + 1);
        const rest = await getHttps(target.seedBase + 1, "a.local", "/api/notifications/inbox?headers");
        expect(JSON.parse(rest.body)).toMatchObject({ service: "notifications", path: "/inbox?headers", forwarded: { proto: "https" } });
        expect(JSON.parse((await getHttps(target.seedBase + 1, "a.local", "/swagger-ui/index.html?headers")).body).service).toBe("social");
        expect(JSON.parse((await getHttps(target.seedBase + 1, "a.local", "/anything/else?headers")).body).service).toBe("frontend");
        const ws = await websocketOverTls(target.seedBase + 1, "a.local", "/ws", "hello over tls");
        expect(ws).toEqual({ status: 101, accepted: true, echo: "notifications /ws hello over tls" });
        const moved = await getHttp(target.seedBase, "a.local", "/api/social/feed");
        expect(moved).toMatchObject({ status: 308, headers: { location: `https://a.local:${target.seedBase + 1}/api/social/feed` } });
        console.log(`listeners-tls ${target.kind}: seed 002 over https on :${target.seedBase + 1} (REST stripped, /swagger-ui, catch-all, wss /ws echoed), :${target.seedBase} -> 308`);
        console.log(`listeners-tls ${target.kind}: https a.local -> web (CN a.local), b.local/x.b.local -> api (CN b.local), :${target.base} -> 308 ${r.headers.location}, plain :${target.base + 2} serves web only, then https on the same port`);
      } finally {
        await engine.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    }, 60_000);
  });
}

describe("the listeners use case", () => {
  let temp: TempDatabase;
  let blocker: net.Server;
  beforeAll(async () => {
    temp = await openTempDatabase("listeners");
    blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(18439, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    blocker.close();
    await temp.close();
  });

  it("refuses a port another program holds, the panel's port, and https without a certificate, before anything is written", async () => {
    const { createListener, listListeners, deleteListener } = await import("@/lib/services/manage-listeners");
    const { env } = await import("@/lib/env");
    const user = { id: "u", username: "tester", role: "admin" as const, sessionId: "s" };
    const refusal = (p: Promise<unknown>) => p.then(() => "accepted", (e: Error & { code?: string }) => `${e.code}: ${e.message}`);
    expect(await refusal(createListener({ name: "busy", port: 18439, protocol: "http" }, user))).toMatch(/^conflict: .*port 18439 is taken by another program/);
    expect(await refusal(createListener({ name: "panel", port: env().PORT, protocol: "http" }, user))).toMatch(/panel's own port/);
    expect(await refusal(createListener({ name: "tls", port: 18438, protocol: "https" }, user))).toMatch(/needs a certificate/);
    expect(await refusal(createListener({ name: "clash", port: env().BALANCER_PORT, protocol: "http" }, user))).toMatch(/taken by the listener default/);
    expect(await refusal(deleteListener("default", user))).toMatch(/cannot be deleted/);
    expect((await listListeners()).map((l) => `${l.name}:${l.port}`)).toEqual([`default:${env().BALANCER_PORT}`]);
  });

  it("refuses rules whose route names a listener that does not exist, before the engine sees them", async () => {
    const { applyRules } = await import("@/lib/services/apply-rules");
    const { db } = await import("@/lib/db/client");
    const svc = await db().service.create({ data: { name: "shop", runtime: "process", adminToken: "t", rules: JSON.stringify(rulesSchema.parse({})) } });
    const user = { id: "u", username: "tester", role: "admin" as const, sessionId: "s" };
    const refused = await applyRules(svc.id, { baseRevision: 0, rules: { routes: [{ hosts: ["shop.local"], path: "/", listeners: ["websecure"] }] } }, user).then(
      () => "accepted",
      (e: Error & { code?: string }) => `${e.code}: ${e.message}`,
    );
    expect(refused).toMatch(/^bad_request: route 1 names the listener websecure, which does not exist/);
    expect(await db().revision.count()).toBe(0);
  });
});
