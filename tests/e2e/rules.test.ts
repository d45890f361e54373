/**
 * End to end in a real browser against the real panel (npm start on a fresh data
 * folder, the real engine: HAProxy where installed, else the builtin proxy), on the
 * Balancer page and its rules editor:
 * - an invalid rule shows its error inline, Apply stays disabled, and nothing
 *   changes (revision number and live config file);
 * - a valid rule (least connections + cookie stickiness) previews as a diff with the
 *   engine's check, applies as a new revision, and the live config carries it;
 * - rolling back records a newer revision whose rules match the old ones;
 * - the API refuses a stale base revision (409) and hostile strings in every string
 *   field (400), and the engine's config file stays as it was;
 * - a viewer sees the page read-only and the API refuses their changes;
 * - Preview shows its result where the eye is (issue 12, item 6), at 1280x800 and on a
 *   390x844 phone: the check and the diff come into the window, and the bar by the
 *   buttons sums them up.
 * Panel ports 3140-3159 (this file's share of the e2e range).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import type { Locator, Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { launchBrowser, screenshot, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until } from "@/tests/helpers/load";

const ADMIN = { username: "rules-admin", password: "rules e2e admin password" };
const VIEWER = { username: "rules-viewer", password: "rules e2e viewer password" };

type Rules = {
  algorithm: string;
  sticky: { mode: string; cookieName: string; maxAgeS: number };
  healthCheck: { path: string };
  route: { host: string | null; pathPrefix: string };
} & Record<string, unknown>;
type Overview = { engine: { kind: string; running: boolean; ready: boolean }; revision: number; live: string | null; config: { services: { id: string; name: string; rules: Rules }[] } };
type RevisionDetail = { revision: { number: number; status: string; config: { services: { id: string; rules: Rules }[] } } };

let panel: Panel;
let browser: LaunchedBrowser;
let cookie: string;
let webId: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(path: string, as = cookie): Promise<T> {
  const res = await panel.request(path, { cookie: as });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const overview = () => getJson<Overview>("/api/balancer");

async function signIn(page: Page, who: { username: string; password: string }) {
  await page.goto(`${panel.url}/login`);
  await page.locator('input[name="username"]').fill(who.username);
  await page.locator('input[name="password"]').fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === "/services");
}

/**
 * A screenshot (of the page, or of one element) with the window as tall as the
 * page, so elements that stick to the bottom of the window (the editor's action
 * bar) sit where they belong.
 */
async function tallScreenshot(page: Page, name: string, element?: Locator) {
  const size = page.viewportSize() ?? { width: 1280, height: 800 };
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: size.width, height: Math.min(height, 12_000) });
  await page.evaluate(() => window.scrollTo(0, 0));
  await sleep(300);
  try {
    if (element) {
      const file = path.join(screenshotDir(), `${name}.png`);
      await element.screenshot({ path: file });
      return file;
    }
    return await screenshot(page, name);
  } finally {
    await page.setViewportSize(size);
  }
}

async function openEditor(page: Page) {
  await page.goto(`${panel.url}/balancer`);
  await page.getByTestId("edit-rules-web").click();
  await page.getByTestId("rules-section-route").waitFor();
  // loaded: the base revision is shown
  await page.getByTestId("rules-base-revision").waitFor();
}

/** The text of the field error (or hint) in the label that holds input `name`. */
const fieldText = (page: Page, name: string) => page.locator(`label:has(input[name="${name}"])`).innerText();

