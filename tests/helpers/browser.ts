/**
 * Test helper: a real headless Chromium (Debian's /usr/bin/chromium) driven by
 * playwright-core, with a fresh temporary profile per launch.
 *
 * screenshot(page, name) saves docs/screenshots/<name>.png when SCREENSHOTS=1
 * (to refresh the pictures in the docs), else into a temporary folder.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

// RECIPES: Debian's Chromium as root, without GPU, network side-traffic or updates.
// (--headless is added by playwright itself.)
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export type LaunchedBrowser = {
  context: BrowserContext;
  /** The first page of the context. */
  page: Page;
  userDataDir: string;
  /** Close the browser and remove its profile. Safe to call twice. */
  close(): Promise<void>;
};

export function hasChromium(): boolean {
  return fs.existsSync(CHROMIUM_PATH);
}

export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<LaunchedBrowser> {
  if (!hasChromium()) throw new Error(`no browser at ${CHROMIUM_PATH}: apt-get install -y chromium (scripts/ci-setup.sh does)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  context.setDefaultNavigationTimeout(60_000);
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    userDataDir,
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

let tmpShots: string | null = null;

/** Where screenshots go: docs/screenshots with SCREENSHOTS=1, else a temporary folder. */
export function screenshotDir(): string {
  if (process.env.SCREENSHOTS === "1") {
    const dir = path.resolve(__dirname, "..", "..", "docs", "screenshots");
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
  tmpShots ??= fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-screenshots-"));
  return tmpShots;
}

/** Save a full-page PNG of `page` as <name>.png; returns the file's path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`screenshot name "${name}": use lowercase letters, digits and '-'`);
  const file = path.join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
