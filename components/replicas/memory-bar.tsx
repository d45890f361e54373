/**
 * Memory in use against the limit, with the service's health threshold marked (past it
 * the replica's /health answers 503), and whether the runtime holds the replica to the
 * limit: Docker and the process runtime with a cgroup per replica do; a process replica
 * without one can go past it, and the bar says so rather than let 110 % look like a bug.
 */
export function MemoryBar({
  usedMb,
  limitMb,
  thresholdPercent,
  enforced = null,
  runtime = "process",
}: {
  usedMb: number | null;
  limitMb: number;
  thresholdPercent: number;
  /** the runtime holds the replica to limitMb; null: not known (no stats yet) */
  enforced?: boolean | null;
  /** the runtime's name, for the note when the limit is not enforced */
  runtime?: string;
}) {
  const real = usedMb === null || limitMb <= 0 ? 0 : (usedMb / limitMb) * 100;
  const pct = Math.min(100, real);
  const over = real >= thresholdPercent;
  const near = !over && pct >= thresholdPercent * 0.85;
  const at = Math.min(100, Math.max(0, thresholdPercent));
  const thresholdMb = Math.round((limitMb * at) / 100);
  return (
    <div data-testid="memory-bar" data-threshold-percent={at} data-limit-enforced={enforced === null ? "" : String(enforced)}>
      <div className="mb-0.5 flex justify-between gap-2 text-[11px] text-zinc-600 dark:text-zinc-400">
        <span>memory</span>
        <span className={`tabular-nums ${over ? "font-semibold text-rose-700 dark:text-rose-400" : ""}`}>
          {usedMb === null ? "–" : Math.round(usedMb)} / {limitMb} MB{usedMb !== null ? ` (${Math.round(real)}%)` : ""}
        </span>
      </div>
      <div
        className="relative h-2.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
        role="meter"
        aria-label={`memory use; health threshold ${at}% of the limit`}
        aria-valuemin={0}
        aria-valuemax={limitMb}
        aria-valuenow={usedMb ?? 0}
      >
        <div className={`h-full rounded-full ${over ? "bg-rose-500" : near ? "bg-amber-500" : "bg-emerald-500"}`} style={{ width: `${pct}%` }} />
        <div
          data-testid="memory-threshold-marker"
          className="absolute inset-y-0 w-0.5 -translate-x-1/2 bg-zinc-900 dark:bg-white"
          style={{ left: `${at}%` }}
          title={`health threshold: ${at}% of the limit (${thresholdMb} MB); past it /health answers 503`}
        />
      </div>
      {/* the ▲ sits at the marker; the words slide so they stay inside the card at any threshold */}
      <div className="relative h-2.5 text-[10px] leading-none text-rose-700 dark:text-rose-300" aria-hidden>
        <span className="absolute -translate-x-1/2" style={{ left: `${at}%` }}>
          ▲
        </span>
      </div>
      <div className="relative h-3.5 text-[10px] leading-3.5 text-rose-700 dark:text-rose-300">
        <span data-testid="memory-threshold-label" className="absolute whitespace-nowrap" style={{ left: `${at}%`, transform: `translateX(-${at}%)` }}>
          health threshold {at}% ({thresholdMb} MB)
        </span>
      </div>
      <div className="text-[10px]" data-testid="memory-enforcement">
        {enforced === true && <span className="text-zinc-600 dark:text-zinc-400" title="a memory cgroup of its own holds the replica to the limit: past it the kernel kills it (out of memory). Its RSS can read a little above the limit: the shared pages of its program are not charged to it">limit enforced by the {runtime} runtime</span>}
        {enforced === false && (
          <span
            className="font-medium text-amber-800 dark:text-amber-300"
            title="this machine gives the panel no memory cgroup for the replica (needs root, or a cgroup v2 subtree delegated to the panel's user): the replica can use more than the limit; the limit is only what /health judges against"
          >
            limit not enforced by the {runtime} runtime
          </span>
        )}
      </div>
    </div>
  );
}
