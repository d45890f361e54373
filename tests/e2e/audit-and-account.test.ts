/**
 * The audit log and the account (issue 12, items 11 and 12), in Chromium against the real
 * panel with the demo service "web" (process replicas, HAProxy where installed, else the
 * builtin proxy), at 1280 and at 390 px:
 *
 * - Events: date and time, the same text from the server and the first browser render
 *   (no hydration error, with the browser in another time zone than the server), local
 *   time after; filters by kind, service and actor, search and pages, all in the URL
 *   (a shared link shows the same page); a bad query is said and the newest shown;
 * - sign-in returns to the page asked for, and never to another origin;
 * - every user changes their own password; their other sessions end, this one stays;
 * - a viewer reads replica logs and is not offered the traffic generator;
 * - the services list shows each service's balancer URL; the create form has route fields;
 * - a revision's diff tells its own change from servers added by scaling; a rollback
 *   says what it changed; relative times tick; the Export card's notes start collapsed;
 * - the scale slider stays locked while any card says draining or stopping.
 *
 * Panels 3320-3329, replicas 27220-27399, listeners 18400-18404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import path from "node:path";
import { launchBrowser, screenshot, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";

const ADMIN = { username: "audra", password: "audit e2e password 1" };
const VIEWER = { username: "vera", password: "viewer e2e password 1" };
const until = <T,>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 200);

let panel: Panel;
let browser: LaunchedBrowser;
let cookie = "";
let webId = "";

type ServiceJson = { id: string; name: string; replicas: number; rules: { route: { host: string | null; pathPrefix: string; stripPrefix: boolean } }; instances: { id: string; state: string }[] };

async function api<T>(path: string, init: { method?: string; json?: unknown; cookie?: string } = {}): Promise<{ status: number; body: T }> {
  const res = await panel.request(path, { method: init.method, json: init.json, cookie: init.cookie ?? cookie });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

const services = async () => (await api<{ services: ServiceJson[] }>("/api/services")).body.services;
const web = async () => (await services()).find((s) => s.id === webId)!;

/** No sideways scrolling: the page is not wider than the window. */
async function expectNoSidewaysScroll(page: Page, where: string) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll, `${where}: page ${scroll} px wide in a ${width} px window`).toBeLessThanOrEqual(width);
}

