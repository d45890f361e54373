import type { Rules } from "@/lib/core/rules";

/**
 * What the rules promise about the traffic generator's clients, and whether the
 * counts so far keep that promise. Pure, so the page and the tests agree.
 *
 * - "spread": no stickiness and an algorithm that moves every request (round robin,
 *   least connections, random of two): each client reaches every replica in rotation.
 * - "one-each": cookie or source-IP stickiness, or source-IP hash with distinct source
 *   addresses: each client stays on one replica (and moves only when it leaves rotation).
 * - "one-for-all": source-IP hash or stickiness from one shared address, or URI hash
 *   (the generator asks one path): every client lands on the same replica.
 */
export type Expectation = "spread" | "one-each" | "one-for-all";

export function expectationOf(rules: Rules, distinctSourceIps: boolean): Expectation {
  if (rules.sticky.mode === "cookie") return "one-each";
  const bySource = rules.sticky.mode === "source" || rules.algorithm === "source_hash";
  if (bySource) return distinctSourceIps ? "one-each" : "one-for-all";
  if (rules.algorithm === "uri_hash") return "one-for-all";
  return "spread";
}

export function expectationText(rules: Rules, distinctSourceIps: boolean): string {
  const expectation = expectationOf(rules, distinctSourceIps);
  const how =
    rules.sticky.mode === "cookie"
      ? `cookie stickiness (${rules.sticky.cookieName})`
      : rules.sticky.mode === "source"
        ? "source-IP stickiness"
        : rules.algorithm === "source_hash"
          ? "source-IP hash"
          : rules.algorithm === "uri_hash"
            ? "URI hash"
            : `no stickiness (${rules.algorithm.replace("_", " ")})`;
  if (expectation === "spread") return `${how}: each client's requests spread over every replica in rotation`;
  if (expectation === "one-each") return `${how}: each client should stay on one replica, and move only when it leaves rotation`;
  return rules.algorithm === "uri_hash" ? `${how}: every request asks the same path, so every client lands on the same replica` : `${how} from one shared source address: every client lands on the same replica (tick "distinct source IPs" to tell them apart)`;
}

/** A request a client sent before its first answer carried no cookie yet (as in a browser): so many may land elsewhere and the client still counts as staying. */
export const STRAYS_ALLOWED = 2;
/** Fewer requests than this and a client cannot tell yet. */
const ENOUGH = 3;

export type Verdict = { expectation: Expectation; holds: boolean; text: string };

/** Does what the clients saw match what the rules promise? Null until some client has enough answers. */
export function trafficVerdict(expectation: Expectation, servedBy: Record<string, Record<string, number>>, inRotation: readonly string[]): Verdict | null {
  const clients = Object.values(servedBy)
    .map((row) => {
      const counts = Object.entries(row).filter(([, n]) => n > 0);
      const total = counts.reduce((s, [, n]) => s + n, 0);
      const main = counts.reduce<[string, number] | null>((m, c) => (m === null || c[1] > m[1] ? c : m), null);
      return { replicas: counts.map(([r]) => r), total, main };
    })
    .filter((c) => c.total >= ENOUGH);
  if (clients.length === 0) return null;
  const n = clients.length;
  if (expectation === "spread") {
    const reachedAll = clients.filter((c) => inRotation.every((r) => c.replicas.includes(r))).length;
    return { expectation, holds: reachedAll === n, text: `${reachedAll} of ${n} clients reached all ${inRotation.length} replicas in rotation` };
  }
  const stayed = clients.filter((c) => c.main !== null && c.total - c.main[1] <= STRAYS_ALLOWED);
  if (expectation === "one-each") return { expectation, holds: stayed.length === n, text: `${stayed.length} of ${n} clients stayed on one replica` };
  const mains = new Set(stayed.map((c) => c.main?.[0]));
  const holds = stayed.length === n && mains.size === 1;
  return { expectation, holds, text: holds ? `all ${n} clients on one replica, ${[...mains][0]}` : `${stayed.length} of ${n} clients stayed on one replica, ${mains.size} replicas between them` };
}
