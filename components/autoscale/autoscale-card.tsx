"use client";

import { useEffect, useState } from "react";
import { AUTOSCALE_METRICS, HPA_DEFAULTS, METRIC_LOOK, formatFigure, type AutoscaleView } from "@/lib/core/autoscale";
import { api, ApiError } from "@/lib/client/api";
import { Card } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { InlineError } from "@/components/ui/inline-error";
import { EventTime } from "@/components/events/event-time";
import { draftOf, settingsOf, WINDOW_PRESETS, type AutoscaleDraft } from "@/components/autoscale/autoscale-model";

/**
 * The service page's Autoscaling card (issue 16): on/off, min and max, the scale-down
 * window, the targets; whether a person's slider paused it, with Resume; the loop's last
 * word; the last changes it made. Viewers read it; operators change it.
 */
export function AutoscaleCard({ view, canOperate, onChange, serviceMax }: { view: AutoscaleView; canOperate: boolean; onChange: (v: AutoscaleView) => void; serviceMax: number }) {
  const [draft, setDraft] = useState<AutoscaleDraft>(() => draftOf(view));
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  // the stored settings, unless the person is editing
  useEffect(() => {
    if (!dirty) setDraft(draftOf(view));
  }, [view, dirty]);

  const edit = (change: (d: AutoscaleDraft) => AutoscaleDraft) => {
    setDraft((d) => change(d));
    setDirty(true);
    setFieldErrors({});
  };

  const call = async (path: string, init: { method: string; body?: unknown }) => {
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ autoscale: AutoscaleView }>(path, init);
      onChange(res.autoscale);
      setDirty(false);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const save = () => {
    const out = settingsOf(draft);
    if (!out.ok) {
      setFieldErrors(out.errors);
      return;
    }
    void call(`/api/services/${view.serviceId}/autoscale`, { method: "PUT", body: out.settings });
  };

  const state = !view.enabled ? { tone: "zinc" as const, text: "off" } : view.paused ? { tone: "amber" as const, text: "paused" } : { tone: "green" as const, text: "on" };
  const disabled = !canOperate || busy;

  return (
    <Card
      title="Autoscaling"
      actions={
        <span data-testid="autoscale-state" data-state={state.text}>
          <Badge tone={state.tone}>{view.enabled ? `${state.text} · ${view.minReplicas}-${view.maxReplicas} replicas` : state.text}</Badge>
        </span>
      }
    >
      <div className="space-y-4" data-testid="autoscale-card">
        {view.paused && (
          <div role="status" data-testid="autoscale-paused" className="flex flex-wrap items-center gap-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
            <span className="min-w-0 flex-1">
              {view.paused.by === "rollout" ? (
                <>
                  Held: a rollout is in progress (<EventTime iso={view.paused.at} />). The autoscaler leaves the replica count alone until it ends.
                </>
              ) : (
                <>
                  Paused: <strong>{view.paused.by}</strong> moved the slider (<EventTime iso={view.paused.at} />). The autoscaler leaves the replica count alone until it is resumed.
                </>
              )}
            </span>
            {canOperate && (
              <Button size="sm" onClick={() => void call(`/api/services/${view.serviceId}/autoscale/resume`, { method: "POST" })} disabled={busy} data-testid="autoscale-resume">
                Resume
              </Button>
            )}
          </div>
        )}
        {view.enabled && !view.paused && (
          <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="autoscale-status">
            {view.status ? (
              <>
                Last check: <span className="font-mono text-xs">{view.status.reason}</span>
              </>
            ) : (
              "Waiting for its first check (every 3 s, over the last 5 s of figures)."
            )}
            <span className="block text-xs text-zinc-600 dark:text-zinc-400">Moving the slider pauses it: the person and the autoscaler never fight.</span>
          </p>
        )}

        <div className="grid gap-4 lg:grid-cols-2">
          <form
            className="min-w-0 space-y-3"
            aria-label="autoscaling settings"
            onSubmit={(e) => {
              e.preventDefault();
              save();
            }}
          >
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={draft.enabled} disabled={disabled} onChange={(e) => edit((d) => ({ ...d, enabled: e.target.checked }))} className="h-4 w-4 accent-indigo-600" data-testid="autoscale-enabled" />
              Scale this service on its own (the Kubernetes HPA&apos;s rule)
            </label>
            <div className="grid grid-cols-3 gap-2">
              <Field label="min replicas" error={fieldErrors.minReplicas}>
                <Input inputMode="numeric" value={draft.minReplicas} disabled={disabled} onChange={(e) => edit((d) => ({ ...d, minReplicas: e.target.value }))} data-testid="autoscale-min" />
              </Field>
              <Field label="max replicas" error={fieldErrors.maxReplicas} hint={`at most ${serviceMax}`}>
                <Input inputMode="numeric" value={draft.maxReplicas} disabled={disabled} onChange={(e) => edit((d) => ({ ...d, maxReplicas: e.target.value }))} data-testid="autoscale-max" />
              </Field>
              <Field label="window (s)" error={fieldErrors.windowS}>
                <Input inputMode="numeric" value={draft.windowS} disabled={disabled} onChange={(e) => edit((d) => ({ ...d, windowS: e.target.value }))} data-testid="autoscale-window" />
              </Field>
            </div>
            <div className="flex flex-wrap items-center gap-2 text-xs text-zinc-700 dark:text-zinc-300">
              <span>Scale-down window:</span>
              {WINDOW_PRESETS.map((p) => (
                <button
                  key={p.s}
                  type="button"
                  disabled={disabled}
                  aria-pressed={draft.windowS === String(p.s)}
                  onClick={() => edit((d) => ({ ...d, windowS: String(p.s) }))}
                  className={`rounded-md px-2 py-0.5 ring-1 ring-inset ring-zinc-300 disabled:opacity-50 dark:ring-zinc-700 ${draft.windowS === String(p.s) ? "bg-indigo-50 font-semibold text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200" : ""}`}
                >
                  {p.label}
                </button>
              ))}
            </div>
            <fieldset className="space-y-1.5">
              <legend className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Targets per replica (the largest need wins)</legend>
              {AUTOSCALE_METRICS.map((m) => {
                const t = draft.targets[m];
                const look = METRIC_LOOK[m];
                const err = fieldErrors[`targets.${m}`];
                return (
                  <div key={m} className="flex flex-wrap items-center gap-x-2 gap-y-1">
                    <label className="flex min-w-0 flex-1 basis-40 items-center gap-2 text-sm">
                      <input
                        type="checkbox"
                        checked={t.on}
                        disabled={disabled}
                        onChange={(e) => edit((d) => ({ ...d, targets: { ...d.targets, [m]: { ...t, on: e.target.checked } } }))}
                        className="h-4 w-4 shrink-0 accent-indigo-600"
                        data-testid={`autoscale-target-${m}`}
                      />
                      {look.label}
                    </label>
                    <span className="flex items-center gap-1">
                      <Input
                        aria-label={`${look.label} target`}
                        inputMode="decimal"
                        value={t.value}
                        disabled={disabled || !t.on}
                        onChange={(e) => edit((d) => ({ ...d, targets: { ...d.targets, [m]: { ...t, value: e.target.value } } }))}
                        className="w-24"
                        data-testid={`autoscale-value-${m}`}
                      />
                      <span className="w-10 text-xs text-zinc-600 dark:text-zinc-400">{look.unit}</span>
                    </span>
                    {err && <span className="basis-full text-xs text-rose-600 dark:text-rose-400">{err}</span>}
                  </div>
                );
              })}
              {fieldErrors.targets && <span className="block text-xs text-rose-600 dark:text-rose-400">{fieldErrors.targets}</span>}
            </fieldset>
            <p className="text-xs text-zinc-600 dark:text-zinc-400">
              desired = ceil(replicas × figure / target); no change within 10 %; up at once (at most double or +4 per {HPA_DEFAULTS.scaleUpPeriodS} s); down only to the highest need of the window; replicas ready for less than {HPA_DEFAULTS.readinessDelayS} s do not count.
            </p>
            {canOperate && (
              <div className="flex flex-wrap items-center gap-2">
                <Button type="submit" size="sm" disabled={busy || !dirty} data-testid="autoscale-save">
                  {busy ? "Saving…" : "Save"}
                </Button>
                {dirty && (
                  <Button
                    type="button"
                    size="sm"
                    variant="secondary"
                    onClick={() => {
                      setDirty(false);
                      setFieldErrors({});
                    }}
                  >
                    Cancel
                  </Button>
                )}
                {view.paused && dirty && <span className="text-xs text-zinc-600 dark:text-zinc-400">Saving also resumes it.</span>}
              </div>
            )}
            <InlineError message={error} />
          </form>

          <div className="min-w-0 space-y-1.5">
            <h3 className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Its last decisions</h3>
            {view.decisions.length === 0 ? (
              <p className="text-sm text-zinc-600 dark:text-zinc-400">None yet. Each change it makes is listed here and marked AS on the charts.</p>
            ) : (
              <ul className="space-y-1.5" data-testid="autoscale-decisions">
                {view.decisions.map((d) => (
                  <li key={d.id} className="rounded-md bg-zinc-50 px-2 py-1.5 text-sm dark:bg-zinc-800/60" data-testid="autoscale-decision">
                    <div className="flex flex-wrap items-center gap-2">
                      <EventTime iso={d.at} />
                      <Badge tone={d.to > d.from ? "blue" : "violet"}>
                        {d.from} → {d.to}
                      </Badge>
                    </div>
                    <div className="break-words text-xs text-zinc-700 dark:text-zinc-300">{d.message.replace(/^autoscaler scaled [^:]+: /, "")}</div>
                  </li>
                ))}
              </ul>
            )}
            {view.enabled && view.targets.length > 0 && (
              <p className="text-xs text-zinc-600 dark:text-zinc-400">
                Targets: {view.targets.map((t) => `${METRIC_LOOK[t.metric].short} ${formatFigure(t.metric, t.value)}`).join(", ")}; window {view.windowS} s.
              </p>
            )}
          </div>
        </div>
      </div>
    </Card>
  );
}
