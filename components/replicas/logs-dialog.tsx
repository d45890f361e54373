"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Alert } from "@/components/ui/alert";
import { api, ApiError } from "@/lib/client/api";

/** The last lines a replica wrote (stdout and stderr), in a modal dialog. */
export function LogsDialog({ replicaId, onClose }: { replicaId: string; onClose: () => void }) {
  const [lines, setLines] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const pre = useRef<HTMLPreElement>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      const res = await api<{ lines: string[] }>(`/api/replicas/${replicaId}/logs?lines=300`);
      setLines(res.lines);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, [replicaId]);

  useEffect(() => {
    dialog.current?.showModal();
    void load();
  }, [load]);

  useEffect(() => {
    if (pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines]);

  return (
    <dialog
      ref={dialog}
      onClose={onClose}
      aria-label={`logs of replica ${replicaId}`}
      className="m-auto w-[min(60rem,95vw)] rounded-lg border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <header className="flex items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
        <h2 className="text-sm font-semibold">
          Logs of replica <span className="font-mono">{replicaId}</span> <span className="font-normal text-zinc-500">(last 300 lines, stdout and stderr)</span>
        </h2>
        <div className="flex gap-2">
          <Button variant="secondary" size="sm" onClick={() => void load()}>
            Refresh
          </Button>
          <Button variant="secondary" size="sm" onClick={() => dialog.current?.close()}>
            Close
          </Button>
        </div>
      </header>
      <div className="p-4">
        {error && <Alert>{error}</Alert>}
        {lines === null && !error && <p className="text-sm text-zinc-500">Loading…</p>}
        {lines && (
          <pre ref={pre} data-testid="replica-logs" className="max-h-[60vh] overflow-auto rounded-md bg-zinc-950 p-3 font-mono text-xs leading-relaxed break-all whitespace-pre-wrap text-zinc-100">
            {lines.length ? lines.join("\n") : "(no output yet)"}
          </pre>
        )}
      </div>
    </dialog>
  );
}
