"use client";

import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { api, ApiError } from "@/lib/client/api";
import type { ServiceView } from "@/lib/services/views";
import { InlineError } from "@/components/ui/inline-error";

/** How long the slider stays locked by replicas that keep starting/draining before it offers "Scale anyway". */
const STUCK_MS = 30_000;

/**
 * The scaling slider: pick a number, confirm, watch the cards move. It is
 * locked while replicas start or drain, so two scale moves never cross.
 */
export function ScaleControl({ service, canOperate, onScaled, autoscaling = false }: { service: ServiceView; canOperate: boolean; onScaled: (s: ServiceView) => void; autoscaling?: boolean }) {
  const [target, setTarget] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [lockedSince, setLockedSince] = useState<number | null>(null);
  const [override, setOverride] = useState(false);
  const [now, setNow] = useState(0);

  const starting = service.instances.filter((r) => r.state === "starting").length;
  const draining = service.instances.filter((r) => r.state === "draining").length;
  // drained, its process still stopping: the scale-in has not finished (the card says "stopping")
  const stopping = service.instances.filter((r) => r.state === "stopping").length;
  const leaving = draining + stopping;
  const staying = service.instances.filter((r) => r.state !== "draining" && r.state !== "stopping");
  // replicas starting or leaving, or the controller has not caught up with the desired count yet
  const moving = starting + leaving > 0 || staying.length !== service.replicas;
  const locked = moving && !override;

  useEffect(() => {
    if (!moving) {
      setLockedSince(null);
      setOverride(false);
      return;
    }
    setLockedSince((s) => s ?? Date.now());
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [moving]);

  const value = target ?? service.replicas;
  const max = service.maxReplicas;

  const apply = async () => {
    if (target === null) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ service: ServiceView }>(`/api/services/${service.id}`, { method: "PATCH", body: { replicas: target } });
      onScaled(res.service);
      setTarget(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const parts: string[] = [];
  if (starting) parts.push(`${starting} starting`);
  if (draining) parts.push(`${draining} draining`);
  if (stopping) parts.push(`${stopping} stopping`);
  const missing = service.replicas - staying.length;
  if (missing > 0) parts.push(`${missing} to start`);
  if (missing < 0) parts.push(`${-missing} to stop`);

  return (
    <div data-testid="scale-control" data-desired={service.replicas} data-locked={locked ? "true" : "false"} className="space-y-2">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <span className="text-sm font-semibold">Replicas</span>
        <span className="text-sm">
          desired <span className="font-semibold tabular-nums" data-testid="desired-replicas">{service.replicas}</span>
          <span className="text-zinc-500">
            {" "}
            · running {staying.length}
            {starting + leaving ? ` (${[starting ? `${starting} starting` : "", draining ? `${draining} draining` : "", stopping ? `${stopping} stopping` : ""].filter(Boolean).join(", ")})` : ""}
          </span>
        </span>
      </div>
      <div className="flex items-center gap-3">
        <span className="w-4 text-right text-xs text-zinc-500 tabular-nums">{service.minReplicas}</span>
        <input
          type="range"
          aria-label="desired replicas"
          min={service.minReplicas}
          max={max}
          step={1}
          value={value}
          disabled={!canOperate || locked || busy}
          onChange={(e) => setTarget(Number(e.target.value) === service.replicas ? null : Number(e.target.value))}
          className="h-2 w-full cursor-pointer accent-indigo-600 disabled:cursor-not-allowed disabled:opacity-50"
          list={`ticks-${service.id}`}
        />
        <span className="w-6 text-xs text-zinc-500 tabular-nums">{max}</span>
        <span className="w-10 rounded bg-zinc-100 px-1.5 py-0.5 text-center text-sm font-semibold tabular-nums dark:bg-zinc-800" aria-hidden>
          {value}
        </span>
      </div>
      <datalist id={`ticks-${service.id}`}>
        {Array.from({ length: max - service.minReplicas + 1 }, (_, i) => (
          <option key={i} value={service.minReplicas + i} />
        ))}
      </datalist>

      {!canOperate && <p className="text-xs text-zinc-500">Viewers see the scale; operators change it.</p>}
      {canOperate && autoscaling && (
        <p className="text-xs text-emerald-800 dark:text-emerald-300" data-testid="scale-autoscaling">
          The autoscaler sets this count now; moving the slider pauses it (Resume on the Autoscaling card).
        </p>
      )}

      {canOperate && locked && (
        <p className="text-xs text-sky-700 dark:text-sky-300" data-testid="scale-locked">
          Scaling in progress ({parts.join(", ")}): the slider unlocks when every replica is in rotation or stopped and gone.
          {lockedSince !== null && now - lockedSince > STUCK_MS && (
            <>
              {" "}
              <button type="button" className="underline" onClick={() => setOverride(true)}>
                Scale anyway
              </button>
            </>
          )}
        </p>
      )}

      {target !== null && canOperate && (
        <div role="alertdialog" aria-label="confirm scaling" className="flex flex-wrap items-center gap-2 rounded-md border border-indigo-200 bg-indigo-50 px-3 py-2 text-sm dark:border-indigo-900 dark:bg-indigo-950/40">
          <span className="flex-1">
            Scale <strong>{service.name}</strong> from {service.replicas} to {target} replicas?
            <span className="block text-xs text-zinc-600 dark:text-zinc-400">
              {target > service.replicas
                ? `${target - service.replicas} new replica${target - service.replicas > 1 ? "s" : ""} start and join the balancer once healthy.`
                : `${service.replicas - target} replica${service.replicas - target > 1 ? "s" : ""} drain (no new requests, in-flight ones finish), then stop.`}
              {autoscaling ? " The autoscaler pauses until resumed." : ""}
            </span>
          </span>
          <Button size="sm" onClick={() => void apply()} disabled={busy}>
            {busy ? "Applying…" : "Apply"}
          </Button>
          <Button size="sm" variant="secondary" onClick={() => setTarget(null)} disabled={busy}>
            Cancel
          </Button>
        </div>
      )}
      <InlineError message={error} />
    </div>
  );
}
