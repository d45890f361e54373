/**
 * The engine contract: one routing truth. Seeded route sets (services with several
 * routes; exact hosts and *.wildcards, several per route; exact paths and prefixes with
 * and without a trailing slash; default and explicit priorities; strip prefix) and seeded requests (known,
 * unknown and absent hosts; paths under, at and beside the prefixes) run against a real
 * HAProxy, a real nginx and the builtin proxy. Every request must reach the service that
 * lib/core's matchRoute names, and its replica must receive the target lib/core says
 * (after stripping); when lib/core names none, the engine answers 503 itself.
 *
 * The seed is random unless CONTRACT_SEED is set, and printed; a failure names the seed,
 * the route set and the request, and `CONTRACT_SEED=<seed>` replays exactly those cases.
 * Every engine gets the same route sets, applied one after the other to one running
 * engine (applies are hitless); one replica per service serves all three engines.
 *
 * Listeners (issue 13): every engine listens on two http ports, "default" and "side".
 * Each generated route is served on the default listener (no listeners named, or
 * ["default"]), on "side" alone, or on both; each request goes to one of the two ports,
 * and lib/core's matchRoute is asked with that listener. The listener draws come from
 * a second generator seeded from the same seed, so the route sets and requests of a seed
 * are the ones it gave before listeners.
 *
 * Ports: replicas 24000-24006 (data) and 24100-24106 (admin); listeners 18201/18204
 * (HAProxy default/side), 18202/18205 (nginx), 18203/18206 (builtin).
 */
import { randomInt } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeHost, pathOf, stripPathPrefix } from "@/lib/core/balancing";
import { matchRoute, routeTakes } from "@/lib/core/route-match";
import { rulesSchema } from "@/lib/core/rules";
import { createBuiltinEngine } from "@/lib/engines/builtin";
import { createHaproxyEngine } from "@/lib/engines/haproxy";
import { createNginxEngine } from "@/lib/engines/nginx";
import type { BalancerConfig, BalancerService, RunningEngine } from "@/lib/engines/types";
import { applyOk, configAt, serverOf } from "@/tests/helpers/engine-config";
import { startReplica, type ReplicaProcess } from "@/tests/helpers/replica-process";
import { hasBinary, needs } from "@/tests/helpers/requirements";
import {
  CONTRACT_SERVICES,
  describeRouteSet,
  generateContractCases,
  seededRandom,
  type ContractCase,
  type ContractRequest,
  type ContractRoute,
} from "@/tests/helpers/route-cases";

const SEED = process.env.CONTRACT_SEED ? Number(process.env.CONTRACT_SEED) : randomInt(2 ** 31);
if (!Number.isSafeInteger(SEED) || SEED < 0) throw new Error(`CONTRACT_SEED must be a whole number >= 0, got "${process.env.CONTRACT_SEED}"`);
const ROUTE_SETS = 40;
const REQUESTS_PER_SET = 10;
const LISTENERS = ["default", "side"] as const;
type ListenerName = (typeof LISTENERS)[number];
/** A route's listeners: absent or ["default"] (the default listener), "side" alone, or both. */
const ROUTE_LISTENERS: (ListenerName[] | undefined)[] = [undefined, undefined, ["default"], ["side"], ["side"], ["default", "side"], ["side", "default"]];

type ListenerRoute = ContractRoute & { listeners?: ListenerName[] };
/** A generated case with listeners: its routes name theirs, the request goes to `listener`, and expected/matching are lib/core's for it. */
type ListenerCase = Omit<ContractCase, "routes"> & { routes: ListenerRoute[]; listener: ListenerName };

/** What lib/core's matcher names for a request on `listener`, with the target the replica should see. */
function expectedOn(routes: readonly ListenerRoute[], request: ContractRequest, listener: ListenerName): ContractCase["expected"] {
  const route = matchRoute(routes, normalizeHost(request.host ?? undefined), pathOf(request.target), listener);
  if (!route) return null;
  return { service: route.service, target: route.stripPrefix ? stripPathPrefix(request.target, route.path) : request.target };
}

