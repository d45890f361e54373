"use client";

import { useEffect, useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { RulesEditor } from "@/components/rules/rules-editor";
import { algorithmLabels } from "@/components/rules/labels";
import type { RouteView } from "@/components/balancer/types";
import { orderByRoute } from "@/lib/core/routes";
import { orderRoutes, routesOfServices } from "@/lib/core/route-match";

/** The services behind the listener, in the order routes match, each with its rules editor one click away. */
export function ServicesRoutes({ routes, canEdit, initialEdit }: { routes: RouteView[]; canEdit: boolean; initialEdit: string | null }) {
  const router = useRouter();
  const [editing, setEditing] = useState<string | null>(routes.some((r) => r.serviceId === initialEdit) ? initialEdit : null);
  const editorRef = useRef<HTMLDivElement>(null);
  const sorted = orderByRoute(routes);
  const current = routes.find((r) => r.serviceId === editing) ?? null;

  useEffect(() => {
    if (editing) editorRef.current?.scrollIntoView({ behavior: "smooth", block: "start" });
  }, [editing]);

  const open = (id: string | null) => {
    setEditing(id);
    // through the router (not history.replaceState), so its later refresh() does not scroll to the top
    router.replace(id ? `/balancer?edit=${encodeURIComponent(id)}` : "/balancer", { scroll: false });
  };

  return (
    <>
      <Card title="Services and routes">
        {routes.length === 0 ? (
          <EmptyState title="No services">Create a service; its route appears here.</EmptyState>
        ) : (
          <>
            <p className="mb-3 text-xs text-zinc-500">A request goes to the route with the highest priority that matches: a route&apos;s priority is its rule&apos;s length unless it sets one, so the longer, more specific rule wins. Services are listed by their first-tried route; every engine follows this order.</p>
            <div className="overflow-x-auto">
              <table data-testid="routes-table" className="w-full text-sm">
                <thead className="text-left text-xs text-zinc-500">
                  <tr>
                    <th className="pb-2 pr-4 font-medium">Route</th>
                    <th className="pb-2 pr-4 font-medium">Service</th>
                    <th className="pb-2 pr-4 font-medium">Balancing</th>
                    <th className="pb-2 pr-4 font-medium">Replicas in the engine</th>
                    <th className="pb-2 text-right font-medium" />
                  </tr>
                </thead>
                <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                  {sorted.map((r) => {
                    const total = r.servers.ready + r.servers.drain + r.servers.maint;
                    return (
                      <tr key={r.serviceId} data-testid={`route-row-${r.name}`} className={editing === r.serviceId ? "bg-indigo-50/60 dark:bg-indigo-950/30" : ""}>
                        <td className="py-2 pr-4">
                          {/* every route of the service, in the order they are tried */}
                          <ul data-testid={`route-${r.name}`} className="space-y-1">
                            {orderRoutes(routesOfServices([r])).map(({ entry: route, index }) => (
                              <li key={index}>
                                <code className="text-xs">
                                  {route.hosts.length > 0 && <span className="font-semibold">{route.hosts.join(" ")} </span>}
                                  <span>
                                    {route.match === "exact" ? "= " : ""}
                                    {route.path}
                                  </span>
                                </code>
                                {route.hosts.length === 0 && <span className="text-xs text-zinc-500"> any host</span>}
                                {((route.stripPrefix && route.path !== "/") || route.priority !== 0) && (
                                  <div className="mt-0.5 flex flex-wrap gap-1">
                                    {route.stripPrefix && route.path !== "/" && <Badge tone="zinc">strips {route.path}</Badge>}
                                    {route.priority !== 0 && <Badge tone="zinc">priority {route.priority}</Badge>}
                                  </div>
                                )}
                              </li>
                            ))}
                          </ul>
                        </td>
                        <td className="py-2 pr-4">
                          <a href={`/services/${r.serviceId}`} className="font-medium hover:underline">
                            {r.name}
                          </a>
                        </td>
                        <td className="py-2 pr-4 text-xs">
                          <div>{algorithmLabels[r.rules.algorithm].name}</div>
                          <div className="text-zinc-500">{r.rules.sticky.mode === "none" ? "not sticky" : r.rules.sticky.mode === "cookie" ? `sticky by cookie ${r.rules.sticky.cookieName}` : "sticky by source IP"}</div>
                        </td>
                        <td className="py-2 pr-4 text-xs">
                          {total === 0 ? (
                            <span className="text-zinc-500">none{r.desiredReplicas ? ` yet (${r.desiredReplicas} wanted)` : ""}</span>
                          ) : (
                            <span className="flex flex-wrap gap-1">
                              <Badge tone="green">{r.servers.ready} ready</Badge>
                              {r.servers.drain > 0 && <Badge tone="amber">{r.servers.drain} draining</Badge>}
                              {r.servers.maint > 0 && <Badge tone="zinc">{r.servers.maint} maint</Badge>}
                            </span>
                          )}
                        </td>
                        <td className="py-2 text-right">
                          <Button size="sm" variant={editing === r.serviceId ? "primary" : "secondary"} data-testid={`edit-rules-${r.name}`} aria-label={`${editing === r.serviceId ? "Close" : canEdit ? "Edit rules" : "View rules"} of ${r.name}`} onClick={() => open(editing === r.serviceId ? null : r.serviceId)}>
                            {editing === r.serviceId ? "Close" : canEdit ? "Edit rules" : "View rules"}
                          </Button>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Card>
      {current && (
        <div ref={editorRef} data-testid="rules-editor-card" className="scroll-mt-20">
          <Card
            title={
              <>
                Rules of <span className="text-indigo-600 dark:text-indigo-400">{current.name}</span>
              </>
            }
            actions={
              <Button size="sm" variant="ghost" onClick={() => open(null)}>
                Close
              </Button>
            }
          >
            <RulesEditor key={current.serviceId} serviceId={current.serviceId} canEdit={canEdit} onRevision={() => router.refresh()} />
          </Card>
        </div>
      )}
    </>
  );
}
