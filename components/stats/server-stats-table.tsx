"use client";

import { useMemo, type ReactNode } from "react";
import type { ServiceTick } from "@/lib/core/metrics";
import { Badge, type Tone } from "@/components/ui/badge";
import { rangeText } from "@/components/services/replica-figures";
import {
  LATENCY_WINDOW_S,
  RECENT_WINDOW_S,
  bytesText,
  countText,
  durationText,
  problemCount,
  statsRows,
  unavailable,
  type StatField,
  type StatsRow,
} from "@/components/stats/server-stats-model";

/**
 * Per-server stats table, one row a server, like HAProxy's stats page and NGINX Plus's
 * upstreams tab. Rows are tinted by state and say it in a word; a figure the engine
 * cannot give is "—" with the reason in its title. The table scrolls inside its own box,
 * so a phone never scrolls the page sideways.
 */

const rowTint: Record<Tone, string> = {
  green: "bg-emerald-50/60 dark:bg-emerald-950/30",
  red: "bg-rose-50 dark:bg-rose-950/40",
  amber: "bg-amber-50 dark:bg-amber-950/30",
  blue: "bg-sky-50/60 dark:bg-sky-950/30",
  zinc: "bg-zinc-100/70 dark:bg-zinc-800/40",
  violet: "bg-violet-50 dark:bg-violet-950/30",
};

/** The name column stays in view while the table scrolls; a bar in the state's colour marks it (the word is in the next column). */
const stickyName = "sticky left-0 z-10 bg-white dark:bg-zinc-900";
const stickyHead = "sticky left-0 z-10 bg-zinc-50 dark:bg-zinc-900";
const accent: Record<Tone, string> = {
  green: "border-l-4 border-l-emerald-500",
  red: "border-l-4 border-l-rose-500",
  amber: "border-l-4 border-l-amber-500",
  blue: "border-l-4 border-l-sky-500",
  zinc: "border-l-4 border-l-zinc-400",
  violet: "border-l-4 border-l-violet-500",
};

function Missing({ why, field }: { why: string; field?: StatField }) {
  return (
    <span title={why} aria-label={`not available: ${why}`} data-missing={field} className="cursor-help text-zinc-500 dark:text-zinc-400">
      —
    </span>
  );
}

/** A figure, or "—" with why when the engine cannot give it (by field, or because it reported nothing). */
function Fig({ engine, field, value, children }: { engine: string; field?: StatField; value: number | null | undefined; children?: ReactNode }) {
  const why = field ? unavailable(engine, field) : null;
  if (why) return <Missing why={why} field={field} />;
  if (value === null || value === undefined) return <Missing why="the engine reported no value for this server" />;
  return <>{children ?? countText(value)}</>;
}

const th = "px-2 py-1 text-left font-medium text-zinc-600 dark:text-zinc-300 whitespace-nowrap";
const td = "px-2 py-1 whitespace-nowrap tabular-nums";
const group = "px-2 pt-1 text-center text-[11px] font-semibold uppercase tracking-wide text-zinc-500 dark:text-zinc-400 border-l border-zinc-200 dark:border-zinc-800";
const first = "border-l border-zinc-200 dark:border-zinc-800";

