import { createTwoFilesPatch } from "diff";
import { db } from "@/lib/db/client";
import { recordEvent } from "@/lib/events";
import { AppError } from "@/lib/core/errors";
import { shownConfig, type BalancerConfig, type EngineFailure, type RunningEngine } from "@/lib/engines/types";
import { assertSupported } from "@/lib/engines/capabilities";
import { engineError } from "@/lib/engines/errors";
import { controller } from "@/lib/controller/controller";
import { engine as panelEngine } from "@/lib/engines/registry";

export type RevisionView = {
  number: number;
  engine: string;
  status: string;
  engineError: string | null;
  summary: string;
  author: string;
  serviceId: string | null;
  createdAt: string;
};

export function revisionView(r: { number: number; engine: string; status: string; engineError: string | null; summary: string; author: string; serviceId: string | null; createdAt: Date }): RevisionView {
  return { number: r.number, engine: r.engine, status: r.status, engineError: r.engineError, summary: r.summary, author: r.author, serviceId: r.serviceId, createdAt: r.createdAt.toISOString() };
}

/** The number of the revision running now (0 before the first apply). */
export async function currentRevisionNumber(): Promise<number> {
  const r = await db().revision.findFirst({ where: { status: "applied" }, orderBy: { number: "desc" }, select: { number: true } });
  return r?.number ?? 0;
}

export function unifiedDiff(before: string, after: string, label = "balancer"): string {
  return createTwoFilesPatch(`live/${label}`, `proposed/${label}`, before, after, "", "", { context: 3 });
}

/**
 * An apply is applied only to an engine that runs: an engine that died before the apply
 * (nothing is checked or written then) or during it gets a failed
 * revision saying so, and the controller's watchdog restarts it from the database's
 * configuration, which this failed apply did not change.
 */
async function notRunning(engine: RunningEngine): Promise<string | null> {
  const status = await engine.status().catch((e: unknown) => ({ running: false, mode: "supervised", error: e instanceof Error ? e.message : String(e) }));
  if (status.running || status.mode === "export-only") return null;
  const then = status.mode === "external" ? "it runs outside the panel (external mode) and must be started by its owner" : "the panel restarts it with the last applied configuration";
  return `${engine.kind} is not running${status.error ? ` (${status.error})` : ""}, so the configuration was not applied; ${then}`;
}

/**
 * The safe apply. Under the engine lock: capability check → render → the
 * engine's own check → atomic, hitless apply with rollback → a numbered
 * revision records the result (and the engine's own error text on failure).
 * The diff returned and the text the revision keeps are the shown forms (secrets
 * replaced): only the engine's own file holds the real values.
 * `commit` runs after a successful apply, still under the lock (e.g. to save
 * the new rules), so the database and the running config never disagree.
 */
export async function applyBalancerConfig(opts: {
  /** built under the lock, so no server added meanwhile is lost by the reload */
  build: () => Promise<BalancerConfig>;
  author: string;
  summary: string;
  serviceId?: string | null;
  baseRevision?: number;
  commit?: () => Promise<void>;
}): Promise<{ revision: RevisionView; diff: string }> {
  const engine = panelEngine();
  return controller().engineLock.run(async () => {
    if (opts.baseRevision !== undefined) {
      const current = await currentRevisionNumber();
      if (opts.baseRevision !== current) {
        throw new AppError("conflict", `the configuration changed since revision ${opts.baseRevision} (now ${current}); reload and try again`, { currentRevision: current });
      }
    }
    const config = await opts.build();
    for (const s of config.services) assertSupported(engine, s.rules);
    const rendered = engine.render(config);
    const live = (await engine.liveConfig()) ?? "";
    const shown = (text: string) => shownConfig(engine, text);
    const diff = unifiedDiff(shown(live), shown(rendered), engine.kind);
    const last = await db().revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } });
    const number = (last?.number ?? 0) + 1;
    // A dead engine is said to be dead, not probed: its own check would try the listener, which a
    // process that is still exiting may hold for a moment (a misleading "cannot listen").
    const deadBefore = await notRunning(engine);
    let failure: EngineFailure | null = deadBefore ? { error: deadBefore } : null;
    if (!failure) {
      const check = await engine.check(rendered);
      if (!check.ok) failure = check;
    }
    if (!failure) {
      const result = await engine.apply(rendered, config);
      if (!result.ok) failure = { error: result.error + (result.rolledBack ? "\n(the previous configuration was restored and keeps serving)" : ""), cause: result.cause };
    }
    if (!failure) {
      const down = await notRunning(engine);
      if (down) failure = { error: down };
    }
    const error = failure ? shown(failure.error) || `${engine.kind} failed without saying why` : null;
    if (!error && opts.commit) await opts.commit();
    const row = await db().revision.create({
      data: {
        number,
        engine: engine.kind,
        config: JSON.stringify(config),
        rendered: shown(rendered),
        status: error ? "failed" : "applied",
        engineError: error,
        summary: opts.summary,
        author: opts.author,
        serviceId: opts.serviceId ?? null,
      },
    });
    await recordEvent({
      kind: error ? "rules.failed" : "rules.applied",
      level: error ? "error" : "info",
      actor: opts.author,
      serviceId: opts.serviceId ?? null,
      message: error ? `revision ${number} failed: ${error.split("\n")[0]}` : `revision ${number} applied to ${engine.kind}: ${opts.summary}`,
      data: { revision: number },
    });
    if (failure) throw engineError(failure, { message: `${engine.kind} refused the configuration; nothing changed.\n${error}`, details: { revision: number, engineError: error }, shown });
    return { revision: revisionView(row), diff };
  });
}
