"use client";

import type { ReplicaTick } from "@/lib/core/metrics";
import type { ReplicaView } from "@/lib/services/views";
import { Badge } from "@/components/ui/badge";
import { displayState, formatUptime, progressSteps, shortRef, stateLook } from "@/components/replicas/replica-state";
import { ReplicaActions } from "@/components/replicas/replica-actions";
import type { ServiceAction } from "@/lib/core/service";
import { ReplicaLogsButton } from "@/components/replicas/replica-logs-button";
import { MemoryBar } from "@/components/replicas/memory-bar";
import { ActiveFaults } from "@/components/replicas/active-faults";
import { CARD_WINDOW_S, rangeText, type AverageMeaning, type ReplicaFigures } from "@/components/services/replica-figures";

function fmt(n: number | null | undefined, digits = 1) {
  if (n === null || n === undefined) return "–";
  return n >= 100 ? Math.round(n).toString() : n.toFixed(digits);
}

function Stat({ label, value, sub, tone, title, testId }: { label: string; value: string; sub?: string; tone?: "red"; title?: string; testId?: string }) {
  return (
    <div className="min-w-0" title={title}>
      <div className="text-[11px] text-zinc-500">{label}</div>
      <div data-testid={testId} className={`truncate text-sm font-semibold tabular-nums ${tone === "red" ? "text-rose-700 dark:text-rose-400" : ""}`}>
        {value}
      </div>
      {sub && <div className="text-[11px] text-zinc-500 tabular-nums">{sub}</div>}
    </div>
  );
}

const pct = (x: number) => (x === 0 ? "0%" : x < 0.001 ? "<0.1%" : `${fmt(x * 100)}%`);
/** What a replica's runtime reference is, by runtime (a process: its pid). */
const REF_LABEL: Record<string, string> = { external: "runs", docker: "container", swarm: "task", kubernetes: "pod" };

/** Errors by class and latency over the card's window: which replica is failing, at a glance. */
function Quality({ figures, averageMeans }: { figures: ReplicaFigures; averageMeans: AverageMeaning }) {
  const { rates, latency, seconds } = figures;
  const span = `last ${seconds || CARD_WINDOW_S} s`;
  return (
    <div className="grid grid-cols-2 gap-2" data-testid="replica-quality">
      <Stat
        label={`errors · ${span}`}
        value={rates ? pct(rates.total) : "–"}
        sub={rates ? `5xx ${pct(rates["5xx"])} · 4xx ${pct(rates["4xx"])} · conn ${pct(rates.conn)}` : "no requests"}
        tone={rates && rates.total > 0 ? "red" : undefined}
        title={`of the ${Math.round(figures.requests)} requests this replica got in the ${span}, as the balancer counted them: 5xx responses, 4xx responses, connection errors`}
        testId="replica-error-rate"
      />
      {latency?.kind === "average" ? (
        <Stat label="latency · average" value={`${fmt(latency.avg)} ms`} sub={averageMeans.label} title={averageMeans.explain} testId="replica-latency" />
      ) : (
        <Stat
          label={`latency p95 · ${span}`}
          value={latency ? rangeText(latency.p95) : "–"}
          sub={latency ? `p50 ${rangeText(latency.p50)}` : "no requests"}
          title={`percentiles of this replica's response times as the balancer measured them${latency ? ` (p99 ${rangeText(latency.p99)})` : ""}. The engine counts them in buckets (…, 100, 250, 500, 1000 ms, …), so a percentile is known to the bucket it lies in, no closer.`}
          testId="replica-latency"
        />
      )}
    </div>
  );
}

