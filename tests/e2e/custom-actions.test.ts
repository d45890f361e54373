/**
 * Issue 14, items 1 and 4, in Chromium against the real panel (builtin engine): a user's
 * own app (tests/fixtures/user-app, plain node http, no replica protocol) is created
 * through the New service form with its command, health path /api/health, expected
 * status 200, an environment variable and two actions of its own (Stress, Clear with
 * confirm). On the service page, the first replica card's "Stress on replica <id>" sends
 * POST /api/stress to that instance's own port and the card shows the status and body it
 * answered; the instance leaves rotation; "Clear on replica <id>" asks first, then goes
 * to the isolated instance directly and it returns. At 390 px the buttons and the answer
 * fit without sideways scrolling. The demo service runs beside it (it holds / on any host,
 * so todo, created with health settings but no route, is routed by todo.local).
 *
 * Panels 3360-3369, listeners 18453-18458, replicas 28550-28589.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { type Panel } from "@/tests/helpers/panel";
import { startPanelWithBrowser } from "@/tests/helpers/panel-browser";
import { hasChromium, launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { needs } from "@/tests/helpers/requirements";
import { readableCopy } from "@/tests/helpers/readable-copy";

const ADMIN = { username: "ursula", password: "user app actions pw" };
const APP = path.resolve(__dirname, "../fixtures/user-app/server.mjs");
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);

type ServiceRow = { id: string; name: string; actions: { name: string }[]; rules: { healthCheck: { path: string; expectStatus: number }; routes: { hosts: string[] }[] }; instances: { id: string; state: string; inEngine: boolean; dataAddr: string | null }[] };

describe.skipIf(needs("chromium", hasChromium() ? null : "no /usr/bin/chromium (apt-get install chromium)"))("the app's own actions on the replica cards", () => {
  let panel: Panel;
  let cookie: string;
  let browser: LaunchedBrowser;
  let svc: ServiceRow;

  const services = async () => ((await (await panel.request("/api/services", { cookie })).json()) as { services: ServiceRow[] }).services;
  const rotation = (page: LaunchedBrowser["page"]) => page.$$eval('[data-testid="replica-card"]', (els) => els.map((e) => (e as HTMLElement).dataset.inRotation));

  beforeAll(async () => {
    ({ panel, cookie, browser } = await startPanelWithBrowser({ admin: ADMIN, panelPorts: [3360, 3369], balancerPorts: [18453, 18458], portRange: "28550-28589" }));
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  it("a user's app created in the form: Stress on one card shows its answer and isolates it, Clear (confirmed) brings it back", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services`);
    await page.getByRole("button", { name: "New service" }).click();
    const form = page.getByTestId("service-form");
    await form.locator('input[name="name"]').fill("todo");
    // the replica user must be able to read it, wherever the clone is
    await form.locator('input[name="command"]').fill(`${process.execPath} ${await readableCopy(APP)}`);
    await form.locator('input[name="replicas"]').fill("2");
    await form.locator('textarea[name="env"]').fill("TODO_GREETING=hello");
    await form.getByLabel("Health path").fill("/api/health");
    await form.getByLabel("Expected status").fill("200");
    await form.getByRole("button", { name: "Add action" }).click();
    await form.getByLabel("action 1 name").fill("Stress");
    await form.getByLabel("action 1 path").fill("/api/stress");
    await form.getByRole("button", { name: "Add action" }).click();
    await form.getByLabel("action 2 name").fill("Clear");
    // a hostile path is refused on its row before anything is sent
    await form.getByLabel("action 2 path").fill("//evil.example/x");
    await form.getByRole("button", { name: "Create service" }).click();
    await form.getByText(/^action 2 \(path\): /).waitFor();
    await form.getByLabel("action 2 path").fill("/api/stress/clear");
    await form.getByLabel("action 2 asks to confirm").check();
    await form.getByRole("button", { name: "Create service" }).click();
    await page.waitForURL(/\/services\/[a-z0-9]+/, { timeout: 30_000 });

    svc = (await until("the service todo with 2 replicas in rotation", async () => (await services()).find((s) => s.name === "todo") ?? null, (s) => s !== null && s.instances.filter((r) => r.state === "ready" && r.inEngine).length === 2, 90_000))!;
    expect(svc.actions.map((a) => a.name)).toEqual(["Stress", "Clear"]);
    expect(svc.rules.healthCheck).toMatchObject({ path: "/api/health", expectStatus: 200 });
    // the demo service holds / on any host: the health settings did not cost todo the default route's fallback
    expect(svc.rules.routes[0].hosts).toEqual(["todo.local"]);
    await until("both cards in rotation", () => rotation(page), (v) => v.length === 2 && v.every((x) => x === "true"));

    const first = svc.instances[0];
    const card = page.getByTestId("replica-card").filter({ hasText: first.id });
    await card.getByRole("button", { name: `Stress on replica ${first.id}` }).click();
    const answer = card.getByTestId("custom-action-result");
    await answer.getByText(/^Stress: POST \/api\/stress answered HTTP 200 in \d+ ms$/).waitFor();
    expect(await answer.locator("pre").textContent()).toContain('"stressed":true');
    // its own /api/health says 503: the balancer takes it out
    await until("the stressed card out of rotation", () => card.evaluate((e) => (e as HTMLElement).dataset.inRotation), (x) => x === "false");
    await card.screenshot({ path: path.join(screenshotDir(), "custom-actions-card.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await card.screenshot({ path: path.join(screenshotDir(), "custom-actions-card-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });

    await card.getByRole("button", { name: `Clear on replica ${first.id}`, exact: true }).click();
    const dialog = card.getByRole("alertdialog", { name: `confirm: Clear on replica ${first.id}` });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: `Clear on replica ${first.id} now` }).click();
    await answer.getByText(/^Clear: POST \/api\/stress\/clear answered HTTP 200/).waitFor();
    expect(await answer.locator("pre").textContent()).toContain('"stressed":false');
    await until("the cleared card back in rotation", () => card.evaluate((e) => (e as HTMLElement).dataset.inRotation), (x) => x === "true");

    // the event log has both presses
    const events = (await (await panel.request(`/api/events?service=${svc.id}`, { cookie })).json()) as { events: { message: string }[] };
    const said = events.events.map((e) => e.message).join("\n");
    expect(said).toContain(`action "Stress" on replica ${first.id}`);
    expect(said).toContain(`action "Clear" on replica ${first.id}`);
  }, 180_000);

  it("at 390 px the app's buttons and the answer fit without sideways scrolling", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.goto(`${panel.url}/services/${svc.id}`);
      const second = svc.instances[1];
      const card = phone.page.getByTestId("replica-card").filter({ hasText: second.id });
      await card.getByRole("button", { name: `Stress on replica ${second.id}` }).click();
      await card.getByTestId("custom-action-result").getByText(/answered HTTP 200/).waitFor();
      const fits = await card.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const pre = el.querySelector('[data-testid="custom-action-result"] pre')!.getBoundingClientRect();
        return { inside: pre.left >= box.left && pre.right <= box.right + 0.5, scrollWidth: document.documentElement.scrollWidth };
      });
      expect(fits.inside).toBe(true);
      expect(fits.scrollWidth).toBeLessThanOrEqual(390);
      await card.screenshot({ path: path.join(screenshotDir(), "custom-actions-phone.png") });
      await card.getByRole("button", { name: `Clear on replica ${second.id}`, exact: true }).click();
      await card.getByRole("button", { name: `Clear on replica ${second.id} now` }).click();
      await card.getByTestId("custom-action-result").getByText(/^Clear: .* HTTP 200/).waitFor();

      // the form's actions list fits a phone too
      await phone.page.goto(`${panel.url}/services`);
      await phone.page.getByRole("button", { name: "New service" }).click();
      const form = phone.page.getByTestId("service-form");
      await form.getByRole("button", { name: "Add action" }).click();
      await form.getByLabel("action 1 path").fill("/api/stress");
      const width = await phone.page.evaluate(() => document.documentElement.scrollWidth);
      expect(width).toBeLessThanOrEqual(390);
      await form.getByTestId("service-form-actions").screenshot({ path: path.join(screenshotDir(), "custom-actions-form-phone.png") });
    } finally {
      await phone.close();
    }
  }, 120_000);
});
