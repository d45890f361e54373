"use client";

import { useState } from "react";
import { describeRouteOf } from "@/lib/core/route-match";
import type { Rules } from "@/lib/core/rules";
import { exampleCurl, type ListenerChoice } from "@/components/rules/routes-model";
import { useListeners } from "@/components/rules/use-listeners";

export type BalancerInfo = {
  kind: string;
  version: string | null;
  running: boolean;
  listen: { host: string; port: number };
  location: string | null;
  error: string | null;
};

/**
 * The commands that reach the service through the balancer (the data plane), one per
 * route, ready to copy: each through its route's listener (its port; https with the
 * name in the URL and the panel's CA root), a *.wildcard host as an example name.
 */
export function reachCommands(rules: Rules, listen: { host: string; port: number }, listeners: readonly ListenerChoice[] | null = null): { route: string; command: string }[] {
  return rules.routes.map((r) => ({ route: describeRouteOf(r), command: exampleCurl(r, listen, listeners) }));
}

/** The first route's command (see reachCommands). */
export const reachCommand = (rules: Rules, listen: { host: string; port: number }, listeners: readonly ListenerChoice[] | null = null): string => reachCommands(rules, listen, listeners)[0].command;

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="underline hover:text-zinc-800 dark:hover:text-zinc-200"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? "copied" : "copy"}
    </button>
  );
}

export function ReachCommand({ rules, balancer }: { rules: Rules; balancer: BalancerInfo }) {
  const listeners = useListeners();
  const commands = reachCommands(rules, balancer.listen, listeners);
  const https = commands.some((c) => c.command.includes("--cacert"));
  return (
    <div className="min-w-0 space-y-1 text-xs text-zinc-500">
      <span>Reach it through the balancer:</span>
      <ul className="space-y-1">
        {commands.map((c, i) => (
          <li key={i} className="flex min-w-0 flex-wrap items-center gap-2">
            <code data-testid="reach-command" className="break-all rounded bg-zinc-100 px-1.5 py-0.5 font-mono text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
              {c.command}
            </code>
            <CopyButton text={c.command} />
            {(commands.length > 1 || rules.routes[i].hosts.length > 0) && <span className="break-all">(route: {c.route})</span>}
          </li>
        ))}
      </ul>
      {https && <p>https: download the CA root (switchyard-local-ca.crt) from the Balancer page&apos;s certificates first.</p>}
      {!balancer.running && balancer.error && <span className="text-rose-600 dark:text-rose-400">balancer: {balancer.error}</span>}
    </div>
  );
}
