"use client";

import { useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { api, ApiError } from "@/lib/client/api";
import { replicaActionSchema, type ReplicaAction } from "@/lib/core/mgmt";
import type { ReplicaView } from "@/lib/services/views";
import { describeResult } from "@/components/replicas/action-result";
import { LogsDialog } from "@/components/replicas/logs-dialog";
import { restartOutcome, type Outcome, type RestartWatch } from "@/components/replicas/restart-outcome";
import type { DisplayState } from "@/components/replicas/replica-state";
import { CustomActions } from "@/components/replicas/custom-actions";
import { FaultActions } from "@/components/replicas/fault-actions";
import type { ServiceAction } from "@/lib/core/service";

type Confirm = { action: ReplicaAction; question: string; verb: string };

function Group({ title, hint, children }: { title: string; hint: ReactNode; children: ReactNode }) {
  return (
    <div className="space-y-1.5">
      <div className="text-[11px] font-semibold tracking-wide text-zinc-500 uppercase">
        {title} <span className="font-normal tracking-normal normal-case">· {hint}</span>
      </div>
      {children}
    </div>
  );
}

/** A narrow number box for the action rows (the form Input is full-width). */
function Small(props: React.InputHTMLAttributes<HTMLInputElement>) {
  return (
    <input
      {...props}
      inputMode="numeric"
      className="h-7 w-16 rounded-md border-0 bg-white px-2 text-xs text-zinc-900 tabular-nums ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700"
    />
  );
}

/**
 * Per-replica actions (operators only). Management-plane actions go to the
 * replica's own admin address, never through the balancer; balancer actions
 * change its place in the engine; runtime actions restart or remove it.
 */
export function ReplicaActions({
  replica,
  state,
  serviceName,
  isolated,
  serviceActions = [],
  lifecycle = "full",
  replicaProtocol = true,
}: {
  replica: ReplicaView;
  state: DisplayState;
  serviceName: string;
  isolated: boolean;
  /** the app's own actions (issue 14), shown as buttons above the panel's */
  serviceActions?: ServiceAction[];
  /** what the panel may do to the instance itself: an external endpoint nothing, a discovered container restart (never remove) */
  lifecycle?: "full" | "restart" | "none";
  /** the app speaks the replica protocol: its Stress/Faults (management plane) are offered; else only the faults that need nothing from the app */
  replicaProtocol?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [logs, setLogs] = useState(false);
  const [result, setOutcome] = useState<Outcome | null>(null);
  // a restart answers at once and happens afterwards: its line follows the replica until it is back
  const [restart, setRestart] = useState<RestartWatch | null>(null);
  if (restart && !restart.sawStarting && replica.state === "starting") setRestart({ ...restart, sawStarting: true });
  const outcome = restart ? restartOutcome(restart, replica, state) : result;
  const named = (what: string) => `${what} replica ${replica.id}`;
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [mb, setMb] = useState("200");
  const [seconds, setSeconds] = useState("10");
  const [latency, setLatency] = useState("0");
  const [errorPct, setErrorPct] = useState("0");
  const [failHealth, setFailHealth] = useState(false);
  const [weight, setWeight] = useState(String(replica.weight));
  const admin = replica.adminAddr ?? "(no admin address yet)";
  const leaving = replica.state === "draining" || replica.state === "stopping";
  const hasFaults = (replica.faults?.length ?? 0) > 0;

  const run = async (raw: unknown) => {
    const parsed = replicaActionSchema.safeParse(raw);
    if (!parsed.success) {
      setOutcome({ tone: "error", text: parsed.error.issues.map((i) => `${i.path.join(".") || "value"}: ${i.message}`).join("; ") });
      return;
    }
    const action = parsed.data;
    setConfirm(null);
    setRestart(null);
    setOutcome({ tone: "busy", text: `${action.action}…` });
    try {
      const res = await api<{ result: unknown }>(`/api/replicas/${replica.id}/actions`, { body: action });
      setOutcome({ tone: "ok", text: describeResult(action, res.result) });
      if (action.action === "restart") setRestart({ from: replica.startedAt, sawStarting: replica.state === "starting" });
    } catch (e) {
      setOutcome({ tone: "error", text: e instanceof ApiError ? e.message : String(e) });
    }
  };

  const ask = (action: ReplicaAction, verb: string, question: string) => setConfirm({ action, verb, question });

  return (
    <div className="space-y-2" data-testid="replica-actions">
      <CustomActions replicaId={replica.id} actions={serviceActions} disabled={leaving || (!replica.dataAddr && !replica.adminAddr)} />
      <div className="flex flex-wrap items-center gap-1.5">
        <Button
          size="sm"
          variant={(isolated && serviceActions.length === 0) || hasFaults ? "primary" : "secondary"}
          aria-label={named("Clear")}
          disabled={(replicaProtocol && !replica.adminAddr) || leaving}
          onClick={() => void run({ action: "clear" })}
          title={replicaProtocol ? `undoes every fault the panel holds on it, and POST ${admin}/admin/clear: frees stress memory, stops CPU burn, clears faults` : "undoes every fault the panel holds on it (pause, runtime stress, network fault)"}
        >
          Clear
        </Button>
        <Button size="sm" variant="secondary" aria-label={named("Logs of")} onClick={() => setLogs(true)}>
          Logs
        </Button>
        <Button size="sm" variant="ghost" aria-expanded={open} aria-controls={`actions-${replica.id}`} aria-label={named(open ? "Fewer actions for" : "More actions for")} onClick={() => setOpen((o) => !o)}>
          {open ? "Fewer actions ▴" : "More actions ▾"}
        </Button>
      </div>

      {open && (
        <div id={`actions-${replica.id}`} className="space-y-3 rounded-md border border-zinc-200 bg-zinc-50 p-2.5 dark:border-zinc-800 dark:bg-zinc-950/50">
          <Group title="Faults" hint="need nothing from the app; each ends at its time limit or on Clear">
            <FaultActions replica={replica} disabled={leaving} runtimeFaults={lifecycle === "full"} networkFault={replica.runtime !== "swarm"} run={(raw) => void run(raw)} ask={ask} named={named} />
          </Group>
          {replicaProtocol && (
          <Group title="Management plane" hint={<>straight to the admin address <span className="font-mono">{admin}</span>, never through the balancer</>}>
            <div className="flex flex-wrap items-center gap-1.5">
              <Small aria-label={named("memory to allocate (MB) on")} value={mb} onChange={(e) => setMb(e.target.value)} />
              <span className="text-xs text-zinc-500">MB</span>
              <Button size="sm" variant="secondary" aria-label={named("Stress memory of")} disabled={!replica.adminAddr || leaving} onClick={() => void run({ action: "stress-memory", mb: Number(mb) })}>
                Stress memory
              </Button>
            </div>
            <div className="flex flex-wrap items-center gap-1.5">
              <Small aria-label={named("CPU burn duration (seconds) on")} value={seconds} onChange={(e) => setSeconds(e.target.value)} />
              <span className="text-xs text-zinc-500">s</span>
              <Button size="sm" variant="secondary" aria-label={named("Stress CPU of")} disabled={!replica.adminAddr || leaving} onClick={() => void run({ action: "stress-cpu", seconds: Number(seconds) })}>
                Stress CPU
              </Button>
            </div>
            <div className="flex flex-wrap items-center gap-1.5">
              <Small aria-label={named("added latency (ms) on")} value={latency} onChange={(e) => setLatency(e.target.value)} />
              <span className="text-xs text-zinc-500">ms</span>
              <Small aria-label={named("error rate (%) on")} value={errorPct} onChange={(e) => setErrorPct(e.target.value)} />
              <span className="text-xs text-zinc-500">% errors</span>
              <label className="inline-flex items-center gap-1 text-xs">
                <input type="checkbox" aria-label={named("fail health of")} checked={failHealth} onChange={(e) => setFailHealth(e.target.checked)} /> fail health
              </label>
              <Button
                size="sm"
                variant="secondary"
                aria-label={named("Set faults on")}
                disabled={!replica.adminAddr || leaving}
                onClick={() => void run({ action: "faults", latencyMs: Number(latency), errorRate: Number(errorPct) / 100, failHealth })}
              >
                Set faults
              </Button>
              <Button size="sm" variant="ghost" aria-label={named("Info on")} disabled={!replica.adminAddr} onClick={() => void run({ action: "info" })}>
                Info
              </Button>
            </div>
          </Group>
          )}
          {replica.runtime === "swarm" ? (
            <Group title="Balancer" hint="its service's HAProxy on the Swarm">
              <p data-testid="swarm-task-balancer-note" className="text-xs text-zinc-500">
                Its service&apos;s own HAProxy on the Swarm balances across the tasks as Docker&apos;s DNS lists them, not by task, so drain, maintenance and a weight are not set per task: drain its node or scale the service.
              </p>
            </Group>
          ) : (
            <Group title="Balancer" hint="its place in the engine">
              <div className="flex flex-wrap items-center gap-1.5">
                {(["ready", "drain", "maint"] as const).map((s) => (
                  <Button
                    key={s}
                    size="sm"
                    variant={replica.adminState === s ? "primary" : "secondary"}
                    aria-pressed={replica.adminState === s}
                    aria-label={named(s === "ready" ? "Ready" : s === "drain" ? "Drain" : "Maint")}
                    disabled={leaving}
                    onClick={() => void run({ action: s })}
                    title={s === "ready" ? "back in rotation (when healthy)" : s === "drain" ? "no new requests; sticky sessions finish" : "out of rotation at once"}
                  >
                    {s === "ready" ? "Ready" : s === "drain" ? "Drain" : "Maint"}
                  </Button>
                ))}
                <span className="mx-1 h-4 border-l border-zinc-300 dark:border-zinc-700" aria-hidden />
                <Small aria-label={named("weight (0-256) of")} value={weight} onChange={(e) => setWeight(e.target.value)} />
                <Button size="sm" variant="secondary" aria-label={named("Set weight of")} disabled={leaving} onClick={() => void run({ action: "weight", weight: Number(weight) })}>
                  Set weight
                </Button>
              </div>
            </Group>
          )}
          {lifecycle !== "none" && (
            <Group title="Runtime" hint="the process or container">
              <div className="flex flex-wrap items-center gap-1.5">
                <Button
                  size="sm"
                  variant="secondary"
                  aria-label={named("Restart")}
                  disabled={leaving || replica.state === "starting"}
                  onClick={() => ask({ action: "restart" }, "Restart", `Restart replica ${replica.id}? It leaves rotation, restarts (what the app held is lost; the panel's own faults are applied again) and comes back once healthy.`)}
                >
                  Restart
                </Button>
                {lifecycle === "full" && (
                  <Button
                    size="sm"
                    variant="danger"
                    aria-label={named("Remove")}
                    disabled={leaving}
                    onClick={() => ask({ action: "remove" }, "Remove", `Remove replica ${replica.id}? It drains and stops, and ${serviceName} then wants one replica less.`)}
                  >
                    Remove
                  </Button>
                )}
              </div>
            </Group>
          )}
        </div>
      )}

      {confirm && (
        <div role="alertdialog" aria-label={named(`confirm: ${confirm.verb.toLowerCase()}`)} className="flex flex-wrap items-center gap-2 rounded-md border border-amber-300 bg-amber-50 px-2.5 py-2 text-xs text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200">
          <span className="min-w-0 flex-1">{confirm.question}</span>
          <Button size="sm" variant={confirm.action.action === "remove" || confirm.action.action === "kill" ? "danger" : "primary"} aria-label={`${named(confirm.verb)} now`} onClick={() => void run(confirm.action)}>
            {confirm.verb}
          </Button>
          <Button size="sm" variant="secondary" aria-label={named(`Cancel ${confirm.verb.toLowerCase()} of`)} onClick={() => setConfirm(null)}>
            Cancel
          </Button>
        </div>
      )}

      {outcome && (
        <p
          data-testid="action-result"
          data-tone={outcome.tone}
          role={outcome.tone === "error" ? "alert" : "status"}
          className={`text-xs ${outcome.tone === "error" ? "text-rose-700 dark:text-rose-400" : outcome.tone === "ok" ? "text-emerald-700 dark:text-emerald-400" : outcome.tone === "warn" ? "text-amber-700 dark:text-amber-400" : "text-zinc-500"}`}
        >
          {outcome.tone === "error" ? "Failed: " : ""}
          {outcome.text}
        </p>
      )}

      {logs && <LogsDialog replicaId={replica.id} onClose={() => setLogs(false)} />}
    </div>
  );
}
