import { AppError } from "@/lib/core/errors";
import type { EngineFailure } from "@/lib/engines/types";

/**
 * The one place an engine's refusal or failure (a CheckResult or ApplyResult that is
 * not ok) becomes an AppError("engine_error"): `message` (default: the failure's own
 * words), the caller's `details`, and, when a command said so, that command, its exit
 * code and its stderr, as an operator needs them. `shown` replaces secrets in what may
 * reach a browser (shownConfig).
 */
export function engineError(failure: EngineFailure, opts: { message?: string; details?: Record<string, unknown>; shown?: (text: string) => string } = {}): AppError {
  const shown = opts.shown ?? ((text: string) => text);
  const cause = failure.cause;
  const command = cause ? { command: cause.argv.join(" "), exitCode: cause.exitCode, ...(cause.signal ? { signal: cause.signal } : {}), stderr: shown(cause.stderr.trim()) } : {};
  const details = { ...opts.details, ...command };
  return new AppError("engine_error", opts.message ?? failure.error, Object.keys(details).length > 0 ? details : undefined);
}