beforeAll(async () => {
  const listener = await findFreePort(18085, 18089);
  panel = await startPanel({
    port: await findFreePort(3140, 3159),
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(listener), PORT_RANGE: "23400-23599" },
    startTimeoutMs: 170_000,
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
  // the demo service exists and the engine runs it (revision 1 adds it)
  const deadline = Date.now() + 60_000;
  for (;;) {
    const o = await overview().catch(() => null);
    const web = o?.config.services.find((s) => s.name === "web");
    if (o && web && o.engine.running && o.engine.ready && o.revision >= 1 && o.live) {
      webId = web.id;
      break;
    }
    if (Date.now() > deadline) throw new Error(`the engine did not come up with the demo service: ${JSON.stringify(o)}\n${panel.output()}`);
    await sleep(500);
  }
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  await signIn(browser.page, ADMIN);
});

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe("rules editor and Balancer page in a browser", () => {
  let startRevision: number;
  let appliedRevision: number;

  it("an invalid rule shows its error inline, cannot be applied, and changes nothing", async () => {
    const { page } = browser;
    const before = await overview();
    startRevision = before.revision;
    await openEditor(page);

    await page.locator('input[name="routes.0.path"]').fill("/api v1;");
    await page.locator('input[name="healthCheck.path"]').fill("/health;reboot");
    await page.locator('input[name="routes.0.hosts"]').fill("tictactoe.local{");
    expect(await fieldText(page, "routes.0.path")).toContain("a path such as /api/v1");
    expect(await fieldText(page, "healthCheck.path")).toContain("a path such as /api/v1");
    expect(await fieldText(page, "routes.0.hosts")).toContain("a host name such as tictactoe.local");
    const problems = await page.getByTestId("rules-problems").innerText();
    expect(problems).toContain("routes.0.path");
    expect(problems).toContain("healthCheck.path");
    expect(problems).toContain("routes.0.hosts");
    expect(await page.getByTestId("rules-apply").isDisabled()).toBe(true);
    expect(await page.getByTestId("rules-preview").isDisabled()).toBe(true);
    await tallScreenshot(page, "rules-invalid", page.getByTestId("rules-editor-card"));

    // a number field left empty is an error too, and fixing everything re-enables Apply
    await page.locator('input[name="healthCheck.intervalMs"]').fill("");
    expect(await fieldText(page, "healthCheck.intervalMs")).toContain("enter a whole number");
    await page.locator('input[name="routes.0.path"]').fill("/api");
    await page.locator('input[name="healthCheck.path"]').fill("/health");
    await page.locator('input[name="routes.0.hosts"]').fill("");
    await page.locator('input[name="healthCheck.intervalMs"]').fill("500");
    expect(await page.getByTestId("rules-problems").count()).toBe(0);
    expect(await page.getByTestId("rules-apply").isDisabled()).toBe(false);
    await page.getByTestId("rules-reset").click();
    expect(await page.locator('input[name="routes.0.path"]').inputValue()).toBe("/");
    expect(await page.getByTestId("rules-apply").isDisabled()).toBe(true);

    const after = await overview();
    expect(after.revision).toBe(before.revision);
    expect(after.live).toBe(before.live);
  });

  it("a valid rule previews as a diff with the engine's check, applies as a new revision, and is live", async () => {
    const { page } = browser;
    const before = await overview();
    await openEditor(page);

    await page.locator('input[name="algorithm"][value="least_conn"]').check();
    await page.locator('input[name="sticky.mode"][value="cookie"]').check();
    await page.locator('input[name="sticky.cookieName"]').fill("SYWEB");
    await page.getByTestId("rules-preview").click();
    await page.getByTestId("rules-preview-diff").waitFor();
    await page.getByTestId("rules-check-ok").waitFor();
    const added = await page.locator('[data-testid="rules-preview-diff"] [data-diff-line="add"]').allInnerTexts();
    if (before.engine.kind === "haproxy") {
      expect(added.join("\n")).toContain("balance leastconn");
      expect(added.join("\n")).toContain("cookie SYWEB");
    }
    expect(added.length).toBeGreaterThan(0);
    // the preview changed nothing
    expect((await overview()).revision).toBe(before.revision);
    await tallScreenshot(page, "rules-preview", page.getByTestId("rules-editor-card"));

    await page.getByTestId("rules-apply").click();
    await page.getByTestId("rules-applied").waitFor({ timeout: 60_000 });
    appliedRevision = Number(await page.getByTestId("rules-applied-revision").innerText());
    expect(appliedRevision).toBe(before.revision + 1);
    expect(await page.getByTestId("rules-base-revision").innerText()).toBe(String(appliedRevision));

    const after = await overview();
    expect(after.revision).toBe(appliedRevision);
    const web = after.config.services.find((s) => s.id === webId)!;
    expect(web.rules.algorithm).toBe("least_conn");
    expect(web.rules.sticky).toMatchObject({ mode: "cookie", cookieName: "SYWEB" });
    if (after.engine.kind === "haproxy") {
      expect(after.live).toContain("balance leastconn");
      expect(after.live).toMatch(/cookie SYWEB /);
    } else {
      expect(after.live).toContain("least_conn");
    }

    // the page follows: the history lists it as applied and live, the route table shows the rules
    await page.getByTestId(`revision-${appliedRevision}`).waitFor();
    expect(await page.getByTestId(`revision-${appliedRevision}`).getAttribute("data-status")).toBe("applied");
    await page.getByTestId("current-revision").filter({ hasText: String(appliedRevision) }).waitFor();
    expect(await page.getByTestId("route-row-web").innerText()).toContain("Least connections");
  });

  it("rolls back to the revision before: a newer revision whose rules match the old ones", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/balancer`);
    await page.getByTestId(`rollback-${startRevision}`).click();
    await page.getByTestId(`rollback-confirm-${startRevision}`).waitFor();
    await page.getByTestId(`rollback-confirm-button-${startRevision}`).click();
    await page.getByTestId("rollback-message").waitFor({ timeout: 60_000 });
    expect(await page.getByTestId("rollback-message").innerText()).toContain(`re-applies the rules of revision ${startRevision}`);

    const after = await overview();
    expect(after.revision).toBe(appliedRevision + 1);
    const old = await getJson<RevisionDetail>(`/api/balancer/revisions/${startRevision}`);
    const now = await getJson<RevisionDetail>(`/api/balancer/revisions/${after.revision}`);
    expect(now.revision.status).toBe("applied");
    expect(now.revision.config.services.find((s) => s.id === webId)!.rules).toEqual(old.revision.config.services.find((s) => s.id === webId)!.rules);
    const current = await getJson<{ rules: Rules; revision: number }>(`/api/services/${webId}/rules`);
    expect(current.rules.algorithm).toBe(old.revision.config.services.find((s) => s.id === webId)!.rules.algorithm);
    expect(current.revision).toBe(after.revision);
    if (after.engine.kind === "haproxy") {
      expect(after.live).toContain("balance roundrobin");
      expect(after.live).not.toContain("cookie SYWEB");
    }

    await page.getByTestId(`revision-${after.revision}`).waitFor();
    await page.locator(`[data-testid="revision-${after.revision}"] details summary`).click();
    await tallScreenshot(page, "balancer");
  });

  it("the Export buttons download the current configuration for each engine", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/balancer`);
    const expected = { haproxy: /^switchyard-haproxy\.cfg$/, nginx: /^switchyard-nginx\.conf$/, builtin: /^switchyard-builtin\.json$/, traefik: /^switchyard-traefik\.yaml$/ };
    for (const [engine, name] of Object.entries(expected)) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(`export-${engine}`).click()]);
      expect(download.suggestedFilename()).toMatch(name);
      const file = await download.path();
      const text = fs.readFileSync(file, "utf8");
      expect(text.length, engine).toBeGreaterThan(50);
      if (engine === "traefik") expect(text).toContain("http:");
      if (engine === "builtin") expect(() => JSON.parse(text)).not.toThrow();
    }
  });
});

