import http from "node:http";
import { AppError } from "@/lib/core/errors";
import { parseAdminAddr } from "@/lib/core/mgmt";
import type { ServiceAction } from "@/lib/core/service";
import { describeFetchError } from "@/lib/mgmt/client";

/**
 * One of a service's own actions, sent straight to one instance's own address (its data
 * or admin port on the replica's host), never through the balancer: a stressed instance
 * the balancer has isolated still gets its Clear. The answer is read up to a limit and
 * handed back as text, never interpreted.
 */

export const DIRECT_LIMITS = { timeoutMs: 5000, bodyBytes: 4096, readBytes: 64 * 1024 } as const;

export type DirectAnswer = {
  status: number;
  /** the first DIRECT_LIMITS.bodyBytes bytes of the answer, as UTF-8 text */
  body: string;
  truncated: boolean;
  contentType: string | null;
  ms: number;
};

/**
 * `opts.token`: sent as `Authorization: Bearer` (the service's admin token, which the
 * instance holds in ADMIN_TOKEN anyway); the use case passes it only for the admin port.
 */
export async function sendDirect(addr: string, action: ServiceAction, opts: { timeoutMs?: number; token?: string; task?: string } = {}): Promise<DirectAnswer> {
  const target = parseAdminAddr(addr);
  if (!target) throw new AppError("bad_request", `not an instance address (host:port): "${addr}"`);
  const timeoutMs = opts.timeoutMs ?? DIRECT_LIMITS.timeoutMs;
  const payload = action.body === undefined ? undefined : typeof action.body === "string" ? action.body : JSON.stringify(action.body);
  const headers: Record<string, string> = { "user-agent": "switchyard-action", accept: "*/*" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  // a Swarm task: `addr` is its balancer's management listener, which forwards to this task (lib/mgmt/client.ts MgmtTarget.task)
  if (opts.task) headers["x-switchyard-task"] = opts.task;
  if (payload !== undefined) {
    headers["content-type"] = typeof action.body === "string" ? "text/plain; charset=utf-8" : "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  const started = Date.now();
  return new Promise<DirectAnswer>((resolve, reject) => {
    const fail = (e: unknown) =>
      reject(new AppError("unavailable", `instance ${addr}: ${action.method} ${action.path} failed: ${describeFetchError(e, timeoutMs)}`, { addr, path: action.path }));
    const req = http.request({ host: target.host.replace(/^\[|\]$/g, ""), port: target.port, path: action.path, method: action.method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on("data", (c: Buffer) => {
        if (size + c.length > DIRECT_LIMITS.bodyBytes) truncated = true;
        if (size < DIRECT_LIMITS.bodyBytes) chunks.push(c.subarray(0, DIRECT_LIMITS.bodyBytes - size));
        size += c.length;
        // a long answer is not read to its end: enough is kept to show
        if (size > DIRECT_LIMITS.readBytes) res.destroy();
      });
      const done = () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), truncated, contentType: res.headers["content-type"] ?? null, ms: Date.now() - started });
      res.on("end", done);
      res.on("close", done);
      res.on("error", () => done());
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error(`timeout after ${timeoutMs} ms`), { name: "TimeoutError" })));
    req.on("error", fail);
    req.end(payload);
  });
}
