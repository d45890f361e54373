/**
 * GET /api/certificates/ca against a real SQLite database and data folder (issue 13):
 * reading the local CA's root never makes the CA. Before an admin generates a
 * certificate, a viewer (and an admin) asking for the root gets a 404 that says how the
 * CA comes to be, and no key is written; after an admin generates one (real openssl),
 * the root is served and is the CA that signed the certificate. No ports.
 */
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateFiles } from "@/lib/tls/store";
import { hasBinary, needs } from "@/tests/helpers/requirements";
import { openTempDatabase, type TempDatabase } from "@/tests/helpers/temp-db";

const ORIGIN = "http://127.0.0.1:3999";
let database: TempDatabase | undefined;
const cookies = { viewer: "", admin: "" };
let caRoute: typeof import("@/app/api/certificates/ca/route");
let certificatesRoute: typeof import("@/app/api/certificates/route");

const headers = (who: keyof typeof cookies) => ({ host: "127.0.0.1:3999", origin: ORIGIN, cookie: cookies[who] });
const getCa = (who: keyof typeof cookies) => caRoute.GET(new Request(`${ORIGIN}/api/certificates/ca`, { headers: headers(who) }));

beforeAll(async () => {
  database = await openTempDatabase("certificates-ca");
  const { db } = await import("@/lib/db/client");
  const { createSession } = await import("@/lib/auth/sessions");
  caRoute = await import("@/app/api/certificates/ca/route");
  certificatesRoute = await import("@/app/api/certificates/route");
  for (const role of ["viewer", "admin"] as const) {
    const user = await db().user.create({ data: { username: `ca-${role}`, passwordHash: "x", role } });
    cookies[role] = `sy_session=${(await createSession(user.id)).token}`;
  }
});

afterAll(async () => {
  await database?.close();
});

describe.skipIf(needs("openssl", hasBinary("openssl", ["version"])))("GET /api/certificates/ca", () => {
  it("is a 404 naming how the CA is made until an admin generates a certificate, and writes nothing", async () => {
    const tlsDir = path.join(database!.dataDir, "tls");
    for (const who of ["viewer", "admin"] as const) {
      const res = await getCa(who);
      expect(res.status, who).toBe(404);
      expect(await res.text()).toContain("there is no local CA yet: it is made when an admin generates a certificate");
    }
    expect(fs.existsSync(path.join(tlsDir, "ca.key")), "a CA key after a download").toBe(false);
    expect(fs.existsSync(path.join(tlsDir, "ca.crt")), "a CA root after a download").toBe(false);
  });

  it("serves the root of the CA that signed an admin's generated certificate; a viewer may download it", async () => {
    const created = await certificatesRoute.POST(
      new Request(`${ORIGIN}/api/certificates`, { method: "POST", headers: { ...headers("admin"), "content-type": "application/json" }, body: JSON.stringify({ generate: { hosts: ["ca-test.local"] } }) }),
    );
    expect(created.status, await created.clone().text()).toBe(201);
    const { certificate } = (await created.json()) as { certificate: { id: string } };
    const res = await getCa("viewer");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-pem-file");
    const pem = await res.text();
    expect(pem).toBe(fs.readFileSync(path.join(database!.dataDir, "tls", "ca.crt"), "utf8"));
    const root = new X509Certificate(pem);
    const leaf = new X509Certificate(fs.readFileSync(certificateFiles(database!.dataDir, certificate.id).certFile));
    expect(leaf.checkIssued(root) && leaf.verify(root.publicKey), "the leaf is signed by the served root").toBe(true);
    expect(pem).not.toMatch(/PRIVATE KEY/);
  });
});
