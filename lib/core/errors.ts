/**
 * The one error type of Switchyard. Domain code and adapters throw AppError;
 * route handlers map `code` to an HTTP status in one place (lib/http.ts).
 */
export type AppErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  /** the request's Host is not a name this panel answers for (DNS rebinding guard) */
  | "misdirected"
  | "not_found"
  | "conflict"
  /** a route no request can reach: routes tried before it catch all its requests (apply with force to keep it) */
  | "route_shadowed"
  | "payload_too_large"
  | "too_many_requests"
  | "unsupported"
  | "engine_error"
  | "runtime_error"
  | "unavailable"
  | "internal";

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly details: unknown;

  constructor(code: AppErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
}

export const httpStatusOf: Record<AppErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  misdirected: 421,
  not_found: 404,
  conflict: 409,
  route_shadowed: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  unsupported: 422,
  engine_error: 422,
  runtime_error: 502,
  unavailable: 503,
  internal: 500,
};

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
