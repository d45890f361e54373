import type { z } from "zod";
import { AppError } from "@/lib/core/errors";
import {
  clearResultSchema,
  faultsSchema,
  formatAdminAddr,
  parseAdminAddr,
  replicaInfoSchema,
  setFaultsResultSchema,
  stressCpuResultSchema,
  stressCpuSecondsSchema,
  stressMemoryMbSchema,
  stressMemoryResultSchema,
  type ClearResult,
  type FaultsInput,
  type MgmtAction,
  type ReplicaInfo,
  type SetFaultsResult,
  type StressCpuResult,
  type StressMemoryResult,
} from "@/lib/core/mgmt";

/**
 * The panel's management-plane client: talks to one replica's admin address
 * directly (never through the balancer), so it reaches the replica it means even
 * while the balancer has isolated it. Protocol: docs/replica-protocol.md.
 */

export type MgmtTarget = {
  /** "host:port" or { host, port } */
  adminAddr: string | { host: string; port: number };
  token: string;
  /**
   * A Swarm task behind its balancer's management listener (lib/runtime/swarm-balancer.ts):
   * `adminAddr` is then that listener, and this the task's overlay address, sent as
   * X-Switchyard-Task so the listener forwards to that task whether or not it is in rotation.
   */
  task?: string;
  /** Per request; default 3000 ms (stressMemory adds time for large allocations). */
  timeoutMs?: number;
  /** For tests: a fetch to use instead of the global one. */
  fetch?: typeof fetch;
};

export const DEFAULT_MGMT_TIMEOUT_MS = 3000;

export async function stressMemory(target: MgmtTarget, mb: number): Promise<StressMemoryResult> {
  const valid = parseInput(stressMemoryMbSchema, mb, "mb");
  // Filling a few GiB takes a second or two on a small machine.
  const timeoutMs = target.timeoutMs ?? DEFAULT_MGMT_TIMEOUT_MS + valid * 2;
  return call({ ...target, timeoutMs }, "POST", "/admin/stress/memory", { mb: valid }, stressMemoryResultSchema);
}

export async function stressCpu(target: MgmtTarget, seconds: number): Promise<StressCpuResult> {
  const valid = parseInput(stressCpuSecondsSchema, seconds, "seconds");
  return call(target, "POST", "/admin/stress/cpu", { seconds: valid }, stressCpuResultSchema);
}

export async function setFaults(target: MgmtTarget, faults: FaultsInput): Promise<SetFaultsResult> {
  const valid = parseInput(faultsSchema, faults, "faults");
  return call(target, "POST", "/admin/faults", valid, setFaultsResultSchema);
}

export async function clear(target: MgmtTarget): Promise<ClearResult> {
  return call(target, "POST", "/admin/clear", {}, clearResultSchema);
}

export async function info(target: MgmtTarget): Promise<ReplicaInfo> {
  return call(target, "GET", "/admin/info", undefined, replicaInfoSchema);
}

export type MgmtResult = StressMemoryResult | StressCpuResult | SetFaultsResult | ClearResult | ReplicaInfo;

/** Carries out one management-plane action (see isMgmtAction in lib/core/mgmt). */
export async function runMgmtAction(target: MgmtTarget, action: MgmtAction): Promise<MgmtResult> {
  switch (action.action) {
    case "stress-memory":
      return stressMemory(target, action.mb);
    case "stress-cpu":
      return stressCpu(target, action.seconds);
    case "faults": {
      const { action: _name, ...faults } = action;
      return setFaults(target, faults);
    }
    case "clear":
      return clear(target);
    case "info":
      return info(target);
  }
}

// ------------------------------------------------------------------ pure helpers

/** The admin address as "host:port", or a bad_request AppError. */
export function adminAddrOf(target: Pick<MgmtTarget, "adminAddr">): string {
  const raw = typeof target.adminAddr === "string" ? target.adminAddr : formatAdminAddr(target.adminAddr);
  if (parseAdminAddr(raw) === null) {
    throw new AppError("bad_request", `not a replica admin address (host:port): "${raw}"`);
  }
  return raw;
}

export function adminUrl(adminAddr: string, path: string): string {
  return `http://${adminAddr}${path}`;
}

function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
    throw new AppError("bad_request", `invalid ${what}: ${issues}`, { issues: r.error.issues });
  }
  return r.data;
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  UND_ERR_SOCKET: "connection closed by the replica",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no answer in time",
  UND_ERR_BODY_TIMEOUT: "no answer in time",
};

/** Says in a few words why a request to a replica failed (fetch errors nest the real one in `cause`). */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { name, code } = e as { name?: string; code?: string };
    if (name === "TimeoutError" || name === "AbortError") return `timeout after ${timeoutMs} ms`;
    if (code && NETWORK_CAUSES[code]) return NETWORK_CAUSES[code];
    if (code && /^E[A-Z]+$/.test(code)) return code;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Says why a replica's HTTP answer is a failure: status, meaning, and the replica's own error text. */
export function describeHttpFailure(status: number, body: unknown): string {
  const meaning: Record<number, string> = {
    400: "bad request",
    401: "unauthorized: the admin token was refused",
    404: "not found: the replica does not implement this endpoint",
    405: "method not allowed",
    413: "body too large",
    500: "replica error",
    503: "replica unavailable",
  };
  const replicaSays =
    body && typeof body === "object" && typeof (body as { error?: unknown }).error === "string"
      ? (body as { error: string }).error
      : null;
  const head = `HTTP ${status} ${meaning[status] ?? ""}`.trim();
  return replicaSays ? `${head} (${replicaSays})` : head;
}

// ------------------------------------------------------------------ transport

async function call<T>(
  target: MgmtTarget,
  method: "GET" | "POST",
  path: string,
  body: unknown,
  schema: z.ZodType<T>,
): Promise<T> {
  const addr = adminAddrOf(target);
  const timeoutMs = target.timeoutMs ?? DEFAULT_MGMT_TIMEOUT_MS;
  const fail = (cause: string, details: Record<string, unknown> = {}): AppError =>
    new AppError("unavailable", `replica admin ${addr}: ${method} ${path} failed: ${cause}`, {
      adminAddr: addr,
      path,
      cause,
      ...details,
    });

  const doFetch = target.fetch ?? fetch;
  let res: Response;
  let text: string;
  try {
    res = await doFetch(adminUrl(addr, path), {
      method,
      headers: {
        Authorization: `Bearer ${target.token}`,
        Accept: "application/json",
        ...(target.task ? { "X-Switchyard-Task": target.task } : {}),
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (e) {
    throw fail(describeFetchError(e, timeoutMs));
  }

  let json: unknown = undefined;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    // handled below: a failure status names itself, a success must be JSON
  }
  if (!res.ok) throw fail(describeHttpFailure(res.status, json), { status: res.status });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw fail(`unexpected answer (${first ? `${first.path.join(".") || "body"}: ${first.message}` : "not JSON"})`, {
      status: res.status,
    });
  }
  return parsed.data;
}
