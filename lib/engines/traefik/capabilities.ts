/**
 * What the Traefik export can express, and what it cannot carry over exactly. Pure
 * data: the UI may import it without pulling in I/O.
 *
 * Capabilities describe what the export can express within the Traefik v3
 * file-provider schema it is validated against (SchemaStore
 * traefik-v3-file-provider.json): loadBalancer there has servers (url; weight
 * is accepted per server), sticky.cookie, healthCheck, passHostHeader,
 * responseForwarding and serversTransport, and nothing else (no `strategy`,
 * no passive health check).
 */
import type { EngineCapabilities } from "@/lib/engines/types";

export const EXPORT_ONLY = "Traefik is export-only here: Switchyard renders its configuration but does not run it";

export const traefikCapabilities: EngineCapabilities = {
  "algorithm.round_robin": true, // weighted round robin, the only strategy in the schema
  "algorithm.least_conn": "Traefik has no least-connections balancing; its loadBalancer only does weighted round robin here (later v3 releases add p2c and leasttime, not in the v3 file-provider schema this export targets)",
  "algorithm.random_two": "the Traefik v3 file-provider schema this export targets has no loadBalancer strategy; p2c (two random choices) exists only in later v3 releases",
  "algorithm.source_hash": "Traefik has no source-IP hash in the v3 file-provider schema this export targets (later releases add strategy hrw)",
  "algorithm.uri_hash": "Traefik has no URI hashing",
  "sticky.cookie": true,
  "sticky.source": "Traefik has no source-IP stickiness, only cookie stickiness",
  "healthCheck.active": true,
  passive: "the Traefik v3 file-provider schema this export targets has no passive health check (max fails, fail timeout)",
  retries: true,
  "retries.redispatch": true, // each retry goes through the load balancer again
  drain: "Traefik has no drain: a draining replica is left out of the servers list, so it gets no new requests at once and sticky clients move",
  slowStart: "Traefik has no slow start",
  "route.host": true,
  "route.stripPrefix": true,
  dynamicServers: `${EXPORT_ONLY} (Traefik re-reads file-provider changes without a restart)`,
  hitlessReload: `${EXPORT_ONLY} (Traefik applies file-provider changes without dropping connections)`,
};

/** What the export cannot carry over exactly; the UI shows these next to the download. */
export const TRAEFIK_NOTES: Readonly<Record<string, string>> = {
  healthCheck: "Traefik marks a server down after one failed check and up after one good one: rise and fall are not exported. Traefik wants interval > timeout, so a timeout that is not shorter than the interval is exported as 90% of the interval.",
  retries: "The retry middleware retries only when the server did not answer (connection errors); retry on status 502/503/504 or on timeouts is not exported. attempts counts the first try.",
  timeouts: "Connect/server timeouts belong to a serversTransport and client timeouts to the entry point (static configuration); neither is exported.",
  "route.priority": "Every router gets an explicit priority: rules priority * 10000 + 1000 for a named host + prefix length + 1, the rank Switchyard's one route order sorts by, so Traefik tries routes in the same order as the other engines (left at 0, Traefik would order by rule length).",
  "route.path": "A prefix /p is exported as Path(`/p`) || PathPrefix(`/p/`) so it matches whole segments like the other engines.",
  "sticky.cookie": "Traefik sets the cookie itself (its value is a hash of the server, not the replica id); SameSite=Lax, HttpOnly.",
  weight: "Weights are per server (servers[].weight); a weight of 0 leaves the replica out. Docker labels carry one set per service, so per-replica weights are not exported as labels.",
  empty: "A service with no replica in rotation is left out (the schema needs at least one server): Traefik answers 404 instead of 503 for it.",
  docker: "Docker labels are set when a container is created: drain and maint cannot be expressed through them later (stop routing to the container instead).",
};
