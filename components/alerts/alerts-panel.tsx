"use client";

import { useCallback, useEffect, useState } from "react";
import type { SwitchyardEvent } from "@/lib/events";
import { ALERT_KINDS, ALERT_KIND_LOOK, alertSettingsSchema, type AlertKind, type AlertRule, type AlertSettingsView } from "@/lib/core/alerts";
import { api, ApiError } from "@/lib/client/api";
import { liveSocket } from "@/lib/client/live";
import { Card } from "@/components/ui/card";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, Input, Select } from "@/components/ui/field";
import { InlineError } from "@/components/ui/inline-error";
import { EventTime } from "@/components/events/event-time";

type ServiceOption = { id: string; name: string };
type DraftRule = { id: string; kind: AlertKind; serviceId: string; threshold: string; forS: string; resolveS: string };

const HISTORY = 20;

const draftOf = (r: AlertRule): DraftRule => ({ id: r.id, kind: r.kind, serviceId: r.serviceId ?? "", threshold: String(r.threshold), forS: String(r.forS), resolveS: String(r.resolveS) });
const newId = (rules: DraftRule[]) => {
  for (let i = rules.length + 1; ; i++) if (!rules.some((r) => r.id === `r${i}`)) return `r${i}`;
};

/**
 * Settings → Alerts (issue 16, part 3): the rules, the webhook (its secret is written, never
 * read back), what fires now, and the history (alert.* events). Every role reads it;
 * admins change it.
 */
