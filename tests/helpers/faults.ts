/**
 * Test helper for the fault suites (faults-process, faults-docker): press a replica action
 * through the real route handler, read the balancer's view of a server, send requests
 * through the balancer and learn which instance answered (the user app names itself).
 */
import { throughToUserApp } from "./user-app-request";
import type { ControllerHarness } from "./controller-harness";

type ActionsRoute = typeof import("@/app/api/replicas/[id]/actions/route");

export type ActionAnswer = { status: number; json: { result?: Record<string, unknown> & { message?: string }; error?: { code: string; message: string } } };

export async function act(h: ControllerHarness, route: ActionsRoute, replicaId: string, body: Record<string, unknown>, cookie?: string | null): Promise<ActionAnswer> {
  const res = await h.api(route.POST, `/api/replicas/${replicaId}/actions`, { method: "POST", body, cookie }, { id: replicaId });
  return { status: res.status, json: (await res.json()) as ActionAnswer["json"] };
}

/** What the engine says of a replica's server now (up, down, …). */
export async function engineHealth(h: ControllerHarness, replicaId: string): Promise<string> {
  const { serverNameFor } = await import("@/lib/engines/types");
  const stats = await h.m.controller().engine.stats();
  return stats.servers.find((s) => s.server === serverNameFor(replicaId))?.health.status ?? "absent";
}

export type Through = { status: number; port: string; error?: string };

/** One request through the balancer on a new connection; `port`: the instance that answered (the user app's `by`); a failure is an answer with status 0. */
export function through(listen: number, timeoutMs = 10_000): Promise<Through> {
  return throughToUserApp(listen, "GET", "/", undefined, timeoutMs).catch((e: Error) => ({ status: 0, port: "", error: e.message }));
}

/** `n` requests one after another; how many failed and which instances answered. */
export async function burst(listen: number, n: number): Promise<{ failed: number; ports: string[] }> {
  const ports: string[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const r = await through(listen);
    if (r.status !== 200) failed++;
    else ports.push(r.port);
  }
  return { failed, ports };
}

/** The fault rows of a replica (every one, ended or not). */
export async function faultRows(h: ControllerHarness, replicaId: string) {
  return h.m.db().fault.findMany({ where: { replicaId }, orderBy: { startedAt: "asc" } });
}
