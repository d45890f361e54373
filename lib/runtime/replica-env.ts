import type { ReplicaSpec } from "./types";

/**
 * The environment a replica gets: the service's own variables, then the ones the
 * runtime owns (they win, so a service env cannot point a replica at the wrong port
 * or token).
 */
export function replicaEnv(
  spec: ReplicaSpec,
  where: { dataPort: number; adminPort: number; bindHost: string },
): Record<string, string> {
  return {
    ...spec.env,
    PORT: String(where.dataPort),
    ADMIN_PORT: String(where.adminPort),
    ADMIN_TOKEN: spec.adminToken,
    REPLICA_ID: spec.replicaId,
    SERVICE_NAME: spec.serviceName,
    MEMORY_LIMIT_MB: String(spec.memoryLimitMb),
    BIND_HOST: where.bindHost,
    // absent: the replica's own default (80)
    ...(spec.memoryThresholdPercent !== undefined ? { MEMORY_THRESHOLD_PERCENT: String(spec.memoryThresholdPercent) } : {}),
  };
}

/** The variables replicaEnv sets itself (a service's env never sets them). */
export const RUNTIME_ENV_KEYS = ["PORT", "ADMIN_PORT", "ADMIN_TOKEN", "REPLICA_ID", "SERVICE_NAME", "MEMORY_LIMIT_MB", "BIND_HOST", "MEMORY_THRESHOLD_PERCENT"] as const;

/** Replica ids end up in file paths and container names: keep them to a safe alphabet. */
export function isSafeReplicaId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id) && !id.includes("..");
}
