import type { AlertKind, AlertRule } from "@/lib/core/alerts";
import type { ServiceTick } from "@/lib/core/metrics";

/**
 * Alert rules over the collector's ticks, and their states with hysteresis (issue 16,
 * part 3). Pure: the loop (lib/alerts/loop.ts) hands in the facts and the states it
 * kept, and delivers the transitions.
 *
 * A condition that holds goes pending; after `forS` seconds of holding it fires (one
 * "firing"). A firing alert whose condition stops goes resolving; after `resolveS`
 * seconds without it it resolves (one "resolved"); if the condition comes back while
 * resolving it is firing again without a new notification. So a signal that flaps
 * faster than resolveS stays one firing alert, and one shorter than forS never fires.
 */

export type ServiceFacts = {
  id: string;
  name: string;
  /** replicas the controller keeps (not leaving), as the database says */
  replicas: readonly { id: string; state: string }[];
  /** the collector's last few ticks of it, oldest first */
  ticks: readonly ServiceTick[];
  autoscaler: { running: boolean; max: number; desired: number; recommendation: number | null } | null;
  /** the service's last rollout that rolled back on its own or by hand, if any */
  lastRollback?: { id: string; endedAt: number; reason: string | null } | null;
};

/** A certificate the balancer serves: its public facts. */
export type CertificateFacts = { id: string; subject: string; notAfter: number };

export type Signal = {
  key: string;
  ruleId: string;
  kind: AlertKind;
  /** null for a certificate */
  serviceId: string | null;
  serviceName: string | null;
  replicaId: string | null;
  certificateId: string | null;
  value: number | null;
  summary: string;
};

export type AlertState = Signal & { phase: "pending" | "firing" | "resolving"; since: number; startsAt: number | null };

export type Transition = { status: "firing" | "resolved"; at: number; alert: AlertState };

const r1 = (n: number) => Math.round(n * 10) / 10;

const DAY_MS = 86_400_000;

/** The conditions that hold now: one signal per rule, service (and replica) or certificate in breach. */
export function signalsOf(rules: readonly AlertRule[], services: readonly ServiceFacts[], certificates: readonly CertificateFacts[] = [], now = 0): Signal[] {
  const out: Signal[] = [];
  for (const rule of rules) {
    if (rule.kind === "certificate_expiry") {
      for (const c of certificates) {
        const days = (c.notAfter - now) / DAY_MS;
        if (days >= rule.threshold) continue;
        const summary = days <= 0 ? `the certificate ${c.subject} has expired` : `the certificate ${c.subject} expires in ${Math.floor(days)} day${Math.floor(days) === 1 ? "" : "s"}, within ${rule.threshold}`;
        out.push({ key: `${rule.id}/cert/${c.id}`, ruleId: rule.id, kind: rule.kind, serviceId: null, serviceName: null, replicaId: null, certificateId: c.id, value: Math.floor(days), summary });
      }
      continue;
    }
    for (const svc of services) {
      if (rule.serviceId !== null && rule.serviceId !== svc.id) continue;
      const base = { ruleId: rule.id, kind: rule.kind, serviceId: svc.id, serviceName: svc.name, certificateId: null };
      const last = svc.ticks[svc.ticks.length - 1];
      switch (rule.kind) {
        case "replica_down": {
          if (!last) break;
          for (const r of svc.replicas) {
            if (r.state !== "ready") continue;
            const t = last.replicas.find((x) => x.replicaId === r.id);
            if (t?.health.status === "down") out.push({ ...base, key: `${rule.id}/${svc.id}/${r.id}`, replicaId: r.id, value: null, summary: `replica ${r.id} of ${svc.name} is down${t.health.reason ? ` (${t.health.reason})` : ""}` });
          }
          break;
        }
        case "ready_below": {
          if (!last) break;
          const ready = last.replicas.filter((r) => r.inRotation).length;
          if (ready < rule.threshold) out.push({ ...base, key: `${rule.id}/${svc.id}`, replicaId: null, value: ready, summary: `${svc.name} has ${ready} replica${ready === 1 ? "" : "s"} in rotation, fewer than ${rule.threshold}` });
          break;
        }
        case "error_rate": {
          const requests = svc.ticks.reduce((s, t) => s + t.rps, 0);
          if (requests <= 0) break;
          const errors = svc.ticks.reduce((s, t) => s + t.errors["5xx"] + t.errors.conn, 0);
          const pct = (errors / requests) * 100;
          if (pct > rule.threshold) out.push({ ...base, key: `${rule.id}/${svc.id}`, replicaId: null, value: r1(pct), summary: `${svc.name} answers ${r1(pct)} % errors (5xx and connection), above ${rule.threshold} %` });
          break;
        }
        case "p95_above": {
          const p95 = last?.latency.p95 ?? null;
          if (p95 !== null && p95 > rule.threshold) out.push({ ...base, key: `${rule.id}/${svc.id}`, replicaId: null, value: p95, summary: `${svc.name}'s p95 is ${r1(p95)} ms, above ${rule.threshold} ms` });
          break;
        }
        case "autoscaler_at_max": {
          const a = svc.autoscaler;
          if (a?.running && a.desired >= a.max && a.recommendation !== null && a.recommendation > a.max) {
            out.push({ ...base, key: `${rule.id}/${svc.id}`, replicaId: null, value: a.recommendation, summary: `${svc.name}'s autoscaler is at its maximum ${a.max} and wants ${a.recommendation}` });
          }
          break;
        }
        case "rollout_rolled_back": {
          const rb = svc.lastRollback;
          if (rb && now - rb.endedAt < rule.threshold * 60_000) {
            out.push({ ...base, key: `${rule.id}/${svc.id}/${rb.id}`, replicaId: null, value: null, summary: `a rollout of ${svc.name} rolled back${rb.reason ? `: ${rb.reason}` : ""}` });
          }
          break;
        }
      }
    }
  }
  return out;
}

