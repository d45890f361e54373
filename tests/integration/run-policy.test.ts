/**
 * Issue 10, "an operator is root on the host", reproduced through the route handlers of
 * app/api against a real database, the controller, the builtin engine and real replica
 * processes — and now refused:
 * - an operator's POST with a shell command, or with NODE_OPTIONS / LD_PRELOAD / PATH,
 *   is a 403 and nothing runs; the same through PATCH; an admin's allow-list lets an
 *   operator run exactly what it lists;
 * - a service an admin created runs its replica as a non-root user whose environment
 *   holds none of the panel's variables or other services' tokens;
 * - a viewer reads no environment value, command, pid or path of this machine in any
 *   API response, nor in the live channel's snapshot, service pushes and events.
 * Ports: replicas 25100-25199, the balancer 3231, the socket server 3232.
 */
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import { openTempDatabase, type TempDatabase } from "../helpers/temp-db";
import { REPLICA_SERVER_JS } from "../helpers/replica-process";
import { waitFor } from "../helpers/load";

const ORIGIN = "http://127.0.0.1:3999";
const SOCKET_PORT = 3232;
const REMEMBERED = ["engine", "controller", "runtime-process", "runtime-docker", "collector", "prober", "realtime"];
const SECRET = "greeting-secret-5821";
const PANEL_SECRET = "panel-secret-5821";
const PWNED = path.join(os.tmpdir(), `sy-pwned-${process.pid}`);
const SHELL_COMMAND = ["/bin/sh", "-c", `id > ${PWNED}; exec node replica/server.js`];

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

let database: TempDatabase | undefined;
let m: {
  db: typeof import("@/lib/db/client").db;
  controller: typeof import("@/lib/controller/controller").controller;
  runtimeFor: typeof import("@/lib/runtime/registry").runtimeFor;
  recordEvent: typeof import("@/lib/events").recordEvent;
  getService: typeof import("@/lib/services/manage-services").getService;
  services: typeof import("@/app/api/services/route");
  service: typeof import("@/app/api/services/[id]/route");
  replicas: typeof import("@/app/api/services/[id]/replicas/route");
  balancer: typeof import("@/app/api/balancer/route");
  revisions: typeof import("@/app/api/balancer/revisions/route");
  revision: typeof import("@/app/api/balancer/revisions/[number]/route");
  exportRoute: typeof import("@/app/api/balancer/export/route");
  preview: typeof import("@/app/api/balancer/preview/route");
  events: typeof import("@/app/api/events/route");
  allowList: typeof import("@/app/api/settings/allow-list/route");
};
const cookies = { admin: "", operator: "", viewer: "" };
let webId = "";

