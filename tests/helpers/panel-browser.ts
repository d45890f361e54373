import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import path from "node:path";
import type { Page } from "playwright-core";
import { launchBrowser, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";

/**
 * A fresh panel on the builtin engine, signed in as `admin`, and a desktop Chromium
 * carrying that session: what an e2e suite about one form or card starts with.
 * Ports: the panel in `panelPorts`, the balancer in `balancerPorts`, replicas in `portRange`.
 */
export async function startPanelWithBrowser(opts: {
  admin: { username: string; password: string };
  panelPorts: [number, number];
  balancerPorts: [number, number];
  portRange: string;
  /** more environment for the panel (e.g. KUBERNETES_API) */
  env?: Record<string, string>;
}): Promise<{ panel: Panel; cookie: string; browser: LaunchedBrowser }> {
  const panel = await startPanel({
    port: await findFreePort(...opts.panelPorts),
    startTimeoutMs: 170_000,
    env: {
      ADMIN_USER: opts.admin.username,
      ADMIN_PASSWORD: opts.admin.password,
      BALANCER_PORT: String(await findFreePort(...opts.balancerPorts)),
      PORT_RANGE: opts.portRange,
      ENGINE: "builtin",
      ...opts.env,
    },
  });
  const cookie = await panel.login(opts.admin.username, opts.admin.password);
  const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
  return { panel, cookie, browser };
}

/** A Chromium of this viewport carrying the session `cookie` ("sy_session=..."), on `urlPath` of the panel. */
export async function browserSignedIn(panel: Panel, cookie: string, viewport: { width: number; height: number }, urlPath: string): Promise<LaunchedBrowser> {
  const browser = await launchBrowser({ viewport });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
  await browser.page.goto(`${panel.url}${urlPath}`);
  return browser;
}

/** A screenshot of the page section that holds the element `testId` (a card), named `name`.png in the screenshots folder; the sticky header out of the way. */
export async function shootCard(page: Page, testId: string, name: string): Promise<void> {
  await page.mouse.move(1, 1);
  await page.addStyleTag({ content: "header { position: static !important; }" });
  const card = page.getByTestId(testId).locator("xpath=ancestor::section[1]");
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: path.join(screenshotDir(), `${name}.png`) });
}

/** How wide the page is laid out (more than the viewport: sideways scrolling). */
export const pageWidth = (page: Page): Promise<number> => page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
