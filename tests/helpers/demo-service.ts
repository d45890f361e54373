/**
 * Test helper: waits until a fresh panel's demo service "web" has its replicas ready
 * (the panel creates it with 3 on first start) and returns its id.
 */
import type { Panel } from "@/tests/helpers/panel";
import { until } from "@/tests/helpers/load";

type ServicesAnswer = { services: { id: string; name: string; instances: { state: string }[] }[] };

export async function demoServiceReady(panel: Panel, cookie: string, replicas = 3, timeoutMs = 90_000): Promise<string> {
  const web = await until(
    `the demo service web with ${replicas} ready replicas`,
    async () => {
      const res = await panel.request("/api/services", { cookie });
      const { services } = (await res.json()) as ServicesAnswer;
      return services.find((s) => s.name === "web") ?? null;
    },
    (s) => s !== null && s.instances.filter((r) => r.state === "ready").length === replicas,
    timeoutMs,
    250,
  );
  return web!.id;
}
