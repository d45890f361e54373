/**
 * End to end in Chromium against the real panel (npm start on a fresh data folder, the
 * real engine: HAProxy where installed, else the builtin proxy): the routes of a service
 * (issue 13), at 1280 px and on a 390 px phone.
 * - In the rules editor's routes table the demo service gets three routes: the catch-all
 *   "/" with priority 1 (tried last), "/api" on api.local and *.local with the prefix
 *   stripped, and the exact path /api/student. Preview, Apply: a new revision, and the
 *   real balancer routes and strips as the table says.
 * - "Try a URL" names the route and the path the replica gets, as the balancer did.
 * - A route that can never be reached (a.local /api/v1 behind *.local /api) is listed by
 *   Preview, refused by Apply with the route that hides it named, and kept with Apply anyway.
 * - A second listener ("side", added through the API): route 2 checked on it alone in the
 *   table is served on its port only, the example names that port, the default
 *   listener answers for those requests as the other routes say.
 * - At 390 px the table and the try box fit the width (no sideways scrolling).
 * Panel ports 3340-3349, listener 18423 (and "side" 18466), replicas 27810-27819.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import path from "node:path";
import { launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until } from "@/tests/helpers/load";

const ADMIN = { username: "routes-admin", password: "routes e2e admin password" };
const LISTENER = 18423;
const SIDE_LISTENER = 18466;

type Route = { hosts: string[]; path: string; match: string; stripPrefix: boolean; priority: number; listeners?: string[] };
type Overview = { engine: { running: boolean; ready: boolean }; revision: number; live: string | null; config: { services: { id: string; name: string; rules: { routes: Route[] } }[] } };

let panel: Panel;
let browser: LaunchedBrowser;
let cookie: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function overview(): Promise<Overview> {
  const res = await panel.request("/api/balancer", { cookie });
  if (res.status !== 200) throw new Error(`GET /api/balancer: ${res.status}`);
  return (await res.json()) as Overview;
}

/** One request through the balancer: the replica's JSON (its path) or null for a non-replica answer. */
function viaBalancer(host: string, target: string, port = LISTENER): Promise<{ status: number; path: string | null }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: target, headers: { host }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let path: string | null = null;
          try {
            path = res.headers["x-replica"] ? ((JSON.parse(Buffer.concat(chunks).toString("utf8")) as { path?: string }).path ?? null) : null;
          } catch {
            path = null;
          }
          resolve({ status: res.statusCode ?? 0, path });
        });
      })
      .on("error", reject);
  });
}

/** A screenshot of the rules editor's Routes section alone (light, or dark when asked). */
async function sectionShot(page: Page, name: string, dark = false) {
  if (dark) await page.emulateMedia({ colorScheme: "dark" });
  try {
    await page.getByTestId("rules-section-route").screenshot({ path: path.join(screenshotDir(), `${name}.png`) });
  } finally {
    if (dark) await page.emulateMedia({ colorScheme: "light" });
  }
}

async function expectNoSidewaysScroll(page: Page, where: string) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll, `${where}: page ${scroll} px wide in a ${width} px window`).toBeLessThanOrEqual(width);
}

async function openEditor(page: Page) {
  await page.goto(`${panel.url}/balancer`);
  await page.getByTestId("edit-rules-web").click();
  await page.getByTestId("service-routes").waitFor();
  await page.getByTestId("rules-base-revision").waitFor();
}

/** Fill route `i`'s fields in the table. */
async function fillRoute(page: Page, i: number, r: { hosts?: string; path?: string; match?: string; priority?: string; strip?: boolean }) {
  if (r.hosts !== undefined) await page.locator(`input[name="routes.${i}.hosts"]`).fill(r.hosts);
  if (r.path !== undefined) await page.locator(`input[name="routes.${i}.path"]`).fill(r.path);
  if (r.match !== undefined) await page.locator(`select[name="routes.${i}.match"]`).selectOption(r.match);
  if (r.priority !== undefined) await page.locator(`input[name="routes.${i}.priority"]`).fill(r.priority);
  if (r.strip !== undefined) await page.locator(`input[name="routes.${i}.stripPrefix"]`).setChecked(r.strip);
}

