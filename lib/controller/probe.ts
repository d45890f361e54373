import http from "node:http";
import { sleep } from "@/lib/process/sleep";

export type ProbeResult = { ok: boolean; status: number | null; reason: string; body: unknown };

/**
 * GET the replica's health path on its data address. The body must name the
 * replica (when it says anything), so a stray process on a reused port cannot
 * pass the check.
 */
export function probeHealth(addr: { host: string; port: number }, opts: { path: string; timeoutMs: number; expectStatus: number; replicaId?: string }): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = http.request({ host: addr.host, port: addr.port, path: opts.path, method: "GET", timeout: opts.timeoutMs, agent: false, headers: { "user-agent": "switchyard-probe" } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.on("end", () => {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          body = null;
        }
        const named = body && typeof body === "object" && "replica" in body ? (body as { replica: unknown }).replica : undefined;
        if (opts.replicaId && named !== undefined && named !== opts.replicaId) {
          return resolve({ ok: false, status: res.statusCode ?? null, reason: `another process answers on ${addr.host}:${addr.port} (replica ${String(named)})`, body });
        }
        const ok = res.statusCode === opts.expectStatus;
        const reasonText = body && typeof body === "object" && "reason" in body ? `: ${String((body as { reason: unknown }).reason)}` : "";
        resolve({ ok, status: res.statusCode ?? null, reason: ok ? `HTTP ${res.statusCode}` : `HTTP ${res.statusCode}${reasonText}`, body });
      });
      res.on("error", (e) => resolve({ ok: false, status: null, reason: e.message, body: null }));
    });
    req.on("timeout", () => {
      req.destroy(new Error(`timeout after ${opts.timeoutMs} ms`));
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, status: null, reason: e.code ? `connect ${e.code}` : e.message, body: null }));
    req.end();
  });
}

export async function waitHealthy(
  addr: { host: string; port: number },
  opts: { path: string; timeoutMs: number; expectStatus: number; replicaId?: string; deadlineMs: number; isAlive?: () => Promise<boolean> },
): Promise<ProbeResult> {
  const deadline = Date.now() + opts.deadlineMs;
  let last: ProbeResult = { ok: false, status: null, reason: "not probed", body: null };
  while (Date.now() < deadline) {
    last = await probeHealth(addr, opts);
    if (last.ok) return last;
    if (opts.isAlive && !(await opts.isAlive())) return { ...last, reason: `the replica exited before it became healthy (${last.reason})` };
    await sleep(150);
  }
  return { ...last, reason: `not healthy after ${Math.round(opts.deadlineMs / 1000)} s: ${last.reason}` };
}