/** One replica: is it taking traffic, how much, how healthy, where it lives, and what an operator can do to it. */
export function ReplicaCard({
  replica,
  tick,
  figures,
  averageMeans,
  color,
  now,
  limitMb,
  thresholdPercent,
  serviceName,
  canOperate,
  serviceActions,
  lifecycle,
  replicaProtocol = true,
}: {
  replica: ReplicaView;
  tick: ReplicaTick | undefined;
  /** errors and latency over the last seconds (replica-figures.ts) */
  figures: ReplicaFigures;
  /** what this engine's average latency is (shown where it gives no percentiles) */
  averageMeans: AverageMeaning;
  color: string;
  now: number;
  limitMb: number;
  thresholdPercent: number;
  serviceName: string;
  canOperate: boolean;
  /** the app's own actions (issue 14) */
  serviceActions?: ServiceAction[];
  /** instances the panel did not start: "none" (external endpoint) or "restart" (discovered container) */
  lifecycle?: "full" | "restart" | "none";
  /** the app speaks the replica protocol (its Stress/Faults buttons are offered) */
  replicaProtocol?: boolean;
}) {
  const state = displayState(replica, tick);
  const look = stateLook[state];
  const steps = progressSteps(replica);
  const inRotation = state === "in-rotation";
  const health = tick?.health ?? { status: replica.health, reason: replica.healthReason, lastChangeMs: null };
  const isolated = state === "down";
  const share = tick ? Math.round(tick.share * 1000) / 10 : 0;
  const rps = tick?.rps ?? 0;
  const mem = tick?.memoryMb ?? null;
  const limit = tick?.memoryLimitMb ?? limitMb;

  return (
    <article
      data-testid="replica-card"
      data-replica-id={replica.id}
      data-state={state}
      data-in-rotation={inRotation ? "true" : "false"}
      data-rps={rps}
      data-share={share}
      data-health={health.status}
      data-memory-mb={mem ?? ""}
      data-error-rate={figures.rates ? Math.round(figures.rates.total * 1000) / 10 : ""}
      data-error-rate5xx={figures.rates ? Math.round(figures.rates["5xx"] * 1000) / 10 : ""}
      data-latency-kind={figures.latency?.kind ?? ""}
      data-latency-ms={figures.latency ? (figures.latency.kind === "average" ? figures.latency.avg : figures.latency.p95.upper) : ""}
      className={`flex min-w-0 flex-col gap-2.5 self-start rounded-lg border bg-white p-3 shadow-sm dark:bg-zinc-900 ${
        isolated || state === "failed" ? "border-rose-300 ring-1 ring-rose-300 dark:border-rose-800 dark:ring-rose-800" : "border-zinc-200 dark:border-zinc-800"
      } ${state === "draining" || state === "stopping" ? "opacity-70" : ""}`}
      style={{ borderTopColor: color, borderTopWidth: 4 }}
    >
      <header className="flex items-center gap-2">
        <span className="inline-block h-3 w-3 shrink-0 rounded-sm" style={{ backgroundColor: color }} aria-hidden />
        <span className="truncate font-mono text-sm font-semibold" title="replica id">
          {replica.id}
        </span>
        <Badge tone={look.tone} title={look.explain}>
          <span data-testid="replica-state">{look.label}</span>
        </Badge>
        {replica.runtime === "swarm" ? (
          <span className="ml-auto text-xs text-zinc-500" title="its service's HAProxy on the Swarm balances across the tasks: no weight per task">
            Swarm task
          </span>
        ) : (
          <span className="ml-auto text-xs text-zinc-500" title="balancer weight (0-256): its part of the traffic relative to the others">
            weight <span className="font-semibold text-zinc-800 dark:text-zinc-200">{replica.weight}</span>
          </span>
        )}
      </header>

      {steps && (
        <ol className="flex flex-wrap items-center gap-1 text-xs" aria-label="progress" data-testid="replica-progress">
          {steps.map((s, i) => (
            <li key={s.label} className="flex items-center gap-1">
              {i > 0 && <span className="text-zinc-500" aria-hidden>→</span>}
              <span
                className={
                  s.status === "done"
                    ? "text-emerald-700 dark:text-emerald-400"
                    : s.status === "active"
                      ? "animate-pulse font-semibold text-sky-700 dark:text-sky-300"
                      : "text-zinc-500"
                }
              >
                {s.status === "done" ? "✓ " : ""}
                {s.label}
              </span>
            </li>
          ))}
        </ol>
      )}

      <div className="grid grid-cols-3 gap-2">
        <Stat label="requests/s" value={fmt(rps)} testId="replica-rps" />
        <Stat label="share of traffic" value={`${fmt(share, 0)}%`} testId="replica-share" />
        <Stat label="CPU" value={tick?.cpuPercent === null || tick?.cpuPercent === undefined ? "–" : `${fmt(tick.cpuPercent)}%`} />
      </div>

      <Quality figures={figures} averageMeans={averageMeans} />

      <MemoryBar usedMb={mem} limitMb={limit} thresholdPercent={thresholdPercent} enforced={tick?.memoryLimitEnforced ?? null} runtime={replica.runtime} />
      {replica.runtime === "kubernetes" && tick && mem === null && tick.cpuPercent === null && (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="replica-no-metrics" title="the cluster's metrics API (metrics.k8s.io, metrics-server) has no figures for this pod, or the cluster has none">
          no metrics
        </p>
      )}

      <div className="text-xs">
        <span className="text-zinc-500">health (as the balancer sees it): </span>
        <span className={health.status === "up" ? "font-medium text-emerald-700 dark:text-emerald-400" : health.status === "down" && state !== "checking" ? "font-medium text-rose-700 dark:text-rose-400" : "font-medium"}>
          {state === "checking" ? "checking" : health.status}
        </span>
        {health.reason && <span className="text-zinc-500"> · {health.reason}</span>}
      </div>

      {replica.lastError && state === "failed" && <p className="text-xs break-words text-rose-700 dark:text-rose-400">{replica.lastError}</p>}

      <dl className="grid grid-cols-[auto_1fr] gap-x-2 gap-y-0.5 text-xs">
        <dt className="text-zinc-500">data</dt>
        <dd className="truncate font-mono" title="where the balancer sends traffic">
          {replica.dataAddr ?? "–"}
        </dd>
        <dt className="text-zinc-500">admin</dt>
        <dd className="truncate font-mono" title="management plane: the panel talks to the replica here, never through the balancer">
          {replica.adminAddr ?? "–"}
        </dd>
        <dt className="text-zinc-500">{REF_LABEL[replica.runtime] ?? "pid"}</dt>
        {replica.runtime === "external" ? (
          // an external endpoint: its ref is its address, and the panel did not start it
          <dd className="truncate text-zinc-500">elsewhere (given by address) · in the pool {formatUptime(replica.startedAt, now)}</dd>
        ) : (
          <dd className="truncate font-mono">
            {shortRef(replica.runtimeRef)} <span className="font-sans text-zinc-500">· up {formatUptime(replica.startedAt, now)}</span>
          </dd>
        )}
      </dl>

      <ActiveFaults faults={replica.faults} now={now} />

      {isolated && (
        <p className="rounded-md bg-rose-50 px-2 py-1.5 text-xs text-rose-800 dark:bg-rose-950/40 dark:text-rose-300" data-testid="isolated-note">
          The balancer has isolated this replica: no request reaches it through the balancer.
          {canOperate && replica.adminAddr && replicaProtocol && (
            <>
              {" "}
              Clear still reaches it directly on its admin address <span className="font-mono">{replica.adminAddr}</span>.
            </>
          )}
          {canOperate && serviceActions && serviceActions.length > 0 && ` The app's own actions below reach it directly${replicaProtocol && replica.adminAddr ? " too" : ""}, on its own ports.`}
        </p>
      )}

      {canOperate ? <ReplicaActions replica={replica} state={state} serviceName={serviceName} isolated={isolated} serviceActions={serviceActions} lifecycle={lifecycle} replicaProtocol={replicaProtocol} /> : <ReplicaLogsButton replicaId={replica.id} />}
    </article>
  );
}
