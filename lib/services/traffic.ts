import http from "node:http";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { AppError } from "@/lib/core/errors";
import { trafficSettingsSchema, type TrafficSettings, type TrafficStatus } from "@/lib/core/metrics";
import { parseRules } from "@/lib/db/rows";
import { exampleRequest } from "@/lib/core/route-match";

/**
 * The traffic generator: so the charts move without outside tools. It runs in
 * the panel, only ever targets the panel's own listener on loopback, is bounded
 * in rate, concurrency and time, and stops by itself (and with the panel).
 *
 * Each simulated client is independent, as real clients are: its own cookie jar,
 * its own keep-alive connections, optionally its own loopback source address
 * (127.0.0.x) so source-IP stickiness can be seen, and its own clock. A client
 * sends at rps / clients on average with exponential gaps (a Poisson process of
 * its own, from a random phase), so no client keeps step with another or with
 * the balancer's rotation. (Sending in a fixed client order taught the wrong
 * lesson: 6 clients over 3 replicas under round robin lined up with the
 * rotation, and every client looked stuck to one replica.)
 */

export { trafficSettingsSchema };

/** Where the clients send: the balancer listener on loopback, with the service's Host and path. */
export type TrafficTarget = { port: number; hostHeader: string; path: string };

type TrafficCounts = Omit<TrafficStatus, "serviceId" | "running" | "startedAt" | "endsAt" | "settings">;

type Client = { id: string; jar: Map<string, string>; agent: http.Agent; localAddress?: string; nextAt: number; timer: NodeJS.Timeout | null };

/** Clients sending until stop(); counts fill in as answers arrive. */
export type TrafficClients = { readonly counts: TrafficCounts; stop(): void };

type Run = {
  serviceId: string;
  settings: TrafficSettings;
  startedAt: number;
  endsAt: number;
  stopped: boolean;
  clients: TrafficClients;
  endTimer: NodeJS.Timeout;
};

const runs = () => remember("traffic-runs", () => new Map<string, Run>());
const finished = () => remember("traffic-finished", () => new Map<string, TrafficStatus>());