beforeAll(async () => {
  panel = await startPanel({
    port: await findFreePort(3340, 3349),
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(LISTENER), PORT_RANGE: "27810-27819" },
    startTimeoutMs: 170_000,
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
  await until(
    "the engine running the demo service",
    () => overview().catch(() => null),
    (o) => o !== null && o.engine.running && o.engine.ready && o.revision >= 1 && o.live !== null && o.config.services.some((s) => s.name === "web"),
    60_000,
    500,
  );
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  const { page } = browser;
  await page.goto(`${panel.url}/login`);
  await page.locator('input[name="username"]').fill(ADMIN.username);
  await page.locator('input[name="password"]').fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === "/services");
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe("routes of a service in the rules editor", () => {
  it("adds routes in the table, previews and applies them; the balancer routes and strips as the table says; Try a URL agrees", async () => {
    const { page } = browser;
    const before = await overview();
    await openEditor(page);
    // route 1: the catch-all, made the last resort
    await fillRoute(page, 0, { priority: "1" });
    await page.getByRole("button", { name: "Add a route" }).click();
    await fillRoute(page, 1, { hosts: "api.local *.local", path: "/api", strip: true });
    await page.getByRole("button", { name: "Add a route" }).click();
    await fillRoute(page, 2, { path: "/api/student", match: "exact" });
    // the table lists them in the order they are tried: /api on the hosts, then the exact path, then /
    const rows = await page.locator('[data-testid^="service-route-"]:not([data-testid*="example"])').evaluateAll((els) => els.map((e) => e.getAttribute("data-testid")));
    expect(rows).toEqual(["service-route-1", "service-route-2", "service-route-0"]);
    expect(await page.getByTestId("service-route-0").innerText()).toContain("priority 1");
    expect(await page.getByTestId("service-route-example-1").innerText()).toContain("curl -H 'Host: api.local'");
    expect(await page.getByTestId("service-route-example-2").innerText()).toContain("/api/student");

    await page.getByTestId("rules-preview").click();
    await page.getByTestId("rules-preview-result").waitFor();
    expect(await page.getByTestId("rules-preview-shadowed").count()).toBe(0);
    await page.getByTestId("rules-apply").click();
    await page.getByTestId("rules-applied").waitFor({ timeout: 60_000 });
    const after = await overview();
    expect(after.revision).toBeGreaterThan(before.revision);
    const routes = after.config.services.find((s) => s.name === "web")!.rules.routes;
    expect(routes.map((r) => [r.hosts.join(" "), r.path, r.match, r.stripPrefix, r.priority])).toEqual([
      ["", "/", "prefix", false, 1],
      ["api.local *.local", "/api", "prefix", true, 0],
      ["", "/api/student", "exact", false, 0],
    ]);

    // the Balancer page's services list shows every route of the service
    await page.goto(`${panel.url}/balancer`);
    expect(await page.getByTestId("route-web").locator("li").allInnerTexts()).toEqual(["api.local *.local /api\nstrips /api", "= /api/student any host", "/ any host\npriority 1"]);
    await page.getByTestId("routes-table").screenshot({ path: path.join(screenshotDir(), "routes-balancer-list.png") });
    await openEditor(page);

    // the real balancer: stripped under /api on the hosts, not elsewhere
    await until("the balancer strips /api for x.local", () => viaBalancer("x.local", "/api/users?id=1"), (a) => a.path === "/users?id=1", 20_000, 200);
    expect(await viaBalancer("other.test", "/api/users")).toEqual({ status: 404, path: "/api/users" });
    expect(await viaBalancer("other.test", "/api/student")).toEqual({ status: 404, path: "/api/student" });

    // Try a URL says the same
    await page.locator('input[name="try-url"]').fill("http://x.local/api/users?id=1");
    await page.getByRole("button", { name: "Which route?" }).click();
    const said = await page.getByTestId("try-url-result").innerText();
    expect(said).toContain("web, route 2 (api.local, *.local /api");
    expect(said).toContain("the replica gets /users?id=1");
    expect(said).toContain("Also matching, tried later: web route 1");
    await sectionShot(page, "routes-section");
    await sectionShot(page, "routes-section-dark", true);
  });

  it("a route that can never be reached is shown by Preview, refused by Apply with the route hiding it named, and kept with Apply anyway", async () => {
    const { page } = browser;
    const before = await overview();
    await openEditor(page);
    await page.getByRole("button", { name: "Add a route" }).click();
    await fillRoute(page, 3, { hosts: "a.local", path: "/api/v1" });
    // the table says so at once (route 2 of the same service hides it)
    expect(await page.getByTestId("service-route-hidden-3").innerText()).toContain("Never reached: route 2 catches all its requests first");
    await page.getByTestId("rules-preview").click();
    const shadowed = await page.getByTestId("rules-preview-shadowed").innerText();
    expect(shadowed).toContain("route 4 of web (a.local /api/v1) is never reached: route 2 of web (api.local, *.local /api) catches its requests first");
    await page.getByTestId("rules-apply").click();
    const refused = await page.getByTestId("rules-shadowed").innerText();
    expect(refused).toContain("route 4 of web (a.local /api/v1) is never reached");
    expect((await overview()).revision).toBe(before.revision);
    await page.getByTestId("rules-shadowed").screenshot({ path: path.join(screenshotDir(), "routes-shadowed.png") });
    await page.getByTestId("rules-apply-anyway").click();
    await page.getByTestId("rules-applied").waitFor({ timeout: 60_000 });
    const after = await overview();
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(after.config.services.find((s) => s.name === "web")!.rules.routes).toHaveLength(4);
  });

  it("a route checked on a second listener alone is served on that port only; the example names its port", async () => {
    const { page } = browser;
    const created = await panel.request("/api/listeners", { method: "POST", cookie, json: { name: "side", port: SIDE_LISTENER, protocol: "http" } });
    expect(created.status, await created.clone().text()).toBe(201);
    const before = await overview();
    await openEditor(page);
    // the table lists both listeners for every route, none checked (the default listener)
    const checks = page.getByTestId("service-route-listeners-1");
    await checks.waitFor();
    expect(await checks.innerText()).toContain("None checked: served on the default listener.");
    expect(await checks.locator('input[type="checkbox"]').evaluateAll((els) => els.map((e) => [(e as HTMLInputElement).name, (e as HTMLInputElement).checked]))).toEqual([
      ["routes.1.listeners.default", false],
      ["routes.1.listeners.side", false],
    ]);
    await page.locator('input[name="routes.1.listeners.side"]').check();
    expect(await checks.innerText()).toContain("Served on the checked listeners only.");
    expect(await page.getByTestId("service-route-example-1").innerText()).toContain(`curl -H 'Host: api.local' http://127.0.0.1:${SIDE_LISTENER}/api`);
    await page.getByTestId("rules-apply").click();
    await page.getByTestId("rules-applied").waitFor({ timeout: 60_000 });
    const after = await overview();
    expect(after.revision).toBeGreaterThan(before.revision);
    const routes = after.config.services.find((s) => s.name === "web")!.rules.routes;
    expect(routes.map((r) => r.listeners ?? null)).toEqual([null, ["side"], null, null]);
    // the side listener strips /api for the route's hosts; the default one no longer serves route 2 (the catch-all takes it, unstripped)
    await until("the side listener strips /api for x.local", () => viaBalancer("x.local", "/api/users?id=1", SIDE_LISTENER).catch(() => null), (a) => a?.path === "/users?id=1", 20_000, 200);
    expect(await viaBalancer("x.local", "/api/users?id=1")).toEqual({ status: 404, path: "/api/users?id=1" });
    // on the side listener only route 2 is served: another path of the same host is no route (503 from the balancer)
    expect((await viaBalancer("x.local", "/other", SIDE_LISTENER)).path).toBeNull();
    // Try a URL with the listener agrees (POST /api/routes/try)
    const onSide = (await (await panel.request("/api/routes/try", { method: "POST", cookie, json: { url: "http://x.local/api/users?id=1", listener: "side" } })).json()) as { reached: { upstreamPath: string } | null };
    expect(onSide.reached?.upstreamPath).toBe("/users?id=1");
    const onDefault = (await (await panel.request("/api/routes/try", { method: "POST", cookie, json: { url: "http://x.local/api/users?id=1", listener: "default" } })).json()) as { reached: { upstreamPath: string } | null };
    expect(onDefault.reached?.upstreamPath).toBe("/api/users?id=1");
    await openEditor(page);
    expect(await page.locator('input[name="routes.1.listeners.side"]').isChecked()).toBe(true);
    await sectionShot(page, "routes-section-listeners");
    await sectionShot(page, "routes-section-listeners-dark", true);
  });

  it("fits a 390 px phone: the routes table and the try box without sideways scrolling", async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await openEditor(page);
      await page.getByTestId("service-routes").scrollIntoViewIfNeeded();
      await sleep(200);
      await expectNoSidewaysScroll(page, "rules editor with four routes");
      const box = await page.getByTestId("service-routes").boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390, `routes table at ${JSON.stringify(box)}`).toBe(true);
      await page.locator('input[name="try-url"]').fill("a.local/api/v1/x");
      await page.getByRole("button", { name: "Which route?" }).click();
      expect(await page.getByTestId("try-url-result").innerText()).toContain("web, route 2");
      await expectNoSidewaysScroll(page, "try-a-URL answer");
      await sectionShot(page, "routes-section-phone");
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
