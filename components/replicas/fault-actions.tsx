"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { KILL_SIGNALS, type KillSignal } from "@/lib/core/faults";
import type { ReplicaAction } from "@/lib/core/mgmt";
import type { ReplicaView } from "@/lib/services/views";

/** A narrow number box (the form Input is full-width). */
function Num({ label, value, onChange, width = "w-16" }: { label: string; value: string; onChange: (v: string) => void; width?: string }) {
  return (
    <input
      aria-label={label}
      inputMode="decimal"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      className={`h-7 ${width} rounded-md border-0 bg-white px-2 text-xs text-zinc-900 tabular-nums ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700`}
    />
  );
}

const Unit = ({ children }: { children: string }) => <span className="text-xs text-zinc-500">{children}</span>;

/** A number from a box, or undefined when it is empty (the schema then says what is missing). */
const num = (v: string) => (v.trim() === "" ? undefined : Number(v));

/**
 * Faults that need nothing from the app (issue 14): pause/resume, kill with a signal,
 * CPU/memory stress inside the replica's own cgroup, and a network fault on the
 * balancer → replica path. Each has a time limit; the card lists the active ones and
 * its Clear undoes them.
 */
export function FaultActions({
  replica,
  disabled,
  runtimeFaults = true,
  networkFault = true,
  run,
  ask,
  named,
}: {
  replica: ReplicaView;
  disabled: boolean;
  /** pause, kill and runtime stress: only on instances the panel started (not an external endpoint or a discovered container) */
  runtimeFaults?: boolean;
  /** a fault proxy on the balancer → replica path: not where the panel's balancer does not pick the replica (a Swarm task) */
  networkFault?: boolean;
  run: (raw: unknown) => void;
  ask: (action: ReplicaAction, verb: string, question: string) => void;
  named: (what: string) => string;
}) {
  const [signal, setSignal] = useState<KillSignal>("SIGTERM");
  const [cpus, setCpus] = useState("1");
  const [memoryMb, setMemoryMb] = useState("");
  const [stressS, setStressS] = useState("60");
  const [latency, setLatency] = useState("200");
  const [errorPct, setErrorPct] = useState("");
  const [reset, setReset] = useState(false);
  const [blackhole, setBlackhole] = useState(false);
  const [netS, setNetS] = useState("60");
  const paused = replica.faults?.some((f) => f.kind === "pause") ?? false;
  const off = disabled || !replica.runtimeRef;

  return (
    <div className="space-y-1.5" data-testid="fault-actions">
      {runtimeFaults && (
      <>
      <div className="flex flex-wrap items-center gap-1.5">
        {paused ? (
          <Button size="sm" variant="primary" aria-label={named("Resume")} disabled={off} onClick={() => run({ action: "resume" })}>
            Resume
          </Button>
        ) : (
          <Button size="sm" variant="secondary" aria-label={named("Pause")} disabled={off} onClick={() => run({ action: "pause" })} title="freeze it (docker pause / SIGSTOP) for at most 5 minutes">
            Pause
          </Button>
        )}
        <span className="mx-1 h-4 border-l border-zinc-300 dark:border-zinc-700" aria-hidden />
        <select
          aria-label={named("signal to send to")}
          value={signal}
          onChange={(e) => setSignal(e.target.value as KillSignal)}
          className="h-7 rounded-md border-0 bg-white px-1.5 text-xs text-zinc-900 ring-1 ring-zinc-300 ring-inset dark:bg-zinc-950 dark:text-zinc-100 dark:ring-zinc-700"
        >
          {KILL_SIGNALS.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <Button
          size="sm"
          variant="danger"
          aria-label={named("Kill")}
          disabled={off}
          onClick={() => ask({ action: "kill", signal }, "Kill", `Send ${signal} to replica ${replica.id}? If it ends, the controller replaces it.`)}
        >
          Kill
        </Button>
      </div>
      <div className="flex flex-wrap items-center gap-1.5">
        <Num label={named("CPU workers for stress on")} value={cpus} onChange={setCpus} width="w-12" />
        <Unit>CPU</Unit>
        <Num label={named("memory (MB) for stress on")} value={memoryMb} onChange={setMemoryMb} />
        <Unit>MB</Unit>
        <Num label={named("stress duration (seconds) on")} value={stressS} onChange={setStressS} />
        <Unit>s</Unit>
        <Button size="sm" variant="secondary" aria-label={named("Runtime stress on")} disabled={off} onClick={() => run({ action: "runtime-stress", cpus: num(cpus), memoryMb: num(memoryMb), seconds: num(stressS) })} title="stress-ng inside the replica's own cgroup: counts against its limits">
          Runtime stress
        </Button>
      </div>
      </>
      )}
      {!runtimeFaults && !networkFault && (
        <p data-testid="no-panel-faults" className="text-xs text-zinc-500">
          None here: Swarm schedules this task and its service&apos;s own HAProxy picks it, so the panel can neither pause it nor put a fault proxy in front of it. The management plane (for an app that speaks the replica protocol) and the app&apos;s own actions still reach it.
        </p>
      )}
      {networkFault && (
      <div className="flex flex-wrap items-center gap-1.5">
        <Num label={named("network latency (ms) on")} value={latency} onChange={setLatency} />
        <Unit>ms</Unit>
        <Num label={named("network error rate (%) on")} value={errorPct} onChange={setErrorPct} width="w-12" />
        <Unit>% errors</Unit>
        <label className="inline-flex items-center gap-1 text-xs">
          <input type="checkbox" aria-label={named("connection resets on")} checked={reset} onChange={(e) => setReset(e.target.checked)} /> reset
        </label>
        <label className="inline-flex items-center gap-1 text-xs">
          <input type="checkbox" aria-label={named("black hole on")} checked={blackhole} onChange={(e) => setBlackhole(e.target.checked)} /> black hole
        </label>
        <Num label={named("network fault duration (seconds) on")} value={netS} onChange={setNetS} />
        <Unit>s</Unit>
        <Button
          size="sm"
          variant="secondary"
          aria-label={named("Network fault on")}
          disabled={off || !replica.dataAddr}
          onClick={() => {
            const errors = num(errorPct);
            run({ action: "network-fault", latencyMs: num(latency), errorRate: errors === undefined ? undefined : errors / 100, reset: reset || undefined, blackhole: blackhole || undefined, seconds: num(netS) });
          }}
          title="on the balancer → replica path only: the panel's own requests still reach it directly"
        >
          Network fault
        </Button>
      </div>
      )}
    </div>
  );
}