/** Console errors a page logs (React's hydration errors among them: #418/#423/#425 in production builds). */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}
const hydrationErrors = (errors: string[]) => errors.filter((e) => /hydrat|#418|#423|#425|did not match/i.test(e));

beforeAll(async () => {
  panel = await startPanel({
    port: await findFreePort(3320, 3329),
    startTimeoutMs: 170_000,
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(await findFreePort(18400, 18404)), PORT_RANGE: "27220-27399" },
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
  const demo = await until(
    "the demo service web with its replicas ready",
    async () => (await services()).find((s) => s.name === "web") ?? null,
    (s) => s !== null && s.instances.length > 0 && s.instances.every((r) => r.state === "ready"),
    90_000,
  );
  webId = demo!.id;
  expect((await api("/api/users", { method: "POST", json: { ...VIEWER, role: "viewer" } })).status).toBe(201);
  // some audit trail to filter: refused sign-ins of two names, and users made and removed
  for (const name of ["mallory", "mallory", "eve"]) await panel.request("/api/auth/login", { method: "POST", json: { username: name, password: "not the password" } });
  for (let i = 0; i < 6; i++) {
    const created = await api<{ user: { id: string } }>("/api/users", { method: "POST", json: { username: `temp-${i}`, password: "temporary password", role: "viewer" } });
    expect(created.status).toBe(201);
    await api(`/api/users/${created.body.user.id}`, { method: "DELETE" });
  }
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe("the Events page (the audit log)", () => {
  it("shows date and time without a hydration mismatch, in the browser's own time zone", async () => {
    const page = browser.page;
    const errors = consoleErrors(page);
    // the server runs in UTC; the browser is in Auckland, so a time formatted on the server would differ
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: "Pacific/Auckland" });
    await page.goto(`${panel.url}/events`);
    const first = page.locator('[data-testid="event-list"] li time').first();
    await until("local times after hydration", () => first.getAttribute("data-zone"), (z) => z === "local", 15_000);
    const { text, expected, iso } = await first.evaluate((el) => {
      const d = new Date(el.getAttribute("datetime")!);
      const p = (n: number) => String(n).padStart(2, "0");
      return { text: el.textContent, iso: el.getAttribute("datetime")!, expected: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` };
    });
    expect(text).toBe(expected);
    expect(text).not.toBe(`${iso.slice(0, 10)} ${iso.slice(11, 19)}`); // Auckland is not UTC
    expect(text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // the server's HTML holds the UTC form (what the first render repeats)
    const html = await (await panel.request("/events", { cookie })).text();
    expect(html).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(hydrationErrors(errors)).toEqual([]);
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: "UTC" });
    await cdp.detach();
  });

  it("filters by kind, actor and search, keeps them in the URL, and a shared link shows the same", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/events`);
    await page.locator('select[name="kind"]').selectOption("auth.failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/kind=auth\.failed/);
    const kinds = await page.locator('[data-testid="event-list"] li').evaluateAll((lis) => lis.map((li) => li.getAttribute("data-kind")));
    expect(kinds.length).toBe(3);
    expect(new Set(kinds)).toEqual(new Set(["auth.failed"]));

    await page.locator('select[name="actor"]').selectOption("mallory");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/actor=mallory/);
    expect(await page.locator('[data-testid="event-list"] li').count()).toBe(2);
    expect(new Set(await page.getByTestId("event-actor").allInnerTexts())).toEqual(new Set(["mallory"]));

    // a search, with the kind group "user": only the events of temp-3
    await page.goto(`${panel.url}/events`);
    await page.locator('select[name="kind"]').selectOption("user");
    await page.locator('input[name="q"]').fill("TEMP-3");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=TEMP-3/);
    const shared = page.url();
    const messages = await page.locator('[data-testid="event-list"] li').allInnerTexts();
    expect(messages).toHaveLength(2); // added, deleted
    for (const m of messages) expect(m).toContain("temp-3");
    // the same URL in a fresh page (a link someone shared) shows the same events
    const other = await browser.context.newPage();
    await other.goto(shared);
    expect(await other.locator('[data-testid="event-list"] li').allInnerTexts()).toEqual(messages);
    expect(await other.locator('select[name="kind"]').inputValue()).toBe("user");
    expect(await other.locator('input[name="q"]').inputValue()).toBe("TEMP-3");
    await other.close();
  });

  it("pages through older events by cursor, newest first, and back", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/events?kind=user&limit=5`);
    const ids = async () => (await page.locator('[data-testid="event-list"] li').evaluateAll((lis) => lis.map((li) => Number(li.getAttribute("data-event-id")))));
    const first = await ids();
    expect(first).toHaveLength(5);
    await page.getByRole("link", { name: "Older →" }).click();
    await page.waitForURL(/before=\d+/);
    expect(page.url()).toContain("kind=user");
    expect(page.url()).toContain("limit=5");
    const second = await ids();
    expect(second.length).toBeGreaterThan(0);
    expect(Math.max(...second)).toBeLessThan(Math.min(...first));
    await page.getByRole("link", { name: "← Newest" }).click();
    await page.waitForURL((u) => !u.searchParams.has("before"));
    expect(await ids()).toEqual(first);
  });

  it("adds new events live on the first page when they pass the filters, and only those", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/events?kind=user&q=live-`);
    await page.getByTestId("event-page-note").waitFor();
    const before = await page.locator('[data-testid="event-list"] li').count();
    // one that passes (user.created, "live-one") and two that do not (another kind; another text)
    await panel.request("/api/auth/login", { method: "POST", json: { username: "live-one", password: "not the password" } });
    const made = await api<{ user: { id: string } }>("/api/users", { method: "POST", json: { username: "live-one", password: "temporary password", role: "viewer" } });
    expect(made.status).toBe(201);
    const other = await api<{ user: { id: string } }>("/api/users", { method: "POST", json: { username: "someone", password: "temporary password", role: "viewer" } });
    await until("the new event on the page", () => page.locator('[data-testid="event-list"] li').allInnerTexts(), (t) => t.some((x) => x.includes("added user live-one")), 15_000);
    const rows = await page.locator('[data-testid="event-list"] li').evaluateAll((lis) => lis.map((li) => ({ kind: li.getAttribute("data-kind"), text: li.textContent ?? "" })));
    expect(rows.length).toBe(before + 1);
    expect(rows[0].kind).toBe("user.created");
    expect(rows.some((r) => r.text.includes("someone") || r.kind === "auth.failed")).toBe(false);
    await api(`/api/users/${made.body.user.id}`, { method: "DELETE" });
    await api(`/api/users/${other.body.user.id}`, { method: "DELETE" });
  });

  it("says when the URL's filters cannot be used, and shows the newest", async () => {
    const page = browser.page;
    const res = await page.goto(`${panel.url}/events?limit=lots&kind=${encodeURIComponent("x' OR 1=1")}`);
    expect(res?.status()).toBe(200);
    await page.getByRole("alert").filter({ hasText: "cannot be used" }).waitFor();
    expect(await page.locator('[data-testid="event-list"] li').count()).toBeGreaterThan(0);
    expect((await api("/api/events?limit=lots")).status).toBe(400);
  });

  it("fits a phone (390 px) without sideways scrolling", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.goto(`${panel.url}/events?kind=user`);
      await phone.page.locator('[data-testid="event-list"] li').first().waitFor();
      await expectNoSidewaysScroll(phone.page, "/events at 390 px");
      await screenshot(phone.page, "phone-events-filtered");
      await phone.page.emulateMedia({ colorScheme: "dark" });
      await expectNoSidewaysScroll(phone.page, "/events at 390 px, dark");
      await screenshot(phone.page, "phone-events-filtered-dark");
    } finally {
      await phone.close();
    }
    await browser.page.goto(`${panel.url}/events`);
    await screenshot(browser.page, "events");
  });
});

