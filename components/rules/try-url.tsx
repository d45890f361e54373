"use client";

import { useState } from "react";
import type { TryResult } from "@/lib/core/route-try";
import { api } from "@/lib/client/api";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";

type Answer = { kind: "idle" } | { kind: "loading" } | { kind: "done"; result: TryResult } | { kind: "error"; message: string };

/**
 * "Try a URL": which route and service a URL reaches with the applied routes of every
 * service (POST /api/routes/try, lib/core's matcher, the one every engine follows).
 */
export function TryUrl({ example }: { example: string }) {
  const [url, setUrl] = useState("");
  const [answer, setAnswer] = useState<Answer>({ kind: "idle" });
  const run = async () => {
    setAnswer({ kind: "loading" });
    try {
      setAnswer({ kind: "done", result: await api<TryResult>("/api/routes/try", { body: { url: url || example } }) });
    } catch (e) {
      setAnswer({ kind: "error", message: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <div className="space-y-2" data-testid="try-url">
      <form
        className="flex flex-col gap-2 sm:flex-row"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label className="min-w-0 flex-1">
          <span className="sr-only">A URL to try</span>
          <Input name="try-url" value={url} placeholder={example} onChange={(e) => setUrl(e.target.value)} autoComplete="off" spellCheck={false} />
        </label>
        <Button type="submit" variant="secondary" size="sm" disabled={answer.kind === "loading"}>
          Which route?
        </Button>
      </form>
      {answer.kind === "error" && <p className="text-xs text-rose-600 dark:text-rose-400">{answer.message}</p>}
      {answer.kind === "done" && (
        <div className="rounded-md bg-zinc-50 px-2.5 py-1.5 text-xs text-zinc-700 dark:bg-zinc-800/50 dark:text-zinc-300" data-testid="try-url-result" role="status">
          {answer.result.reached ? (
            <p>
              <span className="font-medium">{answer.result.reached.service}</span>, route {answer.result.reached.route} ({answer.result.reached.describes}, priority {answer.result.reached.priority}
              ); the replica gets <code className="break-all">{answer.result.reached.upstreamPath}</code>
            </p>
          ) : (
            <p>No route takes it: the balancer answers 503.</p>
          )}
          {answer.result.candidates.length > 1 && (
            <p className="mt-1 text-zinc-500">
              Also matching, tried later: {answer.result.candidates.slice(1).map((c) => `${c.service} route ${c.route} (${c.describes}, priority ${c.priority})`).join("; ")}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
