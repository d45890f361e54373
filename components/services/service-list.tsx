"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { liveSocket } from "@/lib/client/live";
import { EVENT_KIND } from "@/lib/core/event-kinds";
import type { SwitchyardEvent } from "@/lib/events";
import type { ServiceView } from "@/lib/services/views";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { ServiceCard } from "@/components/services/service-card";
import { ServiceForm } from "@/components/services/service-form";
import type { RunPolicy } from "@/components/services/service-form-model";

/** The services list: a live card per service, the "New service" form and editing (operators). */
export function ServiceList({
  services,
  canOperate,
  listen,
  maxReplicas,
  policy,
}: {
  services: ServiceView[];
  canOperate: boolean;
  listen: { host: string; port: number };
  maxReplicas: number;
  /** what the signed-in user may run (null for viewers, who get no form) */
  policy: RunPolicy | null;
}) {
  const router = useRouter();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<ServiceView | null>(null);

  // services created or deleted elsewhere (another tab, the API) appear and go without a reload
  useEffect(() => {
    const s = liveSocket();
    const onEvent = (e: SwitchyardEvent) => {
      if (e.kind === EVENT_KIND.serviceCreated || e.kind === EVENT_KIND.serviceDeleted) router.refresh();
    };
    s.on("event", onEvent);
    return () => {
      s.off("event", onEvent);
    };
  }, [router]);

  return (
    <div className="space-y-4">
      {canOperate && !creating && (
        <div className="flex justify-end">
          <Button
            onClick={() => {
              setEditing(null);
              setCreating(true);
            }}
          >
            New service
          </Button>
        </div>
      )}
      {creating && policy && (
        <Card title="New service">
          <ServiceForm maxReplicas={maxReplicas} policy={policy} onCancel={() => setCreating(false)} onDone={(s) => router.push(`/services/${s.id}`)} />
        </Card>
      )}
      {editing && policy && (
        <Card title={`Edit ${editing.name}`}>
          <ServiceForm
            key={editing.id}
            service={editing}
            maxReplicas={maxReplicas}
            policy={policy}
            onCancel={() => setEditing(null)}
            onDone={() => {
              setEditing(null);
              router.refresh();
            }}
          />
        </Card>
      )}
      {services.length === 0 ? (
        <EmptyState title="No services yet" action={canOperate && !creating ? <Button onClick={() => setCreating(true)}>Create your first service</Button> : undefined}>
          A service is a pool of identical replicas behind one balancer route.{" "}
          {canOperate
            ? "Create one with a name and 2 or 3 replicas, leaving the command blank to run the built-in demo app; then open it to scale it, send it traffic and watch the balancer spread it."
            : "An operator or admin can create one; it will appear here."}
        </EmptyState>
      ) : (
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3" data-testid="service-grid">
          {services.map((s) => (
            <ServiceCard
              key={s.id}
              service={s}
              listen={listen}
              canOperate={canOperate}
              onEdit={() => {
                setCreating(false);
                setEditing(s);
                window.scrollTo({ top: 0, behavior: "smooth" });
              }}
              onDeleted={() => router.refresh()}
            />
          ))}
        </div>
      )}
    </div>
  );
}