function call(handler: Handler, urlPath: string, init: { method?: string; body?: unknown; as: keyof typeof cookies }, params: Record<string, string> = {}) {
  const headers: Record<string, string> = { host: "127.0.0.1:3999", origin: ORIGIN, cookie: cookies[init.as], "x-switchyard-remote": "127.0.0.1" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const req = new Request(`${ORIGIN}${urlPath}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  return handler(req, { params: Promise.resolve(params) });
}

const create = (as: keyof typeof cookies, body: Record<string, unknown>) => call(m.services.POST as Handler, "/api/services", { method: "POST", body, as });
const patch = (as: keyof typeof cookies, id: string, body: Record<string, unknown>) =>
  call(m.service.PATCH as Handler, `/api/services/${id}`, { method: "PATCH", body, as }, { id });

async function readyReplicas(id: string) {
  return (await m.getService(id)).instances.filter((r) => r.state === "ready");
}

async function environOf(pid: string): Promise<Record<string, string>> {
  const raw = readFileSync(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(raw.split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

beforeAll(async () => {
  process.env.ENGINE = "builtin";
  process.env.BALANCER_PORT = "3231";
  process.env.PORT_RANGE = "25100-25199";
  process.env.RUNTIME = "process";
  process.env.DEMO_SERVICE = "false";
  database = await openTempDatabase("run-policy");
  // panel variables a replica must never inherit (lib/env.ts reads the environment once, from here on)
  process.env.ADMIN_PASSWORD = "panel-admin-password-5821";
  process.env.SWITCHYARD_TEST_SECRET = PANEL_SECRET;
  for (const k of REMEMBERED) forget(k);
  m = {
    db: (await import("@/lib/db/client")).db,
    controller: (await import("@/lib/controller/controller")).controller,
    runtimeFor: (await import("@/lib/runtime/registry")).runtimeFor,
    recordEvent: (await import("@/lib/events")).recordEvent,
    getService: (await import("@/lib/services/manage-services")).getService,
    services: await import("@/app/api/services/route"),
    service: await import("@/app/api/services/[id]/route"),
    replicas: await import("@/app/api/services/[id]/replicas/route"),
    balancer: await import("@/app/api/balancer/route"),
    revisions: await import("@/app/api/balancer/revisions/route"),
    revision: await import("@/app/api/balancer/revisions/[number]/route"),
    exportRoute: await import("@/app/api/balancer/export/route"),
    preview: await import("@/app/api/balancer/preview/route"),
    events: await import("@/app/api/events/route"),
    allowList: await import("@/app/api/settings/allow-list/route"),
  };
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  for (const role of ["admin", "operator", "viewer"] as const) {
    const u = await m.db().user.create({ data: { username: `policy-${role}`, passwordHash: "x", role } });
    cookies[role] = `${SESSION_COOKIE}=${(await createSession(u.id)).token}`;
  }
  await m.controller().start();
});

afterAll(async () => {
  delete process.env.ADMIN_PASSWORD;
  delete process.env.SWITCHYARD_TEST_SECRET;
  delete process.env.DEMO_SERVICE;
  if (m) {
    const ctl = m.controller();
    await ctl.stop();
    const runtime = m.runtimeFor("process");
    for (const r of await runtime.list().catch(() => [])) await runtime.remove(r.runtimeRef).catch(() => undefined);
    await ctl.engine.stop().catch(() => undefined);
  }
  for (const k of REMEMBERED) forget(k);
  await database?.close();
});

describe("an operator cannot choose what runs", () => {
  it("POST with a shell command: 403, and nothing runs", async () => {
    const res = await create("operator", { name: "pwn", command: SHELL_COMMAND, replicas: 1 });
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body.error.message).toMatch(/command is not on the allow-list/);
    expect(body.error.details).toEqual([{ path: "command", message: expect.any(String) }]);
    expect(await m.db().service.count()).toBe(0);
    expect(await m.runtimeFor("process").list()).toEqual([]);
    expect(existsSync(PWNED)).toBe(false);
  });

  it.each([
    ["NODE_OPTIONS", "--import=data:text/javascript,require('fs').writeFileSync('/tmp/x','')"],
    ["LD_PRELOAD", "/tmp/evil.so"],
    ["PATH", "/tmp/evil:/usr/bin"],
    ["PYTHONPATH", "/tmp/evil"],
  ])("POST with %s and the default command: 403, nothing created", async (name, value) => {
    const res = await create("operator", { name: "pwn", env: { [name]: value }, replicas: 1 });
    expect(res.status).toBe(403);
    expect((await res.json()).error.message).toContain(`${name} changes how the runtime loads code`);
    expect(await m.db().service.count()).toBe(0);
  });

  it("the names Switchyard sets stay reserved for everyone, admins included: 400", async () => {
    const res = await create("admin", { name: "pwn", env: { ADMIN_TOKEN: "mine" }, replicas: 0 });
    expect(res.status).toBe(400);
  });

  it("an operator may not let containers run as root", async () => {
    expect((await create("operator", { name: "pwn", runtime: "docker", allowRoot: true, replicas: 0 })).status).toBe(403);
  });
});

describe("a service an admin created", () => {
  let tokenOfOther = "";

  it("an admin may set a code-loading variable; its replica runs as a non-root user with its own environment only", async () => {
    const res = await create("admin", { name: "web", env: { GREETING: SECRET, NODE_OPTIONS: "--max-old-space-size=96" }, replicas: 1 });
    expect(res.status).toBe(201);
    webId = (await res.json()).service.id;
    const other = await create("admin", { name: "api", replicas: 0 });
    expect(other.status).toBe(201);
    tokenOfOther = (await m.db().service.findUniqueOrThrow({ where: { name: "api" } })).adminToken;

    await waitFor("web's replica ready", async () => (await readyReplicas(webId)).length === 1, 30_000);
    const [replica] = await readyReplicas(webId);
    const pid = replica.runtimeRef!;
    const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
    console.log(`web's replica: pid ${pid}, effective uid ${uid}`);
    expect(uid).not.toBe(0);
    const environ = await environOf(pid);
    expect(environ.GREETING).toBe(SECRET);
    expect(environ.NODE_OPTIONS).toBe("--max-old-space-size=96");
    for (const k of ["DATABASE_URL", "DATA_DIR", "ADMIN_PASSWORD", "SWITCHYARD_TEST_SECRET", "ENGINE", "PORT_RANGE", "HOME"]) expect(environ[k], k).toBeUndefined();
    expect(Object.values(environ)).not.toContain(tokenOfOther);
    expect(JSON.stringify(environ)).not.toContain(PANEL_SECRET);
  });

  it("PATCH by an operator: the command, a code-loading variable or root are refused; other variables are not", async () => {
    const before = await m.db().service.findUniqueOrThrow({ where: { id: webId } });
    const refused = [
      { command: SHELL_COMMAND },
      { env: { GREETING: SECRET, NODE_OPTIONS: "--require=/tmp/evil.js" } },
      { env: { GREETING: SECRET, NODE_OPTIONS: "--max-old-space-size=96", LD_PRELOAD: "/tmp/evil.so" } },
      { env: { GREETING: SECRET } }, // removing the admin's NODE_OPTIONS is a change too
      { env: { GREETING: SECRET, NODE_OPTIONS: "--max-old-space-size=96", PATH: "/tmp" } },
      { allowRoot: true },
      { image: "evil/image:latest" },
    ];
    for (const body of refused) {
      const res = await patch("operator", webId, body);
      expect(res.status, JSON.stringify(body)).toBe(403);
    }
    const after = await m.db().service.findUniqueOrThrow({ where: { id: webId } });
    expect({ command: after.command, env: after.env, allowRoot: after.allowRoot, image: after.image }).toEqual({ command: before.command, env: before.env, allowRoot: before.allowRoot, image: before.image });

    const ok = await patch("operator", webId, { env: { GREETING: SECRET, NODE_OPTIONS: "--max-old-space-size=96", LOG_LEVEL: "debug" }, memoryLimitMb: 200 });
    expect(ok.status).toBe(200);
    // and an admin may do what the operator may not
    expect((await patch("admin", webId, { env: { GREETING: SECRET, NODE_OPTIONS: "--max-old-space-size=96" } })).status).toBe(200);
  });
});

