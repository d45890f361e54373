/**
 * Per-replica counters for nginx OSS, which has no per-server statistics: the
 * rendered config writes one line per request to an access log (see
 * LOG_FORMAT in render.ts) that the panel tails (log-tail.ts), parses and
 * counts here.
 *
 * Pure: `parseAccessLine` and `AccessCounters` do no I/O.
 */
import { LOG_RECORD_MARKER, LOG_RECORD_MARKER_V1 } from "@/lib/engines/nginx/render";

/** Latency bucket upper bounds in ms, the same edges as the builtin engine; the last bucket is "+Inf". */
export const LATENCY_BUCKET_EDGES_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;
export const LATENCY_BUCKET_KEYS: readonly string[] = [...LATENCY_BUCKET_EDGES_MS.map(String), "+Inf"];

/** One try at one upstream server, in the order nginx made them. */
export type UpstreamAttempt = {
  /** "host:port" as nginx reports it (an upstream name when no server was live) */
  addr: string;
  /** the server's status, or null ("-": no response, e.g. connection refused or client gone) */
  status: number | null;
  /** time spent on this server in ms, or null */
  responseMs: number | null;
  /** bytes nginx sent to this server and received from it on this try ($upstream_bytes_sent/_received); null in an "sy1" record */
  bytesSent: number | null;
  bytesReceived: number | null;
};

export type AccessRecord = {
  /** upstream name ($proxy_host), or null for requests nginx answered itself */
  upstream: string | null;
  attempts: UpstreamAttempt[];
  /** whole request time in ms */
  requestMs: number | null;
  /** status sent to the client */
  status: number | null;
  host: string | null;
  /** whether the record carries byte counts ("sy2"), so a try without them means 0, not unknown */
  hasBytes: boolean;
};

const dash = (s: string | undefined): string | null => (s === undefined || s === "" || s === "-" ? null : s);

