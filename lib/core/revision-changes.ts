import type { Rules } from "@/lib/core/rules";
import { summarizeRulesChange } from "@/lib/core/rules-summary";

/**
 * What a revision changed, told apart from what scaling changed meanwhile. Pure.
 *
 * A revision snapshots the whole configuration, servers included, but scaling adds and
 * removes servers without a revision (the engine's runtime API). So the engine config
 * of revision N differs from that of N-1 by the rules N changed AND by every replica
 * added or removed since: diffed as one text, servers added by scaling looked as if the
 * revision had added them. Here the rules are rendered alone (a stable text of each
 * service's rules, no servers) for the revision's own diff, and the servers are listed
 * apart, as scaling between the two revisions.
 */

export type SnapshotService = { id: string; name: string; rules: unknown; servers: { name: string }[] };
export type ServerChange = { service: string; added: string[]; removed: string[] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The services of a revision's stored config (JSON), leniently: an unreadable snapshot has none. */
export function snapshotServices(configJson: string | null | undefined): SnapshotService[] {
  let json: unknown;
  try {
    json = configJson ? JSON.parse(configJson) : null;
  } catch {
    return [];
  }
  if (!isRecord(json) || !Array.isArray(json.services)) return [];
  return json.services.filter(isRecord).map((s) => ({
    id: String(s.id ?? ""),
    name: String(s.name ?? s.id ?? "?"),
    rules: s.rules ?? null,
    servers: Array.isArray(s.servers) ? s.servers.filter(isRecord).map((x) => ({ name: String(x.name ?? "") })) : [],
  }));
}

/** Keys sorted at every level, so two equal rule sets render the same text. */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (!isRecord(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, stable(v[k])]),
  );
}

/** The rules of every service as text (by service name), without servers: what a rules diff compares. */
export function rulesText(services: SnapshotService[]): string {
  return [...services]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => `# service ${s.name}\n${JSON.stringify(stable(s.rules), null, 2)}\n`)
    .join("\n");
}

/** Servers added and removed between two snapshots, per service that exists in both (a new service's servers came with it). */
export function serverChanges(before: SnapshotService[], after: SnapshotService[]): ServerChange[] {
  const out: ServerChange[] = [];
  for (const s of after) {
    const prev = before.find((p) => p.id === s.id);
    if (!prev) continue;
    const had = new Set(prev.servers.map((x) => x.name));
    const has = new Set(s.servers.map((x) => x.name));
    const added = [...has].filter((n) => !had.has(n)).sort();
    const removed = [...had].filter((n) => !has.has(n)).sort();
    if (added.length || removed.length) out.push({ service: s.name, added, removed });
  }
  return out;
}

/** One line for a list of server changes: "web: +web-4 +web-5 −web-2". */
export const describeServerChanges = (changes: ServerChange[]): string =>
  changes.map((c) => `${c.service}: ${[...c.added.map((n) => `+${n}`), ...c.removed.map((n) => `−${n}`)].join(" ")}`).join("; ");

/**
 * A rollback's summary: which services' rules it changes back, and how (from the rules
 * in force now to those of the revision rolled back to), e.g.
 * "rollback to revision 4: web: algorithm leastconn → roundrobin, retries".
 */
export function rollbackSummary(target: number, now: { name: string; rules: Rules }[], back: { name: string; rules: Rules }[]): string {
  const parts: string[] = [];
  for (const b of back) {
    const current = now.find((n) => n.name === b.name);
    if (!current) continue;
    const change = summarizeRulesChange(current.rules, b.rules);
    if (change !== "no change") parts.push(`${b.name}: ${change}`);
  }
  return `rollback to revision ${target}: ${parts.length ? parts.join("; ") : "no rule changes (the same rules as now)"}`;
}
