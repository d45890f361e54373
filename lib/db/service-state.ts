import type { Replica, Service } from "@/lib/db/generated/client";
import { remember } from "@/lib/remember";

export type ServiceWithReplicas = Service & { instances: Replica[] };

/**
 * Every service with its replicas, as the database has them, kept in memory for the
 * collector's tick (issue 18: its `service.findMany({ include: { instances: true } })`
 * once a second was about 12 % of the panel's busy time, the Prisma client and its query
 * compiler, for rows that change a few times a minute at most).
 *
 * The database stays the source of truth: the rows are read from it at the first call and
 * again after any write to Service or Replica through this process's Prisma client (the
 * panel's every write: lib/db/client.ts tells `written()` about each statement that writes
 * one of those tables, and about each commit or rollback of a transaction that did), and
 * after MAX_AGE_MS in any case (a change made by something else: an sqlite3 shell, a
 * restored file). A read that started before a write is never kept as newer than it: the
 * rows carry the generation they were read at, and a write bumps it.
 *
 * The rows handed out are shared: callers must not change them.
 */
export class ServiceState {
  private generation = 0;
  private cached: { generation: number; at: number; services: ServiceWithReplicas[] } | null = null;
  private inFlight: { generation: number; promise: Promise<ServiceWithReplicas[]> } | null = null;
  /** how many times the rows were read from the database (tests and the bench read it) */
  loads = 0;

  constructor(
    private readonly read: () => Promise<ServiceWithReplicas[]>,
    private readonly maxAgeMs = MAX_AGE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A statement wrote Service or Replica rows (or a transaction that did ended): the next call reads again. */
  written(): void {
    this.generation++;
  }

  async services(): Promise<ServiceWithReplicas[]> {
    const c = this.cached;
    if (c && c.generation === this.generation && this.now() - c.at < this.maxAgeMs) return c.services;
    const generation = this.generation;
    // callers of one tick share one read (the collector, a watcher's snapshot)
    if (this.inFlight?.generation === generation) return this.inFlight.promise;
    const at = this.now();
    const promise = this.read().then((services) => {
      this.loads++;
      // a write during the read bumped the generation: these rows may predate it, keep them as older
      if (!this.cached || generation >= this.cached.generation) this.cached = { generation, at, services };
      return services;
    });
    this.inFlight = { generation, promise };
    try {
      return await promise;
    } finally {
      if (this.inFlight?.promise === promise) this.inFlight = null;
    }
  }
}

/** Reads again after this long even without a write through this process (a change from elsewhere). */
export const MAX_AGE_MS = 60_000;

/**
 * Does this SQL statement (as the Prisma client sends it to the driver) write the Service or
 * Replica table? Writes name their table right after INSERT INTO / UPDATE / DELETE FROM (a
 * Service deleted also deletes its replicas by the foreign key's cascade: it names Service).
 * Plain string scans, no regular expression.
 */
export function writesServiceState(sql: string): boolean {
  const head = sql.trimStart().slice(0, 200);
  const verb = head.slice(0, 7).toUpperCase();
  if (!(verb.startsWith("INSERT") || verb.startsWith("UPDATE") || verb.startsWith("DELETE") || verb.startsWith("REPLACE"))) return false;
  // the model names as quoted identifiers (columns are camelCase: `serviceId` is not `Service`)
  return head.includes("`Service`") || head.includes("`Replica`") || head.includes('"Service"') || head.includes('"Replica"');
}

/** The one state of this process (server.ts and Next's bundles share it, as they share the Prisma client). */
export function serviceState(): ServiceState {
  return remember("service-state", () => {
    // the client is imported lazily: lib/db/client.ts imports this module to report writes
    const read = async () => (await import("@/lib/db/client")).db().service.findMany({ include: { instances: true } });
    return new ServiceState(read);
  });
}
