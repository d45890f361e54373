import { textOn } from "@/components/charts/replica-colors";

/** Where the traffic goes right now: one bar, a segment per replica, as wide as its share. */
export function ShareBar({
  items,
  totalRps,
  idleNote = "no traffic right now (the traffic generator below can send some)",
}: {
  items: { id: string; label: string; color: string; share: number; inRotation: boolean; note?: string | null }[];
  totalRps: number;
  /** what the empty bar says (a service without the panel's traffic generator says something else) */
  idleNote?: string;
}) {
  const active = items.filter((i) => i.share > 0);
  return (
    <div data-testid="share-bar">
      <div className="flex h-7 w-full overflow-hidden rounded-md bg-zinc-100 dark:bg-zinc-800" role="img" aria-label="traffic share per replica">
        {totalRps > 0 ? (
          active.map((i) => (
            <div
              key={i.id}
              // no width transition: animating 1 s updates kept the main thread laying out and painting most of every second
              className="flex items-center justify-center overflow-hidden text-[11px] font-semibold whitespace-nowrap"
              style={{ width: `${i.share * 100}%`, backgroundColor: i.color, color: textOn(i.color) }}
              title={`${i.label}: ${Math.round(i.share * 100)}%`}
            >
              {i.share >= 0.08 ? `${Math.round(i.share * 100)}%` : ""}
            </div>
          ))
        ) : (
          <div className="flex w-full items-center justify-center text-xs text-zinc-600 dark:text-zinc-400">{idleNote}</div>
        )}
      </div>
      <ul className="mt-1.5 flex flex-wrap gap-x-4 gap-y-1 text-xs">
        {items.map((i) => (
          <li key={i.id} className={`inline-flex items-center gap-1.5 ${i.inRotation ? "" : "text-rose-700 dark:text-rose-400"}`}>
            <span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ backgroundColor: i.color }} />
            <span className="font-mono">{i.label}</span>
            <span className="tabular-nums font-semibold">{totalRps > 0 ? `${Math.round(i.share * 100)}%` : "–"}</span>
            {!i.inRotation && <span>({i.note ?? "out of rotation"})</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
