import { collector, type Collector, type LiveViews } from "@/lib/controller/collector";
import { getService } from "@/lib/services/manage-services";
import { trafficStatus } from "@/lib/services/traffic";
import { serviceViewFor } from "@/lib/services/views";

/** The views the collector pushes to live viewers, from the use cases it may not import. */
export const liveViews: LiveViews = {
  service: getService,
  serviceFor: async (role, serviceId) => serviceViewFor(role, await getService(serviceId)),
  traffic: trafficStatus,
};

/** The panel's collector with its views: the live channel's snapshots and pushes work from here on. */
export function provideLiveViews(): Collector {
  const c = collector();
  c.provideViews(liveViews);
  return c;
}
