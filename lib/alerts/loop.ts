import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { remember } from "@/lib/remember";
import { collector } from "@/lib/controller/collector";
import { autoscalerOf } from "@/lib/autoscale/store";
import { autoscaleLoop, type AutoscaleStatus } from "@/lib/autoscale/loop";
import type { AlertPayload, AlertRule, AlertSettings } from "@/lib/core/alerts";
import type { ServiceTick } from "@/lib/core/metrics";
import { signalsOf, step, type AlertState, type ServiceFacts, type Transition } from "@/lib/alerts/evaluate";
import { deliver as deliverWebhook, type Delivery } from "@/lib/alerts/webhook";
import { readAlertSettings } from "@/lib/alerts/store";

/**
 * The alerts loop (issue 16, part 3): once a second, the rules (lib/alerts/store.ts) over
 * the collector's last ticks of every service (lib/alerts/evaluate.ts), each firing and
 * resolved an `alert.firing` / `alert.resolved` event (the history), and a POST to the
 * webhook with retries in the background (`alert.delivered` / `alert.delivery-failed`).
 * Its states are in the process: a restarted panel starts with none (an alert still
 * holding fires again after its `forS`).
 */

export const ALERT_INTERVAL_MS = 1000;
/** the ticks an error rate is summed over */
const ERROR_WINDOW_TICKS = 5;

export type AlertLoopDeps = {
  history: (serviceId: string, points: number) => ServiceTick[];
  autoscaleStatus: (serviceId: string) => AutoscaleStatus | null;
  intervalMs?: number;
  deliver?: (url: string, secret: string | undefined, payload: AlertPayload) => Promise<Delivery>;
  now?: () => number;
};

export class AlertLoop {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private states = new Map<string, AlertState>();
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly deps: AlertLoopDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs ?? ALERT_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Alerts firing (or resolving) now, oldest first. */
  active(): AlertState[] {
    return [...this.states.values()].filter((s) => s.phase !== "pending").sort((a, b) => (a.startsAt ?? 0) - (b.startsAt ?? 0));
  }

  /** Deliveries still under way (tests wait for them). */
  async idle(): Promise<void> {
    while (this.deliveries.size) await Promise.all([...this.deliveries]);
  }

  async tick(): Promise<Transition[]> {
    if (this.running) return [];
    this.running = true;
    try {
      const settings = await readAlertSettings();
      if (settings.rules.length === 0 && this.states.size === 0) return [];
      const services = await db().service.findMany({ include: { instances: true, autoscaler: true } });
      const rollbacks = settings.rules.some((r) => r.kind === "rollout_rolled_back")
        ? await db().rollout.findMany({ where: { state: "rolled_back", endedAt: { not: null } }, orderBy: { endedAt: "desc" }, select: { id: true, serviceId: true, endedAt: true, reason: true } })
        : [];
      const facts: ServiceFacts[] = services.map((s) => {
        const rb = rollbacks.find((r) => r.serviceId === s.id);
        const a = s.autoscaler ? autoscalerOf(s.autoscaler) : null;
        return {
          id: s.id,
          name: s.name,
          replicas: s.instances.filter((r) => r.state !== "draining" && r.state !== "stopping"),
          ticks: this.deps.history(s.id, ERROR_WINDOW_TICKS),
          autoscaler: a ? { running: a.enabled && !a.pausedAt, max: a.maxReplicas, desired: s.replicas, recommendation: this.deps.autoscaleStatus(s.id)?.recommendation ?? null } : null,
          lastRollback: rb?.endedAt ? { id: rb.id, endedAt: rb.endedAt.getTime(), reason: rb.reason } : null,
        };
      });
      const now = this.deps.now?.() ?? Date.now();
      const certificates = settings.rules.some((r) => r.kind === "certificate_expiry")
        ? (await db().certificate.findMany({ select: { id: true, subject: true, notAfter: true } })).map((c) => ({ id: c.id, subject: c.subject, notAfter: c.notAfter.getTime() }))
        : [];
      const { states, transitions } = step(this.states, signalsOf(settings.rules, facts, certificates, now), settings.rules, now);
      this.states = states;
      for (const t of transitions) await this.notify(t, settings);
      return transitions;
    } catch (e) {
      console.error(`[switchyard] alerts: ${e instanceof Error ? e.message : e}`);
      return [];
    } finally {
      this.running = false;
    }
  }

  private async notify(t: Transition, settings: AlertSettings): Promise<void> {
    const a = t.alert;
    const rule = settings.rules.find((r) => r.id === a.ruleId);
    const payload = payloadOf(t, rule);
    const lasted = a.startsAt !== null && t.status === "resolved" ? ` after ${Math.round((t.at - a.startsAt) / 1000)} s` : "";
    await recordEvent({
      kind: t.status === "firing" ? "alert.firing" : "alert.resolved",
      level: t.status === "firing" ? "warn" : "info",
      actor: "alerts",
      serviceId: a.serviceId,
      replicaId: a.replicaId,
      message: t.status === "firing" ? `alert firing: ${a.summary}` : `alert resolved${lasted} (was: ${a.summary})`,
      data: payload,
    });
    const hook = settings.webhook;
    if (!hook) return;
    const send = this.deps.deliver ?? deliverWebhook;
    const p = send(hook.url, hook.secret || undefined, payload)
      .then((d) =>
        recordEvent({
          kind: d.ok ? "alert.delivered" : "alert.delivery-failed",
          level: d.ok ? "info" : "error",
          actor: "alerts",
          serviceId: a.serviceId,
          message: d.ok ? `alert ${t.status} delivered to the webhook (attempt ${d.attempts}, status ${d.status})` : `alert ${t.status} not delivered after ${d.attempts} attempts: ${d.error}`,
          data: { key: a.key, status: t.status, attempts: d.attempts, httpStatus: d.status },
        }),
      )
      .then(() => undefined)
      .catch((e) => console.error(`[switchyard] alert delivery: ${e instanceof Error ? e.message : e}`))
      .finally(() => this.deliveries.delete(p));
    this.deliveries.add(p);
  }
}

function payloadOf(t: Transition, rule: AlertRule | undefined): AlertPayload {
  const a = t.alert;
  return {
    version: 1,
    status: t.status,
    alert: {
      key: a.key,
      rule: { id: a.ruleId, kind: a.kind, threshold: rule?.threshold ?? 0, forS: rule?.forS ?? 0, resolveS: rule?.resolveS ?? 0 },
      service: a.serviceId && a.serviceName ? { id: a.serviceId, name: a.serviceName } : null,
      replicaId: a.replicaId,
      certificateId: a.certificateId,
      summary: a.summary,
      value: a.value,
      startsAt: new Date(a.startsAt ?? t.at).toISOString(),
      endsAt: t.status === "resolved" ? new Date(t.at).toISOString() : null,
    },
    sentAt: new Date(t.at).toISOString(),
  };
}

/** The panel's alerts loop, reading the collector's ticks and the autoscaler's last word. */
export function alertLoop(): AlertLoop {
  return remember("alert-loop", () => new AlertLoop({ history: (id, n) => collector().historyOf(id, n), autoscaleStatus: (id) => autoscaleLoop().status(id) }));
}