describe("signing in", () => {
  it("returns to the page asked for", async () => {
    const b = await launchBrowser();
    try {
      await b.page.goto(`${panel.url}/events?kind=auth`);
      await b.page.waitForURL(/\/login\?next=/);
      expect(new URL(b.page.url()).searchParams.get("next")).toBe("/events?kind=auth");
      await b.page.locator('input[name="username"]').fill(ADMIN.username);
      await b.page.locator('input[name="password"]').fill(ADMIN.password);
      await b.page.getByRole("button", { name: "Sign in" }).click();
      await b.page.waitForURL((u) => u.pathname === "/events");
      expect(new URL(b.page.url()).search).toBe("?kind=auth");
    } finally {
      await b.close();
    }
  });

  it.each(["//evil.example/x", "/\\evil.example", "https://evil.example/", "/login", "javascript:alert(1)"])("never goes to %j", async (next) => {
    const b = await launchBrowser();
    try {
      await b.page.goto(`${panel.url}/login?next=${encodeURIComponent(next)}`);
      await b.page.locator('input[name="username"]').fill(ADMIN.username);
      await b.page.locator('input[name="password"]').fill(ADMIN.password);
      await b.page.getByRole("button", { name: "Sign in" }).click();
      await b.page.waitForURL((u) => u.pathname === "/services");
      expect(new URL(b.page.url()).origin).toBe(panel.url);
    } finally {
      await b.close();
    }
  });
});

