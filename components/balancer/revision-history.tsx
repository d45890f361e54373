"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { api, ApiError } from "@/lib/client/api";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { DiffView } from "@/components/rules/diff-view";
import { When } from "@/components/balancer/when";
import type { RevisionRow } from "@/components/balancer/types";
import { describeServerChanges, type ServerChange } from "@/lib/core/revision-changes";

type Message = { tone: "success" | "error"; text: string } | null;

/** A revision with what it changed apart from what scaling changed meanwhile (lib/services/revisions.ts). */
export type RevisionWithChanges = RevisionRow & { rulesDiff: string; scaling: ServerChange[]; previous: number | null };

/** The revision's own change (its rules), the servers scaling moved since the one before, and the full engine diff on request. */
function RevisionChanges({ r, failed }: { r: RevisionWithChanges; failed: boolean }) {
  const [showEngine, setShowEngine] = useState(false);
  return (
    <div className="mt-2 space-y-2" data-testid={`revision-changes-${r.number}`}>
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        {r.previous === null ? "The rules of every service, as this first revision set them:" : `The rules ${failed ? "it would have changed" : "it changed"}, against revision #${r.previous}:`}
      </p>
      <div data-testid={`revision-rules-diff-${r.number}`}>
        <DiffView diff={r.rulesDiff} emptyText="No rule changed (the same rules as the revision before it)." />
      </div>
      {r.scaling.length > 0 && (
        <p data-testid={`revision-scaling-${r.number}`} className="rounded-md bg-zinc-50 px-2.5 py-1.5 text-xs text-zinc-700 dark:bg-zinc-800/60 dark:text-zinc-300">
          Not from this revision: scaling since #{r.previous} changed the servers ({describeServerChanges(r.scaling)}). The engine configuration below holds them too.
        </p>
      )}
      <Button size="sm" variant="ghost" aria-expanded={showEngine} aria-label={`${showEngine ? "Hide" : "Show"} the ${r.engine} configuration diff of revision ${r.number}`} onClick={() => setShowEngine((v) => !v)}>
        {showEngine ? "Hide" : "Show"} the {r.engine} configuration diff
      </Button>
      {showEngine && (
        <div data-testid={`revision-engine-diff-${r.number}`}>
          <DiffView diff={r.diff} emptyText="Same configuration as the revision before it." />
        </div>
      )}
    </div>
  );
}

/** Every revision, newest first: status, who and when, the diff, the engine's error, and rollback. */
export function RevisionHistory({ revisions, current, canEdit, serviceNames }: { revisions: RevisionWithChanges[]; current: number; canEdit: boolean; serviceNames: Record<string, string> }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState<number | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [showAll, setShowAll] = useState(false);
  const shown = showAll ? revisions : revisions.slice(0, 10);

  const rollback = async (n: number) => {
    setBusy(n);
    setMessage(null);
    try {
      const res = await api<{ revision: { number: number } }>(`/api/balancer/revisions/${n}/rollback`, { method: "POST", body: {} });
      setMessage({ tone: "success", text: `Rolled back: revision ${res.revision.number} re-applies the rules of revision ${n} and is live now.` });
      router.refresh();
    } catch (e) {
      const text = e instanceof ApiError ? e.message : String(e);
      setMessage({ tone: "error", text: `Rollback to revision ${n} failed; nothing changed.\n${text}` });
      router.refresh();
    } finally {
      setBusy(null);
      setConfirming(null);
    }
  };

  return (
    <Card title="Revision history" actions={<span className="text-xs text-zinc-500">{revisions.length === 0 ? "" : `last ${revisions.length}`}</span>}>
      {message && (
        <div className="mb-3" data-testid="rollback-message">
          <Alert tone={message.tone}>{message.text}</Alert>
        </div>
      )}
      {revisions.length === 0 ? (
        <EmptyState title="No revisions yet">Every apply, rollback and service change records a numbered revision here.</EmptyState>
      ) : (
        <ol data-testid="revision-list" className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {shown.map((r) => {
            const failed = r.status !== "applied";
            const isLive = r.number === current;
            return (
              <li key={r.number} data-testid={`revision-${r.number}`} data-status={r.status} className="py-2.5">
                <div className="flex flex-wrap items-center gap-x-3 gap-y-1.5">
                  <span className="w-10 font-mono text-sm font-semibold">#{r.number}</span>
                  <Badge tone={failed ? "red" : "green"}>{r.status}</Badge>
                  {isLive && <Badge tone="blue">live</Badge>}
                  <span className="min-w-0 flex-1 text-sm">
                    {r.summary}
                    {r.serviceId && serviceNames[r.serviceId] && !r.summary.includes(serviceNames[r.serviceId]) && <span className="text-zinc-500"> · {serviceNames[r.serviceId]}</span>}
                  </span>
                  <span className="text-xs text-zinc-500">
                    {r.author} · <When iso={r.createdAt} /> · {r.engine}
                  </span>
                  {canEdit && !failed && !isLive && confirming !== r.number && (
                    <Button size="sm" variant="secondary" data-testid={`rollback-${r.number}`} aria-label={`Roll back to this: revision ${r.number}`} disabled={busy !== null} onClick={() => setConfirming(r.number)}>
                      Roll back to this
                    </Button>
                  )}
                </div>
                {confirming === r.number && (
                  <div data-testid={`rollback-confirm-${r.number}`} className="mt-2 flex flex-wrap items-center gap-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-200">
                    <span className="flex-1">
                      Re-apply the rules of revision {r.number} to every service that still exists, with today&apos;s replicas? This records a new revision; nothing is deleted.
                    </span>
                    <Button size="sm" variant="danger" data-testid={`rollback-confirm-button-${r.number}`} disabled={busy !== null} onClick={() => void rollback(r.number)}>
                      {busy === r.number ? "Rolling back…" : `Roll back to #${r.number}`}
                    </Button>
                    <Button size="sm" variant="ghost" disabled={busy !== null} onClick={() => setConfirming(null)}>
                      Cancel
                    </Button>
                  </div>
                )}
                {failed && r.engineError && (
                  <div className="mt-2 ml-10 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 dark:border-rose-900 dark:bg-rose-950/40">
                    <p className="text-xs font-medium text-rose-800 dark:text-rose-300">{r.engine} refused it; the configuration before it kept serving:</p>
                    <pre data-testid={`revision-error-${r.number}`} className="mt-1 max-h-48 overflow-auto whitespace-pre-wrap font-mono text-xs text-rose-900 dark:text-rose-200">
                      {r.engineError}
                    </pre>
                  </div>
                )}
                <details className="mt-1 sm:ml-10">
                  <summary className="cursor-pointer text-xs text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-200">{failed ? "What it would have changed" : "What it changed"}</summary>
                  <RevisionChanges r={r} failed={failed} />
                </details>
              </li>
            );
          })}
        </ol>
      )}
      {revisions.length > shown.length && (
        <div className="mt-2 text-center">
          <Button size="sm" variant="ghost" onClick={() => setShowAll(true)}>
            Show all {revisions.length} revisions
          </Button>
        </div>
      )}
    </Card>
  );
}
