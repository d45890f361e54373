/**
 * The fault store: every fault the panel puts on a replica (pause, runtime stress,
 * network fault; the kinds in kinds.ts) is a row of the Fault table with what was asked,
 * what it changed and its time limit. The store
 * - applies a fault and records it (a second fault of the same kind replaces the first);
 * - ends it, by undoing what it changed: on Clear (idempotent: an ended fault, or one
 *   whose stressor or proxy is already gone, counts as undone), at its time limit, or
 *   when its replica is gone;
 * - finds active faults again when the panel starts (start(), from the controller):
 *   those whose time ran out while the panel was down are undone, the others adopted or
 *   re-applied (each kind's resume());
 * - notices a replica that restarted under a new runtime reference (or the same one, a
 *   new start time) and re-applies its faults there.
 * Each start and end is an event (fault.started / fault.ended, chart markers).
 * One tick a second does the expiry and the restart checks; all work on one replica's
 * faults runs one at a time.
 */
import { randomUUID } from "node:crypto";
import { AppError } from "@/lib/core/errors";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { describeFault } from "@/lib/core/faults";
import { db } from "@/lib/db/client";
import { splitAddr } from "@/lib/db/balancer-config";
import { runtimeKindOf } from "@/lib/db/rows";
import { recordEvent } from "@/lib/events";
import { KeyedSerialQueue } from "@/lib/process/serial-queue";
import { remember } from "@/lib/remember";
import { faultKindOf } from "./kinds";
import { orphanCandidates, releaseOrphan } from "./network/orphans";
import type { FaultKindName, FaultRecord, FaultTarget } from "./types";

export { describeFault };

const TICK_MS = 1000;

/** An active fault as the API and the replica card show it. */
export type ActiveFault = {
  id: string;
  replicaId: string;
  serviceId: string;
  kind: FaultKindName;
  params: unknown;
  startedAt: string;
  expiresAt: string;
};

export type EndedFault = { id: string; kind: FaultKindName; reason: string };

/** What a row's state column holds: the replica the fault was applied to, and what the kind changed. */
type StoredState = { on: { runtimeRef: string | null; startedAt: string | null }; changed: unknown };

type FaultRow = {
  id: string;
  replicaId: string;
  serviceId: string;
  kind: string;
  params: string;
  state: string;
  startedAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
};

function parse<T>(json: string, fallback: T): T {
  try {
    return JSON.parse(json) as T;
  } catch {
    return fallback;
  }
}

const stored = (row: FaultRow): StoredState => parse<StoredState>(row.state, { on: { runtimeRef: null, startedAt: null }, changed: null });

function recordOf(row: FaultRow): FaultRecord {
  return {
    id: row.id,
    replicaId: row.replicaId,
    serviceId: row.serviceId,
    kind: row.kind as FaultKindName,
    params: parse(row.params, {}),
    state: stored(row).changed,
    startedAt: row.startedAt,
    expiresAt: row.expiresAt,
  };
}

export function toActiveFault(row: FaultRow): ActiveFault {
  return {
    id: row.id,
    replicaId: row.replicaId,
    serviceId: row.serviceId,
    kind: row.kind as FaultKindName,
    params: parse(row.params, {}),
    startedAt: row.startedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
  };
}

