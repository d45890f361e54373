import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "@/lib/db/generated/client";
import { env } from "@/lib/env";
import { remember } from "@/lib/remember";
import { sleep } from "@/lib/process/sleep";
import { serviceState, writesServiceState } from "@/lib/db/service-state";

export type Db = PrismaClient;

/**
 * How long a statement waits for a lock another process holds (a backup, an sqlite3
 * shell) before the route answers 503. better-sqlite3's own busy timeout waits
 * synchronously, which stopped the whole panel (/api/health took 9.2 s behind a
 * locked database), so it is 0 here and the wait is asynchronous: retries with a
 * growing pause while other requests run. The database is in WAL mode
 * (scripts/prepare-db.ts): readers never wait for a writer, only writes can be busy.
 */
export const BUSY_WAIT_MS = 1000;

type Adapter = Awaited<ReturnType<PrismaBetterSQLite3["connect"]>>;


/** Did this fail because another connection holds a lock on the database (SQLITE_BUSY)? */
export function isDatabaseBusy(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  // from the driver adapter (DriverAdapterError), or as the Prisma client reports it (P1008 with the adapter's cause)
  const direct = (e as { cause?: { originalCode?: unknown } }).cause?.originalCode;
  const viaPrisma = (e as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta?.driverAdapterError?.cause?.originalCode;
  return [direct, viaPrisma, (e as { code?: unknown }).code].some((c) => typeof c === "string" && c.startsWith("SQLITE_BUSY"));
}

/** One statement outside a transaction, run again after a pause while the database is busy, for at most BUSY_WAIT_MS. */
async function patiently<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return await run();
    } catch (e) {
      if (!isDatabaseBusy(e) || Date.now() + pause > deadline) throw e;
      await sleep(pause);
    }
  }
}

type Query = Parameters<Adapter["queryRaw"]>[0];
type Transaction = Awaited<ReturnType<Adapter["startTransaction"]>>;

/**
 * A transaction that tells the service state (lib/db/service-state.ts) when it wrote Service
 * or Replica rows: at the statement, and again when it ends (a read made meanwhile on the
 * one connection may have seen rows that a rollback takes back or a commit completes).
 */
function reportingTransaction(tx: Transaction): Transaction {
  let wrote = false;
  const ended = () => {
    if (wrote) serviceState().written();
  };
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === "queryRaw" || prop === "executeRaw") {
        return async (query: Query) => {
          const out = await (target[prop](query) as Promise<never>);
          if (writesServiceState(query.sql)) {
            wrote = true;
            serviceState().written();
          }
          return out;
        };
      }
      if (prop === "commit" || prop === "rollback") return () => target[prop]().finally(ended);
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The better-sqlite3 adapter with an asynchronous busy wait. Statements inside a
 * transaction are not retried (a transaction that met a lock fails as a whole). Every
 * statement that writes Service or Replica rows is reported to the service state, which
 * the collector reads each second instead of the database.
 */
class PatientSqlite extends PrismaBetterSQLite3 {
  async connect(): Promise<Adapter> {
    const adapter = await super.connect();
    return new Proxy(adapter, {
      get(target, prop) {
        if (prop === "queryRaw" || prop === "executeRaw") {
          return async (query: Query) => {
            const out = await patiently(() => target[prop](query) as Promise<never>);
            if (writesServiceState(query.sql)) serviceState().written();
            return out;
          };
        }
        if (prop === "startTransaction") return async (isolation?: Parameters<Adapter["startTransaction"]>[0]) => reportingTransaction(await target.startTransaction(isolation));
        if (prop === "executeScript") return (script: string) => target.executeScript(script).finally(() => serviceState().written());
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}

/** The one Prisma client of this process (server.ts and Next bundles share it). */
export function db(): PrismaClient {
  return remember("prisma", () => {
    const adapter = new PatientSqlite({ url: env().databaseUrl, timeout: 0 });
    return new PrismaClient({ adapter });
  });
}
