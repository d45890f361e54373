import { formatFigure, HPA_DEFAULTS, METRIC_LOOK, type AutoscaleMetric, type AutoscaleSettings, type AutoscaleTarget } from "@/lib/core/autoscale";

/**
 * The Kubernetes HPA's rule, with its defaults, as one pure function (issue 16, part 1).
 * Pure: the loop (lib/autoscale/loop.ts) hands it the figures and its memory (earlier
 * recommendations and changes) and applies what it returns.
 *
 * Per target (the HPA's replica calculator, kubernetes pkg/controller/podautoscaler):
 *  - a replica counts when it has been ready for at least readiness delay (30 s) and has
 *    a figure; `usage` = the average figure of the replicas that count / the target;
 *  - within the tolerance (|1 - usage| <= 0.1) the count stays;
 *  - otherwise desired = ceil(n × usage), n the replicas that exist (the balancer spreads
 *    the load over every one of them, a young one too);
 *  - a young replica (not ready, or ready for less than the delay) counts as 0 on a
 *    scale-up and not at all otherwise; a mature replica without a figure counts as 0 on a
 *    scale-up and as the target on a scale-down; if those stand-ins would flip the
 *    direction, or bring it within the tolerance, the count stays: a replica with no
 *    figures never flips the direction.
 * Over the targets the largest recommendation wins. Then the behaviour:
 *  - scale-up at once (no window), at most max(double, +4) per 15 s counted from the
 *    replicas at the start of that period;
 *  - scale-down only to the highest recommendation of the last `windowS` seconds;
 *  - the result within [minReplicas, maxReplicas].
 */

export type ReplicaSample = {
  id: string;
  /** how long it has been ready and in rotation, ms; null: not ready yet */
  readyForMs: number | null;
  /** its figure per metric over the sampling window; null or absent: no figure */
  figures: Partial<Record<AutoscaleMetric, number | null>>;
};

export type Recommendation = { at: number; replicas: number };
export type ScaleChange = { at: number; from: number; to: number };

export type DecideOptions = {
  tolerance: number;
  readinessDelayMs: number;
  scaleUpPeriodMs: number;
  scaleUpPercent: number;
  scaleUpPods: number;
};

export const DEFAULT_DECIDE_OPTIONS: DecideOptions = {
  tolerance: HPA_DEFAULTS.tolerance,
  readinessDelayMs: HPA_DEFAULTS.readinessDelayS * 1000,
  scaleUpPeriodMs: HPA_DEFAULTS.scaleUpPeriodS * 1000,
  scaleUpPercent: HPA_DEFAULTS.scaleUpPercent,
  scaleUpPods: HPA_DEFAULTS.scaleUpPods,
};

export type DecideInput = {
  now: number;
  settings: Pick<AutoscaleSettings, "minReplicas" | "maxReplicas" | "windowS" | "targets">;
  /** the service's desired count now */
  current: number;
  /** the replicas that exist and are not leaving (ready, starting) */
  replicas: readonly ReplicaSample[];
  /** earlier raw recommendations (the loop's memory; older than the window are ignored) */
  recommendations: readonly Recommendation[];
  /** earlier changes the autoscaler made (for the scale-up rate) */
  changes: readonly ScaleChange[];
  options?: Partial<DecideOptions>;
};

export type TargetOutcome = {
  metric: AutoscaleMetric;
  target: number;
  /** the average figure of the replicas that count; null: none counted */
  value: number | null;
  /** value / target */
  ratio: number | null;
  /** this target's recommendation; null: no figures */
  replicas: number | null;
  /** why, in words: "within the 10 % tolerance", "2 young replicas count as 0", ... */
  note: string;
  counted: number;
  young: number;
  missing: number;
};

export type Decision = {
  current: number;
  desired: number;
  direction: "up" | "down" | "none";
  /** the largest recommendation over the targets, before the window, the rate and the bounds; null: no figures */
  recommendation: number | null;
  /** what held or limited it: "window" (a higher recommendation in the window), "rate", "max", "min", or null */
  limitedBy: "window" | "rate" | "max" | "min" | null;
  targets: TargetOutcome[];
  /** one line: "p95 420 ms > target 200 ms: 3 → 5" */
  reason: string;
  /** the recommendations to remember for the next call (this one included, older than the window dropped) */
  recommendations: Recommendation[];
};

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** |1 - usage| within the tolerance; the epsilon keeps 11/10 (1.1000000000000001) inside 10 % */
const withinTolerance = (usage: number, tolerance: number) => Math.abs(1 - usage) <= tolerance + 1e-9;

