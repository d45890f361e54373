"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { api, ApiError } from "@/lib/client/api";
import type { ServiceAction } from "@/lib/core/service";
import { customAnswerText, type CustomAnswer } from "@/components/replicas/custom-answer";

type Shown = { tone: "busy" | "ok" | "warn" | "error"; head: string; body?: string };

/**
 * The app's own actions (issue 14) as buttons on one replica's card. Each goes to this
 * instance's own data or admin port, never through the balancer; the answer's status and
 * (truncated) body are shown as plain text, never as HTML.
 */
export function CustomActions({ replicaId, actions, disabled }: { replicaId: string; actions: ServiceAction[]; disabled: boolean }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [asking, setAsking] = useState<ServiceAction | null>(null);
  if (actions.length === 0) return null;

  const press = async (a: ServiceAction) => {
    setAsking(null);
    setShown({ tone: "busy", head: `${a.name}: ${a.method} ${a.path}…` });
    try {
      const res = await api<{ result: CustomAnswer }>(`/api/replicas/${replicaId}/actions`, { body: { action: "custom", name: a.name } });
      const r = res.result;
      const { head, body } = customAnswerText(a, r);
      setShown({ tone: r.status >= 200 && r.status < 400 ? "ok" : "warn", head, body });
    } catch (e) {
      setShown({ tone: "error", head: `${a.name} failed: ${e instanceof ApiError ? e.message : String(e)}` });
    }
  };

  return (
    <div className="space-y-1.5" data-testid="custom-actions">
      <div className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase">
        The app&apos;s actions <span className="font-normal tracking-normal normal-case">· straight to this instance, never through the balancer</span>
      </div>
      <div className="flex flex-wrap items-center gap-1.5">
        {actions.map((a) => (
          <Button
            key={a.name}
            size="sm"
            variant="secondary"
            aria-label={`${a.name} on replica ${replicaId}`}
            title={`${a.method} ${a.path} on its ${a.port} port`}
            disabled={disabled}
            onClick={() => (a.confirm ? setAsking(a) : void press(a))}
          >
            {a.name}
          </Button>
        ))}
      </div>
      {asking && (
        <div role="alertdialog" aria-label={`confirm: ${asking.name} on replica ${replicaId}`} className="flex flex-wrap items-center gap-2 rounded-md border border-amber-300 bg-amber-50 px-2.5 py-2 text-xs text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
          <span className="min-w-0 flex-1 break-words">
            Send {asking.method} {asking.path} to replica {replicaId}&apos;s {asking.port} port?
          </span>
          <Button size="sm" variant="primary" aria-label={`${asking.name} on replica ${replicaId} now`} onClick={() => void press(asking)}>
            {asking.name}
          </Button>
          <Button size="sm" variant="secondary" aria-label={`Cancel ${asking.name} on replica ${replicaId}`} onClick={() => setAsking(null)}>
            Cancel
          </Button>
        </div>
      )}
      {shown && (
        <div data-testid="custom-action-result" data-tone={shown.tone} role={shown.tone === "error" ? "alert" : "status"} className="min-w-0 space-y-1 text-xs">
          <p className={shown.tone === "error" ? "text-rose-700 dark:text-rose-400" : shown.tone === "ok" ? "text-emerald-700 dark:text-emerald-400" : shown.tone === "warn" ? "text-amber-700 dark:text-amber-400" : "text-zinc-500"}>{shown.head}</p>
          {shown.body !== undefined && (
            <pre className="max-h-32 overflow-auto rounded bg-zinc-100 p-1.5 font-mono text-[11px] break-all whitespace-pre-wrap text-zinc-800 dark:bg-zinc-900 dark:text-zinc-200">{shown.body}</pre>
          )}
        </div>
      )}
    </div>
  );
}
