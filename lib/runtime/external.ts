/**
 * The external "runtime" (issue 14, item 3): a service whose instances are given by
 * address (`runtime: "external"`, `endpoints: ["host:port", …]`), the way seed 004 hands
 * nginx its upstream addresses at start. Nothing is started: list() lists the endpoints
 * as running instances, and the reconciler follows that list (lib/controller/reconciler.ts,
 * followListed): a new endpoint is adopted (health-checked, then added to the engine), one
 * taken off the list is drained out of it. Health checks, weights, drain/maint/ready,
 * stats and the app's own actions work on them like on any replica; lifecycle does not:
 * create, stop and restart answer 409, and remove only lets go.
 *
 * Why a runtime and not a branch in the controller: the reconciler already adopts what a
 * runtime lists and does not know (a lost database), so an endpoint list is one more thing
 * a runtime can list, and the collector, logs and replica actions find it through the
 * same port. What the controller adds is only "follow the list, never plan a count".
 */
import { createHash } from "node:crypto";
import { AppError } from "@/lib/core/errors";
import { parseEndpoint } from "@/lib/core/service";
import type { Runtime, RuntimeReplica } from "./types";

const NO_LIFECYCLE = "an external endpoint has no lifecycle: the panel did not start it, so it cannot stop, restart or remove it (edit the service's endpoints instead)";

const alnum = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * A stable, readable replica id for endpoint `endpoint` of service `serviceId`:
 * "e", the host's letters and digits (at most 12), "p", the port, and 4 characters of a
 * hash of both (the same endpoint of another service, or two hosts that read alike, get
 * different ids). At most 23 characters, so the engine's server name (its first 24) keeps
 * all of it. E.g. 127.0.0.1:29801 → e127001p29801k2x9.
 */
export function externalReplicaId(serviceId: string, endpoint: string): string {
  const parsed = parseEndpoint(endpoint);
  const host = parsed.ok ? parsed.endpoint.host : endpoint;
  const port = parsed.ok ? String(parsed.endpoint.port) : "";
  const digest = createHash("sha256").update(`${serviceId}\0${endpoint}`).digest();
  let tag = "";
  for (let i = 0; i < 4; i++) tag += "abcdefghijklmnopqrstuvwxyz0123456789"[digest[i] % 36];
  return `e${alnum(host).slice(0, 12)}p${port}${tag}`;
}

/** "host:port" as the replica's address (an IPv6 host keeps its brackets, as the row stores it). */
function addressOf(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(":");
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

export type ExternalRuntimeOptions = { serviceId: string; serviceName: string; endpoints: string[] };

/**
 * One service's endpoints as a Runtime (made per call: it holds no state). Without
 * options (runtimeFor("external")): a runtime that lists nothing, for the callers that
 * only need stats, logs or the refusals.
 */
export function createExternalRuntime(opts: ExternalRuntimeOptions = { serviceId: "", serviceName: "", endpoints: [] }) {
  const replicaOf = (endpoint: string): RuntimeReplica => {
    const addr = addressOf(endpoint);
    return {
      replicaId: externalReplicaId(opts.serviceId, endpoint),
      serviceId: opts.serviceId,
      serviceName: opts.serviceName,
      runtimeRef: endpoint,
      dataAddr: addr,
      // one address: the app's own actions for the "admin" port go there too
      adminAddr: addr,
      state: "running",
      startedAt: new Date(),
      exitCode: null,
      oomKilled: false,
      reason: null,
    };
  };
  return {
    kind: "external" as const,
    available: async () => ({ ok: true as const }),
    list: async () => opts.endpoints.map(replicaOf),
    create: async (): Promise<RuntimeReplica> => {
      throw new AppError("conflict", NO_LIFECYCLE);
    },
    stop: async () => {
      throw new AppError("conflict", NO_LIFECYCLE);
    },
    /** lets go of the endpoint (it keeps running; the panel never owned it) */
    remove: async () => undefined,
    restart: async (): Promise<RuntimeReplica> => {
      throw new AppError("conflict", NO_LIFECYCLE);
    },
    inspect: async (ref: string) => (opts.endpoints.includes(ref) ? replicaOf(ref) : null),
    // the panel has no view into another machine's process: the engine's figures are what there is
    stats: async () => null,
    logs: async () => [],
    onEvent: () => () => undefined,
  } satisfies Runtime;
}

export const EXTERNAL_NO_LIFECYCLE = NO_LIFECYCLE;
