import { db } from "@/lib/db/client";
import { AppError } from "@/lib/core/errors";
import type { Role } from "@/lib/core/roles";
import { runtimeOfService } from "@/lib/runtime/registry";
import { instanceSourceOf, runFieldsOf, runtimeKindOf } from "@/lib/db/rows";
import { hiddenFor, hideIn, seesEverything } from "@/lib/services/views";

/** The last lines of a replica's stdout/stderr, from its runtime. */
export async function replicaLogs(replicaId: string, lines: number): Promise<string[]> {
  const r = await db().replica.findUnique({ where: { id: replicaId }, include: { service: true } });
  if (!r) throw new AppError("not_found", "no such replica");
  if (!r.runtimeRef) return [];
  const svc = r.service;
  return runtimeOfService({ id: svc.id, name: svc.name, runtime: runtimeKindOf(svc), source: instanceSourceOf(svc) }).logs(r.runtimeRef, lines);
}

/**
 * The logs as `role` may read them. Viewers see everything (issue 12), secrets aside: a
 * replica may print its environment or command line, so every service's env values,
 * command words and admin token, and this panel's paths, are replaced as in every other viewer text.
 */
export async function replicaLogsFor(role: Role, replicaId: string, lines: number): Promise<string[]> {
  const out = await replicaLogs(replicaId, lines);
  if (seesEverything(role) || out.length === 0) return out;
  const services = await db().service.findMany({ select: { env: true, command: true, adminToken: true } });
  // the admin tokens too: a replica knows its own (ADMIN_TOKEN) and might print it
  const hidden = hiddenFor(services.map((s) => ({ ...runFieldsOf(s), command: [...(runFieldsOf(s).command ?? []), s.adminToken] })));
  return out.map((line) => hideIn(line, hidden));
}
