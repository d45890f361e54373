import type { Algorithm, RetryCondition } from "@/lib/core/rules";
import type { Capability } from "@/lib/engines/types";

/** Words the rules editor and the Balancer page use for the rules model. Pure data. */

export const algorithmLabels: Record<Algorithm, { name: string; explain: string }> = {
  round_robin: { name: "Round robin (weighted)", explain: "Each replica in turn, in proportion to its weight. The default; even spread when requests cost about the same." },
  least_conn: { name: "Least connections", explain: "The replica with the fewest requests in flight. Better when some requests take much longer than others." },
  random_two: { name: "Random, two choices", explain: "Pick two replicas at random and send to the less busy one: close to least connections, cheap at scale." },
  source_hash: { name: "Source-IP hash", explain: "Each client address always lands on the same replica (while the pool does not change)." },
  uri_hash: { name: "URI hash", explain: "Each URL always lands on the same replica: good for per-replica caches." },
};

export const retryConditionLabels: Record<RetryCondition, string> = {
  conn_failure: "connection failed",
  empty_response: "empty response",
  response_timeout: "response timeout",
  status_502: "HTTP 502",
  status_503: "HTTP 503",
  status_504: "HTTP 504",
};

export const capabilityLabels: Record<Capability, string> = {
  "algorithm.round_robin": "Round robin (weighted)",
  "algorithm.least_conn": "Least connections",
  "algorithm.random_two": "Random, two choices",
  "algorithm.source_hash": "Source-IP hash",
  "algorithm.uri_hash": "URI hash",
  "sticky.cookie": "Cookie stickiness",
  "sticky.source": "Source-IP stickiness",
  "healthCheck.active": "Active health checks",
  passive: "Passive health checks (max fails)",
  retries: "Retries",
  "retries.redispatch": "Retry on another replica (redispatch)",
  drain: "Drain a replica",
  slowStart: "Slow start",
  "route.host": "Route by host name",
  "route.stripPrefix": "Strip the path prefix",
  dynamicServers: "Add and remove replicas without a reload",
  hitlessReload: "Reload without dropping connections",
};

/** "30000" ms -> "30 s", for hints next to millisecond fields. */
export function humanMs(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  if (ms === 0) return "off";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(2)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(2)} min`;
  return `${+(ms / 3_600_000).toFixed(2)} h`;
}

export function humanSeconds(s: number): string {
  if (!Number.isFinite(s)) return "";
  return s === 0 ? "a session cookie (until the browser closes)" : humanMs(s * 1000);
}
