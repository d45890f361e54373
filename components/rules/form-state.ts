import type { z } from "zod";
import type { Rules } from "@/lib/core/rules";

/**
 * Pure helpers for the rules form: the draft is a `Rules`-shaped object whose
 * numbers may be NaN while a field is empty or not a number; the same zod
 * schema as the API (rulesSchema) judges it on every change.
 */

export type Draft = Rules;

/** An immutable update of `draft` at `path` (e.g. ["healthCheck", "path"]). */
export function setPath(draft: Draft, path: readonly string[], value: unknown): Draft {
  const next = structuredClone(draft) as unknown as Record<string, unknown>;
  let node = next;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path[path.length - 1]] = value;
  return next as unknown as Draft;
}

export function getPath(obj: unknown, path: readonly (string | number | symbol)[]): unknown {
  let node = obj;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number | symbol, unknown>)[key as string];
  }
  return node;
}

/** Leaf values by dotted path ("retries.on" keeps its array as one leaf). */
export function flatten(obj: unknown, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  if (obj !== null && typeof obj === "object" && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) for (const [p, s] of flatten(v, prefix ? `${prefix}.${k}` : k)) out.set(p, s);
  } else {
    out.set(prefix, Array.isArray(obj) ? JSON.stringify([...obj].sort()) : Number.isNaN(obj) ? "NaN" : JSON.stringify(obj));
  }
  return out;
}

/** Dotted paths whose value differs between `a` and `b`. */
export function changedPaths(a: unknown, b: unknown): Set<string> {
  const fa = flatten(a);
  const fb = flatten(b);
  const out = new Set<string>();
  for (const k of new Set([...fa.keys(), ...fb.keys()])) if (fa.get(k) !== fb.get(k)) out.add(k);
  return out;
}

/** A zod issue in the words the form shows under a field. */
export function issueMessage(issue: z.core.$ZodIssue, draft: unknown): string {
  const value = getPath(draft, issue.path);
  if (typeof value === "number" && Number.isNaN(value)) return "enter a whole number";
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "number" || issue.origin === "int") return `at least ${issue.minimum}`;
      if (issue.origin === "string") return `at least ${issue.minimum} characters`;
      return issue.message;
    case "too_big":
      if (issue.origin === "number" || issue.origin === "int") return `at most ${issue.maximum}`;
      if (issue.origin === "string") return `at most ${issue.maximum} characters`;
      return issue.message;
    case "invalid_type":
      if (issue.expected === "int") return "a whole number";
      return issue.message;
    default:
      return issue.message;
  }
}

/** One message per dotted path (the first issue wins). */
export function issuesByPath(issues: readonly z.core.$ZodIssue[], draft: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const issue of issues) {
    const key = issue.path.map(String).join(".");
    if (!out.has(key)) out.set(key, issueMessage(issue, draft));
  }
  return out;
}