function num(s: string | undefined): number | null {
  const v = dash(s?.trim());
  if (v === null) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** nginx lists one entry per try (", ") and per internal redirect (" : "). */
const splitList = (s: string): string[] => s.split(/, | : /).map((x) => x.trim());

/** Seconds with ms resolution ("0.004") -> ms; "-" -> null. */
function secondsToMs(s: string | undefined): number | null {
  const v = num(s);
  return v === null ? null : Math.round(v * 1000 * 1000) / 1000;
}

/**
 * One access log line -> an access record, or null when it is not one of ours.
 * A line is `sy2|upstream|addrs|statuses|times|request_time|status|bytes_sent|bytes_received|host`
 * or, from an older config, `sy1|upstream|addrs|statuses|times|request_time|status|host`
 * (without its newline).
 */
export function parseAccessLine(line: string): AccessRecord | null {
  const hasBytes = line.startsWith(`${LOG_RECORD_MARKER}|`);
  if (!hasBytes && !line.startsWith(`${LOG_RECORD_MARKER_V1}|`)) return null;
  const fields = line.slice(LOG_RECORD_MARKER.length + 1).replace(/\r$/, "").split("|");
  const before = hasBytes ? 8 : 6; // the fields before the host
  if (fields.length < before + 1) return null;
  const [upstream, addrs, statuses, times, requestTime, status, sent, received] = fields;
  const host = fields.slice(before).join("|"); // the host is last and the only client-controlled field

  const attempts: UpstreamAttempt[] = [];
  const a = dash(addrs);
  if (a !== null) {
    const st = splitList(statuses);
    const tm = splitList(times);
    const out = hasBytes ? splitList(sent) : [];
    const back = hasBytes ? splitList(received) : [];
    splitList(a).forEach((addr, i) => {
      if (addr) attempts.push({ addr, status: num(st[i]), responseMs: secondsToMs(tm[i]), bytesSent: hasBytes ? num(out[i]) : null, bytesReceived: hasBytes ? num(back[i]) : null });
    });
  }
  return { upstream: dash(upstream), attempts, requestMs: secondsToMs(requestTime), status: num(status), host: dash(host), hasBytes };
}

export type ResponseClasses = { "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number; other: number };

/** Cumulative counters of one server ("host:port") since the panel started reading the log. */
export type ServerCounters = {
  /** requests this server answered (the last try of each request) */
  totalRequests: number;
  responses: ResponseClasses;
  /** tries that got no usable response here (connection refused/reset, timeout, nginx's own 502/504) */
  connectionErrors: number;
  /** tries here that nginx gave up on and sent to the next server */
  retries: number;
  redispatches: number;
  latencyBuckets: Record<string, number>;
  /** moving average of the response time of the requests this server answered, ms */
  avgResponseMs: number | null;
  /** bytes nginx sent to this server (requests) and received from it (responses), every try; null until a record with byte counts ("sy2") */
  bytesIn: number | null;
  bytesOut: number | null;
};

function emptyCounters(): ServerCounters {
  return {
    totalRequests: 0,
    responses: { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, other: 0 },
    connectionErrors: 0,
    retries: 0,
    redispatches: 0,
    latencyBuckets: Object.fromEntries(LATENCY_BUCKET_KEYS.map((k) => [k, 0])),
    avgResponseMs: null,
    bytesIn: null,
    bytesOut: null,
  };
}

function statusClass(status: number | null): keyof ResponseClasses {
  if (status === null || status < 100 || status > 599) return "other";
  return `${Math.floor(status / 100)}xx` as keyof ResponseClasses;
}

/** The bucket key a latency falls in: the first edge >= ms, else "+Inf". */
export function latencyBucket(ms: number): string {
  for (const edge of LATENCY_BUCKET_EDGES_MS) if (ms <= edge) return String(edge);
  return "+Inf";
}

/** A try nginx moved on from because the server gave no usable answer (as opposed to, say, a real 503). */
const isConnectionError = (status: number | null): boolean => status === null || status === 502 || status === 504;

/** Weight of the newest sample in the moving average. */
const AVG_ALPHA = 0.05;

/**
 * Folds access records into per-server counters. On retries nginx lists every
 * try: the last one is the response the client got and counts as a request of
 * that server; each earlier try counts on its server as a retry and a
 * redispatch (nginx always moves on to another server), plus a connection
 * error when it got no usable response or a response class otherwise.
 */
export class AccessCounters {
  private readonly byServer = new Map<string, ServerCounters>();
  /** records that reached no server (no route, no live upstream, client gone early) */
  unrouted = 0;
  records = 0;
  /** a record with byte counts ("sy2") was read: a server without traffic has moved 0 bytes, not an unknown number */
  bytesCounted = false;

  add(rec: AccessRecord): void {
    this.records++;
    if (rec.hasBytes) this.bytesCounted = true;
    const tries = rec.attempts.filter((t) => t.addr.includes(":"));
    if (tries.length === 0) {
      this.unrouted++;
      return;
    }
    tries.forEach((t, i) => {
      const c = this.counters(t.addr);
      if (rec.hasBytes) {
        // a try that reached no server moved no bytes: "-" is 0 here, not unknown
        c.bytesIn = (c.bytesIn ?? 0) + (t.bytesSent ?? 0);
        c.bytesOut = (c.bytesOut ?? 0) + (t.bytesReceived ?? 0);
      }
      if (i < tries.length - 1) {
        c.retries++;
        c.redispatches++;
        if (isConnectionError(t.status)) c.connectionErrors++;
        else c.responses[statusClass(t.status)]++;
        return;
      }
      c.totalRequests++;
      c.responses[statusClass(t.status)]++;
      const ms = t.responseMs ?? rec.requestMs;
      if (ms !== null) {
        c.latencyBuckets[latencyBucket(ms)]++;
        c.avgResponseMs = c.avgResponseMs === null ? ms : c.avgResponseMs + AVG_ALPHA * (ms - c.avgResponseMs);
      }
    });
  }

  /** A copy of one server's counters (zeros when it has seen nothing). */
  get(key: string): ServerCounters {
    const c = this.byServer.get(key);
    return c ? structuredClone(c) : emptyCounters();
  }

  keys(): string[] {
    return [...this.byServer.keys()];
  }

  private counters(key: string): ServerCounters {
    let c = this.byServer.get(key);
    if (!c) {
      c = emptyCounters();
      this.byServer.set(key, c);
    }
    return c;
  }
}