function Row({ row, engine }: { row: StatsRow; engine: string }) {
  const s = row.server;
  const since = durationText(row.health.lastChangeMs);
  const lat = row.latency;
  return (
    <tr data-testid={`stats-row-${row.replicaId}`} data-state={row.state.word} className={`border-t border-zinc-200 dark:border-zinc-800 ${rowTint[row.state.tone]}`}>
      <th scope="row" className={`${td} ${stickyName} ${accent[row.state.tone]} text-left font-mono font-normal`} title={`replica ${row.replicaId}`}>
        {s.name}
      </th>
      <td className={td}>
        <span data-testid={`stats-state-${row.replicaId}`} title={row.state.explain}>
          <Badge tone={row.state.tone}>{row.state.word}</Badge>
        </span>
        <span className="ml-1 text-zinc-600 dark:text-zinc-400">{since ? `for ${since}` : <Missing why={unavailable(engine, "statusSince") ?? "the engine has not said since when"} />}</span>
      </td>
      <td className={`${td} ${first}`}>
        <Fig engine={engine} field="sessions" value={s.sessions.current} />
      </td>
      <td className={td}>
        <Fig engine={engine} field="sessionsMax" value={s.sessions.max} />
      </td>
      <td className={td}>
        {unavailable(engine, "sessionLimit") ? <Missing why={unavailable(engine, "sessionLimit")!} field="sessionLimit" /> : s.sessions.limit === null ? <span title="no limit is set">none</span> : countText(s.sessions.limit)}
      </td>
      <td className={`${td} ${first}`}>
        <Fig engine={engine} field="queue" value={s.queue.current} />
      </td>
      <td className={td}>
        <Fig engine={engine} field="queueMax" value={s.queue.max} />
      </td>
      <td className={`${td} ${first}`} data-testid={`stats-requests-${row.replicaId}`}>
        {countText(s.requests)}
      </td>
      <td className={td}>{Math.round(row.rate * 10) / 10}</td>
      <td className={`${td} ${first}`}>
        <Fig engine={engine} field="bytesIn" value={s.bytes.in}>
          {s.bytes.in !== null && bytesText(s.bytes.in)}
        </Fig>
      </td>
      <td className={td}>
        <Fig engine={engine} field="bytesOut" value={s.bytes.out}>
          {s.bytes.out !== null && bytesText(s.bytes.out)}
        </Fig>
      </td>
      <td className={`${td} ${first}`}>{countText(s.responses["2xx"])}</td>
      <td className={td}>{countText(s.responses["3xx"])}</td>
      <td className={td}>{countText(s.responses["4xx"])}</td>
      <td className={`${td} ${s.responses["5xx"] > 0 ? "font-semibold text-rose-700 dark:text-rose-300" : ""}`}>{countText(s.responses["5xx"])}</td>
      <td className={`${td} ${first} ${s.connectionErrors > 0 ? "font-semibold text-rose-700 dark:text-rose-300" : ""}`}>{countText(s.connectionErrors)}</td>
      <td className={td}>{countText(s.retries)}</td>
      <td className={td}>{countText(s.redispatches)}</td>
      {lat?.kind === "percentiles" ? (
        <>
          <td className={`${td} ${first}`} data-testid={`stats-p50-${row.replicaId}`}>
            {rangeText(lat.p50)}
          </td>
          <td className={td} data-testid={`stats-p95-${row.replicaId}`}>
            {rangeText(lat.p95)}
          </td>
          <td className={td}>{rangeText(lat.p99)}</td>
        </>
      ) : lat?.kind === "average" ? (
        <td colSpan={3} className={`${td} ${first}`} title="HAProxy's own average over this server's last 1024 requests (rtime): it lags behind a change. No request log records yet for percentiles.">
          avg of last 1024 (HAProxy): {Math.round(lat.avg)} ms
        </td>
      ) : (
        <td colSpan={3} className={`${td} ${first}`}>
          <Missing why={`no answers from this server in the last ${LATENCY_WINDOW_S} s`} />
        </td>
      )}
      <td className={`${td} ${first} max-w-[16rem] truncate`} title={row.health.reason ?? undefined}>
        {row.health.reason ?? <Missing why="no health check result yet" />}
      </td>
      <td className={td}>
        <Fig engine={engine} field="checkDuration" value={s.check.durationMs}>
          {s.check.durationMs !== null && `${s.check.durationMs} ms`}
        </Fig>
      </td>
      <td className={td}>
        <Fig engine={engine} field="checkFailures" value={s.check.failures} />
      </td>
      <td className={td}>
        <Fig engine={engine} field="downtime" value={s.downtimeS}>
          {s.downtimeS !== null && (durationText(s.downtimeS * 1000) ?? "")}
        </Fig>
      </td>
      <td className={`${td} ${first}`} title={s.weightFrom === "engine" ? "as the engine uses it now" : "as the panel set it in the engine"}>
        {s.weight}
      </td>
      <td className={td} title={s.weightFrom === "engine" ? "as the engine holds it" : "as the panel set it in the engine"}>
        {s.adminState}
      </td>
      <td className={`${td} ${first} text-rose-700 dark:text-rose-300`}>{row.problems.join("; ")}</td>
    </tr>
  );
}

