import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderSwarmHaproxy, swarmRulesOf } from "@/lib/runtime/swarm-balancer";
import { assertSwarmSupported, withSwarmBalancer } from "@/lib/engines/swarm/capabilities";
import { capabilitiesExcept } from "@/lib/engines/capabilities";
import { rulesSchema } from "@/lib/core/rules";
import { dynamicCookieKey } from "@/lib/engines/haproxy/render";
import { AppError } from "@/lib/core/errors";
import { expectGolden } from "../helpers/golden";
import { duplicateSlots, swarmServiceName } from "@/lib/runtime/swarm";

describe("the Swarm balancer's HAProxy config", () => {
  it("follows tasks.<service> through Docker's DNS with checks, retries and redispatch", () => {
    const cfg = renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 12, publishPort: 18560 });
    expect(cfg).toContain("  nameserver dns 127.0.0.11:53");
    expect(cfg).toContain("  bind :18560");
    expect(cfg).toContain("  server-template r 12 tasks.sy-web:8080 check inter 500 fall 2 rise 2 resolvers docker init-addr none");
    expect(cfg).toContain("  option redispatch 1");
  });

  it("refuses values that would break out of their line", () => {
    expect(() => renderSwarmHaproxy({ target: "sy-web\n  server x 1.2.3.4:80", dataPort: 8080, slots: 4, publishPort: 18560 })).toThrow(/not usable/);
    expect(() => renderSwarmHaproxy({ target: "sy-web", dataPort: 80, slots: 4, publishPort: 18560 })).toThrow(/dataPort/);
    expect(() => renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 0, publishPort: 18560 })).toThrow(/slots/);
    expect(() => renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 4, publishPort: 1.5 })).toThrow(/publishPort/);
  });

  it("the management listener forwards to a task address inside the overlay only", () => {
    const cfg = renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18560, admin: { publishPort: 18561, adminPort: 9090, subnet: "10.0.1.0/24" } });
    expect(cfg).toContain("  acl to_task req.hdr_ip(x-switchyard-task) 10.0.1.0/24");
    expect(cfg).toContain("  http-request deny deny_status 400 unless to_task");
    expect(cfg).toContain("  http-request set-dst-port int(9090)");
    const base = { target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18560 };
    expect(() => renderSwarmHaproxy({ ...base, admin: { publishPort: 18561, adminPort: 9090, subnet: "10.0.1.0/24\n  bind :80" } })).toThrow(/subnet/);
    expect(() => renderSwarmHaproxy({ ...base, admin: { publishPort: 18561, adminPort: 9090, subnet: "10.0.1.300/24" } })).toThrow(/subnet/);
    expect(() => renderSwarmHaproxy({ ...base, admin: { publishPort: 18560, adminPort: 9090, subnet: "10.0.1.0/24" } })).toThrow(/differ/);
  });

  it("names a Swarm service sy-<name> only for plain service names", () => {
    expect(swarmServiceName("web-2")).toBe("sy-web-2");
    expect(() => swarmServiceName("Web;rm")).toThrow();
  });

  it("carries the service's rules: algorithm, health check, timeouts, retries; a stats page beside the task relay", () => {
    const rules = swarmRulesOf(rulesSchema.parse({ algorithm: "least_conn", healthCheck: { path: "/ready", intervalMs: 750, rise: 3, fall: 4 }, timeouts: { connectMs: 900, serverMs: 5000, clientMs: 6000 }, retries: { count: 5, redispatch: false } }));
    const cfg = renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18560, rules, admin: { publishPort: 18561, adminPort: 9090, subnet: "10.0.1.0/24" } });
    for (const line of ["  balance leastconn", "  option httpchk GET /ready", "  timeout connect 900ms", "  timeout server 5000ms", "  timeout client 6000ms", "  retries 5", "  stats uri /balancer-stats"]) expect(cfg).toContain(line);
    expect(cfg).toContain("tasks.sy-web:8080 check inter 750 fall 4 rise 3 observe layer7 error-limit 3 on-error mark-down resolvers docker");
    expect(cfg).not.toContain("option redispatch");
    const base = { target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18560 };
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, healthPath: "/ready\n  bind :80" } })).toThrow(/health path/);
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, retries: 1.5 } })).toThrow(/retries/);
  });
});