function statusOf(r: Run): TrafficStatus {
  const c = r.clients.counts;
  return {
    running: !r.stopped,
    startedAt: r.startedAt,
    endsAt: r.endsAt,
    settings: r.settings,
    sent: c.sent,
    ok: c.ok,
    failed: c.failed,
    servedBy: c.servedBy,
    lastReplica: c.lastReplica,
    lastError: c.lastError,
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

/** One gap of a Poisson process with this mean: exponentially distributed, never negative. */
export function exponentialGapMs(meanMs: number, random: () => number = Math.random): number {
  return -Math.log(1 - random()) * meanMs;
}

/** At most this many requests one client sends at one wake-up to catch up with its schedule; the rest of a backlog is dropped. */
const MAX_CATCH_UP = 20;

/**
 * Starts `settings.clients` independent clients against `target` (rate, concurrency,
 * clients and source addresses from `settings`; the duration is the caller's). A client
 * whose turn comes while `concurrency` requests are in flight skips that turn.
 */
export function startClients(target: TrafficTarget, settings: Omit<TrafficSettings, "path" | "durationS">): TrafficClients {
  const counts: TrafficCounts = { sent: 0, ok: 0, failed: 0, servedBy: {}, lastReplica: {}, lastError: null };
  const meanGapMs = (1000 * settings.clients) / settings.rps;
  const start = Date.now();
  const clients: Client[] = Array.from({ length: settings.clients }, (_, i) => {
    const localAddress = settings.distinctSourceIps ? `127.0.0.${2 + i}` : undefined;
    const id = `c${i + 1}${localAddress ? `@${localAddress}` : ""}`;
    counts.servedBy[id] = {};
    counts.lastReplica[id] = null;
    return { id, jar: new Map(), agent: new http.Agent({ keepAlive: true, maxSockets: settings.concurrency }), localAddress, nextAt: start + Math.random() * meanGapMs, timer: null };
  });
  let inflight = 0;
  let stopped = false;

  const send = (client: Client) => {
    if (inflight >= settings.concurrency) return;
    inflight++;
    counts.sent++;
    const cookie = [...client.jar.entries()].map(([k, v]) => `${k}=${v}`).join("; ");
    const req = http.request(
      {
        host: "127.0.0.1", // only ever the panel's own listener on loopback
        port: target.port,
        path: target.path,
        method: "GET",
        agent: client.agent,
        localAddress: client.localAddress,
        timeout: 10_000,
        headers: { host: target.hostHeader, ...(cookie ? { cookie } : {}), "user-agent": `switchyard-traffic/${client.id}` },
      },
      (res) => {
        absorbCookies(client.jar, res.headers["set-cookie"]);
        const replica = (res.headers["x-replica"] as string | undefined) ?? null;
        res.resume();
        res.on("end", () => {
          inflight--;
          if ((res.statusCode ?? 0) < 500) counts.ok++;
          else {
            counts.failed++;
            counts.lastError = `HTTP ${res.statusCode}`;
          }
          if (replica) {
            const m = counts.servedBy[client.id];
            m[replica] = (m[replica] ?? 0) + 1;
            counts.lastReplica[client.id] = replica;
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => {
      inflight--;
      counts.failed++;
      counts.lastError = e.message;
    });
    req.end();
  };

  // each client wakes on its own schedule, sends what fell due, and sleeps until its next turn
  const wake = (client: Client) => {
    client.timer = null;
    if (stopped) return;
    const now = Date.now();
    let sentNow = 0;
    while (client.nextAt <= now && sentNow < MAX_CATCH_UP) {
      send(client);
      sentNow++;
      client.nextAt += exponentialGapMs(meanGapMs);
    }
    if (client.nextAt <= now) client.nextAt = now + exponentialGapMs(meanGapMs);
    client.timer = setTimeout(() => wake(client), client.nextAt - now);
    client.timer.unref();
  };
  for (const c of clients) wake(c);

  return {
    counts,
    stop() {
      stopped = true;
      for (const c of clients) {
        if (c.timer) clearTimeout(c.timer);
        c.agent.destroy();
      }
    },
  };
}

export async function startTraffic(serviceId: string, input: unknown, actor: string): Promise<TrafficStatus> {
  const settings = trafficSettingsSchema.parse(input ?? {});
  const svc = await db().service.findUnique({ where: { id: serviceId } });
  if (!svc) throw new AppError("not_found", "no such service");
  if (svc.runtime === "kubernetes") {
    throw new AppError("conflict", `${svc.name} runs on Kubernetes: the cluster balances its pods and the panel's listener does not front them, so there is nothing of the panel's to send traffic to`);
  }
  stopTraffic(serviceId, null);
  const rules = parseRules(svc.rules);
  // through the service's first route: a host it takes (a wildcard's example name), under its prefix or at its exact path
  const first = rules.routes[0];
  const host = exampleRequest(first).host;
  const prefix = first.path === "/" ? "" : first.path.replace(/\/$/, "");
  const path = first.match === "exact" ? first.path : prefix + settings.path;
  const target: TrafficTarget = { port: env().BALANCER_PORT, hostHeader: host ?? `127.0.0.1:${env().BALANCER_PORT}`, path };
  const startedAt = Date.now();
  const endTimer = setTimeout(() => stopTraffic(serviceId, null), settings.durationS * 1000);
  endTimer.unref();
  const run: Run = { serviceId, settings, startedAt, endsAt: startedAt + settings.durationS * 1000, stopped: false, clients: startClients(target, settings), endTimer };
  runs().set(serviceId, run);
  await recordEvent({ kind: "traffic.started", actor, serviceId, message: `${actor} started traffic to ${svc.name}: ${settings.rps} req/s, ${settings.clients} clients, ${settings.durationS} s` });
  return statusOf(run);
}

export function stopTraffic(serviceId: string, actor: string | null): TrafficStatus {
  const run = runs().get(serviceId);
  if (!run) return trafficStatus(serviceId);
  run.stopped = true;
  clearTimeout(run.endTimer);
  run.clients.stop();
  runs().delete(serviceId);
  const status = statusOf(run);
  finished().set(serviceId, status);
  const c = run.clients.counts;
  void recordEvent({ kind: "traffic.stopped", actor: actor ?? "traffic generator", serviceId, message: `traffic stopped${actor ? ` by ${actor}` : " (duration reached)"}: ${c.sent} sent, ${c.ok} ok, ${c.failed} failed` }).catch(() => undefined);
  return status;
}

export function stopAllTraffic(): void {
  for (const id of [...runs().keys()]) stopTraffic(id, "panel shutdown");
}
