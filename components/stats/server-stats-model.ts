import type { ReplicaTick, ServerFigures, ServiceTick } from "@/lib/core/metrics";
import type { Tone } from "@/components/ui/badge";
import { rangeText, replicaFigures, type LatencyFigures } from "@/components/services/replica-figures";

/**
 * The per-server stats table (HAProxy's stats page, NGINX Plus's upstreams tab), as a
 * pure model: rows from the live ticks, the state word and its tone, what each engine
 * cannot give (shown as "—" with the reason, never a made-up 0), and the problems.
 */

export type EngineKind = "haproxy" | "nginx" | "builtin" | "traefik";

export type StatField =
  | "sessions"
  | "sessionsMax"
  | "sessionLimit"
  | "queue"
  | "queueMax"
  | "bytesIn"
  | "bytesOut"
  | "checkDuration"
  | "checkFailures"
  | "downtime"
  | "statusSince"
  | "latency";

const NGINX_OSS = "nginx OSS keeps no per-server figures (NGINX Plus does): the panel counts what its access log says, and the log has no";
const BUILTIN = "the builtin proxy does not count";

/** Why an engine cannot give a field (absent: it can). */
export const unavailableReasons: Record<EngineKind, Partial<Record<StatField, string>>> = {
  haproxy: {},
  nginx: {
    sessions: `${NGINX_OSS} open connections per server (its access log writes a request when it ends, so it cannot tell what is open now)`,
    sessionsMax: `${NGINX_OSS} open connections per server (its access log writes a request when it ends, so it cannot tell what is open now)`,
    sessionLimit: "nginx renders no max_conns: no session limit per server",
    queue: "nginx OSS has no upstream queue (queue is an NGINX Plus feature)",
    queueMax: "nginx OSS has no upstream queue (queue is an NGINX Plus feature)",
    checkDuration: "the panel probes nginx's replicas itself and does not time its probes",
    checkFailures: "the panel probes nginx's replicas itself and does not count failed probes",
    downtime: "nginx OSS does not add up a server's downtime",
  },
  builtin: {
    sessionsMax: `${BUILTIN} the most concurrent connections`,
    sessionLimit: "the builtin proxy has no session limit per server",
    queue: "the builtin proxy has no queue: a request goes to a server at once or fails",
    queueMax: "the builtin proxy has no queue: a request goes to a server at once or fails",
    bytesIn: `${BUILTIN} bytes`,
    bytesOut: `${BUILTIN} bytes`,
    checkDuration: `${BUILTIN} how long a health check took`,
    checkFailures: `${BUILTIN} failed health checks`,
    downtime: `${BUILTIN} a server's downtime`,
  },
  traefik: {},
};

export function unavailable(engine: string, field: StatField): string | null {
  return unavailableReasons[engine as EngineKind]?.[field] ?? null;
}

/** The word a row says its state with (colour is never the only sign), its tone, and what it means. */
export type StateLook = { word: string; tone: Tone; explain: string };

export function stateOf(r: Pick<ReplicaTick, "health" | "server">): StateLook {
  const admin = r.server?.adminState ?? "ready";
  if (admin === "maint") return { word: "MAINT", tone: "zinc", explain: "in maintenance: the balancer sends it nothing" };
  if (r.health.status === "down") return { word: "DOWN", tone: "red", explain: "fails its health check: out of rotation" };
  if (admin === "drain" || r.health.status === "drain") return { word: "DRAIN", tone: "amber", explain: "draining: no new requests, open ones finish" };
  if (r.health.status === "up") return { word: "UP", tone: "green", explain: "passes its health check: in rotation" };
  if (r.health.status === "nocheck") return { word: "NO CHECK", tone: "blue", explain: "in rotation without a health check" };
  return { word: "UNKNOWN", tone: "zinc", explain: "the balancer has not said yet" };
}

/** The table's latency window: long enough for a p99 at a few requests a second. */
export const LATENCY_WINDOW_S = 60;
/** The window problems and rates look at, as the replica cards do. */
export const RECENT_WINDOW_S = 10;

export type StatsRow = {
  replicaId: string;
  server: ServerFigures;
  health: ReplicaTick["health"];
  state: StateLook;
  /** requests per second over RECENT_WINDOW_S */
  rate: number;
  latency: LatencyFigures | null;
  /** what is wrong with it now, in words (empty: nothing) */
  problems: string[];
};

const pct = (n: number) => `${Math.round(n * 1000) / 10} %`;

/** Rows for every server the latest tick lists, in that order. */
export function statsRows(history: readonly ServiceTick[]): StatsRow[] {
  const last = history.length ? history[history.length - 1] : null;
  if (!last) return [];
  const rows: StatsRow[] = [];
  for (const r of last.replicas) {
    if (!r.server) continue;
    const recent = replicaFigures(history, r.replicaId, RECENT_WINDOW_S);
    const slow = replicaFigures(history, r.replicaId, LATENCY_WINDOW_S);
    const state = stateOf(r);
    const problems: string[] = [];
    if (state.word === "DOWN") problems.push(r.health.reason ? `down (${r.health.reason})` : "down");
    if (recent.rates && recent.errors["5xx"] > 0) problems.push(`5xx ${pct(recent.rates["5xx"])} in the last ${RECENT_WINDOW_S} s`);
    if (recent.rates && recent.errors.conn > 0) problems.push(`connection errors ${pct(recent.rates.conn)} in the last ${RECENT_WINDOW_S} s`);
    if ((r.server.queue.current ?? 0) > 0) problems.push(`${r.server.queue.current} requests queued`);
    rows.push({
      replicaId: r.replicaId,
      server: r.server,
      health: r.health,
      state,
      rate: recent.seconds > 0 ? recent.requests / recent.seconds : 0,
      latency: slow.latency,
      problems,
    });
  }
  return rows;
}

/** How many servers have a problem now. */
export const problemCount = (rows: readonly StatsRow[]): number => rows.filter((r) => r.problems.length > 0).length;

// ------------------------------------------------------------------ formatting

/** "12 s", "4 min 2 s", "3 h 5 min", "2 d 4 h". */
export function durationText(ms: number | null): string | null {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return null;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "512 B", "1.5 KiB", "3.2 MiB", "1.1 GiB". */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

// one formatter: toLocaleString("en-US") builds one per call, several per server per second
const countFormat = new Intl.NumberFormat("en-US");
export const countText = (n: number): string => countFormat.format(n);

/** The latency cell: the buckets p50/p95/p99 lie in, or HAProxy's average labelled for what it is. */
export function latencyText(l: LatencyFigures | null): { text: string; title: string } | null {
  if (!l) return null;
  if (l.kind === "average") {
    return { text: `avg ${Math.round(l.avg)} ms`, title: "the engine's own average response time (HAProxy: its last 1024 requests); no percentiles yet" };
  }
  return {
    text: `${rangeText(l.p50)} / ${rangeText(l.p95)} / ${rangeText(l.p99)}`,
    title: `p50 / p95 / p99 of this server's response times over the last ${LATENCY_WINDOW_S} s: the latency bucket each lies in`,
  };
}
