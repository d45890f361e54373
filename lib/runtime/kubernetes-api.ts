/**
 * A small client for the Kubernetes API (no kubeconfig, no @kubernetes/client-node): a bearer
 * token, an optional CA file, node:http/https with timeouts, and response size limits read
 * before bodies (Content-Length first, then a running count). Watches are streams of JSON
 * lines (?watch=1), each line bounded.
 *
 * Configuration (kubernetesConfig, every field checked):
 *   KUBERNETES_API         https://host:port (plain http only to a loopback address)
 *   KUBERNETES_TOKEN       a bearer token, or
 *   KUBERNETES_TOKEN_FILE  a file holding one (a service account's token file)
 *   KUBERNETES_CA_FILE     PEM certificate(s) the API's certificate must chain to (else the system's)
 *   KUBERNETES_NAMESPACE   where the panel's Deployments live (default "default")
 */
import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import { isIP } from "node:net";
import { AppError } from "@/lib/core/errors";
import { isDnsLabel } from "@/lib/core/kubernetes";

export type KubernetesConfig = { api: URL; token: string; ca?: string; namespace: string };

const MAX_TOKEN_FILE = 64 * 1024;
const MAX_CA_FILE = 1024 * 1024;

function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") ? host.slice(1, -1) : host;
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** RFC 6750 b64token: what a bearer token may hold (so it cannot break the header). */
function checkToken(token: string, where: string): string {
  if (!/^[A-Za-z0-9._~+/=-]{1,16384}$/.test(token)) throw new AppError("bad_request", `${where}: not a bearer token (letters, digits and ._~+/=- only, 1 to 16384 characters)`);
  return token;
}

function readBounded(file: string, max: number, what: string): string {
  let st;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new AppError("bad_request", `${what} ${file}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new AppError("bad_request", `${what} ${file} is not a file`);
  if (st.size > max) throw new AppError("bad_request", `${what} ${file} is ${st.size} bytes, more than ${max}`);
  return fs.readFileSync(file, "utf8");
}

/**
 * The configuration from environment-like variables; null when KUBERNETES_API is unset. Throws
 * on a bad value, naming it. Reads the token and CA files (small, bounded) synchronously: it
 * runs once, when the runtime is first built.
 */
export function kubernetesConfig(vars: Record<string, string | undefined>): KubernetesConfig | null {
  const raw = vars.KUBERNETES_API?.trim();
  if (!raw) return null;
  let api: URL;
  try {
    api = new URL(raw);
  } catch {
    throw new AppError("bad_request", `KUBERNETES_API ${JSON.stringify(raw.slice(0, 200))} is not a URL (https://host:port)`);
  }
  if (api.protocol !== "https:" && api.protocol !== "http:") throw new AppError("bad_request", `KUBERNETES_API: use https:// (got ${api.protocol})`);
  if (api.protocol === "http:" && !isLoopbackHost(api.hostname)) throw new AppError("bad_request", `KUBERNETES_API: plain http is refused except to a loopback address (got ${api.hostname}); use https://`);
  if (api.username || api.password) throw new AppError("bad_request", "KUBERNETES_API: no user or password in the URL (use KUBERNETES_TOKEN)");
  if ((api.pathname !== "/" && api.pathname !== "") || api.search || api.hash) throw new AppError("bad_request", "KUBERNETES_API: give only scheme, host and port (no path, query or fragment)");

  const inline = vars.KUBERNETES_TOKEN;
  const file = vars.KUBERNETES_TOKEN_FILE;
  if (inline && file) throw new AppError("bad_request", "set KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE, not both");
  if (!inline && !file) throw new AppError("bad_request", "KUBERNETES_API is set but no token: set KUBERNETES_TOKEN or KUBERNETES_TOKEN_FILE");
  const token = inline ? checkToken(inline, "KUBERNETES_TOKEN") : checkToken(readBounded(file!, MAX_TOKEN_FILE, "KUBERNETES_TOKEN_FILE").trim(), `KUBERNETES_TOKEN_FILE ${file}`);

  let ca: string | undefined;
  if (vars.KUBERNETES_CA_FILE) {
    if (api.protocol !== "https:") throw new AppError("bad_request", "KUBERNETES_CA_FILE is for an https:// KUBERNETES_API");
    ca = readBounded(vars.KUBERNETES_CA_FILE, MAX_CA_FILE, "KUBERNETES_CA_FILE");
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw new AppError("bad_request", `KUBERNETES_CA_FILE ${vars.KUBERNETES_CA_FILE} holds no PEM certificate`);
  }
  const namespace = vars.KUBERNETES_NAMESPACE?.trim() || "default";
  if (!isDnsLabel(namespace)) throw new AppError("bad_request", `KUBERNETES_NAMESPACE ${JSON.stringify(String(namespace).slice(0, 80))} is not a namespace name`);
  return { api, token, ca, namespace };
}

export type KubeStatus = { kind?: string; status?: string; message?: string; reason?: string; code?: number };

/** An answer of the API that is not 2xx, with the API's own Status message. */
export class KubeApiError extends AppError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super("runtime_error", message, { status, reason });
  }
}

export type KubeClientOptions = {
  /** per request: connect + answer; default 10 s */
  timeoutMs?: number;
  /** largest answer read; default 8 MiB */
  maxResponseBytes?: number;
  /** largest watch line; default 1 MiB */
  maxLineBytes?: number;
};

