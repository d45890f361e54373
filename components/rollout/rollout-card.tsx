"use client";

import { useCallback, useEffect, useState } from "react";
import type { SwitchyardEvent } from "@/lib/events";
import type { RolloutView, VersionFigures } from "@/lib/core/rollout";
import { api, ApiError } from "@/lib/client/api";
import { liveSocket } from "@/lib/client/live";
import { Card } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { InlineError } from "@/components/ui/inline-error";
import { EventTime } from "@/components/events/event-time";
import { emptyDraft, requestOf, STATE_LOOK, stepRows, type RolloutDraft } from "@/components/rollout/rollout-model";

/** How often the card reads the active rollout again for its gate figures (its steps arrive as events at once). */
const ACTIVE_REFRESH_MS = 2000;

const ACTIVE = new Set(["running", "paused", "promoting", "rolling_back"]);

/**
 * The service page's Rollout card (issue 16, part 2): the active (or last) rollout's
 * steps, the traffic split the weights give now, the last gate figures of both versions,
 * why it ended or paused, and Pause / Resume / Promote / Abort; a form to start one.
 * Viewers read it; operators act. On a swarm service the rollout is Swarm's rolling update:
 * the card shows Swarm's own state and the tasks by version, and Rollback (Swarm's rollback).
 * `deployment`: a Kubernetes service, whose rolling update its Deployment drives
 * (lib/rollout/cluster-rollout.ts): its progress and Rollback (kubectl's undo) only.
 */
