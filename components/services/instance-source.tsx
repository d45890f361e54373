import { describeDiscover } from "@/lib/core/service";
import type { ServiceView } from "@/lib/services/views";

/**
 * Where a service's instances come from when the panel starts none (issue 14, item 3):
 * its external endpoints, or the containers it discovers. null for a service the panel
 * runs (its badge names the runtime and the scale card its count).
 */
export function sourceSummary(s: Pick<ServiceView, "endpoints" | "discover" | "instances">): string | null {
  if (s.endpoints) return `external: ${s.endpoints.length} ${s.endpoints.length === 1 ? "address" : "addresses"}`;
  if (s.discover) return `discovered: ${describeDiscover(s.discover)}`;
  return null;
}

/** What the panel may do to one of the service's instances itself (the replica card's Runtime buttons). */
export function lifecycleOf(s: Pick<ServiceView, "endpoints" | "discover">): "full" | "restart" | "none" {
  return s.endpoints ? "none" : s.discover ? "restart" : "full";
}

/** The card that stands in for the slider: the list the instances follow, and how to change it. */
export function InstanceSource({ service }: { service: ServiceView }) {
  const running = service.instances.filter((r) => r.state !== "draining" && r.state !== "stopping").length;
  return (
    <div className="space-y-2 text-sm" data-testid="instance-source">
      <p className="font-medium">{sourceSummary(service)}</p>
      {service.endpoints ? (
        <>
          <ul className="space-y-0.5 font-mono text-xs break-all" aria-label="endpoints">
            {service.endpoints.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            The panel started none of them: it checks their health and balances them. Edit the list to add or take one out (it is drained first and keeps running); there is no slider.
          </p>
        </>
      ) : (
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          {running} running {running === 1 ? "container matches" : "containers match"}; a container that starts with these labels joins, one that stops leaves. The count is what runs: there is no slider, and the panel never removes a container it did not create.
        </p>
      )}
    </div>
  );
}
