/**
 * Apply with rollback, the one procedure every file engine follows: the engine's own
 * check, back up the live file, write the new one atomically, reload, verify; on a
 * failed reload the previous file goes back and is reloaded. The engine supplies the
 * steps (check, reload and verify, what follows a verified reload); the order and the
 * rollback are here, tested with fakes in tests/unit/engine-lifecycle.test.ts.
 */
import type { ApplyResult, CheckResult, EngineFailure } from "@/lib/engines/types";

/** The live config file and its backup (the file before the last apply). */
export interface ConfigFile {
  read(): Promise<string | null>;
  /** atomic: a reader sees the old text or the new, never half */
  write(text: string): Promise<void>;
  remove(): Promise<void>;
  writeBackup(text: string): Promise<void>;
}

/** A reload, verified: `reloaded` false when nothing ran to reload (the builtin proxy reads the file when it starts). */
export type ReloadResult = { ok: true; reloaded?: boolean } | ({ ok: false } & EngineFailure);

export type ApplySteps = {
  check(rendered: string): Promise<CheckResult>;
  /** after the check, before the file is replaced (HAProxy keeps the server state of the servers that stay) */
  beforeWrite?(): Promise<void>;
  /** make the running engine take the new file, and confirm it did */
  reload(): Promise<ReloadResult>;
  /** after a verified reload (store the model, runtime weights and states) */
  commit?(): Promise<void>;
  /** the previous file is back in place: make the engine take it again */
  reloadPrevious(): Promise<ReloadResult>;
  /**
   * A failed reload with no previous file to restore: keep the new file (HAProxy, nginx:
   * not rolled back) or remove it (the builtin proxy keeps its old config in memory, so
   * the file must not say otherwise: rolled back).
   */
  withoutPrevious: "keep" | "remove";
};

/** check -> before write -> back up -> write -> reload and verify -> commit; or restore and reload the previous file. */
export async function applyWithRollback(file: ConfigFile, rendered: string, steps: ApplySteps): Promise<ApplyResult> {
  const checked = await steps.check(rendered);
  if (!checked.ok) return { ...checked, rolledBack: false };
  await steps.beforeWrite?.();
  const previous = await file.read();
  if (previous !== null) await file.writeBackup(previous);
  await file.write(rendered);

  const result = await steps.reload();
  if (result.ok) {
    await steps.commit?.();
    return { ok: true, reloaded: result.reloaded ?? true };
  }
  if (previous === null) {
    if (steps.withoutPrevious === "keep") return { ...result, rolledBack: false };
    await file.remove();
    return { ...result, rolledBack: true };
  }
  await file.write(previous);
  const back = await steps.reloadPrevious();
  const error = back.ok ? result.error : `${result.error}\nrollback reload failed too: ${back.error}`;
  return { ok: false, error, ...(result.cause ? { cause: result.cause } : {}), rolledBack: true };
}

/**
 * Apply while the engine is down (supervised: it starts with the new file). The file
 * it had goes back when the start fails, so the next start is not from a file that
 * could not run.
 */
export async function launchWithRollback(file: ConfigFile, launch: () => Promise<void>): Promise<ApplyResult> {
  const previous = await file.read();
  if (previous !== null) await file.writeBackup(previous);
  try {
    await launch();
    return { ok: true, reloaded: false };
  } catch (e) {
    if (previous !== null) await file.write(previous);
    return { ok: false, error: e instanceof Error ? e.message : String(e), rolledBack: false };
  }
}
