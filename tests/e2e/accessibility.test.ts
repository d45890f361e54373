/**
 * Accessibility (issue 12, item 13), in Chromium against the real panel with the demo
 * service "web" (3 process replicas, HAProxy where installed, else the builtin proxy):
 *
 * - contrast: every visible text (text nodes, SVG text, the values of form fields) on
 *   the services list, a service's Live tab (under traffic, More actions open), its
 *   Rules tab (with a preview), Balancer, Events and Settings, in the light and in the
 *   dark theme, against its effective background (the background colours and opacities
 *   of its ancestors, composited), keeps WCAG's 4.5:1, or 3:1 for large text (24 px, or
 *   18.66 px bold) and for a lone shape such as the ● marker (a graphic, 1.4.11). Text of
 *   disabled controls is exempt (WCAG 1.4.3: inactive parts of the interface); each page
 *   prints its lowest ratio and every text below;
 * - a skip link ("Skip to content") is the first thing Tab reaches, shows when focused
 *   and moves focus to the main content;
 * - tabs (wherever the UI has a tablist): one tab stop, arrow keys, Home and End move
 *   between tabs and select them, each tab controls a tabpanel labelled by it;
 * - every button of a replica card names its replica ("Restart replica web-3"), and no
 *   two buttons on the page share a name.
 *
 * And two things of the replica cards (issue 12, item 12): opening More actions on one
 * card does not stretch its siblings; after Restart, the card's message turns into
 * "back in rotation" once the replica is healthy again.
 *
 * Panels 3310-3319, replicas 27000-27199, listener 18391.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import type { Page } from "playwright-core";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until as untilShared } from "@/tests/helpers/load";
import { demoServiceReady } from "@/tests/helpers/demo-service";

const ADMIN = { username: "ada", password: "accessibility e2e pw" };
const until = <T>(what: string, read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 60_000) => untilShared(what, read, check, timeoutMs, 250);

type Finding = { text: string; ratio: number; need: number; fg: string; bg: string; where: string; px: number; weight: number };
type Audit = { checked: number; min: number; failures: Finding[]; unknown: string[] };

/**
 * Runs in the page: the contrast of every visible text against its effective
 * background. Colours go through a 1x1 canvas, so any CSS colour syntax (Tailwind 4
 * writes oklch and color-mix) comes back as sRGB. The background is composited from
 * the root down: each ancestor's background colour, then its group opacity
 * (premultiplied alpha, so nested translucent layers and opacity-70 cards count).
 * Overlap by non-ancestors (a sticky bar over content) is not considered: each text is
 * judged against its own ancestors, as axe does.
 */