describe("a viewer", () => {
  let viewer: LaunchedBrowser;
  let viewerCookie = "";

  beforeAll(async () => {
    viewerCookie = await panel.login(VIEWER.username, VIEWER.password);
    viewer = await launchBrowser({ viewport: { width: 390, height: 844 } });
    await viewer.context.addCookies([{ name: "sy_session", value: viewerCookie.split("=")[1], url: panel.url }]);
  });
  afterAll(async () => {
    await viewer?.close();
  });

  it("reads a replica's logs and is not offered the traffic generator", async () => {
    const page = viewer.page;
    await page.goto(`${panel.url}/services/${webId}`);
    const card = page.locator('[data-testid="replica-card"]').first();
    await card.waitFor();
    expect(await page.locator('input[name="traffic-rps"]').count()).toBe(0);
    expect(await page.getByRole("button", { name: /start traffic/i }).count()).toBe(0);
    await page.getByTestId("traffic-viewer-note").waitFor();
    const replicaId = await card.getAttribute("data-replica-id");
    await card.getByRole("button", { name: `Logs of replica ${replicaId}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    // the replica's first line names it, its pid and its ports
    await until("log lines in the dialog", () => dialog.getByTestId("replica-logs").innerText().catch(() => ""), (t) => t.includes(`replica ${replicaId} (service web`), 15_000);
    await expectNoSidewaysScroll(page, "a viewer's service page at 390 px");
    // what the phone shows (the dialog), not the whole page under it
    await page.screenshot({ path: path.join(screenshotDir(), "phone-viewer-logs.png") });
  });

  it("changes their own password: the current one is required, other sessions end, this one stays", async () => {
    const page = viewer.page;
    const elsewhere = await panel.login(VIEWER.username, VIEWER.password); // another device
    expect((await api("/api/auth/me", { cookie: elsewhere })).status).toBe(200);
    await page.goto(`${panel.url}/settings`);
    const form = page.getByRole("form", { name: "Change your password" });
    await form.locator('input[name="account-current-password"]').fill("wrong password here");
    await form.locator('input[name="account-new-password"]').fill("a brand new password");
    await form.locator('input[name="account-repeat-password"]').fill("a brand new password");
    await form.getByRole("button", { name: "Change password" }).click();
    await form.getByRole("alert").filter({ hasText: "the current password is wrong" }).waitFor();
    expect((await api("/api/auth/me", { cookie: elsewhere })).status).toBe(200);

    await form.locator('input[name="account-current-password"]').fill(VIEWER.password);
    await form.getByRole("button", { name: "Change password" }).click();
    await form.getByRole("status").filter({ hasText: "Password changed" }).waitFor();
    expect(await form.getByRole("status").innerText()).toMatch(/other session.* signed out/);
    expect((await api("/api/auth/me", { cookie: elsewhere })).status).toBe(401);
    // this browser stays signed in
    await page.goto(`${panel.url}/settings`);
    expect(await page.getByTestId("account-name").innerText()).toBe(VIEWER.username);
    await expectNoSidewaysScroll(page, "/settings at 390 px");
    await screenshot(page, "phone-settings-account");
    // the new password signs in, the old one does not
    expect((await panel.request("/api/auth/login", { method: "POST", json: { username: VIEWER.username, password: VIEWER.password } })).status).toBe(401);
    expect((await panel.request("/api/auth/login", { method: "POST", json: { username: VIEWER.username, password: "a brand new password" } })).status).toBe(200);
  });

  it("sees each service's balancer URL on the services list", async () => {
    const page = viewer.page;
    await page.goto(`${panel.url}/services`);
    const url = page.locator('[data-testid="service-card"][data-service="web"] [data-testid="service-balancer-url"] a');
    await url.waitFor();
    const href = await url.getAttribute("href");
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:184\d\d\/$/);
    // it answers: the balancer routes it to a replica
    const res = await fetch(href!);
    expect(res.status).toBe(200);
    await expectNoSidewaysScroll(page, "/services at 390 px");
  });
});

describe("services, rules and revisions", () => {
  it("creates a service with a route from the form, and lists its balancer URL", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services`);
    await page.getByRole("button", { name: "New service" }).click();
    const form = page.getByTestId("service-form");
    await form.locator('input[name="name"]').fill("shop");
    await form.locator('input[name="replicas"]').fill("1");
    await form.locator('input[name="routeHost"]').fill("shop.local");
    await form.locator('input[name="routePathPrefix"]').fill("shop");
    await form.getByRole("button", { name: "Create service" }).click();
    await form.getByText("a path such as /api/v1").first().waitFor(); // the field's own error
    await form.locator('input[name="routePathPrefix"]').fill("/shop");
    await form.locator('input[name="routeStripPrefix"]').check();
    await screenshot(page, "service-form-route");
    await form.getByRole("button", { name: "Create service" }).click();
    await page.waitForURL(/\/services\/[a-z0-9]+$/);
    const shop = (await services()).find((s) => s.name === "shop")!;
    expect(shop.rules.route).toMatchObject({ host: "shop.local", pathPrefix: "/shop", stripPrefix: true });
    await page.goto(`${panel.url}/services`);
    const cell = page.locator('[data-testid="service-card"][data-service="shop"] [data-testid="service-balancer-url"]');
    expect(await cell.locator("a").getAttribute("href")).toMatch(/^http:\/\/shop\.local:184\d\d\/shop$/);
    expect(await cell.innerText()).toMatch(/listener is 127\.0\.0\.1:184\d\d/);
    const del = await api(`/api/services/${shop.id}`, { method: "DELETE" });
    expect(del.status).toBe(200);
  });

  it("a revision's diff tells its rule change from servers added by scaling; a rollback says what it changed", async () => {
    const before = await web();
    const from = before.replicas;
    expect((await api(`/api/services/${webId}`, { method: "PATCH", json: { replicas: from + 1 } })).status).toBe(200);
    await until("one more replica ready", web, (s) => s.instances.filter((r) => r.state === "ready").length === from + 1, 60_000);
    const current = (await api<{ rules: Record<string, unknown>; revision: number }>(`/api/services/${webId}/rules`)).body;
    const applied = await api<{ revision: { number: number } }>(`/api/services/${webId}/rules`, { method: "PUT", json: { baseRevision: current.revision, rules: { ...current.rules, algorithm: "least_conn" } } });
    expect(applied.status).toBe(200);
    const n = applied.body.revision.number;

    const page = browser.page;
    await page.goto(`${panel.url}/balancer`);
    const row = page.getByTestId(`revision-${n}`);
    await row.locator("details summary").click();
    const rulesDiff = await row.getByTestId(`revision-rules-diff-${n}`).innerText();
    expect(rulesDiff).toContain('"algorithm": "least_conn"');
    expect(rulesDiff).not.toMatch(/server|127\.0\.0\.1/);
    const scaling = await row.getByTestId(`revision-scaling-${n}`).innerText();
    expect(scaling).toMatch(/Not from this revision: scaling .*web: \+/);
    await row.getByRole("button", { name: /configuration diff/ }).click();
    await row.getByTestId(`revision-engine-diff-${n}`).waitFor();

    // the Export card's notes about engines this install does not run start collapsed
    for (const d of await page.locator('[data-testid^="export-lost-"]').all()) expect(await d.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);

    // relative times tick: a "… s ago" changes without a reload
    const when = row.getByTestId("relative-time");
    const seen = await when.innerText();
    await until("the relative time to tick", () => when.innerText(), (t) => t !== seen && /s ago|min ago/.test(t), 10_000);

    // roll back through the page: the new revision says what it changed back
    await page.getByTestId(`rollback-${current.revision}`).click();
    await page.getByTestId(`rollback-confirm-button-${current.revision}`).click();
    await page.getByTestId("rollback-message").waitFor();
    const list = (await api<{ revisions: { number: number; summary: string }[] }>("/api/balancer/revisions")).body.revisions;
    expect(list[0].summary).toBe(`rollback to revision ${current.revision}: web: algorithm least_conn → ${current.rules.algorithm as string}`);
    await page.getByTestId(`revision-${list[0].number}`).filter({ hasText: "web: algorithm least_conn →" }).waitFor();
    await screenshot(page, "balancer-revisions");
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.goto(`${panel.url}/balancer`);
      const phoneRow = phone.page.getByTestId(`revision-${n}`);
      await phoneRow.locator("details summary").click();
      await phoneRow.getByRole("button", { name: /configuration diff/ }).click();
      await phoneRow.getByTestId(`revision-engine-diff-${n}`).waitFor();
      await expectNoSidewaysScroll(phone.page, "/balancer with a revision's diffs open at 390 px");
    } finally {
      await phone.close();
    }
    expect((await api(`/api/services/${webId}`, { method: "PATCH", json: { replicas: from } })).status).toBe(200);
    await until("back to the replicas before", web, (s) => s.instances.length === from, 60_000);
  });

  it("keeps the scale slider locked while any card says draining or stopping", async () => {
    const page = browser.page;
    const start = (await web()).replicas;
    expect((await api(`/api/services/${webId}`, { method: "PATCH", json: { replicas: start + 2 } })).status).toBe(200);
    await until("two more replicas ready", web, (s) => s.instances.length === start + 2 && s.instances.every((r) => r.state === "ready"), 60_000);
    await page.goto(`${panel.url}/services/${webId}`);
    await page.bringToFront(); // a background page's timers run once a second: sample at full rate
    await page.getByTestId("scale-control").waitFor();
    // sample the page every 50 ms in the browser itself, from before the scale-in until it is over
    await page.evaluate(() => {
      const w = window as unknown as { lockSamples: { leaving: number; locked: string | null }[] };
      w.lockSamples = [];
      setInterval(() => {
        const leaving = document.querySelectorAll('[data-testid="replica-card"][data-state="draining"], [data-testid="replica-card"][data-state="stopping"]').length;
        w.lockSamples.push({ leaving, locked: document.querySelector('[data-testid="scale-control"]')?.getAttribute("data-locked") ?? null });
      }, 50);
    });
    expect((await api(`/api/services/${webId}`, { method: "PATCH", json: { replicas: start } })).status).toBe(200);
    await until("the scale-in over", web, (s) => s.instances.length === start, 60_000);
    await until("the page to show it", () => page.locator('[data-testid="replica-card"]').count(), (c) => c === start, 10_000);
    const samples = await page.evaluate(() => (window as unknown as { lockSamples: { leaving: number; locked: string | null }[] }).lockSamples);
    const leavingSeen = samples.filter((s) => s.leaving > 0);
    console.log(`[audit-e2e] slider: ${samples.length} samples, ${leavingSeen.length} with a card draining or stopping`);
    expect(leavingSeen.length).toBeGreaterThan(0);
    expect(leavingSeen.filter((s) => s.locked !== "true")).toEqual([]);
    await until("the slider unlocked once it is over", () => page.getByTestId("scale-control").getAttribute("data-locked"), (l) => l === "false", 10_000);
  });
});