describe("the allow-list an admin keeps", () => {
  const listed = [process.execPath, REPLICA_SERVER_JS];

  it("only an admin changes it; operators read it; viewers do not", async () => {
    const put = (as: keyof typeof cookies) => call(m.allowList.PUT as Handler, "/api/settings/allow-list", { method: "PUT", body: { images: ["registry.example/app:1.4"], commands: [listed] }, as });
    expect((await put("operator")).status).toBe(403);
    expect((await put("viewer")).status).toBe(403);
    expect((await put("admin")).status).toBe(200);
    const read = await call(m.allowList.GET as Handler, "/api/settings/allow-list", { as: "operator" });
    expect((await read.json()).allowList).toEqual({ images: ["registry.example/app:1.4"], commands: [listed] });
    expect((await call(m.allowList.GET as Handler, "/api/settings/allow-list", { as: "viewer" })).status).toBe(403);
    expect(await m.db().event.count({ where: { kind: "settings.allow-list" } })).toBe(1);
  });

  it("an operator may run exactly what it lists", async () => {
    const ok = await create("operator", { name: "listed", command: listed, replicas: 0 });
    expect(ok.status).toBe(201);
    expect((await create("operator", { name: "unlisted", command: [...listed, "--inspect"], replicas: 0 })).status).toBe(403);
    expect((await create("operator", { name: "img", runtime: "docker", image: "registry.example/app:1.4", replicas: 0 })).status).not.toBe(403);
  });
});

