import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { reachCommands, type EngineView, type RouteView } from "@/components/balancer/types";
import { engineDescriptors } from "@/lib/engines/descriptors";
import type { StatsFeed } from "@/lib/engines/types";
import { orderByRoute, shadowingService } from "@/lib/core/routes";

/** The engine: what it is, where it runs, whether it runs, and how to reach a service through it. */
export function EngineCard({ engine, revision, routes }: { engine: EngineView; revision: number; routes: RouteView[] }) {
  const state = engine.error ? { tone: "red" as const, text: "error" } : engine.running ? { tone: "green" as const, text: "running" } : { tone: "red" as const, text: "not running" };
  const listen = engine.listen ? `${engine.listen.host}:${engine.listen.port}` : "unknown";
  const shadowed = (r: RouteView): string | null => shadowingService(routes, r)?.name ?? null;
  return (
    <Card
      title="Engine"
      actions={
        <span data-testid="engine-state">
          <Badge tone={state.tone}>{state.text}</Badge>
        </span>
      }
    >
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <span data-testid="engine-kind" className="text-lg font-semibold">
          {engineDescriptors[engine.kind].label}
        </span>
        {engine.version && <span className="font-mono text-sm text-zinc-500">{engine.version}</span>}
        {engine.mode && <Badge tone={engine.mode === "supervised" ? "blue" : "violet"}>{engine.mode}</Badge>}
        {engine.mode !== "export-only" && <Badge tone="zinc">{engine.adopted ? "adopted" : "started by the panel"}</Badge>}
      </div>
      <dl className="mt-4 grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-2">
        <Item term="Mode">
          {engine.mode === "supervised"
            ? "Supervised: the panel starts it and keeps it running; it keeps serving while the panel stops or restarts."
            : engine.mode === "external"
              ? "External: someone else runs it (e.g. docker-compose); the panel writes its config and reloads it."
              : "Export only."}
        </Item>
        <Item term="Started">{engine.adopted ? "Adopted: it was already running when the panel started, so the panel took it over instead of starting a twin." : `Started by the panel${engine.pid ? ` (pid ${engine.pid})` : ""}.`}</Item>
        <Item term="Config file">
          <code className="break-all text-xs">{engine.location ?? "unknown"}</code>
        </Item>
        <Item term="Listener">
          <code data-testid="engine-listener" className="text-xs">
            {listen}
          </code>
          {engine.listen && (engine.listen.host === "127.0.0.1" || engine.listen.host === "localhost") && <span className="text-xs text-zinc-500"> · this machine only</span>}
        </Item>
        <Item term="Applied revision">
          <span data-testid="current-revision" className="font-semibold">
            {revision}
          </span>
          {revision === 0 && <span className="text-xs text-zinc-500"> · nothing applied yet</span>}
        </Item>
        <Item term="Panel">{engine.ready ? "Connected: the panel drives it." : "Not ready yet: the panel is still starting or adopting it."}</Item>
        {engine.statsFeed && <StatsFeedItem kind={engine.kind} feed={engine.statsFeed} />}
      </dl>
      {engine.error && (
        <div className="mt-4">
          <Alert>{engine.error}</Alert>
        </div>
      )}
      {routes.length > 0 && (
        <div className="mt-4 border-t border-zinc-200 pt-3 dark:border-zinc-800">
          <p className="mb-2 text-xs font-medium text-zinc-700 dark:text-zinc-300">Reach a service through the balancer</p>
          <ul className="space-y-1">
            {orderByRoute(routes).map((r) => (
              <li key={r.serviceId} className="flex flex-wrap items-center gap-2 text-xs">
                {reachCommands(engine.listen, r.rules, engine.listeners).map((cmd) => (
                  <code key={cmd} className="break-all rounded bg-zinc-100 px-1.5 py-0.5 dark:bg-zinc-800">{cmd}</code>
                ))}
                <span className="text-zinc-500">→ {r.name}</span>
                {shadowed(r) && (
                  <span data-testid={`route-shadowed-${r.name}`} className="text-amber-700 dark:text-amber-400">
                    but {shadowed(r)}&apos;s route is tried first and takes these requests
                  </span>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Card>
  );
}

/** Per-replica counts the panel derives from the engine's log: how many, and how many it lost (never silent). */
function StatsFeedItem({ kind, feed }: { kind: EngineView["kind"]; feed: StatsFeed }) {
  const lossy = feed.lost > 0 || feed.gaps > 0;
  return (
    <Item term="Per-replica counts" wide>
      From the {feed.source} <code className="break-all text-xs">{feed.file}</code>, {feed.file.startsWith("udp://") ? "received" : "read and rotated"} by the panel: {feed.records.toLocaleString("en-US")} records
      counted since it started.
      <span data-testid="records-lost" className={`mt-1 block text-xs ${lossy ? "font-medium text-red-600 dark:text-red-400" : "text-zinc-500"}`}>
        {engineDescriptors[kind].label} log records lost: {feed.lost.toLocaleString("en-US")}
        {feed.detail && ` (${feed.detail})`}
      </span>
      {feed.error && <span className="mt-1 block text-xs text-red-600 dark:text-red-400">{feed.error}</span>}
    </Item>
  );
}

function Item({ term, wide = false, children }: { term: string; wide?: boolean; children: React.ReactNode }) {
  return (
    <div className={wide ? "sm:col-span-2" : undefined}>
      <dt className="text-xs font-medium text-zinc-500">{term}</dt>
      <dd className="mt-0.5">{children}</dd>
    </div>
  );
}
