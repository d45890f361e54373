type DiffLine = { kind: "add" | "del" | "ctx" | "hunk" | "file"; text: string; oldNo: number | null; newNo: number | null };

/** Parses a unified diff (as lib/services/apply-balancer-config.ts unifiedDiff writes it) into numbered lines. */
export function parseUnifiedDiff(diff: string): DiffLine[] {
  const out: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  for (const raw of diff.split("\n")) {
    if (raw.startsWith("====") || raw.startsWith("Index:")) continue;
    if (raw.startsWith("--- ") || raw.startsWith("+++ ")) {
      out.push({ kind: "file", text: raw, oldNo: null, newNo: null });
    } else if (raw.startsWith("@@")) {
      const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
      oldNo = m ? Number(m[1]) : 0;
      newNo = m ? Number(m[2]) : 0;
      out.push({ kind: "hunk", text: raw, oldNo: null, newNo: null });
    } else if (raw.startsWith("+")) {
      out.push({ kind: "add", text: raw, oldNo: null, newNo: newNo++ });
    } else if (raw.startsWith("-")) {
      out.push({ kind: "del", text: raw, oldNo: oldNo++, newNo: null });
    } else if (raw.startsWith(" ")) {
      out.push({ kind: "ctx", text: raw, oldNo: oldNo++, newNo: newNo++ });
    }
    // "\ No newline at end of file" and blank trailing lines carry nothing to show
  }
  return out;
}

const lineStyle: Record<DiffLine["kind"], string> = {
  add: "bg-emerald-50 text-emerald-900 dark:bg-emerald-950/60 dark:text-emerald-200",
  del: "bg-rose-50 text-rose-900 dark:bg-rose-950/60 dark:text-rose-200",
  ctx: "text-zinc-700 dark:text-zinc-300",
  hunk: "bg-sky-50 text-sky-700 dark:bg-sky-950/40 dark:text-sky-300",
  file: "text-zinc-500",
};

/** How many lines a unified diff adds and removes. */
export function diffCounts(diff: string): { added: number; removed: number } {
  const lines = parseUnifiedDiff(diff);
  return { added: lines.filter((l) => l.kind === "add").length, removed: lines.filter((l) => l.kind === "del").length };
}

/** A unified diff with + lines green, - lines red, and old/new line numbers. */
export function DiffView({ diff, emptyText = "No difference: the configuration would stay exactly as it is.", maxHeight = "max-h-[28rem]", testId }: { diff: string; emptyText?: string; maxHeight?: string; testId?: string }) {
  const lines = parseUnifiedDiff(diff);
  const { added, removed } = diffCounts(diff);
  if (added + removed === 0) {
    return (
      <p data-testid={testId} data-diff-empty="true" className="rounded-md border border-dashed border-zinc-300 px-3 py-2 text-sm text-zinc-500 dark:border-zinc-700">
        {emptyText}
      </p>
    );
  }
  return (
    <div data-testid={testId} className="overflow-hidden rounded-md border border-zinc-200 dark:border-zinc-800">
      <div className="flex items-center gap-3 border-b border-zinc-200 bg-zinc-50 px-3 py-1.5 text-xs dark:border-zinc-800 dark:bg-zinc-900">
        <span className="font-medium text-emerald-700 dark:text-emerald-400">+{added} added</span>
        <span className="font-medium text-rose-700 dark:text-rose-400">−{removed} removed</span>
      </div>
      <div className={`${maxHeight} overflow-auto bg-white dark:bg-zinc-950`}>
        <table className="w-full border-collapse font-mono text-xs leading-5">
          <tbody>
            {lines
              .filter((l) => l.kind !== "file")
              .map((l, i) => (
                <tr key={i} className={lineStyle[l.kind]} data-diff-line={l.kind}>
                  <td className="w-10 select-none border-r border-zinc-200 px-1.5 text-right text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">{l.oldNo ?? ""}</td>
                  <td className="w-10 select-none border-r border-zinc-200 px-1.5 text-right text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">{l.newNo ?? ""}</td>
                  <td className="whitespace-pre px-2">{l.kind === "hunk" ? l.text : l.text || " "}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
