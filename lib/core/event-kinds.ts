/**
 * Every kind of event the panel records: the audit log, the Events page and the live
 * channel. lib/events.ts accepts only these (and `test.*` for tests), so a producer
 * cannot invent a kind by a typo; the UI compares an event's kind with these names
 * instead of writing the string again.
 */
export const EVENT_KIND = {
  alertDelivered: "alert.delivered",
  alertDeliveryFailed: "alert.delivery-failed",
  alertFiring: "alert.firing",
  alertResolved: "alert.resolved",
  alertSettings: "alert.settings",
  authFailed: "auth.failed",
  authSignin: "auth.signin",
  authSignout: "auth.signout",
  authThrottled: "auth.throttled",
  autoscalePaused: "autoscale.paused",
  autoscaleResumed: "autoscale.resumed",
  autoscaleScaled: "autoscale.scaled",
  autoscaleUpdated: "autoscale.updated",
  certificateAdded: "certificate.added",
  certificateDeleted: "certificate.deleted",
  controllerRetry: "controller.retry",
  engineAdopted: "engine.adopted",
  engineDied: "engine.died",
  engineError: "engine.error",
  engineIncident: "engine.incident",
  engineRestarted: "engine.restarted",
  engineStarted: "engine.started",
  metricsDenied: "metrics.denied",
  metricsTokenCreated: "metrics.token-created",
  metricsTokenRevoked: "metrics.token-revoked",
  faultEnded: "fault.ended",
  faultResumed: "fault.resumed",
  faultStarted: "fault.started",
  replicaAction: "replica.action",
  replicaAdopted: "replica.adopted",
  replicaCreated: "replica.created",
  replicaDied: "replica.died",
  replicaDrainFailed: "replica.drain-failed",
  replicaDraining: "replica.draining",
  replicaFailed: "replica.failed",
  replicaHealth: "replica.health",
  replicaReady: "replica.ready",
  replicaReleased: "replica.released",
  replicaRemoved: "replica.removed",
  replicaResumed: "replica.resumed",
  replicaStopped: "replica.stopped",
  rulesApplied: "rules.applied",
  rulesFailed: "rules.failed",
  serviceCreated: "service.created",
  serviceDeleted: "service.deleted",
  serviceScaled: "service.scaled",
  serviceStopped: "service.stopped",
  serviceUpdated: "service.updated",
  settingsAllowList: "settings.allow-list",
  trafficStarted: "traffic.started",
  trafficStopped: "traffic.stopped",
  userCreated: "user.created",
  userDeleted: "user.deleted",
  userUpdated: "user.updated",
} as const;

export type EventKind = (typeof EVENT_KIND)[keyof typeof EVENT_KIND];

/** What may be recorded: a kind above, or `test.<anything>` (tests quote and ping through the real path). */
export type RecordedEventKind = EventKind | `test.${string}`;
