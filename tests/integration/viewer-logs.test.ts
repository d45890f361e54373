/**
 * GET /api/replicas/:id/logs for every role (issue 12, item 12: viewers "see everything")
 * against a real replica process and a real SQLite database: a viewer reads the lines,
 * with every service's env values and the panel's paths replaced; an operator reads them
 * as written. Replica ports 27200-27219.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";
import { waitFor } from "@/tests/helpers/load";

const ORIGIN = "http://127.0.0.1:3999";
const SECRET = "sk-live-4f9a8b7c6d5e";

let database: TempDatabase | undefined;
let replicaId = "";
let runtimeRef = "";
const cookies: Record<"viewer" | "operator", string> = { viewer: "", operator: "" };
let m: {
  db: typeof import("@/lib/db/client").db;
  route: typeof import("@/app/api/replicas/[id]/logs/route");
  runtime: ReturnType<typeof import("@/lib/runtime/registry").runtimeFor>;
};

async function logs(as: "viewer" | "operator", id = replicaId): Promise<{ status: number; lines: string[] }> {
  const res = await m.route.GET(new Request(`${ORIGIN}/api/replicas/${id}/logs?lines=50`, { headers: { host: "127.0.0.1:3999", cookie: cookies[as] } }), { params: Promise.resolve({ id }) });
  const body = await res.json();
  return { status: res.status, lines: body.lines ?? [] };
}

beforeAll(async () => {
  database = await openTempDatabase("viewer-logs");
  process.env.PORT_RANGE = "27200-27219";
  const { forget } = await import("@/lib/remember");
  forget("env");
  m = {
    db: (await import("@/lib/db/client")).db,
    route: await import("@/app/api/replicas/[id]/logs/route"),
    runtime: (await import("@/lib/runtime/registry")).runtimeFor("process"),
  };
  const { createSession } = await import("@/lib/auth/sessions");
  for (const role of ["viewer", "operator"] as const) {
    const user = await m.db().user.create({ data: { username: `${role}-logs`, passwordHash: "x", role } });
    cookies[role] = `sy_session=${(await createSession(user.id)).token}`;
  }
  // a replica that prints its secret and a path of the panel, as a careless app does
  const command = ["node", "-e", "console.log('token=' + process.env.API_TOKEN); console.log('cwd ' + process.env.PANEL_DIR); console.log('admin ' + process.env.ADMIN_TOKEN); setInterval(() => {}, 1000)"];
  const service = await m.db().service.create({
    data: { name: "logs", runtime: "process", adminToken: "t".repeat(32), rules: "{}", env: JSON.stringify({ API_TOKEN: SECRET, PANEL_DIR: process.cwd() }), command: JSON.stringify(command) },
  });
  replicaId = "rlogsviewer01";
  const created = await m.runtime.create({
    serviceId: service.id,
    serviceName: service.name,
    replicaId,
    command,
    env: { API_TOKEN: SECRET, PANEL_DIR: process.cwd() },
    dataPort: 8000,
    adminPort: 9000,
    adminToken: "t".repeat(32),
    memoryLimitMb: 128,
    cpuLimit: null,
  });
  runtimeRef = created.runtimeRef;
  await m.db().replica.create({ data: { id: replicaId, serviceId: service.id, state: "ready", runtime: "process", runtimeRef } });
}, 60_000);

afterAll(async () => {
  if (runtimeRef) {
    await m.runtime.stop(runtimeRef, 1000).catch(() => undefined);
    await m.runtime.remove(runtimeRef).catch(() => undefined);
  }
  delete process.env.PORT_RANGE;
  await database?.close();
});

describe("replica logs", () => {
  it("an operator reads them as written", async () => {
    await waitFor("the replica's first line", async () => (await logs("operator")).lines.some((l) => l.includes("token=")), 15_000);
    const { status, lines } = await logs("operator");
    expect(status).toBe(200);
    expect(lines).toContain(`token=${SECRET}`);
    expect(lines).toContain(`admin ${"t".repeat(32)}`);
  });

  it("a viewer reads them too, with secrets and paths replaced", async () => {
    const { status, lines } = await logs("viewer");
    expect(status).toBe(200);
    expect(lines).toContain("token=(hidden)");
    expect(lines.some((l) => l.startsWith("cwd "))).toBe(true);
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(lines.join("\n")).not.toContain(process.cwd());
    expect(lines).toContain("admin (hidden)");
    expect(lines.join("\n")).not.toContain("t".repeat(32));
  });

  it("a bad id is a 400, an unknown one a 404, for a viewer as for anyone", async () => {
    expect((await logs("viewer", "../etc")).status).toBe(400);
    expect((await logs("viewer", "nosuchreplica")).status).toBe(404);
  });
});
