/**
 * GET /api/balancer/revisions against a real SQLite database (issue 12, item 12): a
 * revision's own change is its rules; servers added by scaling between two revisions
 * are listed apart, not as if the revision added them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
let database: TempDatabase | undefined;
let cookie = "";
let m: { db: typeof import("@/lib/db/client").db; route: typeof import("@/app/api/balancer/revisions/route"); rules: typeof import("@/lib/core/rules") };

const config = (algorithm: string, servers: string[]) =>
  JSON.stringify({
    listen: { host: "127.0.0.1", port: 8080 },
    services: [{ id: "svc1", name: "web", rules: { ...m.rules.defaultRules(), algorithm }, servers: servers.map((name, i) => ({ replicaId: name, name, host: "127.0.0.1", port: 27200 + i, weight: 1, adminState: "ready" })) }],
  });
const rendered = (algorithm: string, servers: string[]) => `backend be_web\n    balance ${algorithm}\n${servers.map((s) => `    server ${s} 127.0.0.1:1\n`).join("")}`;

beforeAll(async () => {
  database = await openTempDatabase("revisions-list");
  m = { db: (await import("@/lib/db/client")).db, route: await import("@/app/api/balancer/revisions/route"), rules: await import("@/lib/core/rules") };
  const user = await m.db().user.create({ data: { username: "op1", passwordHash: "x", role: "operator" } });
  cookie = `sy_session=${(await (await import("@/lib/auth/sessions")).createSession(user.id)).token}`;
  const rev = (number: number, algorithm: string, servers: string[], summary: string) =>
    m.db().revision.create({ data: { number, engine: "haproxy", config: config(algorithm, servers), rendered: rendered(algorithm, servers), status: "applied", summary, author: "op1" } });
  await rev(1, "round_robin", ["web-1", "web-2", "web-3"], "first");
  // between 1 and 2 the service scaled 3 → 6 (no revision); revision 2 changed only the algorithm
  await rev(2, "least_conn", ["web-1", "web-2", "web-3", "web-4", "web-5", "web-6"], "web: algorithm round_robin → least_conn");
  // between 2 and 3 it scaled 6 → 2; revision 3 changed nothing of the rules
  await rev(3, "least_conn", ["web-1", "web-2"], "web: no change");
});

afterAll(async () => {
  await database?.close();
});

describe("the revision list", () => {
  it("diffs a revision's rules alone and lists scaling apart", async () => {
    const res = await m.route.GET(new Request(`${ORIGIN}/api/balancer/revisions`, { headers: { host: "127.0.0.1:3999", cookie } }));
    expect(res.status).toBe(200);
    type Row = { number: number; diff: string; rulesDiff: string; scaling: { service: string; added: string[]; removed: string[] }[]; previous: number | null };
    const rows = (await res.json()).revisions as Row[];
    const [r3, r2, r1] = rows;
    // revision 2: its own change is the algorithm; web-4..6 came from scaling
    const changed = r2.rulesDiff.split("\n").filter((l) => /^[-+]\s/.test(l));
    expect(changed).toEqual(['-  "algorithm": "round_robin",', '+  "algorithm": "least_conn",']);
    expect(r2.rulesDiff).not.toContain("web-4");
    expect(r2.scaling).toEqual([{ service: "web", added: ["web-4", "web-5", "web-6"], removed: [] }]);
    expect(r2.previous).toBe(1);
    // the engine config diff still holds both (it is what the engine ran)
    expect(r2.diff).toContain("+    server web-4");
    // revision 3 changed no rule: an empty rules diff, the scale-in listed
    expect(r3.rulesDiff).toBe("");
    expect(r3.scaling).toEqual([{ service: "web", added: [], removed: ["web-3", "web-4", "web-5", "web-6"] }]);
    // the first revision has nothing before it
    expect(r1.previous).toBeNull();
    expect(r1.scaling).toEqual([]);
    expect(r1.rulesDiff).toContain('+  "algorithm": "round_robin",');
  });
});