export type WatchEvent<T> = { type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR"; object: T };

export function createKubeClient(cfg: KubernetesConfig, opts: KubeClientOptions = {}) {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxResponseBytes ?? 8 * 1024 * 1024;
  const maxLine = opts.maxLineBytes ?? 1024 * 1024;
  const where = cfg.api.origin;
  const lib = cfg.api.protocol === "https:" ? https : http;
  const agent = cfg.api.protocol === "https:" ? new https.Agent({ keepAlive: true, ca: cfg.ca }) : new http.Agent({ keepAlive: true });

  function explain(method: string, path: string, status: number, body: KubeStatus | null): KubeApiError {
    const said = body?.message ? `: ${body.message}` : "";
    const reason = body?.reason ?? "";
    if (status === 401) return new KubeApiError(status, reason || "Unauthorized", `the Kubernetes API at ${where} refused the token (401 Unauthorized) for ${method} ${path}: check KUBERNETES_TOKEN / KUBERNETES_TOKEN_FILE`);
    if (status === 403) return new KubeApiError(status, reason || "Forbidden", `the Kubernetes API at ${where} forbids ${method} ${path} to this token (403)${said}: the RBAC the panel needs is in the README (Kubernetes)`);
    return new KubeApiError(status, reason, `Kubernetes API ${method} ${path} answered ${status}${reason ? ` ${reason}` : ""}${said}`);
  }

  function open(method: string, path: string, body: unknown, contentType: string, timeout: number): Promise<http.IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = lib.request(
        new URL(path, cfg.api),
        {
          method,
          agent,
          timeout,
          headers: {
            authorization: `Bearer ${cfg.token}`,
            accept: "application/json",
            ...(payload ? { "content-type": contentType, "content-length": String(payload.length) } : {}),
          },
        },
        resolve,
      );
      req.on("timeout", () => req.destroy(new Error(`no answer in ${timeout} ms`)));
      req.on("error", (e) => reject(new AppError("unavailable", `Kubernetes API ${method} ${path} at ${where}: ${e.message}`)));
      req.end(payload);
    });
  }

  /** Reads at most maxBytes: Content-Length is checked before the body, then a running count. */
  function readBody(res: http.IncomingMessage, what: string): Promise<string> {
    const declared = Number(res.headers["content-length"] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.destroy();
      return Promise.reject(new AppError("payload_too_large", `${what}: the answer is ${declared} bytes, more than ${maxBytes}`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on("data", (c: Buffer) => {
        n += c.length;
        if (n > maxBytes) {
          res.destroy();
          reject(new AppError("payload_too_large", `${what}: the answer passed ${maxBytes} bytes`));
        } else chunks.push(c);
      });
      res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
  }

  function parse<T>(text: string, what: string): T {
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AppError("runtime_error", `${what}: the answer is not JSON`);
    }
  }

  /** One request; the answer's JSON, or null for 404 when `allow404`. */
  async function request<T>(method: string, path: string, body?: unknown, o: { contentType?: string; allow404?: boolean } = {}): Promise<T> {
    const text = await requestText(method, path, body, o);
    return text === null ? (null as T) : parse<T>(text, `Kubernetes API ${method} ${path}`);
  }

  /** One request; the answer's text (a pod's log), or null for 404 when `allow404`. */
  async function requestText(method: string, path: string, body?: unknown, o: { contentType?: string; allow404?: boolean } = {}): Promise<string | null> {
    const what = `Kubernetes API ${method} ${path}`;
    const res = await open(method, path, body, o.contentType ?? "application/json", timeoutMs);
    const text = await readBody(res, what);
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return text;
    if (status === 404 && o.allow404) return null;
    let st: KubeStatus | null = null;
    try {
      st = JSON.parse(text) as KubeStatus;
    } catch {
      st = null;
    }
    throw explain(method, path, status, st);
  }

  /**
   * A watch: GET path?watch=1&resourceVersion=rv, each JSON line handed to onEvent, until the
   * server ends the stream, `signal` aborts, or nothing arrives for idleMs. An HTTP error
   * (410 included) throws a KubeApiError; a 410 sent as an ERROR event is handed on like any event.
   */
  async function watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, o: { signal: AbortSignal; idleMs?: number }): Promise<void> {
    const idle = o.idleMs ?? 90_000;
    const res = await open("GET", path, undefined, "", idle);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const text = await readBody(res, `watch ${path}`);
      let st: KubeStatus | null = null;
      try {
        st = JSON.parse(text) as KubeStatus;
      } catch {
        st = null;
      }
      throw explain("GET", path, status, st);
    }
    await new Promise<void>((resolve, reject) => {
      let buf = "";
      const stop = () => {
        res.destroy();
        resolve();
      };
      if (o.signal.aborted) return stop();
      o.signal.addEventListener("abort", stop, { once: true });
      res.setEncoding("utf8");
      res.socket?.setTimeout(idle, () => res.destroy(new Error(`watch ${path}: nothing for ${idle} ms`)));
      res.on("data", (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (!line) continue;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            res.destroy();
            return reject(new AppError("runtime_error", `watch ${path}: a line is not JSON`));
          }
          onEvent(ev);
        }
        if (buf.length > maxLine) {
          res.destroy();
          reject(new AppError("payload_too_large", `watch ${path}: a line passed ${maxLine} bytes`));
        }
      });
      res.on("end", () => {
        o.signal.removeEventListener("abort", stop);
        resolve();
      });
      res.on("error", (e) => {
        o.signal.removeEventListener("abort", stop);
        if (o.signal.aborted) resolve();
        else reject(new AppError("unavailable", `watch ${path}: ${e.message}`));
      });
    });
  }

  return { request, requestText, watch, where, namespace: cfg.namespace, close: () => agent.destroy() };
}

export type KubeClient = ReturnType<typeof createKubeClient>;
