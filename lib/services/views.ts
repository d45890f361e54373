import type { Rules } from "@/lib/core/rules";
import { parseRules } from "@/lib/controller/balancer-config";

/** What the API returns for replicas and services. Admin tokens never leave the server. */
export type ReplicaView = {
  id: string;
  serviceId: string;
  state: string;
  health: string;
  healthReason: string | null;
  dataAddr: string | null;
  adminAddr: string | null;
  runtime: string;
  runtimeRef: string | null;
  adminState: string;
  weight: number;
  inEngine: boolean;
  startedAt: string | null;
  lastError: string | null;
};

export type ServiceView = {
  id: string;
  name: string;
  runtime: string;
  image: string | null;
  command: string[] | null;
  dataPort: number;
  adminPort: number;
  env: Record<string, string>;
  memoryLimitMb: number;
  cpuLimit: number | null;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  rules: Rules;
  createdAt: string;
  instances: ReplicaView[];
};

/** A replica row as Prisma returns it (dates as Date). */
type ReplicaRow = Omit<ReplicaView, "startedAt"> & { startedAt: Date | null; createdAt: Date };

export function replicaView(r: ReplicaRow): ReplicaView {
  return {
    id: r.id,
    serviceId: r.serviceId,
    state: r.state,
    health: r.health,
    healthReason: r.healthReason,
    dataAddr: r.dataAddr,
    adminAddr: r.adminAddr,
    runtime: r.runtime,
    runtimeRef: r.runtimeRef,
    adminState: r.adminState,
    weight: r.weight,
    inEngine: r.inEngine,
    startedAt: r.startedAt?.toISOString() ?? null,
    lastError: r.lastError,
  };
}

export function serviceView(s: {
  id: string;
  name: string;
  runtime: string;
  image: string | null;
  command: string | null;
  dataPort: number;
  adminPort: number;
  env: string;
  memoryLimitMb: number;
  cpuLimit: number | null;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  rules: string;
  createdAt: Date;
  instances?: ReplicaRow[];
}): ServiceView {
  return {
    id: s.id,
    name: s.name,
    runtime: s.runtime,
    image: s.image,
    command: s.command ? (JSON.parse(s.command) as string[]) : null,
    dataPort: s.dataPort,
    adminPort: s.adminPort,
    env: JSON.parse(s.env) as Record<string, string>,
    memoryLimitMb: s.memoryLimitMb,
    cpuLimit: s.cpuLimit,
    replicas: s.replicas,
    minReplicas: s.minReplicas,
    maxReplicas: s.maxReplicas,
    rules: parseRules(s.rules),
    createdAt: s.createdAt.toISOString(),
    instances: (s.instances ?? []).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(replicaView),
  };
}