export function ServerStatsTable({ history, engine, label }: { history: readonly ServiceTick[]; engine: string; label: string }) {
  const rows = useMemo(() => statsRows(history), [history]);
  const problems = problemCount(rows);
  return (
    <div data-testid="server-stats" data-problems={problems}>
      <div className="mb-2 flex flex-wrap items-center gap-2 text-xs">
        <span data-testid="stats-problems" title="servers down, with 5xx or connection errors in the last 10 s, or with queued requests">
          <Badge tone={problems > 0 ? "red" : "green"}>{problems === 0 ? "No problems" : `${problems} ${problems === 1 ? "problem" : "problems"}`}</Badge>
        </span>
        <span className="text-zinc-600 dark:text-zinc-400">
          {rows.length} {rows.length === 1 ? "server" : "servers"} · counts since the engine&apos;s last start or reload (nginx, builtin: since the panel started counting) · req/s and problems over the last {RECENT_WINDOW_S} s ·
          latency: p50 / p95 / p99 of the last {LATENCY_WINDOW_S} s, the bucket each lies in
        </span>
      </div>
      {problems > 0 && (
        <ul data-testid="stats-problem-list" className="mb-2 space-y-0.5 text-xs text-rose-700 dark:text-rose-300">
          {rows
            .filter((r) => r.problems.length > 0)
            .map((r) => (
              <li key={r.replicaId} className="break-words">
                <span className="font-mono">{r.server.name}</span> ({r.state.word}): {r.problems.join("; ")}
              </li>
            ))}
        </ul>
      )}
      {rows.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">No server in the balancer yet.</p>
      ) : (
        <div className="max-w-full overflow-x-auto rounded border border-zinc-200 dark:border-zinc-800" tabIndex={0} role="region" aria-label={`${label}: per-server statistics`}>
          <table className="min-w-max border-collapse text-xs">
            <thead className="bg-zinc-50 dark:bg-zinc-900">
              <tr>
                <th className={`${group} ${stickyHead}`} style={{ borderLeft: "none" }}>
                  Server
                </th>
                <th className={group} style={{ borderLeft: "none" }} />
                <th className={group} colSpan={3}>
                  Sessions
                </th>
                <th className={group} colSpan={2}>
                  Queue
                </th>
                <th className={group} colSpan={2}>
                  Requests
                </th>
                <th className={group} colSpan={2}>
                  Bytes
                </th>
                <th className={group} colSpan={4}>
                  Responses
                </th>
                <th className={group} colSpan={3}>
                  Errors
                </th>
                <th className={group} colSpan={3} title={`percentiles of this server's response times over the last ${LATENCY_WINDOW_S} s`}>
                  Latency, last {LATENCY_WINDOW_S} s
                </th>
                <th className={group} colSpan={4}>
                  Health check
                </th>
                <th className={group} colSpan={2}>
                  Admin
                </th>
                <th className={group}>Problems</th>
              </tr>
              <tr>
                <th className={`${th} ${stickyHead}`}>Name</th>
                <th className={th}>Status</th>
                <th className={`${th} ${first}`}>Cur</th>
                <th className={th}>Max</th>
                <th className={th}>Limit</th>
                <th className={`${th} ${first}`}>Cur</th>
                <th className={th}>Max</th>
                <th className={`${th} ${first}`}>Total</th>
                <th className={th} title={`requests per second over the last ${RECENT_WINDOW_S} s`}>
                  /s
                </th>
                <th className={`${th} ${first}`}>In</th>
                <th className={th}>Out</th>
                <th className={`${th} ${first}`}>2xx</th>
                <th className={th}>3xx</th>
                <th className={th}>4xx</th>
                <th className={th}>5xx</th>
                <th className={`${th} ${first}`} title="connection errors">
                  Conn
                </th>
                <th className={th}>Retries</th>
                <th className={th} title="requests sent to another server after a failure">
                  Redisp.
                </th>
                <th className={`${th} ${first}`}>p50</th>
                <th className={th}>p95</th>
                <th className={th}>p99</th>
                <th className={`${th} ${first}`}>Last result</th>
                <th className={th}>Took</th>
                <th className={th} title="failed checks">
                  Failed
                </th>
                <th className={th} title="total time down">
                  Downtime
                </th>
                <th className={`${th} ${first}`}>Weight</th>
                <th className={th}>State</th>
                <th className={`${th} ${first}`}>Now</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <Row key={row.replicaId} row={row} engine={engine} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
