/**
 * What the suites that drive a cluster service through the panel share (integration
 * panel-swarm, panel-kubernetes): the API route handlers they call, loaded after the
 * controller harness set the environment, and the service's replica rows.
 */
import type { ControllerHarness } from "./controller-harness";

export type ClusterServiceRoutes = {
  services: typeof import("@/app/api/services/route");
  service: typeof import("@/app/api/services/[id]/route");
  actions: typeof import("@/app/api/replicas/[id]/actions/route");
  logs: typeof import("@/app/api/replicas/[id]/logs/route");
};

/** The route handlers, imported now (call it after startControllerHarness: lib/env.ts reads the environment once). */
export async function importClusterServiceRoutes(): Promise<ClusterServiceRoutes> {
  return {
    services: await import("@/app/api/services/route"),
    service: await import("@/app/api/services/[id]/route"),
    actions: await import("@/app/api/replicas/[id]/actions/route"),
    logs: await import("@/app/api/replicas/[id]/logs/route"),
  };
}

/** The rows of the service `serviceId()` names (read at each call: the suite learns the id when it creates the service). */
export function clusterServiceRows(harness: () => ControllerHarness, serviceId: () => string) {
  const rows = async () => (await harness().m.getService(serviceId())).instances;
  const readyRows = async () => (await rows()).filter((r) => r.state === "ready");
  return { rows, readyRows };
}
