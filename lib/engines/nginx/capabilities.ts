/**
 * What nginx OSS 1.22 can do with the rules model, and notes the UI shows next
 * to the engine. Pure data: the UI may import it without pulling in I/O.
 */
import type { EngineCapabilities } from "@/lib/engines/types";

export const nginxCapabilities: EngineCapabilities = {
  "algorithm.round_robin": true,
  "algorithm.least_conn": true,
  "algorithm.random_two": true, // random two least_conn
  "algorithm.source_hash": true, // hash $remote_addr consistent
  "algorithm.uri_hash": true, // hash $request_uri consistent
  "sticky.cookie": true, // hash on the cookie; nginx sets an opaque one when the client has none
  "sticky.source": true,
  // nginx OSS has no active checks: the panel's prober checks every replica and
  // renders failing ones `down` (setProbeDown). See NGINX_NOTES.
  "healthCheck.active": true,
  passive: true,
  retries: true,
  "retries.redispatch": true,
  // rendered `down`: no new requests, in-flight ones finish. See NGINX_NOTES.
  drain: true,
  slowStart: "slow_start is an nginx Plus feature; nginx OSS sends a returning replica its full share at once",
  "route.host": true,
  "route.stripPrefix": true,
  dynamicServers: "nginx OSS has no runtime API: adding, removing, draining or re-weighting a replica rewrites the config and reloads (calls within 200 ms share one reload)",
  hitlessReload: "nginx -s reload can cost keep-alive clients a few failed requests (19-44 per reload measured under load)",
};

/** Human notes on how nginx carries out the rules; keyed by capability or topic. */
export const NGINX_NOTES: Readonly<Record<string, string>> = {
  "healthCheck.active":
    "nginx OSS has no active health checks; the panel's prober checks each replica's health path and renders failing ones `down` (a reload). Between a failure and that reload, nginx only notices errors itself (passive checks).",
  passive: "max_fails/fail_timeout: a replica that fails max_fails tries (as proxy_next_upstream counts them) within fail_timeout is skipped for fail_timeout. fail_timeout is in whole seconds.",
  drain:
    "nginx cannot drain per connection: a draining replica is rendered `down`, which stops new requests at the reload while requests in flight finish on the old workers. Sticky clients move at once.",
  "sticky.cookie":
    "nginx OSS cannot insert a cookie naming a replica. A client without the cookie gets one with a random opaque value ($request_id), and the upstream hashes on it with consistent hashing, so it stays on one replica while membership is stable.",
  "sticky.source": "Source-IP stickiness and source hash use `hash $remote_addr consistent`, not ip_hash: ip_hash keys IPv4 clients on their first three octets only, so a whole /24 (all of 127.0.0.x) would land on one replica.",
  "retries.redispatch": "nginx always retries on the next server (proxy_next_upstream), never the same one; redispatch=false cannot be expressed. Non-idempotent requests (POST) are not retried once sent.",
  retries: "Retry conditions map to proxy_next_upstream: conn_failure -> error, empty_response -> invalid_header, response_timeout -> timeout, status_50x -> http_50x.",
  "route.priority":
    "nginx picks the longest matching location; the renderer points each location at the service the rules model picks for it (priority, then a named host, then the longest prefix), so priority works as in the other engines.",
  weight: "nginx weights start at 1: a weight of 0 is rendered `down`.",
  reload: "Every membership, weight or state change is a reload (batched per 200 ms). A reload starts new workers; old ones finish their requests. Keep-alive clients may see a few failed requests per reload.",
  stats:
    "Per-replica counts come from nginx's access log (one line per request) which the panel reads and rotates; records it could not count are shown on the Balancer page. Active connections per replica are not known to nginx OSS and read 0.",
  workers:
    "When the panel runs as root, nginx workers run as nobody if the data folder is world-traversable, else as root (they need the temp folders under it). Make the data folder world-traversable (chmod o+x on each parent) to keep them unprivileged.",
};
