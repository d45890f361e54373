/**
 * Alerts (issue 16, part 3) against real things: the controller with a real HAProxy and
 * real replica processes, the collector's ticks, the panel's alerts loop and a local
 * webhook receiver on loopback, driven through the route handlers of app/api.
 *
 * A rule "a replica is down for 1 s, resolved after 2 s": a replica's failing health
 * check (a fault through its admin address) takes it out of HAProxy; the receiver gets
 * "firing" (its first answer is a 500: the retry delivers it), signed with the secret;
 * the health restored, it gets "resolved". Every step is an event (the history), and a
 * viewer reads the rules without the secret.
 *
 * Listener 127.0.0.1:18542, receiver 127.0.0.1:18543, replicas on 32100-32199 (docs/TESTING.md).
 */
import crypto from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forget } from "@/lib/remember";
import type { AlertPayload, AlertSettingsView } from "@/lib/core/alerts";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { waitFor } from "../helpers/load";

const LISTEN = 18542;
const RECEIVER = 18543;
const SECRET = "alerts integration secret";

type Received = { at: number; status: number; signature: string | undefined; body: string };

describe.skipIf(needs("haproxy", hasBinary("haproxy")))("alerts: firing and resolved to a local webhook, HAProxy and process replicas", () => {
  let h: ControllerHarness;
  let receiver: http.Server;
  const received: Received[] = [];
  let answered = 0;
  let loop: import("@/lib/alerts/loop").AlertLoop;
  let alertsRoute: typeof import("@/app/api/alerts/route");

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        // the first delivery fails: the loop must try again
        const status = answered++ === 0 ? 500 : 204;
        received.push({ at: Date.now(), status, signature: req.headers["x-switchyard-signature"] as string | undefined, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(RECEIVER, "127.0.0.1", resolve));
    h = await startControllerHarness({ engine: "haproxy", listen: LISTEN, portRange: "32100-32199", service: { replicas: 2 } });
    alertsRoute = await import("@/app/api/alerts/route");
    (await import("@/lib/services/live-views")).provideLiveViews().start();
    forget("alert-loop");
    loop = (await import("@/lib/alerts/loop")).alertLoop();
    loop.start();
  });

  afterAll(async () => {
    loop?.stop();
    await loop?.idle();
    forget("alert-loop");
    (await import("@/lib/controller/collector")).collector().stop();
    await h?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("a replica down: firing (retried after a 500, signed), then resolved; each an event; the secret is never read back", async () => {
    const put = await h.api(alertsRoute.PUT, "/api/alerts", {
      method: "PUT",
      body: { webhook: { url: `http://127.0.0.1:${RECEIVER}/hook`, secret: SECRET }, rules: [{ id: "down", kind: "replica_down", serviceId: h.serviceId, forS: 1, resolveS: 2 }] },
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const view = ((await put.json()) as { alerts: AlertSettingsView }).alerts;
    expect(view.webhook).toEqual({ url: `http://127.0.0.1:${RECEIVER}/hook`, signed: true });
    expect(JSON.stringify(view)).not.toContain(SECRET);

    const [victim] = await h.ready();
    const faultAt = Date.now();
    await h.m.runReplicaAction(victim.id, { action: "faults", failHealth: true }, h.user);
    const firing = await waitFor("the receiver to accept a firing alert", () => received.find((r) => r.status === 204 && r.body.includes('"firing"')), 20_000, 100);
    console.log(`[alerts] firing accepted ${((firing.at - faultAt) / 1000).toFixed(1)} s after the fault, after ${received.length} attempt(s)`);
    expect(received[0].status).toBe(500);
    expect(received[0].body).toBe(firing.body); // the retry sends the same alert
    const expected = `sha256=${crypto.createHmac("sha256", SECRET).update(firing.body).digest("hex")}`;
    expect(firing.signature).toBe(expected);
    const body = JSON.parse(firing.body) as AlertPayload;
    expect(body).toMatchObject({ version: 1, status: "firing", alert: { replicaId: victim.id, rule: { id: "down", kind: "replica_down", forS: 1 }, service: { id: h.serviceId, name: "web" }, endsAt: null } });
    expect(body.alert.summary).toMatch(new RegExp(`replica ${victim.id} of web is down`));
    const active = ((await (await h.api(alertsRoute.GET, "/api/alerts")).json()) as { alerts: AlertSettingsView }).alerts.active;
    expect(active.map((a) => a.replicaId)).toEqual([victim.id]);

    const healAt = Date.now();
    await h.m.runReplicaAction(victim.id, { action: "faults", failHealth: false }, h.user);
    const resolved = await waitFor("the receiver to accept the resolved alert", () => received.find((r) => r.status === 204 && r.body.includes('"resolved"')), 20_000, 100);
    console.log(`[alerts] resolved accepted ${((resolved.at - healAt) / 1000).toFixed(1)} s after the health came back`);
    const done = JSON.parse(resolved.body) as AlertPayload;
    expect(done.alert.key).toBe(body.alert.key);
    expect(done.alert.endsAt).not.toBeNull();
    expect(resolved.signature).toBe(`sha256=${crypto.createHmac("sha256", SECRET).update(resolved.body).digest("hex")}`);
    await loop.idle();

    const events = await h.m.db().event.findMany({ where: { kind: { startsWith: "alert." } }, orderBy: { id: "asc" } });
    for (const e of events) console.log(`[alerts] event ${e.kind}: ${e.message}`);
    expect(events.map((e) => e.kind)).toEqual(["alert.settings", "alert.firing", "alert.delivered", "alert.resolved", "alert.delivered"]);
    expect(events[2].message).toMatch(/attempt 2, status 204/);
    expect(received.filter((r) => r.status === 204)).toHaveLength(2);
  });

  it("a certificate near expiry fires, with no service; removed, it resolves; a webhook saved without a secret keeps the old one", async () => {
    const before = received.length;
    const put = await h.api(alertsRoute.PUT, "/api/alerts", {
      method: "PUT",
      body: { webhook: { url: `http://127.0.0.1:${RECEIVER}/hook` }, rules: [{ id: "cert", kind: "certificate_expiry", threshold: 30, forS: 0, resolveS: 0 }] },
    });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await put.json()) as { alerts: AlertSettingsView }).alerts.webhook).toEqual({ url: `http://127.0.0.1:${RECEIVER}/hook`, signed: true });
    const now = Date.now();
    await h.m.db().certificate.create({
      data: { id: "00aa11bb22cc33dd", subject: "CN=soon.local", names: JSON.stringify(["soon.local"]), issuer: "CN=test", fingerprint: "00", notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 5 * 86_400_000 + 60_000) },
    });
    const firing = await waitFor("a firing certificate alert", () => received.slice(before).find((r) => r.status === 204 && r.body.includes('"certificate_expiry"') && r.body.includes('"firing"')), 15_000, 100);
    const body = JSON.parse(firing.body) as AlertPayload;
    expect(body.alert).toMatchObject({ service: null, certificateId: "00aa11bb22cc33dd", value: 5, summary: "the certificate CN=soon.local expires in 5 days, within 30" });
    expect(firing.signature).toBe(`sha256=${crypto.createHmac("sha256", SECRET).update(firing.body).digest("hex")}`);
    await h.m.db().certificate.delete({ where: { id: "00aa11bb22cc33dd" } });
    await waitFor("the certificate alert resolved", () => received.slice(before).find((r) => r.status === 204 && r.body.includes('"certificate_expiry"') && r.body.includes('"resolved"')), 15_000, 100);
    await loop.idle();
  });
});
