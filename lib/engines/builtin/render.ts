import { type Rules, retryConditions } from "../../core/rules";
import type { BalancerConfig } from "../types";
import { BUILTIN_ENGINE_TAG, BUILTIN_FORMAT } from "./config-schema";

/**
 * Pure: BalancerConfig -> the builtin engine's config document, canonical and
 * stable. Services and servers are sorted by name and every object's keys are
 * sorted, so the same configuration always renders to the same text whatever
 * order the caller built it in (diffs and revision snapshots stay quiet);
 * retries.on is a set and is written in the schema's order.
 * JSON.stringify escapes every string, so nothing free-form can break the file;
 * the proxy validates the document again when it loads it.
 */
export function renderBuiltinConfig(config: BalancerConfig): string {
  const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const doc = {
    engine: BUILTIN_ENGINE_TAG,
    format: BUILTIN_FORMAT,
    listen: config.listen,
    listeners: config.listeners,
    services: [...config.services].sort(byName).map((s) => ({ ...s, rules: canonicalRules(s.rules), servers: [...s.servers].sort(byName) })),
  };
  return `${JSON.stringify(sortKeys(doc), null, 2)}\n`;
}

function canonicalRules(rules: Rules): Rules {
  return { ...rules, retries: { ...rules.retries, on: retryConditions.filter((c) => rules.retries.on.includes(c)) } };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}
