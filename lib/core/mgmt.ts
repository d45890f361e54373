import { z } from "zod";
import { replicaWeightSchema } from "./rules";
import { KILL_SIGNALS, networkFaultParamsSchema } from "./faults";

/**
 * Replica actions and the management-plane protocol (docs/replica-protocol.md),
 * as zod schemas shared by the API routes, the forms and lib/mgmt/client.ts.
 */

/** Limits of the replica admin protocol; the replica answers 400 outside them. */
export const MGMT_LIMITS = {
  stressMb: { min: 1, max: 4096 },
  cpuSeconds: { min: 1, max: 300 },
  latencyMs: { min: 0, max: 60_000 },
  errorRate: { min: 0, max: 1 },
} as const;

export const stressMemoryMbSchema = z
  .number()
  .int("a whole number of megabytes")
  .min(MGMT_LIMITS.stressMb.min)
  .max(MGMT_LIMITS.stressMb.max);

export const stressCpuSecondsSchema = z
  .number()
  .int("a whole number of seconds")
  .min(MGMT_LIMITS.cpuSeconds.min)
  .max(MGMT_LIMITS.cpuSeconds.max);

/** POST /admin/faults body: every field optional; the ones given replace the current values. */
export const faultsSchema = z.strictObject({
  latencyMs: z.number().int().min(MGMT_LIMITS.latencyMs.min).max(MGMT_LIMITS.latencyMs.max).optional(),
  errorRate: z.number().min(MGMT_LIMITS.errorRate.min).max(MGMT_LIMITS.errorRate.max).optional(),
  failHealth: z.boolean().optional(),
});
export type FaultsInput = z.infer<typeof faultsSchema>;

/**
 * Runtime stress (issue 14, item 2): CPU workers and/or memory held inside the replica's
 * own cgroup for `seconds`. cpus is further bounded by the machine's cores where it runs
 * (the use case checks it); at least one of cpus and memoryMb.
 */
export const RUNTIME_STRESS_LIMITS = { cpus: { min: 1, max: 256 }, memoryMb: { min: 1, max: 4096 }, seconds: { min: 1, max: 3600 } } as const;
const runtimeStressShape = {
  cpus: z.number().int("a whole number of CPU workers").min(RUNTIME_STRESS_LIMITS.cpus.min).max(RUNTIME_STRESS_LIMITS.cpus.max).optional(),
  memoryMb: z.number().int("a whole number of megabytes").min(RUNTIME_STRESS_LIMITS.memoryMb.min).max(RUNTIME_STRESS_LIMITS.memoryMb.max).optional(),
  seconds: z.number().int("a whole number of seconds").min(RUNTIME_STRESS_LIMITS.seconds.min).max(RUNTIME_STRESS_LIMITS.seconds.max),
};
export const runtimeStressParamsSchema = z.strictObject(runtimeStressShape).refine((p) => p.cpus !== undefined || p.memoryMb !== undefined, {
  message: "runtime stress needs cpus, memoryMb or both",
});
export type RuntimeStressParams = z.infer<typeof runtimeStressParamsSchema>;

const replicaActionUnion = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("restart") }),
  z.strictObject({ action: z.literal("stop") }),
  z.strictObject({ action: z.literal("stress-memory"), mb: stressMemoryMbSchema }),
  z.strictObject({ action: z.literal("stress-cpu"), seconds: stressCpuSecondsSchema }),
  faultsSchema.extend({ action: z.literal("faults") }),
  z.strictObject({ action: z.literal("clear") }),
  z.strictObject({ action: z.literal("info") }),
  z.strictObject({ action: z.literal("drain") }),
  z.strictObject({ action: z.literal("maint") }),
  z.strictObject({ action: z.literal("ready") }),
  z.strictObject({ action: z.literal("weight"), weight: replicaWeightSchema }),
  z.strictObject({ action: z.literal("remove") }),
  /** one of the service's own actions (lib/core/service.ts serviceActionSchema), by name */
  z.strictObject({ action: z.literal("custom"), name: z.string().min(1).max(32) }),
  /** faults that need nothing from the app (lib/faults); `clear` above undoes them all */
  /** seconds: its time limit (default PAUSE_SECONDS in the use case) */
  z.strictObject({ action: z.literal("pause"), seconds: runtimeStressShape.seconds.optional() }),
  z.strictObject({ action: z.literal("resume") }),
  z.strictObject({ action: z.literal("kill"), signal: z.enum(KILL_SIGNALS) }),
  z.strictObject({ action: z.literal("runtime-stress"), ...runtimeStressShape }),
  z.strictObject({ action: z.literal("network-fault"), ...networkFaultParamsSchema.shape }),
]);

