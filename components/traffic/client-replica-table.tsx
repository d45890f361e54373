/** Which replica served each simulated client: counts per client and replica, the main one highlighted. */
export function ClientReplicaTable({
  servedBy,
  lastReplica,
  colorOf,
  currentReplicaIds,
}: {
  servedBy: Record<string, Record<string, number>>;
  lastReplica: Record<string, string | null>;
  colorOf: (id: string) => string;
  currentReplicaIds: string[];
}) {
  const clients = Object.keys(servedBy).sort((a, b) => Number(/\d+/.exec(a)?.[0] ?? 0) - Number(/\d+/.exec(b)?.[0] ?? 0));
  const seen = new Set<string>();
  for (const c of clients) for (const r of Object.keys(servedBy[c])) seen.add(r);
  const columns = [...currentReplicaIds, ...[...seen].filter((r) => !currentReplicaIds.includes(r)).sort()];
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-xs" data-testid="client-replica-table">
        <thead>
          <tr className="text-left text-zinc-500">
            <th className="py-1 pr-3 font-medium">client</th>
            {columns.map((r) => (
              <th key={r} className={`px-2 py-1 text-right font-mono font-medium ${currentReplicaIds.includes(r) ? "" : "opacity-50"}`} title={currentReplicaIds.includes(r) ? undefined : "this replica is gone"}>
                <span className="inline-flex items-center gap-1">
                  <span className="inline-block h-2 w-2 rounded-sm" style={{ backgroundColor: colorOf(r) }} />
                  {r}
                </span>
              </th>
            ))}
            <th className="py-1 pl-3 text-right font-medium" title="how many replicas served this client">replicas</th>
            <th className="py-1 pl-3 text-right font-medium">main replica</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {clients.map((c) => {
            const row = servedBy[c];
            const total = Object.values(row).reduce((s, n) => s + n, 0);
            let main: string | null = null;
            for (const [r, n] of Object.entries(row)) if (main === null || n > row[main]) main = r;
            const mainShare = main && total ? Math.round((row[main] / total) * 100) : 0;
            const reached = Object.values(row).filter((n) => n > 0).length;
            return (
              <tr key={c} data-testid="client-row" data-client={c} data-main-replica={main ?? ""} data-replicas-reached={reached}>
                <td className="py-1 pr-3 font-mono whitespace-nowrap">{c}</td>
                {columns.map((r) => {
                  const n = row[r] ?? 0;
                  const isMain = r === main && n > 0;
                  return (
                    <td
                      key={r}
                      className={`px-2 py-1 text-right tabular-nums ${isMain ? "font-semibold text-zinc-900 dark:text-white" : n ? "" : "text-zinc-500 dark:text-zinc-400"}`}
                      style={isMain ? { backgroundColor: `${colorOf(r)}33`, boxShadow: `inset 0 -2px 0 ${colorOf(r)}` } : undefined}
                    >
                      {n}
                      {lastReplica[c] === r && <span title="served its latest request" className="ml-1 text-zinc-900 dark:text-zinc-100">●</span>}
                    </td>
                  );
                })}
                <td className="py-1 pl-3 text-right tabular-nums">{reached}</td>
                <td className="py-1 pl-3 text-right whitespace-nowrap">
                  {main ? (
                    <>
                      <span className="font-mono">{main}</span> <span className="text-zinc-500">{mainShare}%</span>
                    </>
                  ) : (
                    "–"
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="mt-1 text-[11px] text-zinc-500">● served the client&apos;s latest request. Counts since the run started.</p>
    </div>
  );
}
