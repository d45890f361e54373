/**
 * Docker failures in words an operator can act on: dockerode's errors (an HTTP status,
 * Docker's JSON message, or a socket errno) become one AppError each.
 */
import { AppError } from "@/lib/core/errors";

export const DOCKER_API_VERSION = "v1.41";

type DockerError = Error & { statusCode?: number; json?: unknown; reason?: string; code?: string };

const CONNECTION_ERRORS = new Set(["ECONNREFUSED", "ENOENT", "EACCES", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"]);

/** The HTTP status Docker answered, when it answered. */
export function statusOf(e: unknown): number | undefined {
  return (e as DockerError | undefined)?.statusCode;
}

/** Docker's own message ("No such image: x"), not dockerode's "(HTTP code 404) ..." wrapper. */
export function dockerMessage(e: unknown): string {
  const err = e as DockerError;
  const json = err?.json;
  if (json && typeof json === "object" && "message" in json && typeof json.message === "string") return json.message.trim();
  if (Buffer.isBuffer(json)) {
    try {
      const parsed = JSON.parse(json.toString("utf8")) as { message?: string };
      if (parsed.message) return parsed.message.trim();
    } catch {
      /* not JSON */
    }
  }
  return String(err?.message ?? e).trim();
}

/**
 * `wrap` turns a dockerode failure into an AppError (`where` names the engine's address
 * in connection errors); `call` runs one API call and wraps what it throws.
 */
export function dockerErrors(where: string) {
  function wrap(e: unknown, what: string): AppError {
    if (e instanceof AppError) return e;
    const err = e as DockerError;
    if (err?.code && CONNECTION_ERRORS.has(err.code) && err.statusCode === undefined) {
      return new AppError("unavailable", `cannot reach the Docker engine at ${where}: ${err.code} ${err.message ?? ""}`.trim());
    }
    const message = dockerMessage(e);
    if (/client version .* is too new/i.test(message)) {
      return new AppError("unavailable", `the Docker engine at ${where} is too old: Switchyard needs API ${DOCKER_API_VERSION.slice(1)} (Docker 20.10 or later): ${message}`);
    }
    const status = statusOf(e);
    if (status === 404) return new AppError("not_found", `${what}: ${message}`);
    if (status === 409) return new AppError("conflict", `${what}: ${message}`);
    return new AppError("runtime_error", `${what}: ${message}`, { status });
  }

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw wrap(e, what);
    }
  }

  return { wrap, call };
}

export type DockerErrors = ReturnType<typeof dockerErrors>;
