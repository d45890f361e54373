/**
 * Test helper: the controller as the panel runs it, against real things — a fresh SQLite
 * database (temp-db.ts), a real engine on a loopback listener and process replicas on a
 * port range — with one service created through the use case and waited for, and an
 * admin session so tests can call the route handlers of app/api the way HTTP would.
 *
 *   const h = await startControllerHarness({ engine: "haproxy", listen: 18301, portRange: "24500-24599" });
 *   const res = await h.api(servicePatch, `/api/services/${h.serviceId}`, { method: "PATCH", body: { replicas: 3 } }, { id: h.serviceId });
 *   await h.close();
 *
 * The environment is set before any server module loads (lib/env.ts reads it once), so
 * a file uses one harness at a time.
 */
import { forget } from "@/lib/remember";
import type { CreateServiceInput } from "@/lib/core/service";
import { openTempDatabase, type TempDatabase } from "./temp-db";
import { waitFor } from "./load";

const ORIGIN = "http://127.0.0.1:3999";
const REMEMBERED = ["engine", "controller", "runtime-process", "runtime-docker", "runtime-external", "runtime-docker-discovery", "collector", "prober"];

export type ControllerHarnessOptions = {
  engine: "haproxy" | "builtin" | "nginx";
  /** the balancer's loopback listener */
  listen: number;
  /** PORT_RANGE of the replicas, e.g. "24500-24599" */
  portRange: string;
  /** more environment (MAX_REPLICAS, NGINX_SYSLOG_PORT, ...) */
  env?: Record<string, string>;
  /** the service created at start, through the use case; default "web" with 3 replicas of the bundled app */
  service?: Partial<CreateServiceInput>;
};

type Modules = {
  controller: typeof import("@/lib/controller/controller").controller;
  db: typeof import("@/lib/db/client").db;
  getService: typeof import("@/lib/services/manage-services").getService;
  updateService: typeof import("@/lib/services/manage-services").updateService;
  applyRules: typeof import("@/lib/services/apply-rules").applyRules;
  currentRevisionNumber: typeof import("@/lib/services/apply-balancer-config").currentRevisionNumber;
  runReplicaAction: typeof import("@/lib/services/replica-action").runReplicaAction;
};

type Handler<P> = (req: Request, ctx: { params: Promise<P> }) => Promise<Response>;

export type ControllerHarness = {
  tmp: TempDatabase;
  m: Modules;
  /** the admin the use cases act as (also behind `cookie`) */
  user: { id: string; username: string; role: "admin"; sessionId: string };
  /** Cookie header value of the admin's session */
  cookie: string;
  serviceId: string;
  replicas(): Promise<Awaited<ReturnType<Modules["getService"]>>["instances"]>;
  /** replicas that are ready and in the engine */
  ready(): Promise<Awaited<ReturnType<Modules["getService"]>>["instances"]>;
  /** Call a route handler with a same-origin request carrying the admin's session (or `cookie: null`). */
  api<P extends Record<string, string>>(handler: Handler<P>, urlPath: string, init?: { method?: string; body?: unknown; cookie?: string | null }, params?: P): Promise<Response>;
  close(): Promise<void>;
};

/** Is a process replica (runtime ref = pid) still running? */
export function isRunning(ref: string): boolean {
  try {
    process.kill(Number(ref), 0);
    return true;
  } catch {
    return false;
  }
}

export async function startControllerHarness(opts: ControllerHarnessOptions): Promise<ControllerHarness> {
  process.env.ENGINE = opts.engine;
  process.env.BALANCER_PORT = String(opts.listen);
  process.env.PORT_RANGE = opts.portRange;
  process.env.RUNTIME = "process";
  for (const [k, v] of Object.entries(opts.env ?? {})) process.env[k] = v;
  const tmp = await openTempDatabase(`harness-${opts.engine}`);
  for (const k of REMEMBERED) forget(k);
  const m: Modules = {
    ...(await import("@/lib/controller/controller")),
    ...(await import("@/lib/db/client")),
    ...(await import("@/lib/services/manage-services")),
    ...(await import("@/lib/services/apply-rules")),
    ...(await import("@/lib/services/apply-balancer-config")),
    ...(await import("@/lib/services/replica-action")),
  };
  const { createFirstAdmin } = await import("@/lib/services/create-first-admin");
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  const admin = await createFirstAdmin({ username: "harness-admin", password: "harness admin password" });
  const session = await createSession(admin.id);
  const user = { id: admin.id, username: admin.username, role: "admin" as const, sessionId: "harness" };
  const cookie = `${SESSION_COOKIE}=${session.token}`;

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    const ctl = m.controller();
    (await import("@/lib/controller/prober")).prober().stop();
    await ctl.stop();
    // every replica this data folder runs (the database may have forgotten some by now)
    const { runtimeFor } = await import("@/lib/runtime/registry");
    const runtime = runtimeFor("process");
    for (const r of await runtime.list().catch(() => [])) {
      await runtime.stop(r.runtimeRef, 2000).catch(() => undefined);
      await runtime.remove(r.runtimeRef).catch(() => undefined);
    }
    await ctl.engine.stop().catch(() => undefined);
    await (ctl.engine as { close?: () => unknown }).close?.();
    for (const k of REMEMBERED) forget(k);
    await tmp.close();
  };
  // a start that fails half way leaves nothing running (engines on the suite's ports, replicas)
  const started = async () => {
    await m.controller().start();
    // the panel's prober supplies active health checks where the engine has none (nginx)
    (await import("@/lib/controller/prober")).prober().start();
    const { createService } = await import("@/lib/services/manage-services");
    const want = opts.service?.replicas ?? 3;
    const svc = await createService(
      { name: "web", dataPort: 8000, adminPort: 9000, env: {}, memoryLimitMb: 128, cpuLimit: null, replicas: want, minReplicas: 0, ...opts.service },
      user,
    );
    const replicas = async () => (await m.getService(svc.id)).instances;
    const ready = async () => (await replicas()).filter((r) => r.state === "ready" && r.inEngine);
    await waitFor(`${want} replicas in rotation`, async () => (await ready()).length === want, 30_000, 200);
    return { svc, replicas, ready };
  };
  const { svc, replicas, ready } = await started().catch(async (e: unknown) => {
    await close().catch(() => undefined);
    throw e;
  });

  const api: ControllerHarness["api"] = (handler, urlPath, init = {}, params) => {
    const headers: Record<string, string> = { host: "127.0.0.1:3999", origin: ORIGIN, "x-switchyard-remote": "127.0.0.1" };
    const sent = init.cookie === undefined ? cookie : init.cookie;
    if (sent) headers.cookie = sent;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const req = new Request(`${ORIGIN}${urlPath}`, { method: init.method ?? "GET", headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    return handler(req, { params: Promise.resolve(params ?? ({} as never)) });
  };

  return { tmp, m, user, cookie, serviceId: svc.id, replicas, ready, api, close };
}
