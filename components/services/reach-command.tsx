"use client";

import { useState } from "react";
import type { Rules } from "@/lib/core/rules";

export type BalancerInfo = {
  kind: string;
  version: string | null;
  running: boolean;
  listen: { host: string; port: number };
  location: string | null;
  error: string | null;
};

/** The command that reaches the service through the balancer (the data plane), ready to copy. */
export function reachCommand(rules: Rules, listen: { host: string; port: number }): string {
  const host = listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${listen.port}${rules.route.pathPrefix}`;
  return rules.route.host ? `curl -H 'Host: ${rules.route.host}' ${url}` : `curl ${url}`;
}

export function ReachCommand({ rules, balancer }: { rules: Rules; balancer: BalancerInfo }) {
  const [copied, setCopied] = useState(false);
  const cmd = reachCommand(rules, balancer.listen);
  return (
    <div className="flex flex-wrap items-center gap-2 text-xs text-zinc-500">
      <span>Reach it through the balancer:</span>
      <code data-testid="reach-command" className="rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
        {cmd}
      </code>
      <button
        type="button"
        className="underline hover:text-zinc-800 dark:hover:text-zinc-200"
        onClick={() => {
          void navigator.clipboard?.writeText(cmd).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? "copied" : "copy"}
      </button>
      {rules.route.host && <span>(route: host {rules.route.host}, path {rules.route.pathPrefix})</span>}
      {!balancer.running && balancer.error && <span className="text-rose-600 dark:text-rose-400">balancer: {balancer.error}</span>}
    </div>
  );
}
