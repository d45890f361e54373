/**
 * Issue 12, item 9, in Chromium against the real panel: a service created through the
 * New service form with a memory threshold of 65 % runs replicas whose /health judges
 * against 65 %, and each replica card's memory bar marks the threshold with its value
 * and says whether the runtime holds the replica to its limit (on a root panel with a
 * memory controller, as here: enforced; else "limit not enforced by the process runtime").
 * A bad threshold is refused on its field before anything is sent. At 390 px the bar's
 * label stays inside the card.
 *
 * Panels 3330-3339, listeners 18405-18409, replicas 27450-27499.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { type Panel } from "@/tests/helpers/panel";
import { startPanelWithBrowser } from "@/tests/helpers/panel-browser";
import { hasChromium, launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { needs } from "@/tests/helpers/requirements";

const ADMIN = { username: "mona", password: "memory threshold pw" };
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);

/** A root panel on a machine with a memory controller holds process replicas to their limit (lib/runtime/memory-cgroup.ts). */
function machineEnforces(): boolean {
  let v2 = false;
  try {
    v2 = readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("memory");
  } catch {
    /* no v2 root here */
  }
  return process.getuid?.() === 0 && (existsSync("/sys/fs/cgroup/memory/cgroup.procs") || v2);
}

type ServiceRow = { id: string; name: string; memoryThresholdPercent: number; instances: { id: string; state: string; dataAddr: string | null }[] };

describe.skipIf(needs("chromium", hasChromium() ? null : "no /usr/bin/chromium (apt-get install chromium)"))("the memory threshold on the service form and the memory bar", () => {
  let panel: Panel;
  let cookie: string;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    ({ panel, cookie, browser } = await startPanelWithBrowser({ admin: ADMIN, panelPorts: [3330, 3339], balancerPorts: [18405, 18409], portRange: "27450-27499" }));
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await panel?.stop();
  });

  it("a service created with 65 % shows it on every memory bar, and its replicas' /health judges against it", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/services`);
    await page.getByRole("button", { name: "New service" }).click();
    const form = page.getByTestId("service-form");
    await form.locator('input[name="name"]').fill("lean");
    await form.locator('input[name="replicas"]').fill("2");
    // refused on its own field, with the schema's words, before anything is sent
    await form.getByLabel("Memory threshold (%)").fill("100");
    await form.getByRole("button", { name: "Create service" }).click();
    await form.getByText("at most 99 %").waitFor();
    await form.getByLabel("Memory threshold (%)").fill("65");
    await form.getByRole("button", { name: "Create service" }).click();
    await page.waitForURL(/\/services\/[a-z0-9]+/, { timeout: 30_000 });

    const svc = await until(
      "the service lean with 2 ready replicas",
      async () => {
        const { services } = (await (await panel.request("/api/services", { cookie })).json()) as { services: ServiceRow[] };
        return services.find((s) => s.name === "lean") ?? null;
      },
      (s) => s !== null && s.instances.filter((r) => r.state === "ready").length === 2,
      90_000,
    );
    expect(svc!.memoryThresholdPercent).toBe(65);

    // the replica got it through its environment
    for (const r of svc!.instances) {
      const res = await fetch(`http://${r.dataAddr}/health`);
      expect(((await res.json()) as { thresholdPercent: number }).thresholdPercent).toBe(65);
    }

    const bars = page.getByTestId("memory-bar");
    await until("two memory bars with live figures and the enforcement note", async () => page.$$eval('[data-testid="memory-bar"]', (els) => els.map((e) => (e as HTMLElement).dataset.limitEnforced ?? "")), (v) => v.length === 2 && v.every((x) => x !== ""));
    const enforced = machineEnforces();
    for (const bar of await bars.all()) {
      expect(await bar.getAttribute("data-threshold-percent")).toBe("65");
      const marker = bar.getByTestId("memory-threshold-marker");
      expect(await marker.evaluate((el) => (el as HTMLElement).style.left)).toBe("65%");
      expect(await marker.getAttribute("title")).toContain("65% of the limit");
      expect((await bar.getByTestId("memory-threshold-label").textContent())?.trim()).toMatch(/^health threshold 65% \(166 MB\)$/);
      expect(await bar.getAttribute("data-limit-enforced")).toBe(String(enforced));
      expect((await bar.getByTestId("memory-enforcement").textContent())?.trim()).toBe(enforced ? "limit enforced by the process runtime" : "limit not enforced by the process runtime");
    }
    // the threshold marker sits at 65 % of the bar's width
    const geometry = await bars.first().evaluate((bar) => {
      const meter = bar.querySelector('[role="meter"]')!.getBoundingClientRect();
      const marker = bar.querySelector('[data-testid="memory-threshold-marker"]')!.getBoundingClientRect();
      return { at: (marker.left + marker.width / 2 - meter.left) / meter.width };
    });
    expect(geometry.at).toBeGreaterThan(0.63);
    expect(geometry.at).toBeLessThan(0.67);
    await until("both cards in rotation (for the picture)", () => page.$$eval('[data-testid="replica-card"]', (els) => els.map((e) => (e as HTMLElement).dataset.inRotation)), (v) => v.length === 2 && v.every((x) => x === "true"));
    const card = page.getByTestId("replica-card").first();
    await card.screenshot({ path: path.join(screenshotDir(), "memory-threshold-card.png") });
    await page.emulateMedia({ colorScheme: "dark" });
    await card.screenshot({ path: path.join(screenshotDir(), "memory-threshold-card-dark.png") });
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("at 390 px the threshold label stays inside its card", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      const { services } = (await (await panel.request("/api/services", { cookie })).json()) as { services: ServiceRow[] };
      await phone.page.goto(`${panel.url}/services/${services.find((s) => s.name === "lean")!.id}`);
      const card = phone.page.getByTestId("replica-card").first();
      await card.getByTestId("memory-threshold-label").waitFor();
      const fits = await card.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const label = el.querySelector('[data-testid="memory-threshold-label"]')!.getBoundingClientRect();
        return { inside: label.left >= box.left && label.right <= box.right, scrollWidth: document.documentElement.scrollWidth };
      });
      expect(fits.inside).toBe(true);
      expect(fits.scrollWidth).toBeLessThanOrEqual(390);
      await card.screenshot({ path: path.join(screenshotDir(), "memory-threshold-phone.png") });
    } finally {
      await phone.close();
    }
  });
});
