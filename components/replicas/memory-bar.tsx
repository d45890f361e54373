/** Memory in use against the limit, with the health threshold marked (past it /health answers 503). */
export function MemoryBar({ usedMb, limitMb, thresholdPercent }: { usedMb: number | null; limitMb: number; thresholdPercent: number }) {
  const real = usedMb === null || limitMb <= 0 ? 0 : (usedMb / limitMb) * 100;
  const pct = Math.min(100, real);
  const over = real >= thresholdPercent;
  const near = !over && pct >= thresholdPercent * 0.85;
  return (
    <div>
      <div className="mb-0.5 flex justify-between text-[11px] text-zinc-500">
        <span>memory</span>
        <span className={`tabular-nums ${over ? "font-semibold text-rose-700 dark:text-rose-400" : ""}`}>
          {usedMb === null ? "–" : Math.round(usedMb)} / {limitMb} MB{usedMb !== null ? ` (${Math.round(real)}%)` : ""}
        </span>
      </div>
      <div
        className="relative h-2.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
        role="meter"
        aria-label="memory use"
        aria-valuemin={0}
        aria-valuemax={limitMb}
        aria-valuenow={usedMb ?? 0}
      >
        <div className={`h-full rounded-full transition-[width] duration-500 ${over ? "bg-rose-500" : near ? "bg-amber-500" : "bg-emerald-500"}`} style={{ width: `${pct}%` }} />
        <div className="absolute inset-y-0 w-0.5 bg-rose-600 dark:bg-rose-400" style={{ left: `${thresholdPercent}%` }} title={`health threshold: ${thresholdPercent}% of the limit`} />
      </div>
      <div className="relative h-3 text-[10px] text-rose-600 dark:text-rose-400">
        <span className="absolute -translate-x-1/2 whitespace-nowrap" style={{ left: `${thresholdPercent}%` }}>
          ▲ {thresholdPercent}% health threshold
        </span>
      </div>
    </div>
  );
}
