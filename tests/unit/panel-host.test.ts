import { describe, expect, it } from "vitest";
import { allowedOrigins, hostNameOf, isPanelHost, panelHostNames } from "@/lib/auth/origin";
import { parseEnv } from "@/lib/env";

/** The DNS rebinding guard's names (issue 10, High 4); the routes and the socket handshake are tested in tests/integration/dns-rebinding.test.ts. */
describe("the names the panel answers for", () => {
  const cfg = { HOST: "127.0.0.1", ALLOWED_ORIGINS: "" };

  it("loopback names and IP literals, any port; not other names", () => {
    const names = panelHostNames(cfg);
    for (const ok of ["127.0.0.1:3310", "localhost:3000", "LOCALHOST", "[::1]:3000", "10.0.0.5:3000", "192.168.1.20", "[fe80::1]:3000"]) {
      expect(isPanelHost(ok, names), ok).toBe(true);
    }
    for (const bad of ["attacker.example:3310", "attacker.example", "localhost.attacker.example", "127.0.0.1.nip.io:3000", "", "a b", "localhost:3000:1", "[zz::1]", "999.1.1.1"]) {
      expect(isPanelHost(bad, names), bad).toBe(false);
    }
    expect(isPanelHost(null, names)).toBe(false);
  });

  it("adds the HOST bind address, ALLOWED_ORIGINS' hosts and PUBLIC_URL's host", () => {
    const names = panelHostNames({ HOST: "panel.lan", ALLOWED_ORIGINS: "https://ops.example.com, http://other.example:8443", PUBLIC_URL: "https://Panel.Example.com/" });
    expect(names).toEqual(expect.arrayContaining(["panel.lan", "ops.example.com", "other.example", "panel.example.com"]));
    expect(isPanelHost("panel.example.com", names)).toBe(true);
    expect(isPanelHost("ops.example.com:443", names)).toBe(true);
    expect(isPanelHost("evil.example.com", names)).toBe(false);
    expect(panelHostNames({ HOST: "0.0.0.0", ALLOWED_ORIGINS: "" })).not.toContain("0.0.0.0");
    expect(panelHostNames({ HOST: "::1", ALLOWED_ORIGINS: "" })).toContain("[::1]");
  });

  it("PUBLIC_URL's origin is allowed to send mutations", () => {
    expect(allowedOrigins({ ALLOWED_ORIGINS: "http://a.example", PUBLIC_URL: "https://panel.example.com/x" })).toEqual(["http://a.example", "https://panel.example.com"]);
  });

  it("hostNameOf strips the port and lower-cases", () => {
    expect(hostNameOf("Example.COM:3000")).toBe("example.com");
    expect(hostNameOf("[::1]:3000")).toBe("[::1]");
    expect(hostNameOf("x/y")).toBeNull();
  });

  it("PUBLIC_URL must be an http(s) URL", () => {
    expect(parseEnv({ PUBLIC_URL: "https://panel.example.com" }).PUBLIC_URL).toBe("https://panel.example.com");
    expect(() => parseEnv({ PUBLIC_URL: "panel.example.com" })).toThrow(/PUBLIC_URL/);
    expect(() => parseEnv({ PUBLIC_URL: "ftp://panel.example.com" })).toThrow(/PUBLIC_URL/);
  });
});
