import { Card } from "@/components/ui/card";

/** The config file the engine runs now, as text, with line numbers. */
export function LiveConfig({ live, location }: { live: string | null; location: string | undefined }) {
  const lines = (live ?? "").replace(/\n$/, "").split("\n");
  return (
    <Card title="Live config">
      {location && (
        <p className="mb-2 text-xs text-zinc-500">
          <code className="break-all">{location}</code> · rewritten by the panel on every apply; edits made there by hand are lost.
        </p>
      )}
      {live === null ? (
        <p className="text-sm text-zinc-500">No config has been written yet.</p>
      ) : (
        <div className="max-h-[32rem] overflow-auto rounded-md border border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-950">
          <pre data-testid="live-config" className="font-mono text-xs leading-5">
            {lines.map((l, i) => (
              <div key={i} className="flex">
                <span className="w-10 shrink-0 select-none border-r border-zinc-200 pr-2 text-right text-zinc-500 dark:border-zinc-800">{i + 1}</span>
                <span className="whitespace-pre px-2">{l || " "}</span>
              </div>
            ))}
          </pre>
        </div>
      )}
    </Card>
  );
}
