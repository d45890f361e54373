/**
 * HAProxy's dynamic-cookie-key is a secret of the panel: generated once into the data
 * folder (DATA_DIR/cookie-secret, mode 0600), derived per service into the file HAProxy
 * reads, the same for a new engine object on that folder (a panel restart: sticky
 * cookies stay valid), different for another folder, and never in the shown text.
 *
 * Listener 127.0.0.1:18303, replicas on 24700-24709 (data) / 24710-24719 (admin).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rulesSchema } from "@/lib/core/rules";
import { cookieSecret } from "@/lib/cookie-secret";
import { createHaproxyEngine, type HaproxyEngine } from "@/lib/engines/haproxy";
import { dynamicCookieKey } from "@/lib/engines/haproxy/render";
import { SECRET_PLACEHOLDER, type BalancerService } from "@/lib/engines/types";
import { startReplica, type ReplicaProcess } from "../helpers/replica-process";
import { get, stickyCookie, waitFor } from "../helpers/load";
import { applyOk, configAt, serverOf } from "../helpers/engine-config";
import { hasBinary, needs } from "../helpers/requirements";

const LISTEN = 18303;

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("HAProxy's cookie key: a per-panel secret, never shown", () => {
  let dataDir: string;
  let engine: HaproxyEngine;
  const replicas: ReplicaProcess[] = [];
  let web: BalancerService;
  const keyIn = (text: string | null) => /dynamic-cookie-key (\S+)/.exec(text ?? "")?.[1];

  beforeAll(async () => {
    dataDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sy-secret-")));
    for (let i = 0; i < 2; i++) replicas.push(await startReplica({ port: 24700 + i, adminPort: 24710 + i, id: `c${i + 1}`, service: "web" }));
    web = { id: "svcsecretweb", name: "web", rules: rulesSchema.parse({ sticky: { mode: "cookie" } }), servers: replicas.map((r) => serverOf(r)) };
    engine = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN }, mode: "supervised" });
    await engine.start(configAt(LISTEN, web));
    await waitFor("both servers UP", async () => (await engine.stats()).servers.filter((s) => s.health.status === "up").length === 2);
  });

  afterAll(async () => {
    await engine?.stop();
    await Promise.all(replicas.map((r) => r.stop()));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("is generated once into DATA_DIR/cookie-secret (mode 0600) and keys the running config; the shown text has a placeholder", async () => {
    const file = path.join(dataDir, "cookie-secret");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(file, "utf8").trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const live = await engine.liveConfig();
    const key = keyIn(live);
    expect(key).toBe(dynamicCookieKey(web.id, secret));
    // not the old public default
    expect(key).not.toBe(dynamicCookieKey(web.id, "switchyard"));
    const shown = engine.redact(live!);
    expect(shown).not.toContain(key);
    expect(shown).not.toContain(secret);
    expect(shown).toContain(`dynamic-cookie-key ${SECRET_PLACEHOLDER}`);
    expect(engine.redact(engine.render(configAt(LISTEN, web)))).toBe(shown);
  });

  it("a new engine object on the same folder (a panel restart) keeps the key, so sticky cookies keep their replica", async () => {
    const { cookie, replica: stuckTo } = await stickyCookie(LISTEN);
    const keyBefore = keyIn(await engine.liveConfig());
    const again = createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port: LISTEN }, mode: "supervised" });
    // a reload from the new object's rendering: the same key, so the cookie still names the same server
    await applyOk(again, configAt(LISTEN, { ...web, rules: rulesSchema.parse({ sticky: { mode: "cookie" }, algorithm: "least_conn" }) }));
    expect(keyIn(await engine.liveConfig())).toBe(keyBefore);
    await waitFor("both servers UP after the reload", async () => (await again.stats()).servers.filter((s) => s.health.status === "up").length === 2);
    expect(stuckTo).not.toBeNull();
    for (let i = 0; i < 10; i++) expect((await get(LISTEN, { cookie })).replica).toBe(stuckTo);
  });

  it("another data folder has another secret and key; a loosened file mode is tightened again", () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), "sy-secret-other-"));
    try {
      const mine = cookieSecret(dataDir);
      const theirs = cookieSecret(other);
      expect(theirs).not.toBe(mine);
      expect(cookieSecret(other)).toBe(theirs);
      expect(dynamicCookieKey(web.id, theirs)).not.toBe(dynamicCookieKey(web.id, mine));
      fs.chmodSync(path.join(other, "cookie-secret"), 0o644);
      expect(cookieSecret(other)).toBe(theirs);
      expect(fs.statSync(path.join(other, "cookie-secret")).mode & 0o777).toBe(0o600);
      // a damaged file is replaced by a fresh secret, still private
      fs.writeFileSync(path.join(other, "cookie-secret"), "switchyard\n");
      const fresh = cookieSecret(other);
      expect(fresh).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.statSync(path.join(other, "cookie-secret")).mode & 0o777).toBe(0o600);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
