"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { Badge } from "@/components/ui/badge";
import { api, ApiError } from "@/lib/client/api";
import { trafficSettingsSchema, type TrafficStatus } from "@/lib/core/metrics";
import type { Rules } from "@/lib/core/rules";
import { expectationOf, expectationText, trafficVerdict } from "@/components/traffic/traffic-model";
import { ClientReplicaTable } from "@/components/traffic/client-replica-table";
import { InlineError } from "@/components/ui/inline-error";

type Form = { rps: string; concurrency: string; path: string; durationS: string; clients: string; distinctSourceIps: boolean };

/**
 * The traffic generator: requests from the panel to its own balancer listener
 * on loopback, bounded in rate and time, so the charts move without outside
 * tools. Each simulated client keeps its cookies (and, optionally, its own
 * 127.0.0.x address) and its own timing, so the table shows whether stickiness
 * holds, and a line says whether what the clients saw is what the rules promise.
 */
export function TrafficPanel({
  serviceId,
  status,
  rules,
  canOperate,
  colorOf,
  currentReplicaIds,
  inRotationIds,
  onStatus,
  now,
}: {
  serviceId: string;
  status: TrafficStatus | null;
  rules: Rules;
  canOperate: boolean;
  colorOf: (id: string) => string;
  currentReplicaIds: string[];
  /** replicas the balancer sends traffic to now: under "spread" rules every client should reach each */
  inRotationIds: string[];
  onStatus: (s: TrafficStatus) => void;
  now: number;
}) {
  const [form, setForm] = useState<Form>(() => {
    const s = status?.settings;
    return {
      rps: String(s?.rps ?? 50),
      concurrency: String(s?.concurrency ?? 8),
      path: s?.path ?? "/",
      durationS: String(s?.durationS ?? 120),
      clients: String(s?.clients ?? 6),
      distinctSourceIps: s?.distinctSourceIps ?? true,
    };
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const running = status?.running ?? false;

  // the API's own schema, field by field
  const body = { rps: Number(form.rps), concurrency: Number(form.concurrency), path: form.path, durationS: Number(form.durationS), clients: Number(form.clients), distinctSourceIps: form.distinctSourceIps };
  const parsed = trafficSettingsSchema.safeParse(body);
  const fieldError = (k: keyof Form) => (parsed.success ? null : (parsed.error.issues.find((i) => i.path[0] === k)?.message ?? null));
  const invalid = !parsed.success;

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ traffic: TrafficStatus }>(`/api/services/${serviceId}/traffic`, { body });
      onStatus(res.traffic);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const stop = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ traffic: TrafficStatus }>(`/api/services/${serviceId}/traffic`, { method: "DELETE" });
      onStatus(res.traffic);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const set = (k: keyof Form) => (e: React.ChangeEvent<HTMLInputElement>) => setForm((f) => ({ ...f, [k]: k === "distinctSourceIps" ? e.target.checked : e.target.value }));
  const distinctIps = status?.running && status.settings ? status.settings.distinctSourceIps : form.distinctSourceIps;
  const expectation = expectationOf(rules, distinctIps);
  const verdict = status ? trafficVerdict(expectation, status.servedBy, inRotationIds) : null;
  const left = status?.running && status.endsAt ? Math.max(0, Math.round((status.endsAt - now) / 1000)) : null;

  return (
    <div className="space-y-4" data-testid="traffic-panel" data-running={running ? "true" : "false"}>
      {!canOperate && (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="traffic-viewer-note">
          Operators start and stop the generator; you see its runs here, live.
        </p>
      )}
      {canOperate && (
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
          <Field label="Rate (req/s)" error={fieldError("rps")}>
            <Input name="traffic-rps" inputMode="numeric" value={form.rps} onChange={set("rps")} disabled={running} />
          </Field>
          <Field label="Concurrency" error={fieldError("concurrency")}>
            <Input name="traffic-concurrency" inputMode="numeric" value={form.concurrency} onChange={set("concurrency")} disabled={running} />
          </Field>
          <Field label="Path" error={fieldError("path")}>
            <Input name="traffic-path" value={form.path} onChange={set("path")} disabled={running} />
          </Field>
          <Field label="Duration (s, max 600)" error={fieldError("durationS")}>
            <Input name="traffic-duration" inputMode="numeric" value={form.durationS} onChange={set("durationS")} disabled={running} />
          </Field>
          <Field label="Clients" error={fieldError("clients")}>
            <Input name="traffic-clients" inputMode="numeric" value={form.clients} onChange={set("clients")} disabled={running} />
          </Field>
          <div className="flex flex-col justify-end gap-2">
            <label className="inline-flex items-center gap-1.5 text-xs" title="each client sends from its own loopback address 127.0.0.x, so source-IP stickiness can tell them apart">
              <input type="checkbox" name="traffic-distinct-ips" checked={form.distinctSourceIps} onChange={set("distinctSourceIps")} disabled={running} />
              distinct source IPs
            </label>
            {running ? (
              <Button variant="danger" onClick={() => void stop()} disabled={busy}>
                Stop traffic
              </Button>
            ) : (
              <Button onClick={() => void start()} disabled={busy || Boolean(invalid)}>
                Start traffic
              </Button>
            )}
          </div>
        </div>
      )}
      <InlineError message={error} />

      <div className="flex flex-wrap items-center gap-x-6 gap-y-2 text-sm">
        <Badge tone={running ? "green" : "zinc"}>{running ? "running" : "stopped"}</Badge>
        {status?.settings && (
          <span className="text-xs text-zinc-500">
            {status.settings.rps} req/s · {status.settings.clients} clients{status.settings.distinctSourceIps ? " (own 127.0.0.x each)" : ""} · GET {status.settings.path}
            {left !== null ? ` · stops by itself in ${left} s` : ""}
          </span>
        )}
        <span>
          sent <strong className="tabular-nums" data-testid="traffic-sent">{status?.sent ?? 0}</strong>
        </span>
        <span>
          ok <strong className="tabular-nums text-emerald-700 dark:text-emerald-400" data-testid="traffic-ok">{status?.ok ?? 0}</strong>
        </span>
        <span>
          failed{" "}
          <strong className={`tabular-nums ${status?.failed ? "text-rose-600 dark:text-rose-400" : ""}`} data-testid="traffic-failed">
            {status?.failed ?? 0}
          </strong>
        </span>
        {status?.lastError && <span className="text-xs text-rose-600 dark:text-rose-400">last error: {status.lastError}</span>}
      </div>

      <p className="text-xs text-zinc-500">
        Rules: {expectationText(rules, distinctIps)}.
        {verdict && (
          <>
            {" "}
            <span data-testid="traffic-verdict" data-expectation={verdict.expectation} data-holds={verdict.holds ? "true" : "false"} className={verdict.holds ? "font-medium text-emerald-700 dark:text-emerald-400" : "font-medium text-amber-700 dark:text-amber-400"}>
              {verdict.holds ? "✓" : "≠"} {verdict.text}
            </span>
          </>
        )}
      </p>

      {status && Object.keys(status.servedBy).length > 0 ? (
        <ClientReplicaTable servedBy={status.servedBy} lastReplica={status.lastReplica} colorOf={colorOf} currentReplicaIds={currentReplicaIds} />
      ) : (
        <p className="text-xs text-zinc-500">
          {canOperate ? "Start traffic to see which replica serves each simulated client." : "No run yet."}
        </p>
      )}
    </div>
  );
}