export function RolloutCard({ serviceId, canOperate, env, swarm = false, deployment = false }: { serviceId: string; canOperate: boolean; env: Record<string, string>; swarm?: boolean; deployment?: boolean }) {
  const [rollouts, setRollouts] = useState<RolloutView[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showForm, setShowForm] = useState(false);
  const [draft, setDraft] = useState<RolloutDraft>(() => ({ ...emptyDraft(env), ...(swarm ? { strategy: "rolling" as const, holdS: "0" } : {}) }));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  const refresh = useCallback(() => {
    void api<{ rollouts: RolloutView[] }>(`/api/services/${serviceId}/rollouts`)
      .then((r) => setRollouts(r.rollouts))
      .catch(() => undefined);
  }, [serviceId]);

  useEffect(() => {
    refresh();
    const s = liveSocket();
    const onEvent = (e: SwitchyardEvent) => {
      if (e.serviceId === serviceId && e.kind.startsWith("rollout.")) refresh();
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
  }, [serviceId, refresh]);

  const current = rollouts?.[0] ?? null;
  const active = current !== null && ACTIVE.has(current.state);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(refresh, ACTIVE_REFRESH_MS);
    return () => clearInterval(t);
  }, [active, refresh]);

  const call = async (path: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      await api(path, { method: "POST", body });
      refresh();
      return true;
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const start = async () => {
    const out = requestOf(draft);
    if (!out.ok) {
      setFieldErrors(out.errors);
      return;
    }
    setFieldErrors({});
    if (await call(`/api/services/${serviceId}/rollouts`, out.body)) setShowForm(false);
  };

  const act = (action: "promote" | "pause" | "resume" | "abort" | "rollback") => current && void call(`/api/services/${serviceId}/rollouts/${current.id}/${action}`);
  // a Deployment past its progress deadline: stalled (Kubernetes does not roll back by itself)
  const stalled = deployment && current?.state === "paused" && (current.reason ?? "").startsWith("stalled");
  const look = current ? (stalled ? { tone: "red" as const, text: "stalled" } : STATE_LOOK[current.state]) : null;
  const edit = (change: Partial<RolloutDraft>) => setDraft((d) => ({ ...d, ...change }));

  return (
    <Card
      title="Rollout"
      actions={
        <span data-testid="rollout-state" data-state={current?.state ?? "none"}>
          {look ? <Badge tone={look.tone}>{look.text}</Badge> : <Badge>none yet</Badge>}
        </span>
      }
    >
      <div className="space-y-4" data-testid="rollout-card">
        {current && (
          <div className="space-y-3">
            <p className="text-sm text-zinc-700 dark:text-zinc-300">
              <span className="font-medium">{deployment ? "Rolling update by the Deployment" : current.strategy === "canary" ? "Canary" : "Rolling"}</span> from <code className="font-mono text-xs">{current.fromVersion}</code> to{" "}
              <code className="font-mono text-xs">{current.toVersion}</code> · started by {current.createdBy} <EventTime iso={current.createdAt} />
              {current.autoscalerPaused && active && <span className="block text-xs text-amber-700 dark:text-amber-300">The autoscaler holds until the rollout ends.</span>}
            </p>

            {!deployment && <div>
              <div className="mb-1 flex justify-between text-xs text-zinc-600 dark:text-zinc-400">
                <span>new {current.newSharePercent} %</span>
                <span>old {Math.round((100 - current.newSharePercent) * 10) / 10} %</span>
              </div>
              <div className="flex h-3 overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800" role="img" aria-label={`traffic split: ${current.newSharePercent} % to the new version`} data-testid="rollout-split" data-new={current.newSharePercent}>
                <div className="bg-amber-500 dark:bg-amber-400" style={{ width: `${current.newSharePercent}%` }} />
                <div className="flex-1 bg-sky-600 dark:bg-sky-500" />
              </div>
            </div>}

            {!deployment && <ol className="space-y-1 text-sm" data-testid="rollout-steps">
              {stepRows(current).map((s, i) => (
                <li key={i} data-status={s.status} className="flex items-center gap-2">
                  <span aria-hidden className={`inline-block h-2.5 w-2.5 shrink-0 rounded-full ${s.status === "done" ? "bg-emerald-500" : s.status === "current" ? "animate-pulse bg-sky-500" : s.status === "failed" ? "bg-rose-500" : "bg-zinc-300 dark:bg-zinc-700"}`} />
                  <span className="min-w-0 break-words">{s.label}</span>
                  <span className="ml-auto shrink-0 text-xs text-zinc-500 dark:text-zinc-400">{s.status}</span>
                </li>
              ))}
            </ol>}

            {current.swarm && (
              <p className="text-sm break-words text-zinc-700 dark:text-zinc-300" data-testid="rollout-swarm" data-update-state={current.swarm.updateState ?? "none"}>
                Swarm: <span className="font-medium">{current.swarm.updateState ?? "no update status yet"}</span> · {current.swarm.newTasks} of {current.swarm.desired} task(s) on the new version, {current.swarm.oldTasks} on the old
                {(current.swarm.failedTasks ?? 0) > 0 && <span className="text-rose-700 dark:text-rose-300">, {current.swarm.failedTasks} failed</span>}
                {current.swarm.message && <span className="block text-xs text-zinc-600 dark:text-zinc-400">{current.swarm.message}</span>}
              </p>
            )}
            {current.lastGate && <GateFigures gate={current.lastGate} />}
            {current.reason && (
              <p
                role="status"
                data-testid="rollout-reason"
                className={
                  current.state === "promoted"
                    ? "rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm break-words text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/40 dark:text-emerald-200"
                    : "rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm break-words text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200"
                }
              >
                {current.reason}
              </p>
            )}

            {canOperate && current.swarm && (current.state === "running" || current.state === "paused" || current.state === "promoted") && (
              <div className="flex flex-wrap gap-2">
                <Button size="sm" variant="danger" disabled={busy} onClick={() => act("rollback")} data-testid="rollout-rollback" title="Swarm's rollback: the service's previous spec">
                  Rollback
                </Button>
              </div>
            )}
            {canOperate && active && deployment && current.state !== "rolling_back" && (
              <div className="flex flex-wrap gap-2">
                <Button size="sm" variant="danger" disabled={busy} onClick={() => act("rollback")} data-testid="rollout-rollback" title="kubectl's undo: the previous ReplicaSet's template">
                  Rollback
                </Button>
              </div>
            )}
            {canOperate && active && !current.swarm && !deployment && (
              <div className="flex flex-wrap gap-2">
                {current.state === "running" && (
                  <Button size="sm" variant="secondary" disabled={busy} onClick={() => act("pause")} data-testid="rollout-pause">
                    Pause
                  </Button>
                )}
                {current.state === "paused" && (
                  <Button size="sm" variant="secondary" disabled={busy} onClick={() => act("resume")} data-testid="rollout-resume">
                    Resume
                  </Button>
                )}
                {(current.state === "running" || current.state === "paused") && (
                  <Button size="sm" disabled={busy} onClick={() => act("promote")} data-testid="rollout-promote">
                    Promote
                  </Button>
                )}
                {current.state !== "rolling_back" && (
                  <Button size="sm" variant="danger" disabled={busy} onClick={() => act("abort")} data-testid="rollout-abort">
                    Abort
                  </Button>
                )}
              </div>
            )}
          </div>
        )}

        {deployment && !active && (
          <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="rollout-deployment-note">
            Change the image, command or environment in the service&apos;s settings: its Kubernetes Deployment rolls the pods one at a time (maxSurge 1, maxUnavailable 0), and the rollout shows here.
          </p>
        )}
        {canOperate && !deployment && !active && !showForm && (
          <Button size="sm" variant="secondary" onClick={() => setShowForm(true)} data-testid="rollout-new">
            New rollout…
          </Button>
        )}
        {canOperate && !deployment && !active && showForm && (
          <form
            aria-label="new rollout"
            className="space-y-3"
            onSubmit={(e) => {
              e.preventDefault();
              void start();
            }}
          >
            <div className="grid gap-3 sm:grid-cols-2">
              <Field label="strategy">
                <Select value={draft.strategy} onChange={(e) => edit({ strategy: e.target.value as RolloutDraft["strategy"] })} data-testid="rollout-strategy">
                  {!swarm && <option value="canary">canary: traffic by weight, step by step</option>}
                  <option value="rolling">{swarm ? "rolling: Swarm's update, tasks in batches" : "rolling: replicas in batches"}</option>
                </Select>
              </Field>
              <Field label="image" hint="empty: keep the current one">
                <Input value={draft.image} onChange={(e) => edit({ image: e.target.value })} data-testid="rollout-image" />
              </Field>
              {draft.strategy === "canary" ? (
                <Field label="steps (% of traffic)" error={fieldErrors.weights} hint="then 100 %">
                  <Input value={draft.weights} onChange={(e) => edit({ weights: e.target.value })} data-testid="rollout-weights" />
                </Field>
              ) : (
                <Field label="batch size" error={fieldErrors.batchSize}>
                  <Input inputMode="numeric" value={draft.batchSize} onChange={(e) => edit({ batchSize: e.target.value })} data-testid="rollout-batch" />
                </Field>
              )}
              <Field label={swarm ? "delay between batches (s)" : "hold each step (s)"} error={fieldErrors.holdS} hint={swarm ? "Swarm watches each task 5 s and rolls back on a failure" : undefined}>
                <Input inputMode="numeric" value={draft.holdS} onChange={(e) => edit({ holdS: e.target.value })} data-testid="rollout-hold" />
              </Field>
              {!swarm && (
                <Field label="minimum requests before a gate passes" error={fieldErrors.minRequests}>
                  <Input inputMode="numeric" value={draft.minRequests} onChange={(e) => edit({ minRequests: e.target.value })} data-testid="rollout-min-requests" />
                </Field>
              )}
            </div>
            <Field label="environment (KEY=value a line)" error={fieldErrors.env}>
              <textarea
                value={draft.env}
                onChange={(e) => edit({ env: e.target.value })}
                rows={3}
                className="w-full rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
                data-testid="rollout-env"
              />
            </Field>
            {!swarm && (
              <label className="flex items-center gap-2 text-sm">
                <input type="checkbox" checked={draft.passOnHealthWhenQuiet} onChange={(e) => edit({ passOnHealthWhenQuiet: e.target.checked })} className="h-4 w-4 accent-indigo-600" />A quiet service passes on health checks alone
              </label>
            )}
            <div className="flex flex-wrap gap-2">
              <Button type="submit" size="sm" disabled={busy} data-testid="rollout-start">
                Start rollout
              </Button>
              <Button type="button" size="sm" variant="ghost" onClick={() => setShowForm(false)}>
                Cancel
              </Button>
            </div>
          </form>
        )}
        <InlineError message={error} />
      </div>
    </Card>
  );
}