function contrastAudit(): Audit {
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = 1;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  const memo = new Map<string, [number, number, number, number]>();
  /** [r, g, b, a], r/g/b 0-255 not premultiplied, a 0-1 */
  const rgba = (css: string): [number, number, number, number] => {
    const hit = memo.get(css);
    if (hit) return hit;
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = "rgba(0,0,0,0)";
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    const v: [number, number, number, number] = [d[0], d[1], d[2], d[3] / 255];
    memo.set(css, v);
    return v;
  };
  type P = [number, number, number, number]; // premultiplied, 0-1
  const pre = ([r, g, b, a]: [number, number, number, number]): P => [(r / 255) * a, (g / 255) * a, (b / 255) * a, a];
  const over = (top: P, under: P): P => [top[0] + under[0] * (1 - top[3]), top[1] + under[1] * (1 - top[3]), top[2] + under[2] * (1 - top[3]), top[3] + under[3] * (1 - top[3])];
  const scale = (c: P, k: number): P => [c[0] * k, c[1] * k, c[2] * k, c[3] * k];
  const lin = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const lum = (c: P) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const hex = (c: P) => "#" + c.slice(0, 3).map((v) => Math.round(v * 255).toString(16).padStart(2, "0")).join("");
  const dark = matchMedia("(prefers-color-scheme: dark)").matches;
  const canvasColour: P = dark ? [18 / 255, 18 / 255, 18 / 255, 1] : [1, 1, 1, 1];

  const unknown = new Set<string>();
  const where = (el: Element) => {
    const tagged = el.closest("[data-testid]");
    const id = tagged ? `[data-testid=${tagged.getAttribute("data-testid")}] ` : "";
    return `${id}${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).slice(0, 4).join(".") : ""}`;
  };

  /** The pixel under `el` with and without its text colour on top: [text, background], opaque. */
  const pixels = (el: Element, fg: string): [P, P] | null => {
    const chain: Element[] = [];
    for (let e: Element | null = el; e; e = e.parentElement) chain.unshift(e);
    const layer = (i: number, withText: boolean): P => {
      const s = getComputedStyle(chain[i]);
      if (s.backgroundImage !== "none" && !s.backgroundImage.startsWith("url(")) unknown.add(`${where(chain[i])}: background-image ${s.backgroundImage.slice(0, 60)}`);
      let c = pre(rgba(s.backgroundColor));
      const inner: P = i === chain.length - 1 ? (withText ? pre(rgba(fg)) : [0, 0, 0, 0]) : layer(i + 1, withText);
      c = over(inner, c);
      return scale(c, Number(s.opacity));
    };
    const text = over(layer(0, true), canvasColour);
    const bg = over(layer(0, false), canvasColour);
    return [text, bg];
  };

  const hidden = (el: Element) => {
    for (let e: Element | null = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.visibility === "hidden" || s.display === "none") return true;
      if (s.clipPath !== "none" && s.clipPath.startsWith("inset(50%")) return true; // sr-only
      if (s.clip !== "auto" && s.clip.startsWith("rect(0")) return true;
      if (Number(s.opacity) === 0) return true;
    }
    return false;
  };
  const exempt = (el: Element) => el.closest(':disabled, [aria-disabled="true"], label:has(input:disabled), label:has(select:disabled)') !== null;

  const findings: Finding[] = [];
  let checked = 0;
  let min = Infinity;
  const judge = (el: Element, text: string, fg: string) => {
    if (hidden(el) || exempt(el)) return;
    const px = pixels(el, fg);
    if (!px) return;
    const s = getComputedStyle(el);
    const size = parseFloat(s.fontSize);
    const weight = Number(s.fontWeight) || 400;
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    // a lone shape (● ■ ▲) is a graphic, not words: 3:1 (WCAG 1.4.11, non-text contrast)
    const shape = /^[\u25A0-\u25FF]+$/.test(text);
    const need = large || shape ? 3 : 4.5;
    const [a, b] = [lum(px[0]), lum(px[1])];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    checked++;
    min = Math.min(min, ratio);
    // 0.02 of slack for the canvas's 8-bit rounding of translucent colours
    if (ratio + 0.02 < need) findings.push({ text: text.slice(0, 60), ratio: Math.round(ratio * 100) / 100, need, fg: hex(px[0]), bg: hex(px[1]), where: where(el), px: size, weight });
  };

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent?.trim() ?? "";
    const el = n.parentElement;
    if (!text || !el || el.closest("script, style, noscript, template, option, title")) continue;
    range.selectNodeContents(n);
    if (![...range.getClientRects()].some((r) => r.width >= 2 && r.height >= 2)) continue;
    const inSvg = el.closest("svg") !== null;
    const fg = inSvg ? getComputedStyle(el).fill : getComputedStyle(el).color;
    if (inSvg && !/^(rgb|oklch|oklab|lab|lch|color|#|hsl)/.test(fg)) {
      unknown.add(`${where(el)}: svg fill ${fg}`);
      continue;
    }
    judge(el, text, fg);
  }
  // what form fields show is a value, not a text node
  for (const f of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input, select, textarea")) {
    if (f instanceof HTMLInputElement && ["checkbox", "radio", "range", "hidden", "color", "file", "submit", "button"].includes(f.type)) continue;
    const value = f instanceof HTMLSelectElement ? (f.selectedOptions[0]?.text ?? "") : f.value;
    const r = f.getBoundingClientRect();
    if (!value.trim() || r.width < 2 || r.height < 2) continue;
    judge(f, value, getComputedStyle(f).color);
  }
  // one finding per distinct text, colour pair and place
  const seen = new Set<string>();
  const failures = findings.filter((f) => {
    const k = `${f.text}|${f.fg}|${f.bg}|${f.where}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { checked, min: Math.round(min * 100) / 100, failures, unknown: [...unknown] };
}

let panel: Panel;
let browser: LaunchedBrowser;
let cookie: string;
let serviceId: string;

type ReplicaJson = { id: string; state: string; startedAt: string | null };
async function replicas(): Promise<ReplicaJson[]> {
  const res = await panel.request(`/api/services/${serviceId}`, { cookie });
  const body = (await res.json()) as { service: { instances: ReplicaJson[] } };
  return body.service.instances;
}

const cards = (page: Page) => page.locator('[data-testid="replica-card"]');

async function openService(page: Page) {
  await page.goto(`${panel.url}/services/${serviceId}`);
  await page.getByTestId("service-dashboard").waitFor();
}

beforeAll(async () => {
  panel = await startPanel({
    port: await findFreePort(3310, 3319),
    startTimeoutMs: 170_000,
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(await findFreePort(18391, 18399)), PORT_RANGE: "27000-27199" },
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
  serviceId = await demoServiceReady(panel, cookie);
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

describe("contrast of every visible text, both themes", () => {
  /** The pages and states the audit looks at; each returns once its content is there. */
  const views: { name: string; open: (page: Page) => Promise<void> }[] = [
    {
      name: "services",
      open: async (page) => {
        await page.goto(`${panel.url}/services`);
        await page.getByRole("heading", { name: "Services" }).first().waitFor();
      },
    },
    {
      name: "service live (traffic, More actions open)",
      open: async (page) => {
        await openService(page);
        await until("3 cards in rotation", () => page.locator('[data-testid="replica-card"][data-in-rotation="true"]').count(), (n) => n === 3);
        await cards(page).first().getByRole("button", { name: /^More actions for replica / }).click();
        // the share bar has segments only while traffic flows
        await until("traffic through the balancer", () => page.getByTestId("kpi-rps").innerText(), (t) => Number(t) > 0, 30_000);
      },
    },
    {
      name: "service rules (with a preview)",
      open: async (page) => {
        await openService(page);
        await page.getByRole("tab", { name: "Rules" }).click();
        await page.getByTestId("rules-base-revision").waitFor();
        await page.locator('input[name="algorithm"][value="least_conn"]').check();
        await page.getByTestId("rules-preview").click();
        await page.getByTestId("rules-preview-result").waitFor();
      },
    },
    {
      name: "balancer",
      open: async (page) => {
        await page.goto(`${panel.url}/balancer`);
        await page.getByTestId("live-config").waitFor();
      },
    },
    {
      name: "events",
      open: async (page) => {
        await page.goto(`${panel.url}/events`);
        await page.getByRole("heading", { name: "Events" }).first().waitFor();
      },
    },
    {
      name: "settings",
      open: async (page) => {
        await page.goto(`${panel.url}/settings`);
        await page.getByRole("heading", { name: "Settings" }).first().waitFor();
      },
    },
  ];

  beforeAll(async () => {
    // traffic for the share bar and the charts: bounded, stops by itself
    const res = await panel.request(`/api/services/${serviceId}/traffic`, { method: "POST", cookie, json: { rps: 20, concurrency: 4, clients: 3, durationS: 240 } });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  });

  for (const theme of ["light", "dark"] as const) {
    it(`${theme}: every text keeps 4.5:1 (3:1 when large) against its background`, async () => {
      const { page } = browser;
      await page.emulateMedia({ colorScheme: theme, reducedMotion: "reduce" });
      const failures: (Finding & { view: string })[] = [];
      const unknown: string[] = [];
      for (const v of views) {
        await v.open(page);
        // colours at rest: no transition half-way, no pulse at half opacity
        await page.addStyleTag({ content: "*, *::before, *::after { transition: none !important; animation: none !important; }" });
        const audit = await page.evaluate(contrastAudit);
        if (theme === "dark" && v.name.startsWith("service live")) await page.screenshot({ path: path.join(screenshotDir(), "a11y-dark-service.png"), fullPage: true });
        console.log(`[a11y/${theme}] ${v.name}: ${audit.checked} texts, lowest ${audit.min}:1, ${audit.failures.length} below${audit.failures.map((f) => `\n  ${f.ratio}:1 < ${f.need} | ${f.fg} on ${f.bg} | ${f.px}px/${f.weight} | "${f.text}" | ${f.where}`).join("")}`);
        expect(audit.checked, `${v.name}: texts found`).toBeGreaterThan(20);
        failures.push(...audit.failures.map((f) => ({ ...f, view: v.name })));
        unknown.push(...audit.unknown.map((u) => `${v.name}: ${u}`));
      }
      if (unknown.length) console.log(`[a11y/${theme}] backgrounds not judged:\n${unknown.join("\n")}`);
      expect(failures.map((f) => `${f.view}: "${f.text}" ${f.ratio}:1 (${f.fg} on ${f.bg})`)).toEqual([]);
    }, 180_000);
  }
});

describe("keyboard and names", () => {
  it("a skip link is the first thing Tab reaches; it shows, and moves focus to the content", async () => {
    const { page } = browser;
    for (const where of ["/services", "/balancer", `/services/${serviceId}`]) {
      await page.goto(`${panel.url}${where}`);
      await page.locator("main#content").waitFor();
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        const r = a?.getBoundingClientRect();
        return { text: a?.textContent ?? "", href: a?.getAttribute("href") ?? "", width: r?.width ?? 0, height: r?.height ?? 0, top: r?.top ?? -1 };
      });
      expect(focused.text, where).toBe("Skip to content");
      expect(focused.href).toBe("#content");
      // visible while focused: a real box inside the window, not the 1 px of sr-only
      expect(focused.width).toBeGreaterThan(40);
      expect(focused.height).toBeGreaterThan(15);
      expect(focused.top).toBeGreaterThanOrEqual(0);
      if (where === "/balancer") await page.screenshot({ path: path.join(screenshotDir(), "a11y-skip-link.png"), clip: { x: 0, y: 0, width: 640, height: 120 } });
      await page.keyboard.press("Enter");
      await until("focus on <main>", () => page.evaluate(() => document.activeElement?.id ?? ""), (id) => id === "content", 5000);
      // the next Tab goes into the page's content, past the header's links
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.closest("header") === null && document.activeElement?.closest("main") !== null)).toBe(true);
    }
  });

  it("tabs: one tab stop, arrow keys, Home and End move between tabs and select them", async () => {
    const { page } = browser;
    await openService(page);
    const lists = page.getByRole("tablist");
    expect(await lists.count()).toBeGreaterThan(0);
    const state = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('[role="tablist"] [role="tab"]')].map((t) => ({
          name: t.textContent ?? "",
          selected: t.getAttribute("aria-selected") === "true",
          tabIndex: (t as HTMLElement).tabIndex,
          focused: document.activeElement === t,
          panelOk: (() => {
            const panel = document.getElementById(t.getAttribute("aria-controls") ?? "");
            // the selected tab's panel is on the page, labelled by its tab
            return t.getAttribute("aria-selected") !== "true" || (panel?.getAttribute("role") === "tabpanel" && panel.getAttribute("aria-labelledby") === t.id);
          })(),
        })),
      );
    const tabs = page.getByRole("tab");
    const names = (await state()).map((t) => t.name);
    expect(names).toEqual(["Live", "Rules"]);
    let s = await state();
    expect(s.filter((t) => t.tabIndex === 0).map((t) => t.name)).toEqual(["Live"]);
    expect(s.every((t) => t.panelOk)).toBe(true);

    await tabs.first().focus();
    await page.keyboard.press("ArrowRight");
    s = await state();
    expect(s.find((t) => t.selected)?.name).toBe("Rules");
    expect(s.find((t) => t.focused)?.name).toBe("Rules");
    expect(s.filter((t) => t.tabIndex === 0).map((t) => t.name)).toEqual(["Rules"]);
    expect(s.every((t) => t.panelOk)).toBe(true);
    await page.getByTestId("rules-editor").waitFor();

    await page.keyboard.press("ArrowRight"); // wraps
    expect((await state()).find((t) => t.selected && t.focused)?.name).toBe("Live");
    await page.keyboard.press("ArrowLeft"); // wraps back
    expect((await state()).find((t) => t.selected && t.focused)?.name).toBe("Rules");
    await page.keyboard.press("Home");
    expect((await state()).find((t) => t.selected && t.focused)?.name).toBe("Live");
    await page.keyboard.press("End");
    expect((await state()).find((t) => t.selected && t.focused)?.name).toBe("Rules");
    // Tab leaves the tablist (one tab stop) for the selected panel
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => ({ role: document.activeElement?.getAttribute("role"), by: document.activeElement?.getAttribute("aria-labelledby") }))).toEqual({ role: "tabpanel", by: "service-tab-rules" });
  });

  it("every button of a replica card names its replica, and no two buttons share a name", async () => {
    const { page } = browser;
    await openService(page);
    await until("3 cards", () => cards(page).count(), (n) => n === 3);
    for (const card of await cards(page).all()) await card.getByRole("button", { name: /^More actions for replica / }).click();
    const perCard = await page.$$eval('[data-testid="replica-card"]', (els) =>
      els.map((el) => ({
        id: (el as HTMLElement).dataset.replicaId ?? "",
        // the accessible name: aria-label when there is one, else the text
        controls: [...el.querySelectorAll("button, input, select")].map((b) => b.getAttribute("aria-label") ?? (b.textContent ?? "").trim()),
      })),
    );
    expect(perCard).toHaveLength(3);
    const all: string[] = [];
    for (const c of perCard) {
      expect(c.controls.length, c.id).toBeGreaterThanOrEqual(10);
      for (const name of c.controls) expect(name, `a control of ${c.id}`).toContain(`replica ${c.id}`);
      all.push(...c.controls);
    }
    expect(new Set(all).size, "names unique across the cards").toBe(all.length);
    // what a screen reader user asks for finds exactly one button
    for (const c of perCard) {
      for (const verb of ["Clear", "Restart", "Remove", "Stress memory of"]) expect(await page.getByRole("button", { name: `${verb} replica ${c.id}`, exact: true }).count()).toBe(1);
    }
  });
});

describe("replica cards (issue 12, item 12)", () => {
  it("More actions on one card does not stretch the cards beside it", async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1280, height: 900 }); // three cards a row (xl)
    await openService(page);
    await until("3 cards", () => cards(page).count(), (n) => n === 3);
    const boxes = async () => Promise.all((await cards(page).all()).map(async (c) => (await c.boundingBox())!));
    const before = await boxes();
    expect(new Set(before.map((b) => Math.round(b.y))).size, "the three cards share a row").toBe(1);
    await cards(page).first().getByRole("button", { name: /^More actions for replica / }).click();
    await cards(page).first().getByRole("button", { name: /^Restart replica / }).waitFor();
    const after = await boxes();
    console.log(`[a11y/cards] heights before ${before.map((b) => Math.round(b.height))}, after opening the first card's actions ${after.map((b) => Math.round(b.height))}`);
    expect(after[0].height).toBeGreaterThan(before[0].height + 100);
    expect(Math.abs(after[1].height - before[1].height)).toBeLessThanOrEqual(1);
    expect(Math.abs(after[2].height - before[2].height)).toBeLessThanOrEqual(1);
  });

  it("after Restart the card says 'back in rotation' once the replica is healthy again", async () => {
    const { page } = browser;
    await openService(page);
    await until("3 cards in rotation", () => page.locator('[data-testid="replica-card"][data-in-rotation="true"]').count(), (n) => n === 3);
    const card = cards(page).nth(1);
    const id = (await card.getAttribute("data-replica-id"))!;
    const startedBefore = (await replicas()).find((r) => r.id === id)!.startedAt;
    await card.getByRole("button", { name: `More actions for replica ${id}`, exact: true }).click();
    await card.getByRole("button", { name: `Restart replica ${id}`, exact: true }).click();
    await card.getByRole("alertdialog").getByRole("button", { name: `Restart replica ${id} now`, exact: true }).click();
    const result = card.getByTestId("action-result");
    const seen: string[] = [];
    const text = await until(
      "the restart's line to say the replica is back",
      async () => {
        const t = (await result.textContent().catch(() => null)) ?? "";
        if (seen[seen.length - 1] !== t) seen.push(t);
        return t;
      },
      (t) => t.includes("back in rotation"),
      90_000,
    );
    console.log(`[a11y/restart] the card said, in turn: ${JSON.stringify(seen)}`);
    expect(text).toBe("restarted: back in rotation");
    // the card where it lies on the page, without the sticky header over it
    await page.evaluate(() => window.scrollTo(0, 0));
    const box = (await card.boundingBox())!;
    await page.screenshot({ path: path.join(screenshotDir(), "a11y-restart-back-in-rotation.png"), fullPage: true, clip: { x: box.x, y: box.y, width: box.width, height: box.height } });
    expect(seen.some((t) => t.startsWith("restarting"))).toBe(true);
    // and it is true: a new process, in rotation
    expect(await card.getAttribute("data-state")).toBe("in-rotation");
    const now = (await replicas()).find((r) => r.id === id)!;
    expect(now.state).toBe("ready");
    expect(now.startedAt).not.toBe(startedBefore);
  });
});
