/**
 * Moving the scale slider while a progressive rollout runs (issue 16 follow-up): the rollout
 * owns the replica counts until it ends, so PATCH /api/services/:id {replicas} answers 409
 * with what to do ("promote or abort it first") instead of a 200 that changed nothing the
 * controller follows; once the rollout ended, the same change scales. The route handler is
 * called in-process against a real SQLite database (controller off, no ports), under the
 * contract check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";
import { routeRequest } from "@/tests/helpers/route-request";

let database: TempDatabase | undefined;
let cookie = "";
let serviceId = "";
let rolloutId = "";
let mod: { PATCH: typeof import("@/app/api/services/[id]/route").PATCH; db: typeof import("@/lib/db/client").db };

const patch = (replicas: number) => mod.PATCH(routeRequest(`/api/services/${serviceId}`, { method: "PATCH", json: { replicas }, cookie }), { params: Promise.resolve({ id: serviceId }) });

beforeAll(async () => {
  database = await openTempDatabase("scale-during-rollout");
  process.env.CONTROLLER = "false";
  const { db } = await import("@/lib/db/client");
  const { PATCH } = await import("@/app/api/services/[id]/route");
  mod = { PATCH, db };
  const { createSession, SESSION_COOKIE } = await import("@/lib/auth/sessions");
  const user = await db().user.create({ data: { username: "rollout-operator", passwordHash: "x", role: "operator" } });
  cookie = `${SESSION_COOKIE}=${(await createSession(user.id)).token}`;
  // the row as createService writes it, without the balancer apply (no engine runs here)
  const { rulesSchema } = await import("@/lib/core/rules");
  serviceId = (await db().service.create({ data: { name: "web", runtime: "process", adminToken: "t".repeat(32), rules: JSON.stringify(rulesSchema.parse({})), replicas: 3 } })).id;
  const spec = JSON.stringify({ image: null, command: null, env: {} });
  rolloutId = (
    await db().rollout.create({
      data: { serviceId, strategy: "canary", state: "running", fromVersion: "v-old", toVersion: "v-new", fromSpec: spec, toSpec: spec, plan: "{}", replicas: 3, oldDesired: 3, newDesired: 1, createdBy: "rollout-operator" },
    })
  ).id;
});

afterAll(async () => {
  delete process.env.CONTROLLER;
  await database?.close();
});

describe("the scale slider during a rollout", () => {
  it("answers 409 'a rollout is in progress: promote or abort it first' and keeps the count", async () => {
    const res = await patch(5);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("conflict");
    expect(body.error.message).toMatch(/a rollout is in progress: promote or abort it first/);
    expect((await mod.db().service.findUniqueOrThrow({ where: { id: serviceId } })).replicas).toBe(3);
  });

  it("scales once the rollout has ended", async () => {
    await mod.db().rollout.update({ where: { id: rolloutId }, data: { state: "promoted" } });
    const res = await patch(5);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await mod.db().service.findUniqueOrThrow({ where: { id: serviceId } })).replicas).toBe(5);
  });
});