/** The fault params of an action, checked by the kind's own schema (at least one effect). */
function checkFaultParams(a: z.infer<typeof replicaActionUnion>, ctx: z.RefinementCtx): void {
  if (a.action !== "runtime-stress" && a.action !== "network-fault") return;
  const { action, ...params } = a;
  const checked = (action === "runtime-stress" ? runtimeStressParamsSchema : networkFaultParamsSchema).safeParse(params);
  if (!checked.success) for (const issue of checked.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
}

export const replicaActionSchema = replicaActionUnion.superRefine(checkFaultParams);
export type ReplicaAction = z.infer<typeof replicaActionSchema>;

/** Actions that go to the replica's admin address (the management plane), not to the runtime or engine. */
const mgmtActionNames = ["stress-memory", "stress-cpu", "faults", "clear", "info"] as const;
export type MgmtAction = Extract<ReplicaAction, { action: (typeof mgmtActionNames)[number] }>;

export function isMgmtAction(a: ReplicaAction): a is MgmtAction {
  return (mgmtActionNames as readonly string[]).includes(a.action);
}

// ------------------------------------------------------------------ admin addresses

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/;

/** "host:port", "127.0.0.1:9090" or "[::1]:9090". */
export const adminAddrSchema = z
  .string()
  .max(300)
  .refine((s) => parseAdminAddr(s) !== null, { message: 'an address "host:port" (IPv6 in brackets), port 1-65535' });

/** Splits "host:port"; null when it is not one. IPv6 hosts keep their brackets. */
export function parseAdminAddr(addr: string): { host: string; port: number } | null {
  const m = /^(.+):(\d{1,5})$/.exec(addr);
  if (!m) return null;
  const host = m[1];
  const port = Number(m[2]);
  if (!HOST.test(host) || port < 1 || port > 65535) return null;
  return { host, port };
}

export function formatAdminAddr(a: { host: string; port: number }): string {
  const host = a.host.includes(":") && !a.host.startsWith("[") ? `[${a.host}]` : a.host;
  return `${host}:${a.port}`;
}

// ------------------------------------------------------------------ replica answers

const mb = z.number().min(0);

export const stressMemoryResultSchema = z.object({ memoryMb: mb, rssMb: mb });
export type StressMemoryResult = z.infer<typeof stressMemoryResultSchema>;

export const stressCpuResultSchema = z.object({ seconds: z.number(), cpuUntil: z.string() });
export type StressCpuResult = z.infer<typeof stressCpuResultSchema>;

const faultsStateSchema = z.object({
  latencyMs: z.number().min(0),
  errorRate: z.number().min(0).max(1),
  failHealth: z.boolean(),
});

export const setFaultsResultSchema = z.object({ faults: faultsStateSchema });
export type SetFaultsResult = z.infer<typeof setFaultsResultSchema>;

export const clearResultSchema = z.object({
  releasedMb: mb,
  stoppedCpu: z.boolean(),
  clearedFaults: z.boolean(),
  gc: z.boolean().optional(),
  rssMb: mb.optional(),
});
export type ClearResult = z.infer<typeof clearResultSchema>;

export const replicaInfoSchema = z.object({
  replica: z.string(),
  service: z.string(),
  pid: z.number().int(),
  hostname: z.string().optional(),
  uptimeS: z.number().min(0),
  healthy: z.boolean().optional(),
  memory: z.object({
    rssMb: mb,
    heapMb: mb,
    limitMb: mb,
    limitSource: z.enum(["cgroup", "env", "default"]).optional(),
    thresholdPercent: z.number(),
    percent: z.number().min(0),
  }),
  stress: z.object({ memoryMb: mb, cpuUntil: z.string().nullable() }),
  faults: faultsStateSchema,
  counters: z.object({ requests: z.number().int(), errors: z.number().int(), adminRequests: z.number().int() }),
});
export type ReplicaInfo = z.infer<typeof replicaInfoSchema>;

// ------------------------------------------------------------------ responses (the OpenAPI document, lib/openapi)

/** A custom action's answer: the instance's status and the start of its body (lib/mgmt/direct-request.ts). */
export const customActionResultSchema = z.object({
  ok: z.boolean(),
  name: z.string(),
  method: z.string(),
  path: z.string(),
  port: z.enum(["data", "admin"]),
  status: z.number().int(),
  body: z.string(),
  truncated: z.boolean(),
  contentType: z.string().nullable(),
  ms: z.number(),
});

/** A fault Clear or Resume ended (lib/faults/store.ts EndedFault). */
const endedFaultSchema = z.object({ id: z.string(), kind: z.string(), reason: z.string() });

/** clear: the faults it undid, and the app's own clear's answer where it speaks the replica protocol. */
export const clearActionResultSchema = clearResultSchema.partial().extend({ ok: z.literal(true), faultsCleared: z.array(endedFaultSchema), message: z.string() });

/** pause, runtime-stress, network-fault: the fault as the store recorded it (lib/faults/store.ts). */
export const faultActionResultSchema = z.object({
  ok: z.literal(true),
  fault: z.looseObject({ id: z.string(), kind: z.string(), expiresAt: z.string(), replaced: z.array(z.unknown()) }),
  message: z.string(),
});

/** POST /api/replicas/:id/actions: what the replica, the engine or the runtime answered, per action. */
export const replicaActionResultSchema = z.object({
  replicaId: z.string(),
  action: z.string(),
  result: z.union([
    stressMemoryResultSchema,
    stressCpuResultSchema,
    setFaultsResultSchema,
    clearResultSchema,
    replicaInfoSchema,
    customActionResultSchema,
    clearActionResultSchema,
    faultActionResultSchema,
    z.object({ ok: z.literal(true), faultsCleared: z.array(endedFaultSchema), message: z.string() }),
    z.object({ ok: z.literal(true), message: z.string().optional() }),
  ]),
});
