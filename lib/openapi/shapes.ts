import type { z } from "zod";
import type * as balancer from "@/lib/core/balancer-views";
import type { eventPageSchema } from "@/lib/core/event-query";
import type { certificateViewSchema, CertificateView, Listener, listenerSchema } from "@/lib/core/listeners";
import type { metricsHistorySchema } from "@/lib/core/metric-history";
import type { trafficStatusSchema, TrafficStatus, serviceTickSchema, ServiceTick } from "@/lib/core/metrics";
import type { tryResultSchema } from "@/lib/core/route-try";
import type { replicaViewSchema, serviceViewSchema } from "@/lib/core/service";
import type { sessionUserSchema, userViewSchema } from "@/lib/core/users";
import type { EventPage } from "@/lib/services/list-events";
import type { MetricsHistory } from "@/lib/services/metrics-history";
import type { UserView } from "@/lib/services/manage-users";
import type { ReplicaView, ServiceView } from "@/lib/services/views";
import type { balancerOverview } from "@/lib/services/balancer-overview";
import type { getRevision, listRevisions, rollbackTo } from "@/lib/services/revisions";
import type { applyRules, previewRules } from "@/lib/services/apply-rules";
import type { createListener } from "@/lib/services/manage-listeners";
import type { tryUrl } from "@/lib/services/try-route";
import type { signIn } from "@/lib/services/sign-in";
import type { Rules, rulesViewSchema } from "@/lib/core/rules";
import type { AlertSettingsView, alertSettingsViewSchema } from "@/lib/core/alerts";
import type { AutoscaleView, autoscaleViewSchema } from "@/lib/core/autoscale";
import type { MetricsTokenView, metricsTokenViewSchema } from "@/lib/services/manage-metrics-tokens";

/**
 * Compile-time proof that what the use cases return fits the response schemas the
 * document is generated from: `tsc` fails here when a use case's answer changes shape
 * and its schema was not changed with it. (The contract check proves it at run time
 * too, for the answers the suites see; this covers every field type.)
 */
type Fits<T, S extends z.ZodType> = [T] extends [z.output<S>]
  ? [Exclude<keyof T, keyof z.output<S>>] extends [never]
    ? true
    : { error: "the answer has fields its schema does not name"; fields: Exclude<keyof T, keyof z.output<S>> }
  : { error: "the answer does not fit its schema"; answer: T; schema: z.output<S> };
type Out<F extends (...a: never[]) => unknown> = Awaited<ReturnType<F>>;

export const answersFitTheirSchemas: [
  Fits<ServiceView, typeof serviceViewSchema>,
  Fits<ReplicaView, typeof replicaViewSchema>,
  Fits<Listener, typeof listenerSchema>,
  Fits<CertificateView, typeof certificateViewSchema>,
  Fits<TrafficStatus, typeof trafficStatusSchema>,
  Fits<ServiceTick, typeof serviceTickSchema>,
  Fits<MetricsHistory, typeof metricsHistorySchema>,
  Fits<EventPage, typeof eventPageSchema>,
  Fits<UserView, typeof userViewSchema>,
  Fits<Out<typeof signIn>["user"], typeof sessionUserSchema>,
  Fits<Out<typeof balancerOverview>, typeof balancer.balancerOverviewSchema>,
  Fits<Out<typeof listRevisions>[number], typeof balancer.revisionListItemSchema>,
  Fits<Out<typeof getRevision>, typeof balancer.revisionDetailSchema>,
  Fits<Out<typeof rollbackTo>, typeof balancer.applyResultSchema>,
  Fits<Out<typeof applyRules>, typeof balancer.applyRulesResultSchema>,
  Fits<Out<typeof previewRules>, typeof balancer.previewResultSchema>,
  Fits<Out<typeof createListener>, typeof balancer.listenersApplyResultSchema>,
  Fits<Out<typeof tryUrl>, typeof tryResultSchema>,
  Fits<MetricsTokenView, typeof metricsTokenViewSchema>,
  Fits<AutoscaleView, typeof autoscaleViewSchema>,
  Fits<AlertSettingsView, typeof alertSettingsViewSchema>,
  Fits<Rules, typeof rulesViewSchema>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
// POST /api/replicas/:id/actions answers `result: unknown` in its types (what the replica sent): the contract check covers it.
