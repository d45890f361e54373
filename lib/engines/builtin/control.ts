import net from "node:net";
import { chmodSync, rmSync } from "node:fs";
import { z } from "zod";
import { DNS_LABEL, adminStates, replicaWeightSchema } from "../../core/rules";
import type { ServerStats } from "../types";
import { SERVER_NAME } from "./config-schema";

/**
 * The builtin proxy's control socket: a unix socket (mode 0600) speaking
 * newline-delimited JSON, one response line per request line, in order.
 * The proxy serves it (serveControl); the engine in the panel calls it
 * (controlCall). Requests are validated with zod on the proxy side.
 */

const serviceName = z.string().regex(DNS_LABEL);
const serverName = z.string().regex(SERVER_NAME);

export const controlRequestSchema = z.discriminatedUnion("cmd", [
  z.strictObject({ cmd: z.literal("ping") }),
  z.strictObject({ cmd: z.literal("version") }),
  z.strictObject({ cmd: z.literal("stats") }),
  z.strictObject({ cmd: z.literal("load"), configPath: z.string().min(1).max(4096) }),
  z.strictObject({ cmd: z.literal("setState"), service: serviceName, server: serverName, state: z.enum(adminStates) }),
  z.strictObject({ cmd: z.literal("setWeight"), service: serviceName, server: serverName, weight: replicaWeightSchema }),
]);

export type ControlRequest = z.infer<typeof controlRequestSchema>;

export type PingReply = {
  pid: number;
  version: string;
  listen: { host: string; port: number } | null;
  configPath: string;
  /** how many configs this process has loaded (1 after start) */
  generation: number;
  startedAt: number;
  /** the pids of its workers that serve (issue 18); empty when it serves by itself (one worker) */
  workers: number[];
};

/** What each command answers on success (besides ok: true). */
export type ControlReplies = {
  ping: PingReply;
  version: { version: string };
  stats: { at: number; servers: ServerStats[] };
  load: { generation: number };
  setState: Record<string, never>;
  setWeight: Record<string, never>;
};

export type ControlResponse<C extends ControlRequest["cmd"]> = ({ ok: true } & ControlReplies[C]) | { ok: false; error: string };

type Handler = (req: ControlRequest) => Promise<object>;

const MAX_LINE = 64 * 1024;

/** Serve the control protocol on `socketPath` (replacing a stale socket file). Resolves once listening. */
export function serveControl(socketPath: string, handle: Handler): Promise<net.Server> {
  rmSync(socketPath, { force: true });
  const server = net.createServer((sock) => {
    let buf = "";
    let chain = Promise.resolve();
    sock.setEncoding("utf8");
    sock.on("error", () => sock.destroy());
    sock.on("data", (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE && !buf.includes("\n")) {
        sock.end(`${JSON.stringify({ ok: false, error: "request line too long" })}\n`);
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        chain = chain.then(async () => {
          const reply = await answer(line, handle);
          if (!sock.destroyed) sock.write(`${JSON.stringify(reply)}\n`);
        });
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      chmodSync(socketPath, 0o600);
      resolve(server);
    });
  });
}

async function answer(line: string, handle: Handler): Promise<object> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: "request is not JSON" };
  }
  const req = controlRequestSchema.safeParse(raw);
  if (!req.success) return { ok: false, error: `bad request: ${z.prettifyError(req.error)}` };
  try {
    return { ok: true, ...(await handle(req.data)) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * One request over the control socket. Resolves with the proxy's reply (which
 * may be ok: false); rejects only when the socket cannot be reached or does
 * not answer within `timeoutMs`.
 */
export function controlCall<R extends ControlRequest>(socketPath: string, req: R, timeoutMs = 5000): Promise<ControlResponse<R["cmd"]>> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`control socket ${socketPath} did not answer ${req.cmd} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on("data", (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, nl)));
      } catch {
        reject(new Error(`control socket ${socketPath} answered garbage to ${req.cmd}`));
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`control socket ${socketPath} closed before answering ${req.cmd}`));
    });
  });
}