function GateFigures({ gate }: { gate: NonNullable<RolloutView["lastGate"]> }) {
  const row = (name: string, f: VersionFigures) => (
    <tr>
      <th scope="row" className="py-0.5 pr-3 text-left font-medium">
        {name}
      </th>
      <td className="pr-3 tabular-nums">{f.requests}</td>
      <td className="pr-3 tabular-nums">{f.requests > 0 ? ((100 * f.errors) / f.requests).toFixed(1) : "–"} %</td>
      <td className="pr-3 tabular-nums">{f.p95Ms !== null ? `${Math.round(f.p95Ms)} ms` : "–"}</td>
      <td className="tabular-nums">
        {f.healthy}/{f.replicas}
      </td>
    </tr>
  );
  const tone = gate.verdict === "fail" ? "red" : gate.verdict === "pass" ? "green" : "zinc";
  return (
    <div className="space-y-1" data-testid="rollout-gate" data-verdict={gate.verdict} data-gate={gate.gate ?? ""}>
      <p className="text-sm break-words">
        <Badge tone={tone}>{gate.verdict}</Badge> <span className="text-zinc-700 dark:text-zinc-300">{gate.message}</span>
      </p>
      <div className="overflow-x-auto">
        <table className="text-xs text-zinc-700 dark:text-zinc-300">
          <thead>
            <tr className="text-left text-zinc-500 dark:text-zinc-400">
              <th className="pr-3 font-normal">version</th>
              <th className="pr-3 font-normal">requests</th>
              <th className="pr-3 font-normal">errors</th>
              <th className="pr-3 font-normal">p95</th>
              <th className="font-normal">healthy</th>
            </tr>
          </thead>
          <tbody>
            {row("new", gate.newFigures)}
            {row("old", gate.oldFigures)}
          </tbody>
        </table>
      </div>
    </div>
  );
}
