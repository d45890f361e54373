import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import { runtimeFor } from "@/lib/runtime/registry";
import { runtimeKindOf } from "@/lib/db/rows";

/** The last lines of a replica's stdout/stderr, from its runtime. */
export async function replicaLogs(replicaId: string, lines: number): Promise<string[]> {
  const r = await db().replica.findUnique({ where: { id: replicaId } });
  if (!r) throw new AppError("not_found", "no such replica");
  if (!r.runtimeRef) return [];
  return runtimeFor(runtimeKindOf(r)).logs(r.runtimeRef, lines);
}
