import { describe, expect, it } from "vitest";
import { draftOf, settingsOf } from "@/components/autoscale/autoscale-model";
import { desiredReadyRows } from "@/components/autoscale/desired-ready-chart";
import { markerKindOf } from "@/components/charts/markers";
import { defaultAutoscaleSettings } from "@/lib/core/autoscale";
import type { ServiceTick } from "@/lib/core/metrics";

describe("the Autoscaling card's form", () => {
  it("round-trips the settings through the draft", () => {
    const s = { enabled: true, minReplicas: 2, maxReplicas: 6, windowS: 30, targets: [{ metric: "p95" as const, value: 200 }, { metric: "rps" as const, value: 20 }] };
    const out = settingsOf(draftOf(s));
    expect(out).toEqual({ ok: true, settings: { ...s, targets: [{ metric: "rps", value: 20 }, { metric: "p95", value: 200 }] } });
  });

  it("names the field of each problem, as the API's schema finds it", () => {
    const d = draftOf({ ...defaultAutoscaleSettings(), enabled: true });
    d.minReplicas = "7";
    d.maxReplicas = "3";
    d.windowS = "";
    d.targets.p95 = { on: true, value: "-5" };
    const out = settingsOf(d);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(Object.keys(out.errors).sort()).toEqual(["targets.p95", "windowS"]);
    d.windowS = "30";
    d.targets.p95 = { on: true, value: "200" };
    const again = settingsOf(d);
    expect(again.ok ? null : again.errors).toEqual({ minReplicas: "minReplicas must not exceed maxReplicas" });
    d.minReplicas = "1";
    for (const m of ["rps", "p95"] as const) d.targets[m].on = false;
    const none = settingsOf(d);
    expect(none.ok ? null : none.errors).toEqual({ targets: "an enabled autoscaler needs at least one target" });
  });
});

describe("desired vs ready, and the AS marker", () => {
  it("counts the replicas in rotation against each tick's desired count", () => {
    const tick = (t: number, desired: number | undefined, inRotation: boolean[]): ServiceTick =>
      ({ t, serviceId: "s", rps: 0, errors: { "4xx": 0, "5xx": 0, conn: 0 }, latency: { p50: null, p95: null, p99: null }, desired, replicas: inRotation.map((r, i) => ({ replicaId: `r${i}`, inRotation: r })) }) as unknown as ServiceTick;
    expect(desiredReadyRows([tick(1000, 2, [true, true]), tick(2000, 5, [true, true, false]), tick(3000, undefined, [true])])).toEqual([
      { t: 1000, desired: 2, ready: 2 },
      { t: 2000, desired: 5, ready: 2 },
      { t: 3000, desired: null, ready: 1 },
    ]);
  });

  it("an autoscaler's decision is an AS marker; its pause and settings are not", () => {
    expect(markerKindOf({ kind: "autoscale.scaled", data: null })).toBe("autoscale");
    expect(markerKindOf({ kind: "autoscale.paused", data: null })).toBeNull();
    expect(markerKindOf({ kind: "autoscale.updated", data: null })).toBeNull();
  });
});
