import { Card } from "@/components/ui/card";
import type { ExportTarget } from "@/components/balancer/types";

/** Download today's configuration rendered for any engine, with what each cannot carry over. */
export function ExportCard({ targets }: { targets: ExportTarget[] }) {
  return (
    <Card title="Export">
      <p className="mb-3 text-xs text-zinc-600 dark:text-zinc-400">The current services, replicas and rules, rendered for another engine. Nothing is applied.</p>
      <div className="flex flex-wrap gap-2">
        {targets.map((t) => (
          <a
            key={t.kind}
            href={`/api/balancer/export?engine=${t.kind}`}
            download
            data-testid={`export-${t.kind}`}
            className="inline-flex items-center gap-1.5 rounded-md bg-white px-3 py-1.5 text-sm font-medium text-zinc-800 shadow-sm ring-1 ring-inset ring-zinc-300 hover:bg-zinc-50 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700 dark:hover:bg-zinc-800"
          >
            <span aria-hidden>↓</span> {t.label} <span className="text-xs font-normal text-zinc-600 dark:text-zinc-400">{t.format}</span>
          </a>
        ))}
      </div>
      <ul className="mt-3 space-y-2">
        {targets
          .filter((t) => t.lost.length > 0 || t.notes.length > 0)
          .map((t) => (
            <li key={t.kind} className="text-xs">
              {t.lost.length > 0 && (
                // collapsed: a warning about an engine this install does not run is a note for whoever exports, not an alarm
                <details data-testid={`export-lost-${t.kind}`} className="text-amber-800 dark:text-amber-300">
                  <summary className="cursor-pointer font-medium">
                    {t.label} cannot express {t.lost.length === 1 ? "1 option" : `${t.lost.length} options`} of today&apos;s rules
                  </summary>
                  <ul className="mt-0.5 list-disc pl-5">
                    {t.lost.map((l, i) => (
                      <li key={i}>
                        {l.service}: {l.option} ({l.reason})
                      </li>
                    ))}
                  </ul>
                </details>
              )}
              {t.notes.length > 0 && (
                <details className="mt-1 text-zinc-600 dark:text-zinc-400">
                  <summary className="cursor-pointer">Notes on {t.label} ({t.notes.length})</summary>
                  <ul className="mt-1 list-disc space-y-0.5 pl-5">
                    {t.notes.map((n, i) => (
                      <li key={i}>{n}</li>
                    ))}
                  </ul>
                </details>
              )}
            </li>
          ))}
      </ul>
    </Card>
  );
}
