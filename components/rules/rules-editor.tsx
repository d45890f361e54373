"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import { rulesSchema, type Rules } from "@/lib/core/rules";
import { unsupportedOptions } from "@/lib/engines/capabilities";
import { withSwarmBalancer } from "@/lib/engines/swarm/capabilities";
import { descriptorOf, engineDescriptors } from "@/lib/engines/descriptors";
import type { Capability, EngineCapabilities, EngineKind } from "@/lib/engines/types";
import { api, ApiError } from "@/lib/client/api";
import { liveSocket } from "@/lib/client/live";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DiffView, diffCounts } from "@/components/rules/diff-view";
import { RulesFields } from "@/components/rules/rules-fields";
import { changedPaths, issuesByPath, setPath, type Draft } from "@/components/rules/form-state";

type EngineInfo = { kind: EngineKind; version: string | null; capabilities: EngineCapabilities; listen: { host: string; port: number } };
type ShadowFinding = { message: string };
type PreviewResult = { engine: string; diff: string; check: { ok: true } | { ok: false; error: string }; shadowed?: ShadowFinding[] };
type ApplyResult = { revision: { number: number }; diff: string; rules: Rules };

type ApplyState =
  | { kind: "idle" }
  | { kind: "applying"; startedAt: number }
  | { kind: "applied"; revision: number; diff: string; ms: number }
  | { kind: "refused"; message: string; engineError: string | null; revision: number | null }
  | { kind: "conflict"; message: string; current: number | null }
  /** a route would never be reached (route_shadowed): apply again with force to keep it */
  | { kind: "shadowed"; message: string }
  | { kind: "error"; message: string };

/** `seq` numbers the previews, so each new result is brought into view once. */
type PreviewState = { kind: "idle" } | { kind: "loading" } | { kind: "done"; result: PreviewResult; forRules: string; seq: number } | { kind: "error"; message: string; seq: number };

/** Where each capability shows up in the form (for the engine's "cannot do" messages). */
function fieldOf(capability: Capability): string {
  if (capability.startsWith("algorithm.")) return "algorithm";
  const map: Partial<Record<Capability, string>> = {
    "sticky.cookie": "sticky.mode",
    "sticky.source": "sticky.mode",
    passive: "passive.maxFails",
    retries: "retries.count",
    "retries.redispatch": "retries.redispatch",
    slowStart: "slowStartMs",
    "route.host": "route.host",
    "route.stripPrefix": "route.stripPrefix",
  };
  return map[capability] ?? capability;
}

/**
 * Edits one service's balancer rules: every option of the rules model, judged on
 * every change by the same zod schema as the API, options the running engine
 * cannot do disabled with its reason, a preview (diff against the live config
 * and the engine's own check), and a safe apply against the base revision.
 */
