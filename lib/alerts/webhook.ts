import crypto from "node:crypto";
import type { AlertPayload } from "@/lib/core/alerts";

/**
 * One alert to the webhook: POST of the JSON body, signed when there is a secret
 * (`X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the raw body>`), 5 s per attempt,
 * retried after 1 s, 2 s and 4 s on a network error, a timeout or a status other than 2xx.
 */

export const WEBHOOK_TIMEOUT_MS = 5000;
export const WEBHOOK_BACKOFF_MS = [1000, 2000, 4000] as const;

export function signatureOf(secret: string, body: string): string {
  return `sha256=${crypto.createHmac("sha256", secret).update(body).digest("hex")}`;
}

export type Delivery = { ok: boolean; attempts: number; status: number | null; error: string | null };

export async function deliver(url: string, secret: string | undefined, payload: AlertPayload, opts: { backoffMs?: readonly number[]; sleep?: (ms: number) => Promise<void> } = {}): Promise<Delivery> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "switchyard-alerts/1" };
  if (secret) headers["x-switchyard-signature"] = signatureOf(secret, body);
  const backoff = opts.backoffMs ?? WEBHOOK_BACKOFF_MS;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last: Delivery = { ok: false, attempts: 0, status: null, error: null };
  for (let attempt = 0; attempt <= backoff.length; attempt++) {
    if (attempt > 0) await sleep(backoff[attempt - 1]);
    try {
      // no redirects: the admin named this address, not whatever it points on to
      const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      await res.arrayBuffer().catch(() => undefined);
      last = { ok: res.status >= 200 && res.status < 300, attempts: attempt + 1, status: res.status, error: res.status >= 200 && res.status < 300 ? null : `status ${res.status}` };
    } catch (e) {
      last = { ok: false, attempts: attempt + 1, status: null, error: e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e) };
    }
    if (last.ok) return last;
  }
  return last;
}