describe("what a viewer reads", () => {
  let secrets: string[] = [];

  beforeAll(async () => {
    const cfg = (await import("@/lib/env")).env();
    const status = await m.controller().engine.status();
    const pids = (await m.getService(webId)).instances.map((r) => r.runtimeRef).filter((p): p is string => Boolean(p));
    expect(pids.length).toBeGreaterThan(0);
    // an event whose text quotes a secret and a path, as an engine's or a replica's error may
    await m.recordEvent({ kind: "test.quote", actor: "controller", serviceId: webId, message: `engine said: cannot open ${cfg.dataDir}/builtin/config.json (${SECRET})` });
    secrets = [SECRET, "--max-old-space-size=96", REPLICA_SERVER_JS, cfg.dataDir, process.cwd(), ...pids, ...(status.pid ? [`"pid":${status.pid}`] : [])];
    console.log(`looking for ${secrets.length} secrets: env values, a command, replica pids ${pids.join(", ")}, engine pid ${status.pid}, ${cfg.dataDir}, ${process.cwd()}`);
  });

  async function readAll(as: keyof typeof cookies): Promise<Record<string, string>> {
    const rules = (await m.getService(webId)).rules;
    const out: Record<string, string> = {};
    const reads: [string, Promise<Response>][] = [
      ["GET /api/services", call(m.services.GET as Handler, "/api/services", { as })],
      ["GET /api/services/:id", call(m.service.GET as Handler, `/api/services/${webId}`, { as }, { id: webId })],
      ["GET /api/services/:id/replicas", call(m.replicas.GET as Handler, `/api/services/${webId}/replicas`, { as }, { id: webId })],
      ["GET /api/balancer", call(m.balancer.GET as Handler, "/api/balancer", { as })],
      ["GET /api/balancer/revisions", call(m.revisions.GET as Handler, "/api/balancer/revisions", { as })],
      ["GET /api/balancer/revisions/1", call(m.revision.GET as Handler, "/api/balancer/revisions/1", { as }, { number: "1" })],
      ["GET /api/balancer/export", call(m.exportRoute.GET as Handler, "/api/balancer/export?engine=haproxy", { as })],
      ["POST /api/balancer/preview", call(m.preview.POST as Handler, "/api/balancer/preview", { method: "POST", body: { serviceId: webId, rules }, as })],
      ["GET /api/events", call(m.events.GET as Handler, "/api/events", { as })],
    ];
    for (const [name, res] of reads) {
      const r = await res;
      expect(r.status, name).toBe(200);
      out[name] = await r.text();
    }
    return out;
  }

  it("the API: environment names without values, no command, no pid, no path — in every response", async () => {
    const seen = await readAll("viewer");
    const leaks = Object.entries(seen).flatMap(([name, text]) => secrets.filter((s) => text.includes(s)).map((s) => `${name} shows ${s}`));
    expect(leaks).toEqual([]);
    const web = JSON.parse(seen["GET /api/services/:id"]).service;
    expect(web.env).toEqual({ GREETING: "", NODE_OPTIONS: "" });
    expect(web.redacted).toBe(true);
    expect(web.instances.every((r: { runtimeRef: string | null }) => r.runtimeRef === null)).toBe(true);
    const engine = JSON.parse(seen["GET /api/balancer"]).engine;
    expect(engine.pid).toBeNull();
    expect(JSON.parse(seen["GET /api/events"]).events.find((e: { kind: string }) => e.kind === "test.quote").message).toBe("engine said: cannot open $DATA_DIR/builtin/config.json ((hidden))");
  });

  it("an operator reads the same responses whole (the check above is not vacuous)", async () => {
    const seen = await readAll("operator");
    const all = Object.values(seen).join("\n");
    for (const s of [SECRET, REPLICA_SERVER_JS, ...secrets.filter((x) => /^\d+$/.test(x))]) expect(all, s).toContain(s);
    expect(JSON.parse(seen["GET /api/services/:id"]).service.env.GREETING).toBe(SECRET);
  });

  it("the live channel: the snapshot, service pushes and events reach a viewer without secrets", async () => {
    const { attachRealtime, emitServiceView } = await import("@/lib/realtime/server");
    const { provideLiveViews } = await import("@/lib/services/live-views");
    provideLiveViews(); // installs the snapshot provider and its views (the collector is not started: no ticks)
    const server = http.createServer();
    const ioServer = attachRealtime(server, { allowedOrigins: [] });
    await new Promise<void>((r) => server.listen(SOCKET_PORT, "127.0.0.1", r));
    const base = `http://127.0.0.1:${SOCKET_PORT}`;
    const open = (as: keyof typeof cookies) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(base, { path: "/socket.io", transports: ["websocket"], extraHeaders: { cookie: cookies[as], origin: base }, reconnection: false, forceNew: true });
        s.once("connect", () => resolve(s));
        s.once("connect_error", reject);
      });
    const viewer = await open("viewer");
    const operator = await open("operator");
    try {
      const [vSnap, oSnap] = await Promise.all([viewer, operator].map((s) => s.timeout(5000).emitWithAck("watch", { serviceId: webId })));
      expect(vSnap.snapshot.service.env.GREETING).toBe("");
      expect(vSnap.snapshot.service.command).toBeNull();
      expect(oSnap.snapshot.service.env.GREETING).toBe(SECRET);

      const pushed = (s: Socket, event: string) => new Promise<unknown>((r) => s.once(event, r));
      const views = [pushed(viewer, "service"), pushed(operator, "service")];
      emitServiceView(webId, await m.getService(webId));
      const [vView, oView] = (await Promise.all(views)) as { env: Record<string, string> }[];
      expect(vView.env.GREETING).toBe("");
      expect(oView.env.GREETING).toBe(SECRET);

      const events = [pushed(viewer, "event"), pushed(operator, "event")];
      await m.recordEvent({ kind: "test.quote", actor: "controller", serviceId: webId, message: `replica said ${SECRET}` });
      const [vEvent, oEvent] = (await Promise.all(events)) as { message: string }[];
      expect(vEvent.message).toBe("replica said (hidden)");
      expect(oEvent.message).toBe(`replica said ${SECRET}`);
    } finally {
      viewer.close();
      operator.close();
      await new Promise<void>((r) => ioServer.close(() => r()));
    }
  });
});
