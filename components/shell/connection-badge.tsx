"use client";

import { useConnectionState } from "@/lib/client/live";

export function ConnectionBadge() {
  const state = useConnectionState();
  const look = {
    connecting: ["bg-zinc-400", "connecting…"],
    live: ["bg-emerald-500", "live"],
    reconnecting: ["bg-amber-500 animate-pulse", "reconnecting…"],
    refused: ["bg-rose-500", "live updates refused: sign in again"],
  }[state];
  return (
    <span data-testid="connection-state" data-state={state} className="inline-flex items-center gap-1.5 text-xs text-zinc-500">
      <span className={`h-2 w-2 rounded-full ${look[0]}`} />
      {look[1]}
    </span>
  );
}
