"use client";

import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "@/lib/client/api";
import type { ClusterNodesView } from "@/lib/core/cluster-nodes";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";

const REFRESH_MS = 5000;

/**
 * The Swarm's nodes for a swarm service's page: role, state, availability and which of the
 * panel's replicas each runs; an admin drains a node (Swarm moves its tasks, the rows follow)
 * or makes it active again. Read while the page is open, every few seconds.
 */
export function ClusterNodes({ isAdmin }: { isAdmin: boolean }) {
  const [view, setView] = useState<ClusterNodesView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setView(await api<ClusterNodesView>("/api/cluster/nodes"));
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  const setAvailability = async (id: string, availability: "active" | "drain") => {
    setBusy(id);
    try {
      setView(await api<ClusterNodesView>(`/api/cluster/nodes/${id}`, { method: "POST", body: { availability } }));
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  if (!view) return <p className="text-sm text-zinc-500">{error ?? "Reading the cluster's nodes…"}</p>;
  if (view.unavailable) return <p className="text-sm text-amber-700 dark:text-amber-400">{view.unavailable}</p>;
  return (
    <div className="space-y-2" data-testid="cluster-nodes">
      {error && <p className="text-xs text-red-600 dark:text-red-400">{error}</p>}
      <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
        {view.nodes.map((n) => (
          <li key={n.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-2 text-sm">
            <span className="min-w-0 font-mono text-xs break-all">{n.name}</span>
            <Badge tone={n.role === "manager" ? "violet" : "zinc"}>{n.role}</Badge>
            <Badge tone={n.state === "ready" ? "green" : "red"}>{n.state}</Badge>
            <Badge tone={n.availability === "active" ? "blue" : "amber"}>{n.availability}</Badge>
            <span className="text-xs text-zinc-500">{n.addr}</span>
            <span className="min-w-0 flex-1 text-xs text-zinc-600 dark:text-zinc-400">
              {n.replicas.length === 0 ? "no replicas of the panel" : n.replicas.map((r) => `${r.serviceName}/${r.id}`).join(", ")}
            </span>
            {isAdmin && (
              <Button
                size="sm"
                variant="secondary"
                disabled={busy !== null}
                onClick={() => void setAvailability(n.id, n.availability === "drain" ? "active" : "drain")}
                aria-label={`${n.availability === "drain" ? "activate" : "drain"} ${n.name}`}
              >
                {busy === n.id ? "…" : n.availability === "drain" ? "Activate" : "Drain"}
              </Button>
            )}
          </li>
        ))}
      </ul>
      <p className="text-xs text-zinc-500">
        {view.kind === "kubernetes"
          ? "Draining a node cordons it (no new pods) and evicts the panel's pods on it through the Eviction API; their Deployments start them elsewhere and the rows follow. Activate uncordons it."
          : "Draining a node moves every task on it (any service's) to the other nodes; its replicas' rows follow."}
      </p>
    </div>
  );
}
