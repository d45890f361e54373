import http from "node:http";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { AppError } from "@/lib/core/errors";
import { trafficSettingsSchema, type TrafficSettings, type TrafficStatus } from "@/lib/core/metrics";
import { parseRules } from "@/lib/db/rows";

/**
 * The traffic generator: so the charts move without outside tools. It runs in
 * the panel, only ever targets the panel's own listener on loopback, is bounded
 * in rate, concurrency and time, and stops by itself (and with the panel).
 * Each simulated client has its own cookie jar and, optionally, its own
 * loopback source address (127.0.0.x) so source-IP stickiness can be seen.
 */

export { trafficSettingsSchema };

type Client = { id: string; jar: Map<string, string>; agent: http.Agent; localAddress?: string };

type Run = {
  serviceId: string;
  settings: TrafficSettings;
  startedAt: number;
  endsAt: number;
  sent: number;
  ok: number;
  failed: number;
  servedBy: Record<string, Record<string, number>>;
  lastReplica: Record<string, string | null>;
  lastError: string | null;
  inflight: number;
  timer: NodeJS.Timeout | null;
  stopped: boolean;
  clients: Client[];
};

const runs = () => remember("traffic-runs", () => new Map<string, Run>());
const finished = () => remember("traffic-finished", () => new Map<string, TrafficStatus>());

function statusOf(r: Run): TrafficStatus {
  return {
    running: !r.stopped,
    startedAt: r.startedAt,
    endsAt: r.endsAt,
    settings: r.settings,
    sent: r.sent,
    ok: r.ok,
    failed: r.failed,
    servedBy: r.servedBy,
    lastReplica: r.lastReplica,
    lastError: r.lastError,
  };
}

export function trafficStatus(serviceId: string): TrafficStatus {
  const r = runs().get(serviceId);
  if (r) return statusOf(r);
  return finished().get(serviceId) ?? { running: false, startedAt: null, endsAt: null, settings: null, sent: 0, ok: 0, failed: 0, servedBy: {}, lastReplica: {}, lastError: null };
}

function absorbCookies(jar: Map<string, string>, setCookie: string[] | undefined) {
  for (const c of setCookie ?? []) {
    const first = c.split(";")[0];
    const eq = first.indexOf("=");
    if (eq > 0) jar.set(first.slice(0, eq).trim(), first.slice(eq + 1).trim());
  }
}

export async function startTraffic(serviceId: string, input: unknown, actor: string): Promise<TrafficStatus> {
  const settings = trafficSettingsSchema.parse(input ?? {});
  const svc = await db().service.findUnique({ where: { id: serviceId } });
  if (!svc) throw new AppError("not_found", "no such service");
  stopTraffic(serviceId, null);
  const rules = parseRules(svc.rules);
  const prefix = rules.route.pathPrefix === "/" ? "" : rules.route.pathPrefix.replace(/\/$/, "");
  const path = prefix + settings.path;
  const hostHeader = rules.route.host ?? `127.0.0.1:${env().BALANCER_PORT}`;
  const clients: Client[] = Array.from({ length: settings.clients }, (_, i) => {
    const localAddress = settings.distinctSourceIps ? `127.0.0.${2 + i}` : undefined;
    return { id: `c${i + 1}${localAddress ? `@${localAddress}` : ""}`, jar: new Map(), agent: new http.Agent({ keepAlive: true, maxSockets: settings.concurrency }), localAddress };
  });
  const run: Run = {
    serviceId,
    settings,
    startedAt: Date.now(),
    endsAt: Date.now() + settings.durationS * 1000,
    sent: 0,
    ok: 0,
    failed: 0,
    servedBy: Object.fromEntries(clients.map((c) => [c.id, {}])),
    lastReplica: Object.fromEntries(clients.map((c) => [c.id, null])),
    lastError: null,
    inflight: 0,
    timer: null,
    stopped: false,
    clients,
  };
  runs().set(serviceId, run);
  let next = 0;
  const fire = () => {
    if (run.stopped) return;
    if (Date.now() >= run.endsAt) return stopTraffic(serviceId, null);
    if (run.inflight >= settings.concurrency) return;
    const client = clients[next++ % clients.length];
    run.inflight++;
    run.sent++;
    const cookie = [...client.jar.entries()].map(([k, v]) => `${k}=${v}`).join("; ");
    const req = http.request(
      {
        host: "127.0.0.1", // only ever the panel's own listener on loopback
        port: env().BALANCER_PORT,
        path,
        method: "GET",
        agent: client.agent,
        localAddress: client.localAddress,
        timeout: 10_000,
        headers: { host: hostHeader, ...(cookie ? { cookie } : {}), "user-agent": `switchyard-traffic/${client.id}` },
      },
      (res) => {
        absorbCookies(client.jar, res.headers["set-cookie"]);
        const replica = (res.headers["x-replica"] as string | undefined) ?? null;
        res.resume();
        res.on("end", () => {
          run.inflight--;
          if ((res.statusCode ?? 0) < 500) run.ok++;
          else {
            run.failed++;
            run.lastError = `HTTP ${res.statusCode}`;
          }
          if (replica) {
            const m = run.servedBy[client.id];
            m[replica] = (m[replica] ?? 0) + 1;
            run.lastReplica[client.id] = replica;
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => {
      run.inflight--;
      run.failed++;
      run.lastError = e.message;
    });
    req.end();
  };
  const intervalMs = Math.max(1, Math.floor(1000 / settings.rps));
  const perTick = Math.max(1, Math.round(settings.rps / (1000 / intervalMs)));
  run.timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) fire();
  }, intervalMs);
  run.timer.unref();
  await recordEvent({ kind: "traffic.started", actor, serviceId, message: `${actor} started traffic to ${svc.name}: ${settings.rps} req/s, ${settings.clients} clients, ${settings.durationS} s` });
  return statusOf(run);
}

export function stopTraffic(serviceId: string, actor: string | null): TrafficStatus {
  const run = runs().get(serviceId);
  if (!run) return trafficStatus(serviceId);
  run.stopped = true;
  if (run.timer) clearInterval(run.timer);
  for (const c of run.clients) c.agent.destroy();
  runs().delete(serviceId);
  const status = statusOf(run);
  finished().set(serviceId, status);
  void recordEvent({ kind: "traffic.stopped", actor: actor ?? "traffic generator", serviceId, message: `traffic stopped${actor ? ` by ${actor}` : " (duration reached)"}: ${run.sent} sent, ${run.ok} ok, ${run.failed} failed` }).catch(() => undefined);
  return status;
}

export function stopAllTraffic(): void {
  for (const id of [...runs().keys()]) stopTraffic(id, "panel shutdown");
}
