/**
 * The builtin proxy's live state per server and per service: the spec it serves, its
 * connection pool, counters, health and in-flight count (kept across reloads for a
 * server that stays), and the retiring of a server's pool once it is gone.
 */
import { Pool } from "undici";
import { type WrrState, slowStartWeight } from "../../core/balancing";
import type { Route } from "../../core/route-match";
import type { Rules } from "../../core/rules";
import type { BalancerServer, BalancerService } from "../types";
import { type ServerCounters, newCounters } from "./counters";
import { type HealthState, initialHealth, isEligible } from "./health";

/** How long in-flight requests of a removed server may take before its connections are cut. */
const RETIRED_POOL_GRACE_MS = 60_000;

export class ServerRuntime {
  spec: BalancerServer;
  service: ServiceRuntime;
  pool: Pool;
  private poolKey: string;
  private inFlight = 0;
  /** in-flight requests of the other workers of the proxy (the primary tells each worker: workers.ts) */
  othersActive = 0;
  /** a worker's hook: its in-flight count changed */
  onActive: ((rt: ServerRuntime) => void) | null = null;
  counters: ServerCounters;
  health: HealthState;
  fails: number[] = [];
  /** when it last became eligible (for slow start); null = full weight */
  upSince: number | null;
  private wasEligible: boolean;
  checkTimer: NodeJS.Timeout | null = null;
  removed = false;

  /** most connections the pool opens to the server; more requests wait in its queue */
  private readonly maxConnections: number;

  constructor(spec: BalancerServer, service: ServiceRuntime, now: number, rampUp: boolean, maxConnections: number, counters?: ServerCounters) {
    this.spec = spec;
    this.maxConnections = maxConnections;
    this.service = service;
    this.counters = counters ?? newCounters();
    this.health = initialHealth(now);
    this.poolKey = this.wantedPoolKey();
    this.pool = this.newPool();
    this.wasEligible = !rampUp && this.eligible();
    this.upSince = rampUp ? now : null;
  }

  /** requests (and tunnels) in flight to this server from this process */
  get active(): number {
    return this.inFlight;
  }

  set active(n: number) {
    this.inFlight = n;
    if (this.onActive) this.onActive(this);
  }

  get rules(): Rules {
    return this.service.spec.rules;
  }

  eligible(): boolean {
    return isEligible(this.spec.adminState, this.health);
  }

  /** Call after anything that can change eligibility: starts the slow-start ramp on the way in. */
  refresh(now: number): void {
    const e = this.eligible();
    if (e && !this.wasEligible) this.upSince = now;
    this.wasEligible = e;
  }

  effectiveWeight(now: number): number {
    return slowStartWeight(this.spec.weight, this.upSince === null ? null : now - this.upSince, this.rules.slowStartMs);
  }

  private wantedPoolKey(): string {
    return `${this.spec.host}:${this.spec.port}:${this.rules.timeouts.connectMs}`;
  }

  private newPool(): Pool {
    return new Pool(`http://${this.spec.host}:${this.spec.port}`, {
      connect: { timeout: this.rules.timeouts.connectMs },
      // bounded (issue 18: an unbounded pool opened 78 connections for 50 clients); undici queues the rest
      connections: this.maxConnections,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      pipelining: 1,
    });
  }

  /** Replace the pool when the address or connect timeout changed; the old one finishes what it has. */
  syncPool(): void {
    const key = this.wantedPoolKey();
    if (key === this.poolKey) return;
    retirePool(this.pool);
    this.poolKey = key;
    this.pool = this.newPool();
  }
}

function retirePool(pool: Pool): void {
  const timer = setTimeout(() => void pool.destroy().catch(() => {}), RETIRED_POOL_GRACE_MS);
  timer.unref();
  pool.close().then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
}

export type ServiceRuntime = {
  spec: BalancerService;
  servers: ServerRuntime[];
  byName: Map<string, ServerRuntime>;
  byReplica: Map<string, ServerRuntime>;
  wrr: WrrState;
  tie: number;
};

/** A route of the live config, with the service it leads to. */
export type RouteEntry = Route & { stripPrefix: boolean; runtime: ServiceRuntime };

/** A server that left the config: no more checks, its pool finishes what it has. */
export function retireServer(rt: ServerRuntime): void {
  rt.removed = true;
  if (rt.checkTimer) clearTimeout(rt.checkTimer);
  rt.checkTimer = null;
  retirePool(rt.pool);
}
