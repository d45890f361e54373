"use client";

import { describeFault, timeLeftText } from "@/lib/core/faults";
import type { FaultView } from "@/lib/services/views";

/**
 * The faults the panel holds on a replica now (pause, runtime stress, network fault),
 * each with its time left, counting down with the page's clock. The card's Clear undoes
 * them all; each also ends by itself at its time limit.
 */
export function ActiveFaults({ faults, now }: { faults: FaultView[] | undefined; now: number }) {
  if (!faults || faults.length === 0) return null;
  // `now` is the page's last tick (up to a second old, more on a busy machine): counted from
  // it, a fault just started would read one second more than its limit ("10:01 left")
  const at = Math.max(now, Date.now());
  return (
    <ul data-testid="active-faults" aria-label="active faults" className="space-y-1 rounded-md border border-amber-300 bg-amber-50 px-2 py-1.5 text-xs text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
      {faults.map((f) => (
        <li key={f.id} data-testid="active-fault" data-kind={f.kind} className="flex flex-wrap items-baseline gap-x-2">
          <span className="font-semibold">{describeFault(f.kind, f.params)}</span>
          <span data-testid="fault-time-left" className="ml-auto tabular-nums" title={`until ${new Date(f.expiresAt).toLocaleTimeString()}; Clear ends it now`}>
            {timeLeftText(f.expiresAt, at)}
          </span>
        </li>
      ))}
    </ul>
  );
}
