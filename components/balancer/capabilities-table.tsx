import type { EngineKind } from "@/lib/engines/types";
import { Card } from "@/components/ui/card";
import type { CapabilityRow } from "@/components/balancer/types";
import { ENGINE_KINDS, engineDescriptors } from "@/lib/engines/descriptors";

const engineNames = (k: EngineKind) => engineDescriptors[k].label;

/** Each capability: ✓ or the running engine's reason, with the other engines side by side. */
export function CapabilitiesTable({ current, rows }: { current: EngineKind; rows: CapabilityRow[] }) {
  const others = ENGINE_KINDS.filter((k) => k !== current);
  return (
    <Card title={`What ${engineNames(current)} can do`}>
      <p className="mb-3 text-xs text-zinc-500">Options the running engine cannot do are disabled in the rules editor, with the reason below. Other engines for comparison (hover a ✗ for its reason).</p>
      <div className="overflow-x-auto">
        <table data-testid="capabilities-table" className="w-full text-sm">
          <thead className="text-left text-xs text-zinc-500">
            <tr>
              <th className="pb-2 pr-3 font-medium">Capability</th>
              <th className="pb-2 pr-3 font-medium">{engineNames(current)} (running)</th>
              {others.map((k) => (
                <th key={k} className="pb-2 px-1.5 text-center font-medium">
                  {engineNames(k)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {rows.map((r) => {
              const verdict = r.byEngine[current];
              return (
                <tr key={r.capability} data-testid={`capability-${r.capability}`}>
                  <td className="py-1.5 pr-3 align-top">
                    {r.label}
                    <code className="block text-[11px] text-zinc-500">{r.capability}</code>
                  </td>
                  <td className="py-1.5 pr-3 align-top">
                    {verdict === true ? <span className="font-semibold text-emerald-700 dark:text-emerald-400">✓</span> : <span className="text-xs text-amber-800 dark:text-amber-300">✗ {verdict}</span>}
                  </td>
                  {others.map((k) => {
                    const v = r.byEngine[k];
                    return (
                      <td key={k} className="px-1.5 py-1.5 text-center align-top">
                        {v === true ? (
                          <span className="text-emerald-700 dark:text-emerald-400" aria-label="yes">
                            ✓
                          </span>
                        ) : (
                          <span title={v} aria-label={`no: ${v}`} className="cursor-help text-zinc-500">
                            ✗
                          </span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