/** The replica as it is now, or null when it is gone. */
export async function loadTarget(replicaId: string): Promise<FaultTarget | null> {
  const r = await db().replica.findUnique({ where: { id: replicaId }, include: { service: true } });
  if (!r) return null;
  return {
    replicaId: r.id,
    serviceId: r.serviceId,
    serviceName: r.service.name,
    runtime: runtimeKindOf(r.service),
    runtimeRef: r.runtimeRef,
    dataAddr: r.dataAddr ? splitAddr(r.dataAddr) : null,
    adminAddr: r.adminAddr ? splitAddr(r.adminAddr) : null,
    startedAt: r.startedAt,
  };
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class FaultStore {
  private readonly queue = new KeyedSerialQueue();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** faults whose undo failed, so the failure is recorded once, not every tick */
  private readonly undoFailures = new Set<string>();

  /** At controller start: find every active fault again (undo the expired, adopt or re-apply the others), then tick. */
  async start(): Promise<void> {
    if (this.timer) return;
    await this.sweep(true).catch((e) => console.error("[switchyard] resuming faults failed", e));
    // network faults a panel started but did not live to record (lib/faults/network/orphans.ts)
    for (const id of await orphanCandidates().catch(() => [])) await this.queue.run(id, () => releaseOrphan(id)).catch((e) => console.error("[switchyard] releasing a network fault without a record failed", e));
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.sweep(false);
    } catch (e) {
      console.error("[switchyard] fault tick failed", e);
    } finally {
      this.ticking = false;
    }
  }

  /** Expiry, gone replicas, restarted replicas; `resumeAll`: every active fault is resumed (the panel just started). */
  private async sweep(resumeAll: boolean): Promise<void> {
    const rows = await db().fault.findMany({ where: { endedAt: null } });
    await Promise.all(rows.map((r) => this.queue.run(r.replicaId, () => this.check(r.id, resumeAll))));
  }

  private async check(id: string, resumeAll: boolean): Promise<void> {
    const row = await db().fault.findUnique({ where: { id } });
    if (!row || row.endedAt) return;
    const target = await loadTarget(row.replicaId);
    if (row.expiresAt.getTime() <= Date.now()) return void (await this.end(row, target, "expired", "system").catch(() => undefined));
    if (!target) return void (await this.end(row, null, "replica gone", "system").catch(() => undefined));
    if (!target.runtimeRef) return; // (re)starting: looked at again once it runs
    const on = stored(row).on;
    const restarted = on.runtimeRef !== target.runtimeRef || (on.startedAt ?? null) !== (target.startedAt?.toISOString() ?? null);
    if (resumeAll || restarted) await this.resume(row, target, restarted ? "the replica restarted" : "the panel restarted");
  }

  private async resume(row: FaultRow, target: FaultTarget, why: string): Promise<void> {
    const kind = faultKindOf(row.kind);
    const record = recordOf(row);
    let changed: unknown = null;
    let failure = "";
    try {
      changed = kind ? await kind.resume(target, record) : null;
      if (!kind) failure = `this panel has no ${row.kind} faults`;
    } catch (e) {
      failure = messageOf(e);
    }
    if (changed === null) {
      await this.end(row, target, `could not be held after ${why}${failure ? `: ${failure}` : ""}`, "system").catch(() => undefined);
      return;
    }
    const state: StoredState = { on: { runtimeRef: target.runtimeRef, startedAt: target.startedAt?.toISOString() ?? null }, changed };
    await db().fault.update({ where: { id: row.id }, data: { state: JSON.stringify(state) } });
    const left = Math.max(0, Math.round((row.expiresAt.getTime() - Date.now()) / 1000));
    await recordEvent({
      kind: EVENT_KIND.faultResumed,
      actor: "system",
      serviceId: row.serviceId,
      replicaId: row.replicaId,
      message: `${describeFault(row.kind, record.params)} on replica ${row.replicaId} held again after ${why} (${left} s left)`,
      data: { faultId: row.id, kind: row.kind, state: changed },
    });
  }

  /** Undoes one fault and marks it ended. Throws when the undo fails (the fault then stays active). */
  private async end(row: FaultRow, target: FaultTarget | null, reason: string, actor: string): Promise<EndedFault> {
    const kind = faultKindOf(row.kind);
    const record = recordOf(row);
    try {
      if (kind) await kind.undo(target, record);
    } catch (e) {
      if (!this.undoFailures.has(row.id)) {
        this.undoFailures.add(row.id);
        await recordEvent({ kind: EVENT_KIND.faultEnded, level: "error", actor, serviceId: row.serviceId, replicaId: row.replicaId, message: `could not undo ${describeFault(row.kind, record.params)} on replica ${row.replicaId}: ${messageOf(e)}; tried again`, data: { faultId: row.id, kind: row.kind, failed: true } }).catch(() => undefined);
      }
      throw e;
    }
    this.undoFailures.delete(row.id);
    const done = await db().fault.updateMany({ where: { id: row.id, endedAt: null }, data: { endedAt: new Date(), endReason: reason } });
    if (done.count > 0) {
      await recordEvent({
        kind: EVENT_KIND.faultEnded,
        actor,
        serviceId: row.serviceId,
        replicaId: row.replicaId,
        message: `${describeFault(row.kind, record.params)} on replica ${row.replicaId} undone (${reason})`,
        data: { faultId: row.id, kind: row.kind, reason },
      });
    }
    return { id: row.id, kind: row.kind as FaultKindName, reason };
  }

  /** Applies a fault for `seconds` and records it; one of the same kind on this replica is undone first. */
  apply(replicaId: string, kindName: FaultKindName, params: unknown, seconds: number, actor: string): Promise<ActiveFault & { replaced: EndedFault[] }> {
    return this.queue.run(replicaId, async () => {
      const kind = faultKindOf(kindName);
      if (!kind) throw new AppError("conflict", `this panel has no ${kindName} faults yet`);
      const target = await loadTarget(replicaId);
      if (!target) throw new AppError("not_found", "no such replica");
      if (!target.runtimeRef) throw new AppError("conflict", `replica ${replicaId} is not running`);
      const replaced: EndedFault[] = [];
      for (const old of await db().fault.findMany({ where: { replicaId, kind: kindName, endedAt: null } })) {
        replaced.push(await this.end(old, target, "replaced by a new one", actor));
      }
      const changed = await kind.apply(target, params);
      const startedAt = new Date();
      const state: StoredState = { on: { runtimeRef: target.runtimeRef, startedAt: target.startedAt?.toISOString() ?? null }, changed };
      const row = await db()
        .fault.create({
          data: { id: randomUUID(), replicaId, serviceId: target.serviceId, kind: kindName, params: JSON.stringify(params), state: JSON.stringify(state), startedAt, expiresAt: new Date(startedAt.getTime() + seconds * 1000) },
        })
        .catch(async (e: unknown) => {
          await kind.undo(target, { id: "", replicaId, serviceId: target.serviceId, kind: kindName, params, state: changed, startedAt, expiresAt: startedAt }).catch(() => undefined);
          throw e;
        });
      await recordEvent({
        kind: EVENT_KIND.faultStarted,
        actor,
        serviceId: target.serviceId,
        replicaId,
        message: `${actor}: ${describeFault(kindName, params)} on replica ${replicaId} for ${seconds} s`,
        data: { action: kindName, faultId: row.id, kind: kindName, params, state: changed, expiresAt: row.expiresAt.toISOString() },
      });
      return { ...toActiveFault(row), replaced };
    });
  }

  /** Undoes the replica's active faults (of one kind, or all). Idempotent: none active, nothing to do. */
  clear(replicaId: string, actor: string, opts: { kind?: FaultKindName; reason?: string } = {}): Promise<EndedFault[]> {
    return this.queue.run(replicaId, async () => {
      const rows = await db().fault.findMany({ where: { replicaId, endedAt: null, ...(opts.kind ? { kind: opts.kind } : {}) }, orderBy: { startedAt: "asc" } });
      // a network fault a panel started but did not live to record: Clear undoes it too
      if (!opts.kind || opts.kind === "network-fault") await releaseOrphan(replicaId).catch((e) => console.error("[switchyard] releasing a network fault without a record failed", e));
      if (rows.length === 0) return [];
      const target = await loadTarget(replicaId);
      const ended: EndedFault[] = [];
      for (const row of rows) ended.push(await this.end(row, target, opts.reason ?? `cleared by ${actor}`, actor));
      return ended;
    });
  }

  /** The active faults of these replicas (all when none are named), oldest first. */
  async active(replicaIds?: string[]): Promise<ActiveFault[]> {
    const rows = await db().fault.findMany({ where: { endedAt: null, ...(replicaIds ? { replicaId: { in: replicaIds } } : {}) }, orderBy: { startedAt: "asc" } });
    return rows.map(toActiveFault);
  }
}

/** One store per process (server.ts and Next's route bundles share it). */
export function faultStore(): FaultStore {
  return remember("fault-store", () => new FaultStore());
}
