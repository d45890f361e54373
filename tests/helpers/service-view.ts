import { defaultRules } from "@/lib/core/rules";
import type { ServiceView } from "@/lib/services/views";

/** A ServiceView as the API returns it (the process runtime, the built-in app, no replicas), with `over` on top. */
export function aServiceView(over: Partial<ServiceView> = {}): ServiceView {
  return {
    id: "s1",
    name: "web",
    runtime: "process",
    image: null,
    command: null,
    dataPort: 8000,
    adminPort: 9000,
    env: {},
    memoryLimitMb: 256,
    memoryThresholdPercent: 80,
    cpuLimit: null,
    replicas: 3,
    minReplicas: 0,
    maxReplicas: 20,
    rules: defaultRules(),
    allowRoot: false,
    actions: [],
    endpoints: null,
    discover: null,
    replicaProtocol: true,
    redacted: false,
    createdAt: "2026-01-01T00:00:00.000Z",
    instances: [],
    ...over,
  };
}