export function AlertsPanel({ initial, services, canEdit }: { initial: AlertSettingsView; services: ServiceOption[]; canEdit: boolean }) {
  const [view, setView] = useState(initial);
  const [rules, setRules] = useState<DraftRule[]>(initial.rules.map(draftOf));
  const [url, setUrl] = useState(initial.webhook?.url ?? "");
  const [secret, setSecret] = useState("");
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState<SwitchyardEvent[]>([]);

  const refresh = useCallback(() => {
    void api<{ alerts: AlertSettingsView }>("/api/alerts")
      .then((r) => setView(r.alerts))
      .catch(() => undefined);
    void api<{ events: SwitchyardEvent[] }>(`/api/events?kind=alert&limit=${HISTORY}`)
      .then((r) => setHistory(r.events))
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    refresh();
    const s = liveSocket();
    const onEvent = (e: SwitchyardEvent) => {
      if (e.kind.startsWith("alert.")) refresh();
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
  }, [refresh]);

  const edit = (i: number, change: Partial<DraftRule>) => {
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)));
    setDirty(true);
  };

  const save = async () => {
    setError(null);
    const body = {
      webhook: url.trim() ? { url: url.trim(), ...(secret ? { secret } : {}) } : null,
      rules: rules.map((r) => ({ id: r.id, kind: r.kind, serviceId: r.kind === "certificate_expiry" ? null : r.serviceId || null, threshold: Number(r.threshold || 0), forS: Number(r.forS), resolveS: Number(r.resolveS) })),
    };
    const checked = alertSettingsSchema.safeParse(body);
    if (!checked.success) {
      setError(checked.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
      return;
    }
    setBusy(true);
    try {
      const res = await api<{ alerts: AlertSettingsView }>("/api/alerts", { method: "PUT", body: checked.data });
      setView(res.alerts);
      setRules(res.alerts.rules.map(draftOf));
      setSecret("");
      setDirty(false);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const disabled = !canEdit || busy;
  const firing = view.active;

  return (
    <Card title="Alerts" actions={<Badge tone={firing.length ? "red" : "green"}>{firing.length ? `${firing.length} firing` : "none firing"}</Badge>}>
      <div className="space-y-4" data-testid="alerts-panel">
        <section aria-label="firing now" className="space-y-1">
          <h3 className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Firing now</h3>
          {firing.length === 0 ? (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">Nothing.</p>
          ) : (
            <ul className="space-y-1" data-testid="alerts-firing">
              {firing.map((a) => (
                <li key={a.key} className="rounded-md border border-rose-300 bg-rose-50 px-2 py-1.5 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950/40 dark:text-rose-200">
                  {a.summary}
                  {a.phase === "resolving" && <span className="ml-1 text-xs">(clearing: resolves when it stays away)</span>}
                </li>
              ))}
            </ul>
          )}
        </section>

        <form
          className="space-y-3"
          aria-label="alert rules"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <div className="grid gap-2 sm:grid-cols-2">
            <Field label="Webhook URL (a POST with JSON for each firing and resolved)">
              <Input
                value={url}
                disabled={disabled}
                placeholder="https://hooks.example/switchyard"
                onChange={(e) => {
                  setUrl(e.target.value);
                  setDirty(true);
                }}
                data-testid="alerts-webhook-url"
              />
            </Field>
            <Field label="Signing secret (HMAC-SHA256, X-Switchyard-Signature)" hint={view.webhook?.signed ? "A secret is set; type a new one to replace it." : "None: deliveries are not signed."}>
              <Input
                type="password"
                autoComplete="new-password"
                value={secret}
                disabled={disabled}
                onChange={(e) => {
                  setSecret(e.target.value);
                  setDirty(true);
                }}
              />
            </Field>
          </div>

          <fieldset className="space-y-2">
            <legend className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Rules (fires after holding for “for”, resolves after being gone for “resolve”)</legend>
            {rules.length === 0 && <p className="text-sm text-zinc-600 dark:text-zinc-400">No rules.</p>}
            {rules.map((r, i) => {
              const look = ALERT_KIND_LOOK[r.kind];
              return (
                <div key={r.id} className="grid grid-cols-2 gap-2 rounded-md bg-zinc-50 p-2 sm:grid-cols-7 dark:bg-zinc-800/60" data-testid="alert-rule">
                  <div className="col-span-2">
                    <Field label="when">
                      <Select value={r.kind} disabled={disabled} onChange={(e) => edit(i, { kind: e.target.value as AlertKind })}>
                        {ALERT_KINDS.map((k) => (
                          <option key={k} value={k}>
                            {ALERT_KIND_LOOK[k].label}
                          </option>
                        ))}
                      </Select>
                    </Field>
                  </div>
                  <Field label="service">
                    <Select value={r.kind === "certificate_expiry" ? "" : r.serviceId} disabled={disabled || r.kind === "certificate_expiry"} onChange={(e) => edit(i, { serviceId: e.target.value })}>
                      <option value="">{r.kind === "certificate_expiry" ? "the balancer's certificates" : "every service"}</option>
                      {services.map((s) => (
                        <option key={s.id} value={s.id}>
                          {s.name}
                        </option>
                      ))}
                    </Select>
                  </Field>
                  <Field label={look.threshold ? `${look.threshold.label}${look.threshold.unit ? ` (${look.threshold.unit})` : ""}` : "threshold"}>
                    <Input inputMode="decimal" value={look.threshold ? r.threshold : "–"} disabled={disabled || !look.threshold} onChange={(e) => edit(i, { threshold: e.target.value })} />
                  </Field>
                  <Field label="for (s)">
                    <Input inputMode="numeric" value={r.forS} disabled={disabled} onChange={(e) => edit(i, { forS: e.target.value })} />
                  </Field>
                  <Field label="resolve (s)">
                    <Input inputMode="numeric" value={r.resolveS} disabled={disabled} onChange={(e) => edit(i, { resolveS: e.target.value })} />
                  </Field>
                  {canEdit && (
                    <div className="flex items-end">
                      <Button
                        type="button"
                        size="sm"
                        variant="secondary"
                        disabled={busy}
                        onClick={() => {
                          setRules((rs) => rs.filter((_, j) => j !== i));
                          setDirty(true);
                        }}
                      >
                        Remove
                      </Button>
                    </div>
                  )}
                </div>
              );
            })}
          </fieldset>
          {canEdit ? (
            <div className="flex flex-wrap items-center gap-2">
              <Button
                type="button"
                size="sm"
                variant="secondary"
                disabled={busy || rules.length >= 50}
                onClick={() => {
                  setRules((rs) => [...rs, { id: newId(rs), kind: "replica_down", serviceId: "", threshold: "0", forS: "10", resolveS: "10" }]);
                  setDirty(true);
                }}
              >
                Add a rule
              </Button>
              <Button type="submit" size="sm" disabled={busy || !dirty} data-testid="alerts-save">
                {busy ? "Saving…" : "Save"}
              </Button>
            </div>
          ) : (
            <p className="text-xs text-zinc-600 dark:text-zinc-400">Admins change the rules and the webhook.</p>
          )}
          <InlineError message={error} />
        </form>

        <section aria-label="alert history" className="space-y-1">
          <h3 className="text-xs font-medium text-zinc-700 dark:text-zinc-300">History</h3>
          {history.length === 0 ? (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">No alerts yet.</p>
          ) : (
            <ul className="space-y-1" data-testid="alerts-history">
              {history.map((e) => (
                <li key={e.id} className="flex flex-wrap items-baseline gap-x-2 text-sm">
                  <EventTime iso={e.at} />
                  <Badge tone={e.kind === "alert.firing" || e.kind === "alert.delivery-failed" ? "red" : e.kind === "alert.resolved" ? "green" : "zinc"}>{e.kind.replace("alert.", "")}</Badge>
                  <span className="min-w-0 break-words">{e.message}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </Card>
  );
}