describe("duplicateSlots (a start-first rollback can leave two running tasks in one slot)", () => {
  it("names the slots Swarm wants more than one task running in, and nothing when each slot has one", () => {
    expect(duplicateSlots([{ slot: 1 }, { slot: 2 }, { slot: 3 }])).toEqual([]);
    expect(duplicateSlots([{ slot: 2 }, { slot: 1 }, { slot: 1 }, { slot: 2 }, { slot: 3 }])).toEqual([1, 2]);
    expect(duplicateSlots([])).toEqual([]);
  });
});

// Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit tests/unit/swarm-balancer.test.ts; integration
// haproxy-golden-check runs `haproxy -c` on every file in tests/fixtures/swarm-haproxy.
const SECRET = "0123456789abcdef".repeat(4);
const ADMIN = { publishPort: 18691, adminPort: 9090, subnet: "10.0.1.0/24" };

describe("the Swarm balancer carries out sticky sessions, slow start and passive checks (golden files)", () => {
  const golden = (name: string) => path.resolve(__dirname, "../fixtures/swarm-haproxy", `${name}.cfg`);

  it("default rules", () => {
    expectGolden(golden("default"), renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 16, publishPort: 18690, admin: ADMIN, rules: swarmRulesOf(rulesSchema.parse({}), { serviceId: "svc1", secret: SECRET }) }));
  });

  it("cookie stickiness with a max age, slow start and passive checks", () => {
    const rules = swarmRulesOf(rulesSchema.parse({ sticky: { mode: "cookie", cookieName: "SYTASK", maxAgeS: 600 }, slowStartMs: 4000, passive: { maxFails: 5 } }), { serviceId: "svc1", secret: SECRET });
    const cfg = renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 16, publishPort: 18690, admin: ADMIN, rules });
    // the same lines as the panel's own HAProxy for the same service and secret
    expect(cfg).toContain("  cookie SYTASK insert indirect nocache dynamic maxlife 600s\n");
    expect(cfg).toContain(`  dynamic-cookie-key ${dynamicCookieKey("svc1", SECRET)}\n`);
    expect(cfg).toContain("check inter 500 fall 2 rise 2 slowstart 4000ms observe layer7 error-limit 5 on-error mark-down resolvers docker init-addr none");
    expectGolden(golden("sticky-slowstart-passive"), cfg);
  });

  it("refuses a cookie name, key or slow start that is not what the rules schema allows", () => {
    const rules = swarmRulesOf(rulesSchema.parse({ sticky: { mode: "cookie" } }), { serviceId: "svc1", secret: SECRET });
    const base = { target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18690 };
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, sticky: { ...rules.sticky!, cookieName: "A\n  bind :80" } } })).toThrow(/cookie name/);
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, sticky: { ...rules.sticky!, key: "k\nbind :80" } } })).toThrow(/cookie key/);
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, slowStartMs: 1.5 } })).toThrow(/slow start/);
    expect(() => renderSwarmHaproxy({ ...base, rules: { ...rules, passiveMaxFails: 1000 } })).toThrow(/passive/);
    expect(() => swarmRulesOf(rulesSchema.parse({ sticky: { mode: "cookie" } }))).toThrow(/cookie secret/);
  });

  it("refuses with 409, saying why, what cannot apply behind the panel's listener: source stickiness and source hashing", () => {
    const refusal = (input: object) => {
      try {
        assertSwarmSupported(rulesSchema.parse(input));
        return null;
      } catch (e) {
        return e as AppError;
      }
    };
    expect(refusal({ sticky: { mode: "cookie" }, slowStartMs: 1000, passive: { maxFails: 3 }, routes: [{ hosts: ["a.local"], path: "/api", stripPrefix: true }] })).toBeNull();
    const source = refusal({ sticky: { mode: "source" } });
    expect(source?.code).toBe("conflict");
    expect(source?.message).toMatch(/source-IP stickiness: every request reaches the Swarm balancer from the panel's listener/);
    expect(refusal({ algorithm: "source_hash" })?.message).toMatch(/algorithm source_hash/);
    expect(() => renderSwarmHaproxy({ target: "sy-web", dataPort: 8080, slots: 4, publishPort: 18690, rules: swarmRulesOf(rulesSchema.parse({ algorithm: "source_hash" })) })).toThrow(/source_hash/);
    // the rules editor's view: the engine's own refusals kept, the Swarm balancer's added
    const caps = withSwarmBalancer(capabilitiesExcept({ slowStart: "not on this engine" }));
    expect(caps.slowStart).toBe("not on this engine");
    expect(caps["sticky.source"]).toMatch(/from the panel's listener/);
    expect(caps["sticky.cookie"]).toBe(true);
  });
});