describe("rules API: stale revisions and hostile strings", () => {
  it("refuses a stale base revision with 409 and changes nothing", async () => {
    const before = await overview();
    const { rules } = await getJson<{ rules: Rules }>(`/api/services/${webId}/rules`);
    const res = await panel.request(`/api/services/${webId}/rules`, { method: "PUT", cookie, json: { baseRevision: before.revision - 1, rules: { ...rules, algorithm: "random_two" } } });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; details: { currentRevision: number } } };
    expect(body.error.code).toBe("conflict");
    expect(body.error.details.currentRevision).toBe(before.revision);
    const after = await overview();
    expect(after.revision).toBe(before.revision);
    expect(after.live).toBe(before.live);
  });

  it("refuses hostile strings in every string field with 400; the engine's config file never changes", async () => {
    const before = await overview();
    const revisionsBefore = (await getJson<{ revisions: unknown[] }>("/api/balancer/revisions")).revisions.length;
    const { rules } = await getJson<{ rules: Rules }>(`/api/services/${webId}/rules`);
    const bad = ["\n", "\r\n", ";", "{", "}", "#", '"', "'", "\\", " ", "\t", "é", "\u202e", "\u0000", "${x}", "%00"];
    const long = "a".repeat(5000);
    const fields: { name: string; values: string[]; set: (r: Rules, v: string) => Rules }[] = [
      { name: "route.host", values: [...bad.map((b) => `ok${b}x.local`), `${long}.local`], set: (r, v) => ({ ...r, route: { ...r.route, host: v } }) },
      { name: "route.pathPrefix", values: [...bad.map((b) => `/ok${b}x`), `/${long}`], set: (r, v) => ({ ...r, route: { ...r.route, pathPrefix: v } }) },
      { name: "healthCheck.path", values: [...bad.map((b) => `/health${b}x`), `/${long}`], set: (r, v) => ({ ...r, healthCheck: { ...r.healthCheck, path: v } }) },
      { name: "sticky.cookieName", values: [...bad.map((b) => `OK${b}x`), `A${long}`], set: (r, v) => ({ ...r, sticky: { ...r.sticky, mode: "cookie", cookieName: v } }) },
    ];
    let tried = 0;
    for (const f of fields) {
      for (const v of f.values) {
        const res = await panel.request(`/api/services/${webId}/rules`, { method: "PUT", cookie, json: { baseRevision: before.revision, rules: f.set(rules, v) } });
        const body = (await res.json()) as { error?: { code: string; details: { path: string }[] } };
        expect(res.status, `${f.name} = ${JSON.stringify(v.slice(0, 40))}`).toBe(400);
        expect(body.error?.code).toBe("bad_request");
        expect(body.error?.details.map((d) => d.path)).toContain(f.name);
        // the preview refuses it too, before rendering anything
        const preview = await panel.request("/api/balancer/preview", { method: "POST", cookie, json: { serviceId: webId, rules: f.set(rules, v) } });
        expect(preview.status).toBe(400);
        tried++;
      }
    }
    console.log(`[rules e2e] ${tried} hostile values refused with 400 across ${fields.length} fields`);
    const after = await overview();
    expect(after.revision).toBe(before.revision);
    expect(after.live).toBe(before.live);
    // refused before any engine work: not even a failed revision was recorded
    expect((await getJson<{ revisions: unknown[] }>("/api/balancer/revisions")).revisions.length).toBe(revisionsBefore);
  });
});