/** One target's recommendation, as the HPA's replica calculator makes it. */
export function recommendForTarget(target: AutoscaleTarget, replicas: readonly ReplicaSample[], current: number, opts: DecideOptions = DEFAULT_DECIDE_OPTIONS): TargetOutcome {
  const isYoung = (r: ReplicaSample) => r.readyForMs === null || r.readyForMs < opts.readinessDelayMs;
  const figureOf = (r: ReplicaSample) => {
    const v = r.figures[target.metric];
    return v === null || v === undefined || !Number.isFinite(v) ? null : v;
  };
  const counted: number[] = [];
  let young = 0;
  let missing = 0;
  for (const r of replicas) {
    if (isYoung(r)) young++;
    else if (figureOf(r) === null) missing++;
    else counted.push(figureOf(r)!);
  }
  const base = { metric: target.metric, target: target.value, counted: counted.length, young, missing };
  if (counted.length === 0) {
    return { ...base, value: null, ratio: null, replicas: null, note: replicas.length === 0 ? "no replicas" : young > 0 && missing === 0 ? "every replica is young (ready for less than the delay)" : "no figures yet" };
  }
  const n = replicas.length;
  const value = mean(counted);
  const usage = value / target.value;
  const scaleUpWithYoung = young > 0 && usage > 1;
  if (!scaleUpWithYoung && missing === 0) {
    if (withinTolerance(usage, opts.tolerance)) return { ...base, value, ratio: usage, replicas: current, note: `within the ${Math.round(opts.tolerance * 100)} % tolerance` };
    return { ...base, value, ratio: usage, replicas: Math.ceil(n * usage), note: young > 0 ? `${young} young replica${young > 1 ? "s" : ""} not counted` : "" };
  }
  // stand-ins, as the HPA: missing figures are 0 on a scale-up and the target on a scale-down; young replicas 0 on a scale-up
  const values = [...counted];
  if (missing > 0) for (let i = 0; i < missing; i++) values.push(usage < 1 ? target.value : 0);
  if (scaleUpWithYoung) for (let i = 0; i < young; i++) values.push(0);
  const newUsage = mean(values) / target.value;
  const notes: string[] = [];
  if (missing > 0) notes.push(`${missing} without figures count as ${usage < 1 ? "the target" : "0"}`);
  if (scaleUpWithYoung) notes.push(`${young} young count as 0`);
  const held = (why: string) => ({ ...base, value, ratio: usage, replicas: current, note: `${notes.join(", ")}: ${why}` });
  if (withinTolerance(newUsage, opts.tolerance)) return held("within the tolerance");
  if ((usage < 1 && newUsage > 1) || (usage > 1 && newUsage < 1)) return held("the direction would flip, so the count stays");
  const next = Math.ceil(n * newUsage);
  if ((newUsage < 1 && next > current) || (newUsage > 1 && next < current)) return held("the direction would flip, so the count stays");
  return { ...base, value, ratio: usage, replicas: next, note: notes.join(", ") };
}

/** The whole decision: every target, the largest recommendation, the window, the rate, the bounds. */
export function decide(input: DecideInput): Decision {
  const opts = { ...DEFAULT_DECIDE_OPTIONS, ...input.options };
  const { now, settings, current } = input;
  const windowMs = settings.windowS * 1000;
  const targets = settings.targets.map((t) => recommendForTarget(t, input.replicas, current, opts));
  const withCount = targets.filter((t) => t.replicas !== null);
  const recommendation = withCount.length ? Math.max(...withCount.map((t) => t.replicas!)) : null;
  const dominant = withCount.find((t) => t.replicas === recommendation) ?? targets[0] ?? null;

  const kept = input.recommendations.filter((r) => r.at > now - windowMs && r.at <= now);
  const recommendations = recommendation === null ? kept : [...kept, { at: now, replicas: recommendation }];

  let desired = current;
  let limitedBy: Decision["limitedBy"] = null;
  if (recommendation !== null) {
    // stabilization: up has no window (the new recommendation), down the highest of the window
    const downRec = Math.max(...recommendations.map((r) => r.replicas));
    if (recommendation > current) desired = recommendation;
    else if (current > downRec) desired = downRec;
    if (recommendation < current && desired > recommendation) limitedBy = "window";
    // scale-up rate: max(double, +4) per period, from the count at the period's start
    if (desired > current) {
      const added = input.changes.filter((c) => c.at > now - opts.scaleUpPeriodMs && c.to > c.from).reduce((s, c) => s + (c.to - c.from), 0);
      const periodStart = Math.max(0, current - added);
      const limit = Math.max(Math.ceil(periodStart * (1 + opts.scaleUpPercent / 100)), periodStart + opts.scaleUpPods);
      if (desired > Math.max(limit, current)) {
        desired = Math.max(limit, current);
        limitedBy = "rate";
      }
    }
  }
  if (desired > settings.maxReplicas) {
    desired = settings.maxReplicas;
    limitedBy = "max";
  }
  if (desired < settings.minReplicas) {
    desired = settings.minReplicas;
    limitedBy = "min";
  }
  const direction = desired > current ? "up" : desired < current ? "down" : "none";
  return { current, desired, direction, recommendation, limitedBy, targets, reason: reasonOf(current, desired, recommendation, dominant, limitedBy, settings), recommendations };
}

/** "p95 420 ms > target 200 ms: 3 → 5", with what held or limited it. */
function reasonOf(current: number, desired: number, recommendation: number | null, t: TargetOutcome | null, limitedBy: Decision["limitedBy"], settings: DecideInput["settings"]): string {
  const arrow = `${current} → ${desired}`;
  const figure = t && t.value !== null ? `${METRIC_LOOK[t.metric].short} ${formatFigure(t.metric, t.value)} ${t.value > t.target ? ">" : t.value < t.target ? "<" : "="} target ${formatFigure(t.metric, t.target)}` : null;
  const extra: string[] = [];
  if (t?.note) extra.push(t.note);
  if (limitedBy === "window") extra.push(`the highest recommendation of the last ${settings.windowS} s is ${desired}`);
  if (limitedBy === "rate") extra.push(`at most double or +4 per 15 s; wanted ${recommendation}`);
  if (limitedBy === "max") extra.push(`the maximum is ${settings.maxReplicas}${recommendation !== null ? `; wanted ${recommendation}` : ""}`);
  if (limitedBy === "min") extra.push(`the minimum is ${settings.minReplicas}`);
  const tail = extra.length ? ` (${extra.join("; ")})` : "";
  if (desired === current) return `${figure ?? "no figures"}: stays at ${current}${tail}`;
  return `${figure ?? "no figures"}: ${arrow}${tail}`;
}
