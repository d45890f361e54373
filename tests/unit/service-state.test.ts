import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";
import { ServiceState, writesServiceState, type ServiceWithReplicas } from "@/lib/db/service-state";

/**
 * The collector's services and replicas from memory (lib/db/service-state.ts): after every
 * kind of write the panel's code makes through its Prisma client, the state says what the
 * database says, and without a write it does not read the database again. Real SQLite.
 */
let tmp: TempDatabase;
let db: typeof import("@/lib/db/client").db;
let state: typeof import("@/lib/db/service-state").serviceState;

beforeAll(async () => {
  tmp = await openTempDatabase("service-state");
  ({ db } = await import("@/lib/db/client"));
  ({ serviceState: state } = await import("@/lib/db/service-state"));
}, 120_000); // migrations and the contract check's validators: seconds on a loaded machine
afterAll(async () => {
  await tmp?.close();
});

const fromDb = () => db().service.findMany({ include: { instances: true } });
const replica = (id: string, extra: Record<string, unknown> = {}) => ({ id, runtime: "process", state: "starting", ...extra });
const service = (name: string) => ({ name, runtime: "process", adminToken: "t", rules: "{}" });

/** the state's rows equal the database's, and a second call reads nothing */
async function expectInStep(): Promise<void> {
  const mine = await state().services();
  expect(mine).toEqual(await fromDb());
  const loads = state().loads;
  expect(await state().services()).toBe(mine);
  expect(state().loads).toBe(loads);
}

describe("the service state kept in step with the database", () => {
  it("follows every kind of write to services and replicas, and reads nothing without one", async () => {
    await expectInStep(); // empty
    const svc = await db().service.create({ data: { ...service("a"), instances: { create: [replica("a-1"), replica("a-2")] } } });
    await expectInStep();
    expect((await state().services())[0].instances.map((r) => r.id)).toEqual(["a-1", "a-2"]);

    await db().replica.update({ where: { id: "a-1" }, data: { state: "ready", inEngine: true, weight: 50 } });
    await expectInStep();
    await db().replica.updateMany({ where: { serviceId: svc.id }, data: { adminState: "drain" } });
    await expectInStep();
    await db().replica.createMany({ data: [{ ...replica("a-3"), serviceId: svc.id }] });
    await expectInStep();
    await db().replica.upsert({ where: { id: "a-4" }, create: { ...replica("a-4"), serviceId: svc.id }, update: {} });
    await expectInStep();
    await db().service.update({ where: { id: svc.id }, data: { replicas: 4, memoryLimitMb: 128 } });
    await expectInStep();
    // the repository's scale-down: a batch transaction
    await db().$transaction([db().service.update({ where: { id: svc.id }, data: { replicas: 3 } }), db().replica.update({ where: { id: "a-2" }, data: { state: "draining" } })]);
    await expectInStep();
    // an interactive transaction, committed
    await db().$transaction(async (tx) => {
      await tx.replica.delete({ where: { id: "a-3" } });
      await tx.replica.update({ where: { id: "a-4" }, data: { health: "up" } });
    });
    await expectInStep();
    expect((await state().services())[0].instances.map((r) => r.id)).toEqual(["a-1", "a-2", "a-4"]);
    await db().replica.deleteMany({ where: { id: "a-4" } });
    await expectInStep();

    // a write to another table is no reason to read again
    const loads = state().loads;
    await db().event.create({ data: { kind: "test", message: "m", actor: "test" } });
    await db().setting.upsert({ where: { key: "k" }, create: { key: "k", value: "v" }, update: { value: "v" } }).catch(() => undefined);
    await state().services();
    expect(state().loads).toBe(loads);

    // a service deleted takes its replicas with it (the foreign key's cascade)
    await db().service.create({ data: { ...service("b"), instances: { create: [replica("b-1")] } } });
    await expectInStep();
    await db().service.delete({ where: { id: svc.id } });
    await expectInStep();
    expect((await state().services()).map((s) => [s.name, s.instances.map((r) => r.id)])).toEqual([["b", ["b-1"]]]);
  });

  it("is in step after a transaction that rolled back, even when a read saw its rows meanwhile", async () => {
    const b = (await fromDb()).find((s) => s.name === "b")!;
    await expectInStep();
    await expect(
      db().$transaction(async (tx) => {
        await tx.replica.update({ where: { id: "b-1" }, data: { state: "failed" } });
        // a read on the one connection while the transaction is open (the collector's tick can come now)
        await state().services();
        throw new Error("rolled back on purpose");
      }),
    ).rejects.toThrow("rolled back on purpose");
    await expectInStep();
    expect((await state().services()).find((s) => s.id === b.id)!.instances[0].state).toBe("starting");
  });
});

describe("ServiceState on its own", () => {
  const rows = (n: number) => [{ id: `s${n}`, instances: [] } as unknown as ServiceWithReplicas];

  it("never keeps rows read before a write as current", async () => {
    let n = 0;
    let release: () => void = () => undefined;
    const s = new ServiceState(() => {
      const mine = ++n;
      // the first read is held until the test lets it go: a write lands while it is under way
      return mine === 1 ? new Promise((r) => (release = () => r(rows(mine)))) : Promise.resolve(rows(mine));
    });
    const first = s.services();
    s.written();
    release();
    expect(await first).toEqual(rows(1));
    expect(await s.services()).toEqual(rows(2)); // read again: the first may predate the write
    expect(await s.services()).toEqual(rows(2));
    expect(n).toBe(2);
  });

  it("shares one read among the callers of the same moment, and reads again after its maximum age", async () => {
    let n = 0;
    let clock = 0;
    const s = new ServiceState(async () => rows(++n), 1000, () => clock);
    const [a, b] = await Promise.all([s.services(), s.services()]);
    expect(a).toBe(b);
    expect(n).toBe(1);
    clock = 999;
    await s.services();
    expect(n).toBe(1);
    clock = 1000;
    await s.services();
    expect(n).toBe(2);
  });

  it("recognises writes of the two tables only", () => {
    expect(writesServiceState('UPDATE `main`.`Replica` SET `state` = ? WHERE `id` = ?')).toBe(true);
    expect(writesServiceState('INSERT INTO `main`.`Service` (`id`) VALUES (?)')).toBe(true);
    expect(writesServiceState(' DELETE FROM "Replica" WHERE 1')).toBe(true);
    expect(writesServiceState("SELECT `main`.`Replica`.`id` FROM `main`.`Replica`")).toBe(false);
    expect(writesServiceState("INSERT INTO `main`.`Event` (`serviceId`) VALUES (?)")).toBe(false);
    expect(writesServiceState("UPDATE `main`.`ReplicaStats` SET x = 1")).toBe(false);
  });
});