describe("a viewer on the Balancer page", () => {
  it("sees everything read-only, and the API refuses rules changes and rollbacks", async () => {
    const created = await panel.request("/api/users", { method: "POST", cookie, json: { ...VIEWER, role: "viewer" } });
    expect(created.status).toBe(201);
    const viewer = await launchBrowser({ viewport: { width: 1280, height: 900 } });
    try {
      const page = viewer.page;
      await signIn(page, VIEWER);
      await page.goto(`${panel.url}/balancer`);
      await page.getByTestId("live-config").waitFor();
      await page.getByTestId("capabilities-table").waitFor();
      expect(await page.locator('[data-testid^="rollback-"]').count()).toBe(0);
      await page.getByTestId("edit-rules-web").click();
      await page.getByTestId("rules-section-route").waitFor();
      expect(await page.getByTestId("rules-apply").count()).toBe(0);
      expect(await page.locator('input[name="routes.0.path"]').isDisabled()).toBe(true);

      const viewerCookie = await panel.login(VIEWER.username, VIEWER.password);
      const o = await overview();
      const { rules } = await getJson<{ rules: Rules }>(`/api/services/${webId}/rules`, viewerCookie);
      const put = await panel.request(`/api/services/${webId}/rules`, { method: "PUT", cookie: viewerCookie, json: { baseRevision: o.revision, rules: { ...rules, algorithm: "least_conn" } } });
      expect(put.status).toBe(403);
      const rollback = await panel.request(`/api/balancer/revisions/1/rollback`, { method: "POST", cookie: viewerCookie, json: {} });
      expect(rollback.status).toBe(403);
      expect((await overview()).revision).toBe(o.revision);
    } finally {
      await viewer.close();
    }
  });
});