/** The generated cases, each route given listeners and each request a listener by a second generator of the same seed. */
function withListeners(generated: ContractCase[][]): ListenerCase[][] {
  const rand = seededRandom(SEED ^ 0x11573e7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
  return generated.map((setCases) => {
    const routes: ListenerRoute[] = setCases[0].routes.map((r) => {
      const listeners = pick(ROUTE_LISTENERS);
      return listeners ? { ...r, listeners } : { ...r };
    });
    return setCases.map((c) => {
      const listener = pick(LISTENERS);
      const host = normalizeHost(c.request.host ?? undefined);
      const matching = routes.filter((r) => routeTakes(r, host, pathOf(c.request.target), listener)).length;
      return { ...c, routes, listener, expected: expectedOn(routes, c.request, listener), matching };
    });
  });
}

const cases = withListeners(generateContractCases(SEED, ROUTE_SETS, REQUESTS_PER_SET));
const REPLAY = `CONTRACT_SEED=${SEED} npx vitest run --project integration tests/integration/engine-contract.test.ts`;

/**
 * Every route set also routes a host of its own (set-<n>.contract), at the highest
 * priority, to this service. No generated request uses that host, so it changes no
 * expectation; a request for it that reaches this service proves the engine serves the
 * new set, not the one before.
 */
const GENERATION_SERVICE = "svc-gen";
const generationHost = (set: number) => `set-${set}.contract`;

const replicas = new Map<string, ReplicaProcess>();
const dataDirs: string[] = [];

function service(name: string, routes: Omit<ListenerRoute, "service" | "index">[]): BalancerService {
  const replica = replicas.get(name);
  if (!replica) throw new Error(`no replica for ${name}`);
  return {
    id: `svc-id-${name}`,
    name,
    rules: rulesSchema.parse({ routes, healthCheck: { intervalMs: 1000, timeoutMs: 1000 } }),
    servers: [serverOf(replica)],
  };
}

function configFor(ports: Record<ListenerName, number>, set: number, routes: readonly ListenerRoute[]): BalancerConfig {
  const names = [...new Set(routes.map((r) => r.service))];
  const config = configAt(
    ports.default,
    ...names.map((name) =>
      service(
        name,
        routes.filter((r) => r.service === name).sort((a, b) => a.index - b.index).map(({ service: _s, index: _i, ...route }) => route),
      ),
    ),
    service(GENERATION_SERVICE, [{ hosts: [generationHost(set)], path: "/", match: "prefix", priority: 100_000, stripPrefix: false, listeners: [...LISTENERS] }]),
  );
  return { ...config, listeners: LISTENERS.map((name) => ({ name, host: "127.0.0.1", port: ports[name], protocol: "http" as const })) };
}

type Answer = { status: number; headers: Record<string, string>; body: string };

/**
 * One request on a fresh connection, written by hand: HTTP/1.1 with the Host header as
 * generated, or HTTP/1.0 without any Host header (HTTP/1.1 requires one).
 */
function send(port: number, request: ContractRequest): Promise<Answer> {
  const head = request.host === null ? [`GET ${request.target} HTTP/1.0`] : [`GET ${request.target} HTTP/1.1`, `Host: ${request.host}`];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // no half-close: the engine closes the connection after its answer (Connection: close)
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write([...head, "Connection: close", "", ""].join("\r\n")));
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer within 10 s from 127.0.0.1:${port}`)));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("end", () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString("latin1")));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

function parseResponse(text: string): Answer {
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = text.slice(split + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
  return { status: Number(status[1]), headers, body };
}

function dechunk(body: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, eol), 16);
    if (eol < 0 || !Number.isFinite(size) || size === 0) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** What the replica said it was and what it received, or null when the answer did not come from a replica. */
function replicaSaw(answer: Answer): { service: string; target: string } | null {
  if (!answer.headers["x-replica"]) return null;
  try {
    const body = JSON.parse(answer.body) as { service?: unknown; path?: unknown };
    return typeof body.service === "string" && typeof body.path === "string" ? { service: body.service, target: body.path } : null;
  } catch {
    return null;
  }
}

/** null when the answer is what lib/core says, else what went wrong. */
function problemWith(c: ListenerCase, answer: Answer): string | null {
  const saw = replicaSaw(answer);
  if (c.expected === null) {
    if (answer.status === 503 && !answer.headers["x-replica"]) return null;
    return `expected no route (503 from the engine), got ${answer.status}${saw ? ` from ${saw.service} with target ${saw.target}` : ""}`;
  }
  if (saw && saw.service === c.expected.service && saw.target === c.expected.target) return null;
  const got = saw ? `${saw.service} with target ${saw.target}` : `status ${answer.status} not from a replica: ${answer.body.slice(0, 120).trim()}`;
  return `expected ${c.expected.service} with target ${c.expected.target}, got ${got}`;
}

function describeCase(c: ListenerCase, problem: string): string {
  const host = c.request.host === null ? "no Host header (HTTP/1.0)" : `Host ${c.request.host}`;
  const listeners = c.routes.map((r) => `  ${r.service}#${r.index} on ${r.listeners ? r.listeners.join(", ") : "default (none named)"}`).join("\n");
  return `set ${c.set} request ${c.index}: GET ${c.request.target} with ${host} on listener ${c.listener}: ${problem}\n${describeRouteSet(c.routes)}\nlisteners:\n${listeners}`;
}