/** One step of every alert's state: what holds now against what was kept; the firing and resolved transitions to deliver. */
export function step(prev: ReadonlyMap<string, AlertState>, signals: readonly Signal[], rules: readonly AlertRule[], now: number): { states: Map<string, AlertState>; transitions: Transition[] } {
  const byId = new Map(rules.map((r) => [r.id, r]));
  const holding = new Map(signals.map((s) => [s.key, s]));
  const states = new Map<string, AlertState>();
  const transitions: Transition[] = [];
  for (const [key, st] of prev) {
    const rule = byId.get(st.ruleId);
    const sig = holding.get(key);
    if (!rule) {
      // a rule taken away resolves what it had fired
      if (st.phase !== "pending") transitions.push({ status: "resolved", at: now, alert: st });
      continue;
    }
    if (sig) {
      const next = { ...st, value: sig.value, summary: sig.summary };
      if (st.phase === "pending" && now - st.since >= rule.forS * 1000) {
        const fired = { ...next, phase: "firing" as const, since: now, startsAt: now };
        states.set(key, fired);
        transitions.push({ status: "firing", at: now, alert: fired });
      } else if (st.phase === "resolving") states.set(key, { ...next, phase: "firing", since: now });
      else states.set(key, next);
    } else if (st.phase === "firing") states.set(key, { ...st, phase: "resolving", since: now });
    else if (st.phase === "resolving") {
      if (now - st.since >= rule.resolveS * 1000) transitions.push({ status: "resolved", at: now, alert: st });
      else states.set(key, st);
    }
    // pending and no longer holding: forgotten, never fired
  }
  for (const [key, sig] of holding) {
    if (states.has(key) || prev.has(key)) continue;
    const rule = byId.get(sig.ruleId);
    if (!rule) continue;
    if (rule.forS === 0) {
      const fired: AlertState = { ...sig, phase: "firing", since: now, startsAt: now };
      states.set(key, fired);
      transitions.push({ status: "firing", at: now, alert: fired });
    } else states.set(key, { ...sig, phase: "pending", since: now, startsAt: null });
  }
  return { states, transitions };
}