describe("Preview shows its result where the eye is (issue 12, item 6)", () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    it(`at ${viewport.width}x${viewport.height}: the check and the diff come into the window, summed up by the buttons`, async () => {
      const { page } = browser;
      await page.setViewportSize(viewport);
      try {
        await page.goto(`${panel.url}/services/${webId}#rules`);
        await page.getByTestId("rules-base-revision").waitFor();
        const radio = page.locator('input[name="algorithm"][value="least_conn"]');
        await radio.check();
        // where the user is: near the form's top, the Preview button stuck to the bottom of
        // the window, and the end of the form (where the result appears) below the window
        await radio.scrollIntoViewIfNeeded();
        const before = await page.evaluate(() => ({
          formBottom: document.querySelector('[data-testid="rules-editor"]')!.getBoundingClientRect().bottom,
          button: document.querySelector('[data-testid="rules-preview"]')!.getBoundingClientRect().bottom,
          window: window.innerHeight,
        }));
        expect(before.formBottom, "the form ends below the window").toBeGreaterThan(before.window + 300);
        expect(before.button).toBeLessThanOrEqual(before.window);

        await page.getByTestId("rules-preview").click();
        // the summary by the buttons
        const status = page.getByTestId("rules-status");
        await until("the preview summary by the buttons", () => status.getAttribute("data-preview"), (v) => v === "true");
        const summary = await status.innerText();
        expect(summary).toMatch(/^Preview: ✓ .+ accepts it; \d+ lines? added, \d+ removed\. Show the diff$/);
        // the result itself, inside the window and below the sticky header
        const inView = () =>
          page.evaluate(() => {
            const rect = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.getBoundingClientRect() ?? null;
            const header = document.querySelector("header")!.getBoundingClientRect().bottom;
            const check = rect("rules-check-ok");
            const diff = rect("rules-preview-diff");
            const bar = rect("rules-status");
            return {
              header,
              window: window.innerHeight,
              check: check && { top: Math.round(check.top), bottom: Math.round(check.bottom) },
              diffTop: diff ? Math.round(diff.top) : null,
              status: bar && { top: Math.round(bar.top), bottom: Math.round(bar.bottom) },
            };
          });
        const seen = await until("the check and the diff inside the window", inView, (v) => v.check !== null && v.check.top >= v.header && v.check.bottom <= v.window && v.diffTop !== null && v.diffTop < v.window - 100);
        console.log(`[rules e2e] ${viewport.width}x${viewport.height}: form ended at ${Math.round(before.formBottom)} px of ${before.window}; after Preview: ${JSON.stringify(seen)}; bar: "${summary}"`);
        expect(seen.status!.top).toBeGreaterThanOrEqual(0);
        expect(seen.status!.bottom).toBeLessThanOrEqual(seen.window);
        // what the user sees right after the click: the window, not the whole page (once the smooth scroll ended)
        let lastY = -1;
        await until("the scroll to end", () => page.evaluate(() => window.scrollY), (y) => {
          const still = y === lastY;
          lastY = y;
          return still;
        });
        await page.screenshot({ path: path.join(screenshotDir(), `${viewport.width < 500 ? "rules-preview-phone" : "rules-preview-in-view"}.png`) });
      } finally {
        await page.setViewportSize({ width: 1280, height: 900 });
      }
    });
  }
});