/** Wait (deadline 10 s) until the engine serves route set `set`; returns how many probes it took. */
async function waitForSet(port: number, set: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let last = "no answer";
  for (let probes = 1; ; probes++) {
    try {
      const answer = await send(port, { host: generationHost(set), target: "/" });
      if (replicaSaw(answer)?.service === GENERATION_SERVICE) return probes;
      last = `status ${answer.status}, replica ${answer.headers["x-replica"] ?? "none"}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`seed ${SEED}: route set ${set} not served within 10 s of a successful apply (last probe: ${last})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type EngineUnderTest = { kind: string; port: number; sidePort: number; missing: () => string | null; create: (dataDir: string, port: number) => RunningEngine };

const engines: EngineUnderTest[] = [
  {
    kind: "haproxy",
    port: 18201,
    sidePort: 18204,
    missing: () => hasBinary("haproxy", ["-v"]),
    create: (dataDir, port) => createHaproxyEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" }),
  },
  {
    kind: "nginx",
    port: 18202,
    sidePort: 18205,
    missing: () => hasBinary("nginx", ["-v"]),
    create: (dataDir, port) => {
      // workers run as nobody when nginx starts as root: they must reach the temp folders
      chmodSync(dataDir, 0o755);
      return createNginxEngine({ dataDir, listen: { host: "127.0.0.1", port }, mode: "supervised" });
    },
  },
  {
    kind: "builtin",
    port: 18203,
    sidePort: 18206,
    missing: () => null,
    create: (dataDir, port) => createBuiltinEngine({ dataDir, listen: { host: "127.0.0.1", port } }),
  },
];

beforeAll(async () => {
  console.log(`engine contract: seed ${SEED}, ${ROUTE_SETS} route sets x ${REQUESTS_PER_SET} requests per engine (replay: ${REPLAY})`);
  const names = [...CONTRACT_SERVICES, GENERATION_SERVICE];
  const started = await Promise.all(names.map((name, i) => startReplica({ port: 24000 + i, adminPort: 24100 + i, id: `ct-${name}`, service: name })));
  started.forEach((r, i) => replicas.set(names[i], r));
});

afterAll(async () => {
  await Promise.all([...replicas.values()].map((r) => r.stop()));
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

for (const target of engines) {
  describe.skipIf(needs(target.kind, target.missing()))(`engine contract: ${target.kind}`, () => {
    it(`routes every generated request where lib/core says, with the target it says (seed ${SEED})`, async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), `sy-contract-${target.kind}-`));
      dataDirs.push(dataDir);
      const engine = target.create(dataDir, target.port);
      const failures: string[] = [];
      let ran = 0;
      let routed = 0;
      let contested = 0;
      let lateSets = 0;
      const ports: Record<ListenerName, number> = { default: target.port, side: target.sidePort };
      const perListener: Record<ListenerName, number> = { default: 0, side: 0 };
      try {
        for (const [set, setCases] of cases.entries()) {
          const config = configFor(ports, set, setCases[0].routes);
          if (set === 0) await engine.start(config);
          else await applyOk(engine, config);
          if ((await waitForSet(target.port, set)) > 1) lateSets++;
          await waitForSet(target.sidePort, set);
          for (const c of setCases) {
            ran++;
            perListener[c.listener]++;
            if (c.expected) routed++;
            if (c.matching > 1) contested++;
            const problem = problemWith(c, await send(ports[c.listener], c.request));
            if (problem) failures.push(describeCase(c, problem));
          }
        }
      } finally {
        await engine.stop();
      }
      console.log(
        `engine contract ${target.kind}: seed ${SEED}, ${ran} cases (${routed} routed, ${contested} of them with 2+ matching routes; ${ran - routed} no route; ${perListener.default} on the default listener, ${perListener.side} on side), ` +
          `${ran - failures.length} passed, ${failures.length} failed; ${cases.length} route sets, ${lateSets} not served at the first probe after apply`,
      );
      if (failures.length > 0) {
        const shown = failures.slice(0, 5).join("\n\n");
        expect.fail(`${target.kind}: ${failures.length} of ${ran} cases disagree with lib/core (seed ${SEED}; replay: ${REPLAY})\n\n${shown}`);
      }
      expect(ran).toBe(ROUTE_SETS * REQUESTS_PER_SET);
      // both listeners were asked (a seed that sent everything to one would test less than it says)
      expect(Math.min(perListener.default, perListener.side), `requests per listener: ${JSON.stringify(perListener)}`).toBeGreaterThan(0);
    });
  });
}
