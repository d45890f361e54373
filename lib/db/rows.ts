import { z } from "zod";
import { AppError } from "@/lib/core/errors";
import { rulesSchema, type Rules } from "@/lib/core/rules";
import { discoverSchema, endpointsSchema, memoryThresholdSchema, runtimeKindSchema, serviceActionsSchema, type InstanceSource, type ServiceAction } from "@/lib/core/service";
import type { RuntimeKind } from "@/lib/runtime/types";

/**
 * Rows as the database stores them, parsed into the domain's types in one place:
 * columns holding JSON or a name from a fixed set are checked here, never cast where
 * they are read. What the API writes was validated on the way in; a row that fails here
 * was written by hand or by another version, and says so instead of flowing on.
 */

/** A service's `rules` column: checked against the one rules schema. */
export function parseRules(json: string): Rules {
  return rulesSchema.parse(JSON.parse(json));
}

/** A service's `runtime` column. */
export function runtimeKindOf(row: { runtime: string }): RuntimeKind {
  const kind = runtimeKindSchema.safeParse(row.runtime);
  if (!kind.success) throw new AppError("internal", `the database names a runtime this panel does not know: "${row.runtime}"`);
  return kind.data;
}

/** A service's `memoryThresholdPercent` column: a whole percentage the API accepts (10-99). */
export function memoryThresholdOf(row: { name: string; memoryThresholdPercent: number }): number {
  const t = memoryThresholdSchema.safeParse(row.memoryThresholdPercent);
  if (!t.success) throw new AppError("internal", `the database holds a memory threshold of ${row.memoryThresholdPercent} % for service ${row.name}: ${t.error.issues[0].message}`);
  return t.data;
}

/** A service's `actions` column (JSON array): the app's own actions, checked like the API checks them. */
export function actionsOf(row: { name: string; actions: string }): ServiceAction[] {
  let json: unknown;
  try {
    json = JSON.parse(row.actions);
  } catch {
    throw new AppError("internal", `the database holds actions for service ${row.name} that are not JSON`);
  }
  const parsed = serviceActionsSchema.safeParse(json);
  if (!parsed.success) throw new AppError("internal", `the database holds actions for service ${row.name} that fail their checks: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/**
 * Where a service's instances come from when the panel starts none: its `endpoints`
 * (runtime external) or `discover` (runtime docker) column, checked like the API checks
 * them; null for a service whose replicas the panel runs.
 */
export function instanceSourceOf(row: { name: string; runtime: string; dataPort: number; endpoints: string | null; discover: string | null }): InstanceSource | null {
  const read = <T>(what: string, text: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }): T => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new AppError("internal", `the database holds ${what} for service ${row.name} that are not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new AppError("internal", `the database holds ${what} for service ${row.name} that fail their checks: ${parsed.error.issues[0].message}`);
    return parsed.data;
  };
  if (row.runtime === "external") return { kind: "external", endpoints: row.endpoints ? read("endpoints", row.endpoints, endpointsSchema) : [] };
  if (row.runtime === "docker" && row.discover) return { kind: "discover", discover: read("a discovery selector", row.discover, discoverSchema), dataPort: row.dataPort };
  return null;
}

const storedCommand = z.array(z.string());
const storedEnv = z.record(z.string(), z.string());

/** A service's `command` (JSON array or null: the runtime's default) and `env` (JSON object) columns. */
export function runFieldsOf(row: { command: string | null; env: string }): { command: string[] | null; env: Record<string, string> } {
  return {
    command: row.command ? storedCommand.parse(JSON.parse(row.command)) : null,
    env: storedEnv.parse(JSON.parse(row.env)),
  };
}

/** The part of a revision's `config` snapshot a rollback applies again: each service's rules. */
const revisionRulesSchema = z.object({ services: z.array(z.object({ id: z.string(), rules: rulesSchema })) });

/**
 * The rules of every service in an old revision, checked against today's rules schema
 * before they are applied again (a snapshot from an older version, or edited by hand,
 * is refused with the reason instead of reaching the engine).
 */
export function revisionRulesOf(row: { number: number; config: string }): { serviceId: string; rules: Rules }[] {
  let json: unknown;
  try {
    json = JSON.parse(row.config);
  } catch {
    throw new AppError("conflict", `revision ${row.number} has no readable configuration snapshot; it cannot be applied again`);
  }
  const parsed = revisionRulesSchema.safeParse(json);
  if (!parsed.success) {
    const why = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ");
    throw new AppError("conflict", `revision ${row.number}'s rules do not pass today's checks, so it cannot be applied again (${why})`);
  }
  return parsed.data.services.map((s) => ({ serviceId: s.id, rules: s.rules }));
}
