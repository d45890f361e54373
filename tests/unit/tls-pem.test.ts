import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkCertificateAndKey, expiryOf } from "@/lib/tls/pem";
import { createCertificateSchema, createListenerSchema, listenerProblem, type Listener } from "@/lib/core/listeners";

const fx = (name: string) => fs.readFileSync(path.join(__dirname, "..", "fixtures", "tls", name), "utf8");
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("not refused");
};

describe("PEM certificate and key checks", () => {
  it("takes a chain in order with its key: facts of the leaf, the key normalised", () => {
    const { chainPem, keyPem, facts } = checkCertificateAndKey(fx("chain.pem"), fx("leaf.key"));
    expect(facts.subject).toBe("a.test");
    expect(facts.names).toEqual(["a.test", "www.a.test"]);
    expect(facts.issuer).toBe("Fixture Intermediate");
    expect(facts.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(chainPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it("refuses garbage, a key of another certificate, a chain out of order, an expired certificate", () => {
    expect(refusal(() => checkCertificateAndKey("hello", fx("leaf.key")))).toMatch(/no PEM certificate/);
    expect(refusal(() => checkCertificateAndKey("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", fx("leaf.key")))).toMatch(/does not parse/);
    expect(refusal(() => checkCertificateAndKey(fx("chain.pem"), "not a key"))).toMatch(/private key/);
    expect(refusal(() => checkCertificateAndKey(fx("chain.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))).toMatch(/does not parse/);
    expect(refusal(() => checkCertificateAndKey(fx("chain.pem"), fx("other.key")))).toMatch(/does not match the certificate/);
    expect(refusal(() => checkCertificateAndKey(fx("chain-reversed.pem"), fx("leaf.key")))).toMatch(/out of order.*Fixture Intermediate.*not issued by.*a\.test/);
    const after = Date.parse("2127-01-01T00:00:00Z");
    expect(refusal(() => checkCertificateAndKey(fx("chain.pem"), fx("leaf.key"), after))).toMatch(/expired on 2126-/);
  });

  it("never quotes the key in a refusal", () => {
    const key = fx("other.key");
    const message = refusal(() => checkCertificateAndKey(fx("chain.pem"), key));
    const body = key.split("\n")[1];
    expect(message).not.toContain(body);
  });

  it("warns 30 days before expiry", () => {
    const notAfter = new Date("2030-01-31T00:00:00Z");
    expect(expiryOf(notAfter, Date.parse("2029-12-01T00:00:00Z"))).toEqual({ daysLeft: 61, expired: false, expiresSoon: false });
    expect(expiryOf(notAfter, Date.parse("2030-01-10T00:00:00Z"))).toEqual({ daysLeft: 21, expired: false, expiresSoon: true });
    expect(expiryOf(notAfter, Date.parse("2030-02-01T00:00:00Z")).expired).toBe(true);
  });
});

describe("listener and certificate input", () => {
  const base: Omit<Listener, "id"> = { name: "web", port: 18430, protocol: "http", certificateId: null, sniCertificateIds: [], redirectToHttps: false };
  it("refuses hostile names and ports at the schema", () => {
    for (const name of ["Default", "a b", "x;", "-a", "a".repeat(64), "web\nbind :1"]) expect(createListenerSchema.safeParse({ name, port: 18430 }).success).toBe(false);
    for (const port of [0, 80, 443, 1023, 65536, 18430.5, "18430"]) expect(createListenerSchema.safeParse({ name: "web", port }).success).toBe(false);
    expect(createListenerSchema.safeParse({ name: "web", port: 18430, protocol: "tcp" }).success).toBe(false);
    expect(createListenerSchema.safeParse({ name: "web", port: 18430, certificateId: "../../etc/passwd" }).success).toBe(false);
    expect(createListenerSchema.safeParse({ name: "web", port: 18430, extra: 1 }).success).toBe(false);
    expect(createListenerSchema.parse({ name: "web", port: 18430 })).toEqual({ name: "web", port: 18430, protocol: "http" });
  });

  it("says why a listener cannot be: the panel's port, a port or name taken, https without a certificate, a redirect with nowhere to go", () => {
    expect(listenerProblem(base, [], 18430)).toMatch(/panel's own port/);
    expect(listenerProblem(base, [{ ...base, name: "other" }], 3000)).toMatch(/taken by the listener other/);
    expect(listenerProblem(base, [{ ...base, port: 18431 }], 3000)).toMatch(/named web exists/);
    expect(listenerProblem({ ...base, protocol: "https" }, [], 3000)).toMatch(/needs a certificate/);
    expect(listenerProblem({ ...base, redirectToHttps: true }, [], 3000)).toMatch(/needs an https listener/);
    expect(listenerProblem({ ...base, certificateId: "0123456789abcdef" }, [], 3000)).toMatch(/http listener has no certificate/);
    expect(listenerProblem({ ...base, protocol: "https", certificateId: "0123456789abcdef" }, [], 3000)).toBeNull();
  });

  it("takes hosts to generate for only as names or *.wildcards", () => {
    expect(createCertificateSchema.safeParse({ generate: { hosts: ["a.local", "*.local"] } }).success).toBe(true);
    for (const h of ["a b", "-x", "*", "a.*.local", "x/../y", "a.local,DNS:evil", "A.LOCAL\n"]) expect(createCertificateSchema.safeParse({ generate: { hosts: [h] } }).success).toBe(false);
    expect(createCertificateSchema.safeParse({ generate: { hosts: [] } }).success).toBe(false);
  });
});
