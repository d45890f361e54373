/**
 * The demo service "web" of a panel a benchmark started: find it, scale it and wait
 * until every replica is ready, start the panel's own traffic generator on it.
 */
import type { Panel } from "../tests/helpers/panel";
import { until } from "../tests/helpers/load";

export type ServiceRow = { id: string; name: string; instances: { state: string }[] };

export async function web(panel: Panel, cookie: string): Promise<ServiceRow | null> {
  const res = await panel.request("/api/services", { cookie });
  const { services } = (await res.json()) as { services: ServiceRow[] };
  return services.find((s) => s.name === "web") ?? null;
}

export async function scaleTo(panel: Panel, cookie: string, id: string, n: number, timeoutMs = 600_000): Promise<void> {
  const res = await panel.request(`/api/services/${id}`, { method: "PATCH", cookie, json: { replicas: n } });
  if (res.status !== 200) throw new Error(`scaling to ${n}: ${res.status} ${await res.text()}`);
  await until(
    `${n} ready replicas`,
    () => web(panel, cookie).catch(() => null), // a panel busy starting replicas may drop a poll
    (s) => s !== null && s.instances.length === n && s.instances.every((r) => r.state === "ready"),
    timeoutMs,
    1000,
  );
}

/** (Re)starts the traffic generator: `rps` requests a second for `durationS`. */
export async function startTraffic(panel: Panel, cookie: string, id: string, load: { rps: number; clients: number; concurrency: number; durationS: number }): Promise<void> {
  await panel.request(`/api/services/${id}/traffic`, { method: "DELETE", cookie });
  const res = await panel.request(`/api/services/${id}/traffic`, { method: "POST", cookie, json: load });
  if (res.status !== 200) throw new Error(`starting traffic: ${res.status} ${await res.text()}`);
}
