/**
 * HAProxy's dynamic-cookie-key is derived from the panel's secret: the real value stays in
 * the file HAProxy reads, and every config text shown to a browser carries a placeholder.
 */
import { describe, expect, it } from "vitest";
import { dynamicCookieKey, redactHaproxyConfig, renderHaproxy } from "@/lib/engines/haproxy/render";
import { SECRET_PLACEHOLDER, shownConfig } from "@/lib/engines/types";
import { goldenConfigs, goldenRenderOptions } from "@/tests/fixtures/haproxy/configs";

const withCookie = goldenConfigs["least-conn-cookie"];

describe("the HAProxy cookie key as shown", () => {
  it("the rendered file holds the key derived from the secret; the shown text holds the placeholder and nothing else differs", () => {
    const file = renderHaproxy(withCookie, goldenRenderOptions);
    const cookieServices = withCookie.services.filter((s) => s.rules.sticky.mode === "cookie");
    expect(cookieServices.length).toBeGreaterThan(0);
    const keys = cookieServices.map((s) => dynamicCookieKey(s.id, goldenRenderOptions.cookieSecret));
    for (const key of keys) expect(file).toContain(`dynamic-cookie-key ${key}\n`);

    const shown = redactHaproxyConfig(file);
    for (const key of keys) expect(shown).not.toContain(key);
    expect(shown.split(`dynamic-cookie-key ${SECRET_PLACEHOLDER}\n`)).toHaveLength(keys.length + 1);
    const differing = file.split("\n").filter((line, i) => line !== shown.split("\n")[i]);
    expect(differing).toEqual(keys.map((k) => `    dynamic-cookie-key ${k}`));
    // shown twice is shown once
    expect(redactHaproxyConfig(shown)).toBe(shown);
  });

  it("a different secret gives a different key (no public default)", () => {
    const a = dynamicCookieKey("svc-web", goldenRenderOptions.cookieSecret);
    expect(dynamicCookieKey("svc-web", "another-panel-secret")).not.toBe(a);
  });

  it("also hides a key quoted inside a message, and leaves texts without one alone", () => {
    expect(redactHaproxyConfig("[ALERT] parsing [haproxy.cfg:40] : 'dynamic-cookie-key 0123abcd' is odd")).toBe(
      `[ALERT] parsing [haproxy.cfg:40] : 'dynamic-cookie-key ${SECRET_PLACEHOLDER}' is odd`,
    );
    const plain = renderHaproxy(goldenConfigs.defaults, goldenRenderOptions);
    expect(plain).not.toContain("dynamic-cookie-key");
    expect(redactHaproxyConfig(plain)).toBe(plain);
  });

  it("engines without secrets show their text as it is", () => {
    expect(shownConfig({}, "upstream be_web { server 127.0.0.1:1; }")).toBe("upstream be_web { server 127.0.0.1:1; }");
    expect(shownConfig({ redact: redactHaproxyConfig }, "    dynamic-cookie-key abc\n")).toBe(`    dynamic-cookie-key ${SECRET_PLACEHOLDER}\n`);
  });
});