export function RulesEditor({ serviceId, canEdit, onRevision, runtime }: { serviceId: string; canEdit: boolean; onRevision?: (revision: number | null) => void; runtime?: string }) {
  const onSwarm = runtime === "swarm";
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saved, setSaved] = useState<Rules | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [baseRevision, setBaseRevision] = useState<number>(0);
  const [engine, setEngine] = useState<EngineInfo | null>(null);
  const [formKey, setFormKey] = useState(0);
  const [preview, setPreview] = useState<PreviewState>({ kind: "idle" });
  const [apply, setApply] = useState<ApplyState>({ kind: "idle" });
  const [serverIssues, setServerIssues] = useState<Map<string, string>>(new Map());
  const [now, setNow] = useState(0);
  const previewSeq = useRef(0);
  const onRevisionRef = useRef(onRevision);
  useEffect(() => {
    onRevisionRef.current = onRevision;
  }, [onRevision]);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const [r, b] = await Promise.all([
        api<{ rules: Rules; revision: number }>(`/api/services/${encodeURIComponent(serviceId)}/rules`),
        api<{ engine: EngineInfo }>("/api/balancer").catch(() => null),
      ]);
      const rules = rulesSchema.parse(r.rules);
      setSaved(rules);
      setDraft(rules);
      setBaseRevision(r.revision);
      // a Swarm service: what its own balancer on the Swarm cannot do is off too, with the reason
      setEngine(b?.engine ? (onSwarm ? { ...b.engine, capabilities: withSwarmBalancer(b.engine.capabilities) } : b.engine) : null);
      setServerIssues(new Map());
      setPreview({ kind: "idle" });
      setFormKey((k) => k + 1);
    } catch (e) {
      setLoadError(e instanceof Error ? e.message : String(e));
    }
  }, [serviceId, onSwarm]);

  useEffect(() => {
    void load();
  }, [load]);

  // elapsed time while an apply runs
  useEffect(() => {
    if (apply.kind !== "applying") return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [apply.kind]);

  const parsed = useMemo(() => (draft ? rulesSchema.safeParse(draft) : null), [draft]);
  const clientIssues = useMemo(() => (parsed && !parsed.success ? issuesByPath(parsed.error.issues, draft) : new Map<string, string>()), [parsed, draft]);
  const unsupported = useMemo(() => (parsed?.success && engine ? unsupportedOptions(engine.capabilities, parsed.data) : []), [parsed, engine]);
  const changed = useMemo(() => (draft && saved ? changedPaths(draft, saved) : new Set<string>()), [draft, saved]);

  // another revision applied elsewhere (another operator, a rollback, a new service) while this form is open
  const [newest, setNewest] = useState<number | null>(null);
  useEffect(() => {
    const s = liveSocket();
    const onEvent = (e: { kind?: string; data?: unknown }) => {
      const n = (e.data as { revision?: unknown } | null)?.revision;
      if (e.kind === EVENT_KIND.rulesApplied && typeof n === "number") setNewest((p) => Math.max(p ?? 0, n));
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
  }, []);
  const isStale = newest !== null && newest > baseRevision && apply.kind !== "applying" && saved !== null;
  // nothing edited: follow the new revision quietly
  useEffect(() => {
    if (isStale && changed.size === 0 && apply.kind !== "conflict") void load();
  }, [isStale, changed.size, apply.kind, load]);

  const errors = useMemo(() => {
    const out = new Map<string, string>(serverIssues);
    for (const [k, v] of clientIssues) out.set(k, v);
    for (const u of unsupported) {
      const k = fieldOf(u.capability);
      if (!out.has(k)) out.set(k, `${engine?.kind ?? "the engine"} cannot do ${u.option}: ${u.reason}`);
    }
    return out;
  }, [serverIssues, clientIssues, unsupported, engine]);

  if (loadError) {
    return (
      <div data-testid="rules-editor" className="space-y-3">
        <Alert>Could not load the rules: {loadError}</Alert>
        <Button variant="secondary" onClick={() => void load()}>
          Try again
        </Button>
      </div>
    );
  }
  if (!draft || !saved || !parsed) {
    return (
      <div data-testid="rules-editor" className="py-6 text-sm text-zinc-500">
        Loading rules…
      </div>
    );
  }

  const isValid = parsed.success && unsupported.length === 0;
  const isDirty = changed.size > 0;
  const applying = apply.kind === "applying";
  const rulesKey = parsed.success ? JSON.stringify(parsed.data) : null;

  const update = (path: readonly string[], value: unknown) => {
    setDraft((d) => (d ? setPath(d, path, value) : d));
    if (serverIssues.size) setServerIssues(new Map());
    if (apply.kind !== "applying" && apply.kind !== "conflict") setApply({ kind: "idle" });
  };

  const reset = () => {
    setDraft(saved);
    setServerIssues(new Map());
    setPreview({ kind: "idle" });
    setApply({ kind: "idle" });
    setFormKey((k) => k + 1);
  };

  const runPreview = async () => {
    if (!parsed.success) return;
    setPreview({ kind: "loading" });
    try {
      const result = await api<PreviewResult>("/api/balancer/preview", { body: { serviceId, rules: parsed.data } });
      setPreview({ kind: "done", result, forRules: JSON.stringify(parsed.data), seq: ++previewSeq.current });
    } catch (e) {
      if (e instanceof ApiError && e.code === "bad_request" && Array.isArray(e.details)) setServerIssues(detailsToIssues(e.details));
      setPreview({ kind: "error", message: e instanceof Error ? e.message : String(e), seq: ++previewSeq.current });
    }
  };

  const runApply = async (force = false) => {
    if (!parsed.success || !isValid) return;
    const startedAt = Date.now();
    setNow(startedAt);
    setApply({ kind: "applying", startedAt });
    try {
      const res = await api<ApplyResult>(`/api/services/${encodeURIComponent(serviceId)}/rules`, { method: "PUT", body: { baseRevision, rules: parsed.data, ...(force ? { force: true } : {}) } });
      const rules = rulesSchema.parse(res.rules);
      setSaved(rules);
      setDraft(rules);
      setBaseRevision(res.revision.number);
      setFormKey((k) => k + 1);
      setPreview({ kind: "idle" });
      setApply({ kind: "applied", revision: res.revision.number, diff: res.diff, ms: Date.now() - startedAt });
      onRevisionRef.current?.(res.revision.number);
    } catch (e) {
      if (!(e instanceof ApiError)) {
        setApply({ kind: "error", message: e instanceof Error ? e.message : String(e) });
        return;
      }
      const details = (e.details ?? {}) as { currentRevision?: number; revision?: number; engineError?: string };
      switch (e.code) {
        case "conflict":
          setApply({ kind: "conflict", message: e.message, current: typeof details.currentRevision === "number" ? details.currentRevision : null });
          break;
        case "route_shadowed":
          setApply({ kind: "shadowed", message: e.message });
          break;
        case "engine_error":
          // the engine's own check or reload refused it: a failed revision was recorded
          setApply({ kind: "refused", message: e.message, engineError: details.engineError ?? null, revision: typeof details.revision === "number" ? details.revision : null });
          onRevisionRef.current?.(null);
          break;
        case "bad_request":
        case "unsupported":
          // the panel refused them before the engine saw them (the schema, or an option this engine cannot do): no revision
          if (Array.isArray(e.details)) setServerIssues(detailsToIssues(e.details));
          setApply({ kind: "error", message: `The panel refused these rules: ${e.message}` });
          break;
        default:
          setApply({ kind: "error", message: e.message });
      }
    }
  };

  /**
   * Brings a result into view once, when it appears: the buttons stick to the bottom of
   * the window, often a screen or more above where results land (under the whole form).
   * An apply's result comes up to the bottom edge ("nearest"); a preview's to the top
   * (its scroll-mt keeps it under the header), so its check and as much diff as fits show.
   */
  const scrollOnce = (block: ScrollLogicalPosition) => (el: HTMLElement | null) => {
    if (el && el.dataset.seen !== "1") {
      el.dataset.seen = "1";
      el.scrollIntoView({ behavior: smoothness(), block });
    }
  };
  const scrollHere = scrollOnce("nearest");
  const scrollToPreview = scrollOnce("start");
  const previewStale = preview.kind === "done" && preview.forRules !== rulesKey;
  const problems = [...errors.entries()];

  const checkName = engine ? engineDescriptors[engine.kind].checkName : "the engine's check";
  const RED = "text-rose-700 dark:text-rose-400";
  const AMBER = "text-amber-700 dark:text-amber-400";
  const previewCheckName = preview.kind === "done" ? (descriptorOf(preview.result.engine)?.checkName ?? preview.result.engine) : checkName;
  const statusLine = (): { tone: string; text: string; preview?: true } => {
    const on = engine?.kind ?? "the engine";
    switch (apply.kind) {
      case "applying":
        return { tone: "text-sky-700 dark:text-sky-300", text: `Applying to ${on}: render → ${checkName} → atomic swap → reload → verify… ${((now - apply.startedAt) / 1000).toFixed(1)} s` };
      case "applied":
        return { tone: "text-emerald-700 dark:text-emerald-400", text: `✓ Revision ${apply.revision} applied in ${(apply.ms / 1000).toFixed(1)} s; it is live.` };
      case "refused":
        return { tone: RED, text: `✗ ${on} refused it; nothing changed (details below).` };
      case "conflict":
        return { tone: AMBER, text: "Someone else applied a change meanwhile; nothing was applied (details below)." };
      case "error":
        return { tone: RED, text: "✗ Not applied (details below)." };
    }
    if (preview.kind === "loading") return { tone: "text-sky-700 dark:text-sky-300", text: `Rendering the ${engine?.kind ?? "engine's"} config and running ${checkName}…` };
    if (isStale && isDirty) return { tone: AMBER, text: `Revision ${newest} was applied elsewhere meanwhile: reload, or keep your edits (top of the form).` };
    if (problems.length > 0) return { tone: RED, text: `${problems.length === 1 ? "1 problem" : `${problems.length} problems`} to fix: see the fields marked in red.` };
    if (preview.kind === "error") return { tone: RED, text: `✗ Preview failed: ${preview.message}` };
    if (preview.kind === "done") {
      const { added, removed } = diffCounts(preview.result.diff);
      const check = preview.result.check.ok ? `✓ ${previewCheckName} accepts it` : `✗ ${preview.result.engine} would refuse it`;
      const lines = added + removed === 0 ? "no line changes" : `${added} ${added === 1 ? "line" : "lines"} added, ${removed} removed`;
      return { tone: preview.result.check.ok ? "text-emerald-700 dark:text-emerald-400" : RED, text: `Preview: ${check}; ${lines}${previewStale ? " (the form changed since: preview again)" : ""}.`, preview: true };
    }
    if (!isDirty) return { tone: "text-zinc-500", text: "Change a rule to preview or apply it." };
    return { tone: "text-zinc-500", text: `Apply runs ${checkName} first; a configuration it refuses changes nothing.` };
  };
  const status = statusLine();

  return (
    <div data-testid="rules-editor" className="space-y-4">
      <div className="flex flex-wrap items-center gap-2 text-xs text-zinc-500">
        <span>
          Based on revision <strong data-testid="rules-base-revision" className="text-zinc-700 dark:text-zinc-300">{baseRevision}</strong>
        </span>
        {engine && (
          <span>
            · engine <strong className="text-zinc-700 dark:text-zinc-300">{engine.kind}</strong>
            {engine.version ? ` ${engine.version}` : ""}
          </span>
        )}
        {onSwarm && (
          <span data-testid="rules-swarm-note">
            · routes and listeners are the panel&apos;s listener&apos;s; the rest is carried out by this service&apos;s own HAProxy on the Swarm, across its tasks (source stickiness and source hashing are off: it sees every request come from the panel&apos;s listener)
          </span>
        )}
        {!engine && <Badge tone="amber">engine capabilities unknown: nothing is disabled here, the panel still checks on apply</Badge>}
        {isDirty ? <Badge tone="blue">{changed.size === 1 ? "1 change" : `${changed.size} changes`} not applied</Badge> : <Badge>no changes</Badge>}
        {!canEdit && <Badge tone="zinc">read-only: editing needs the operator role</Badge>}
      </div>

      {isStale && changed.size > 0 && apply.kind !== "conflict" && (
        <div data-testid="rules-stale" role="status" className="flex flex-wrap items-center gap-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-200">
          <span className="flex-1">Revision {newest} was applied elsewhere while you edit (you started from revision {baseRevision}). Applying now would be refused.</span>
          <Button size="sm" onClick={() => void load()}>
            Reload current rules
          </Button>
          <Button size="sm" variant="secondary" onClick={() => setBaseRevision(newest ?? baseRevision)}>
            Keep my edits
          </Button>
        </div>
      )}

      <RulesFields key={formKey} draft={draft} update={update} errors={errors} changed={changed} disabled={!canEdit || applying} engine={engine} />

      {canEdit && problems.length > 0 && (
        <div data-testid="rules-problems" role="alert" className="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-300">
          <p className="font-medium">{problems.length === 1 ? "1 problem" : `${problems.length} problems`} to fix before you can preview or apply:</p>
          <ul className="mt-1 list-disc pl-5 text-xs">
            {problems.map(([path, msg]) => (
              <li key={path}>
                <code>{path || "rules"}</code>: {msg}
              </li>
            ))}
          </ul>
        </div>
      )}

      {preview.kind === "error" && (
        <div key={`preview-error-${preview.seq}`} ref={scrollHere} data-testid="rules-preview-error">
          <Alert>Preview failed: {preview.message}</Alert>
        </div>
      )}
      {preview.kind === "done" && (
        <section key={`preview-${preview.seq}`} ref={scrollToPreview} id="rules-preview-result" data-testid="rules-preview-result" aria-labelledby="rules-preview-title" className="scroll-mt-16 space-y-2">
          <div className="flex flex-wrap items-center gap-2 text-sm">
            <h3 id="rules-preview-title" className="font-semibold">Preview: the {preview.result.engine} config these rules would make, against the live one</h3>
            {previewStale && <Badge tone="amber">outdated: the form changed since, preview again</Badge>}
          </div>
          {preview.result.check.ok ? (
            <Alert tone="success">
              <span data-testid="rules-check-ok">✓ {previewCheckName} accepts this configuration.</span>
            </Alert>
          ) : (
            <div data-testid="rules-check-failed" role="alert" className="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-300">
              <p className="font-medium">✗ {preview.result.engine} would refuse this configuration (applying it would change nothing):</p>
              <pre className="mt-1 max-h-60 overflow-auto whitespace-pre-wrap font-mono text-xs">{preview.result.check.error}</pre>
            </div>
          )}
          {(preview.result.shadowed ?? []).length > 0 && (
            <div data-testid="rules-preview-shadowed" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
              <p className="font-medium">Never reached (Apply refuses this unless you apply anyway):</p>
              <ul className="mt-1 list-disc pl-5 text-xs">
                {preview.result.shadowed!.map((f) => (
                  <li key={f.message}>{f.message}</li>
                ))}
              </ul>
            </div>
          )}
          <DiffView diff={preview.result.diff} testId="rules-preview-diff" emptyText="No difference: these rules render exactly the live configuration." />
        </section>
      )}

      {canEdit && (
        <div className="sticky bottom-0 z-10 -mx-4 flex flex-wrap items-center gap-2 border-t border-zinc-200 bg-white/95 px-4 py-3 backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/95">
          <Button variant="secondary" data-testid="rules-preview" disabled={!isValid || preview.kind === "loading" || applying} onClick={() => void runPreview()}>
            {preview.kind === "loading" ? "Rendering…" : "Preview"}
          </Button>
          <Button data-testid="rules-apply" disabled={!isValid || !isDirty || applying} onClick={() => void runApply()}>
            {applying && <span className="h-3.5 w-3.5 animate-spin rounded-full border-2 border-white/40 border-t-white" aria-hidden />}
            {applying ? "Applying…" : "Apply"}
          </Button>
          <Button variant="ghost" data-testid="rules-reset" disabled={!isDirty || applying} onClick={reset}>
            Reset
          </Button>
          <span data-testid="rules-status" data-preview={status.preview ? "true" : undefined} role="status" className={`min-w-0 flex-1 text-xs ${status.tone}`}>
            {status.text}
            {status.preview && (
              <>
                {" "}
                <a href="#rules-preview-result" data-testid="rules-preview-jump" className="font-medium underline underline-offset-2" onClick={jumpToPreview}>
                  Show the diff
                </a>
              </>
            )}
          </span>
        </div>
      )}

      {apply.kind === "applied" && (
        <div key={`applied-${apply.revision}`} data-testid="rules-applied" ref={scrollHere}>
          <Alert tone="success">
            Revision <strong data-testid="rules-applied-revision">{apply.revision}</strong> applied to {engine?.kind ?? "the engine"} in {(apply.ms / 1000).toFixed(1)} s. It is live now, and in the revision history.
          </Alert>
          <details className="mt-2 text-sm">
            <summary className="cursor-pointer text-xs text-zinc-500">What changed in the config</summary>
            <div className="mt-2">
              <DiffView diff={apply.diff} />
            </div>
          </details>
        </div>
      )}
      {apply.kind === "refused" && (
        <div key={`refused-${apply.revision}-${apply.message.length}`} data-testid="rules-refused" ref={scrollHere} role="alert" className="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-800 dark:border-rose-800 dark:bg-rose-950/50 dark:text-rose-300">
          <p className="font-medium">Nothing changed: {engine?.kind ?? "the engine"} refused this configuration, and the previous one keeps serving.</p>
          {apply.revision !== null && <p className="text-xs">The attempt is recorded as failed revision {apply.revision} in the history.</p>}
          <pre data-testid="rules-engine-error" className="mt-2 max-h-60 overflow-auto whitespace-pre-wrap rounded bg-white/70 p-2 font-mono text-xs dark:bg-black/30">
            {apply.engineError ?? apply.message}
          </pre>
        </div>
      )}
      {apply.kind === "conflict" && (
        <div data-testid="rules-conflict" ref={scrollHere} role="alert" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/50 dark:text-amber-200">
          <p className="font-medium">
            Someone else applied a change{apply.current !== null ? ` (now revision ${apply.current})` : ""} since you loaded these rules (revision {baseRevision}). Nothing was applied.
          </p>
          <p className="text-xs">Reload to see the current rules (your edits are dropped), or keep your edits and apply them on top of the new revision; preview first to see what that would change.</p>
          <div className="flex gap-2">
            <Button size="sm" data-testid="rules-reload" onClick={() => void load().then(() => setApply({ kind: "idle" }))}>
              Reload current rules
            </Button>
            {apply.current !== null && (
              <Button
                size="sm"
                variant="secondary"
                data-testid="rules-keep-edits"
                onClick={() => {
                  setBaseRevision(apply.current ?? baseRevision);
                  setApply({ kind: "idle" });
                }}
              >
                Keep my edits
              </Button>
            )}
          </div>
        </div>
      )}
      {apply.kind === "shadowed" && (
        <div ref={scrollHere} data-testid="rules-shadowed" role="alert" className="space-y-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
          <p>Not applied: {apply.message}</p>
          {canEdit && (
            <Button variant="secondary" size="sm" data-testid="rules-apply-anyway" onClick={() => void runApply(true)}>
              Apply anyway
            </Button>
          )}
        </div>
      )}
      {apply.kind === "error" && (
        <div ref={scrollHere} data-testid="rules-error">
          <Alert>{apply.message}</Alert>
        </div>
      )}
    </div>
  );
}

/** Smooth scrolling, unless the user asked for reduced motion. */
function smoothness(): ScrollBehavior {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";
}

/** "Show the diff": scroll to the preview without changing the address (the service page keeps #rules there). */
function jumpToPreview(e: React.MouseEvent<HTMLAnchorElement>) {
  e.preventDefault();
  document.getElementById("rules-preview-result")?.scrollIntoView({ behavior: smoothness(), block: "start" });
}

function detailsToIssues(details: unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of details) {
    if (d && typeof d === "object" && "path" in d && "message" in d) {
      const path = String((d as { path: unknown }).path).replace(/^rules\./, "");
      if (!out.has(path)) out.set(path, String((d as { message: unknown }).message));
    }
  }
  return out;
}
