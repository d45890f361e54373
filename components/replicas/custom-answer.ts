import type { ServiceAction } from "@/lib/core/service";

/** What POST /api/replicas/:id/actions answers for a custom action (lib/mgmt/direct-request.ts DirectAnswer). */
export type CustomAnswer = { status: number; body: string; truncated: boolean; contentType: string | null; ms: number };

/** Shown at most: the API already cut the answer at 4 KiB; a card shows less. */
export const SHOWN_BODY_CHARS = 600;

/**
 * The lines a card shows for an answer. Pure. The body stays text: React escapes it, and
 * control characters (other than newline and tab) are shown as U+FFFD so a terminal
 * sequence or NUL in an app's answer cannot garble the card.
 */
export function customAnswerText(a: Pick<ServiceAction, "name" | "method" | "path">, r: CustomAnswer): { head: string; body: string } {
  const cleaned = Array.from(r.body, (ch) => {
    const c = ch.codePointAt(0) ?? 0;
    return (c < 32 && ch !== "\n" && ch !== "\t") || c === 127 ? "\uFFFD" : ch;
  }).join("");
  const cut = cleaned.length > SHOWN_BODY_CHARS;
  const body = cut ? `${cleaned.slice(0, SHOWN_BODY_CHARS)}…` : cleaned;
  const more = cut || r.truncated ? " (truncated)" : "";
  return { head: `${a.name}: ${a.method} ${a.path} answered HTTP ${r.status} in ${r.ms} ms${more}`, body: body === "" ? "(empty body)" : body };
}
