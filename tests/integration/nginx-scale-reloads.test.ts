/**
 * Scaling nginx from 1 to 10 replicas is at most two reloads (issue 11). nginx OSS has no
 * runtime API, so every membership change is a reload, and the engine batches changes made
 * within `batchMs` into one. The controller must let that batch form: it does not hold its
 * engine lock while nginx's own queued reload runs, so the nine bring-ups that turn healthy
 * at about the same time share a reload. Before: one reload per replica (nine).
 *
 * The controller as the panel runs it (real nginx, real replica processes, real database).
 * Listener 127.0.0.1:18361, replicas on 26400-26599 (docs/TESTING.md).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NginxEngine } from "@/lib/engines/nginx";
import { hasBinary, needs } from "../helpers/requirements";
import { startControllerHarness, type ControllerHarness } from "../helpers/controller-harness";
import { waitFor } from "../helpers/load";

const LISTEN = 18361;

describe.skipIf(needs("nginx", hasBinary("nginx")))("scaling nginx from 1 to 10 replicas", () => {
  let h: ControllerHarness;

  beforeAll(async () => {
    h = await startControllerHarness({ engine: "nginx", listen: LISTEN, portRange: "26400-26599", service: { replicas: 1, maxReplicas: 10 } });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  }, 60_000);

  it("takes at most two reloads", async () => {
    const engine = h.m.controller().engine as NginxEngine;
    const before = engine.reloadCount;
    const startedAt = Date.now();
    await h.m.updateService(h.serviceId, { replicas: 10 }, h.user);
    await waitFor("10 replicas in rotation", async () => (await h.ready()).length === 10, 60_000, 100);
    const reloads = engine.reloadCount - before;
    console.log(`[nginx-scale-reloads] 1 -> 10 replicas: ${reloads} nginx reloads, all in rotation after ${Date.now() - startedAt} ms`);
    expect(reloads).toBeLessThanOrEqual(2);
  }, 90_000);
});
