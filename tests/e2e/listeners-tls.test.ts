/**
 * Listeners and certificates from the Balancer page (issue 13), in Chromium against a
 * real panel (its default engine): generate a certificate from the panel's local CA,
 * add an https listener with it (the TLS handshake then verifies against the CA root
 * the page offers for download), refuse a port another program holds with the reason,
 * turn the default listener into a redirect to https (308), and see that no key ever
 * reaches a browser. At 1280 px and at 390 px in the dark theme, without sideways
 * scrolling.
 *
 * Ports: panel 3350-3359, listeners 18440-18449 (default 18440, https 18441, held 18442).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { launchBrowser, screenshot, type LaunchedBrowser } from "@/tests/helpers/browser";
import { until } from "@/tests/helpers/load";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";

const ADMIN = { username: "tls-admin", password: "tls admin password" };
const VIEWER = { username: "tls-viewer", password: "tls viewer password" };
const DEFAULT_PORT = 18440;
const HTTPS_PORT = 18441;
const HELD_PORT = 18442;

let panel: Panel;
let browser: LaunchedBrowser;
let cookie: string;
let held: net.Server;

async function expectNoSidewaysScroll(page: Page, where: string) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll, `${where}: page ${scroll} px wide in a ${width} px window`).toBeLessThanOrEqual(width);
}

/** The certificate the listener presents for `servername`, verified against `ca` ("" for the system's roots: only the name is looked at then). */
function handshake(port: number, servername: string, ca: string): Promise<{ authorized: boolean; cn: string; error: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername, ...(ca ? { ca } : {}), rejectUnauthorized: false }, () => {
      const cn = String(socket.getPeerCertificate().subject?.CN ?? "");
      resolve({ authorized: socket.authorized, cn, error: socket.authorizationError ? String(socket.authorizationError) : null });
      socket.end();
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error("no TLS handshake within 10 s")));
    socket.on("error", reject);
  });
}

function plainGet(port: number, host: string, target: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: target, headers: { host: `${host}:${port}` }, agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  held = net.createServer();
  await new Promise<void>((resolve) => held.listen(HELD_PORT, "127.0.0.1", resolve));
  panel = await startPanel({
    port: await findFreePort(3350, 3359),
    startTimeoutMs: 240_000,
    env: { ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, BALANCER_PORT: String(DEFAULT_PORT), DEMO_SERVICE: "false", PORT_RANGE: "28200-28399" },
  });
  cookie = await panel.login(ADMIN.username, ADMIN.password);
  expect((await panel.request("/api/users", { method: "POST", cookie, json: { ...VIEWER, role: "viewer" } })).status).toBe(201);
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  await browser.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
  held?.close();
});

describe("listeners and certificates on the Balancer page", () => {
  it("generates a certificate, serves it on an https listener, refuses a taken port, redirects the default listener (1280 px)", async () => {
    const page = browser.page;
    await page.goto(`${panel.url}/balancer`);
    const section = page.locator('section[aria-labelledby="listeners-heading"]');
    await section.getByRole("heading", { name: "Listeners and certificates" }).waitFor();
    await expect.poll(() => section.getByTestId("listener-default").textContent()).toContain(`:${DEFAULT_PORT}`);

    // a certificate for two local names from the panel's CA
    await section.locator('input[name="cert-hosts"]').fill("shop.local api.shop.local");
    await section.getByRole("button", { name: "Generate certificate" }).click();
    const cert = section.getByTestId("certificate-shop.local");
    await cert.waitFor();
    const certText = (await cert.textContent()) ?? "";
    expect(certText).toContain("shop.local, api.shop.local");
    expect(certText).toMatch(/Switchyard local CA/);
    expect(certText).toMatch(/\d+ days left/);
    expect(certText).toMatch(/([0-9A-F]{2}:){31}[0-9A-F]{2}/);

    // an https listener with it
    await section.getByRole("button", { name: "Add listener" }).click();
    await section.locator('input[name="listener-name"]').fill("secure");
    await section.locator('input[name="listener-port"]').fill(String(HTTPS_PORT));
    await section.locator('select[name="listener-protocol"]').selectOption("https");
    await section.locator('select[name="listener-certificate"]').selectOption({ index: 1 });
    await section.getByRole("button", { name: "Add listener" }).last().click();
    await expect.poll(() => section.getByTestId("listener-secure").textContent(), { timeout: 20_000 }).toContain(`:${HTTPS_PORT}`);
    await expect.poll(() => cert.textContent()).toContain("used by secure");

    // the handshake verifies against the CA root the page offers, for both names
    const href = await section.getByTestId("download-ca").getAttribute("href");
    const caRes = await panel.request(href!, { cookie });
    expect(caRes.headers.get("content-type")).toBe("application/x-pem-file");
    const ca = await caRes.text();
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    for (const name of ["shop.local", "api.shop.local"]) {
      const hs = await until(`TLS on ${HTTPS_PORT} for ${name}`, () => handshake(HTTPS_PORT, name, ca).catch((e: Error) => ({ authorized: false, cn: "", error: e.message })), (h) => h.authorized, 15_000);
      expect(hs.cn).toBe("shop.local");
    }

    // a port another program holds is refused with the reason, and nothing is added
    await section.getByRole("button", { name: "Add listener" }).click();
    await section.locator('input[name="listener-name"]').fill("busy");
    await section.locator('input[name="listener-port"]').fill(String(HELD_PORT));
    await section.getByRole("button", { name: "Add listener" }).last().click();
    await expect.poll(() => section.getByRole("alert").textContent()).toContain(`port ${HELD_PORT} is taken by another program`);
    await section.getByRole("button", { name: "Cancel" }).click();
    expect(await section.getByTestId("listener-busy").count()).toBe(0);

    // the default listener redirects to the https one: 308, same host and URI
    await section.getByRole("button", { name: "Edit listener default" }).click();
    await section.locator('input[name="listener-redirect"]').check();
    await section.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => section.getByTestId("listener-default").textContent(), { timeout: 20_000 }).toContain("redirects to https");
    const r = await until("the 308", () => plainGet(DEFAULT_PORT, "shop.local", "/cart?id=7"), (x) => x.status === 308, 15_000);
    expect(r.location).toBe(`https://shop.local:${HTTPS_PORT}/cart?id=7`);

    // a certificate in use cannot be deleted
    expect(await cert.getByRole("button", { name: "Delete" }).isDisabled()).toBe(true);
    await screenshot(page, "balancer-listeners-tls");
  }, 180_000);

  it("uploads a PEM certificate and key, and warns when it expires within 30 days", async () => {
    // a certificate for 10 days, made with openssl (argv, no shell) in a private folder
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sy-e2e-pem-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "c.pem"), "-days", "10", "-subj", "/CN=soon.local", "-addext", "subjectAltName=DNS:soon.local"], { stdio: "ignore" });
      const page = browser.page;
      const section = page.locator('section[aria-labelledby="listeners-heading"]');
      await section.getByLabel("Upload PEM").check();
      // a key of another certificate is refused with the reason
      await section.locator('textarea[name="cert-pem"]').fill(fs.readFileSync(path.join(dir, "c.pem"), "utf8"));
      await section.locator('textarea[name="cert-key"]').fill(fs.readFileSync(path.join(panel.dataDir, "tls", "ca.key"), "utf8"));
      await section.getByRole("button", { name: "Upload certificate" }).click();
      await expect.poll(() => section.getByRole("alert").textContent()).toContain("does not match the certificate");
      await section.locator('textarea[name="cert-key"]').fill(fs.readFileSync(path.join(dir, "k.pem"), "utf8"));
      await section.getByRole("button", { name: "Upload certificate" }).click();
      const soon = section.getByTestId("certificate-soon.local");
      await soon.waitFor();
      expect(await soon.textContent()).toMatch(/expires soon: (9|10) days left/);
      expect(await section.locator('textarea[name="cert-key"]').inputValue()).toBe("");
      // the https listener serves it too, picked by SNI; its default certificate stays for other names
      await section.getByRole("button", { name: "Edit listener secure" }).click();
      await section.getByRole("checkbox", { name: "soon.local", exact: true }).check();
      await section.getByRole("button", { name: "Apply" }).click();
      await expect.poll(() => section.getByTestId("listener-secure").textContent(), { timeout: 20_000 }).toContain("by SNI also soon.local");
      const sni = await until("SNI soon.local", () => handshake(HTTPS_PORT, "soon.local", "").catch(() => ({ authorized: false, cn: "", error: null })), (h) => h.cn === "soon.local", 15_000);
      expect(sni.cn).toBe("soon.local");
      expect((await handshake(HTTPS_PORT, "shop.local", "")).cn).toBe("shop.local");
      await section.scrollIntoViewIfNeeded();
      await screenshot(page, "balancer-certificates-expiry");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("never sends a key to a browser; viewers read the list and change nothing", async () => {
    const viewerCookie = await panel.login(VIEWER.username, VIEWER.password);
    const list = await panel.request("/api/certificates", { cookie: viewerCookie });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toMatch(/PRIVATE KEY|keyFile|pemFile/);
    expect((await panel.request("/api/certificates", { method: "POST", cookie: viewerCookie, json: { generate: { hosts: ["x.local"] } } })).status).toBe(403);
    expect((await panel.request("/api/listeners", { method: "POST", cookie: viewerCookie, json: { name: "v", port: 18443 } })).status).toBe(403);
    // an admin's overview names the certificate files; a viewer's names no path of this machine
    expect(await (await panel.request("/api/balancer", { cookie })).text()).toContain(path.join(panel.dataDir, "tls", "certs"));
    const viewerOverview = await (await panel.request("/api/balancer", { cookie: viewerCookie })).text();
    expect(viewerOverview).toContain("$DATA_DIR/tls/certs/");
    expect(viewerOverview).not.toContain(panel.dataDir);
    // the revisions a browser sees name the certificate files, not what is in them
    const revisions = await (await panel.request("/api/balancer/revisions", { cookie })).text();
    expect(revisions).not.toMatch(/PRIVATE KEY/);
    // the keys are the panel's alone
    const dir = path.join(panel.dataDir, "tls", "certs");
    const keys = fs.readdirSync(dir).filter((f) => f.endsWith(".key") || f.endsWith(".pem"));
    expect(keys.length).toBeGreaterThan(0);
    for (const f of keys) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(panel.dataDir, "tls", "ca.key")).mode & 0o777).toBe(0o600);
  });

  it("fits 390 px in the dark theme", async () => {
    const phone = await launchBrowser({ viewport: { width: 390, height: 844 } });
    try {
      await phone.context.addCookies([{ name: "sy_session", value: cookie.split("=")[1], url: panel.url }]);
      await phone.page.emulateMedia({ colorScheme: "dark" });
      await phone.page.goto(`${panel.url}/balancer`);
      const section = phone.page.locator('section[aria-labelledby="listeners-heading"]');
      await section.getByTestId("listener-secure").waitFor();
      await section.getByRole("button", { name: "Add listener" }).click();
      await section.locator('select[name="listener-protocol"]').selectOption("https");
      await expectNoSidewaysScroll(phone.page, "/balancer at 390 px, dark, listener form open");
      await section.scrollIntoViewIfNeeded();
      await screenshot(phone.page, "phone-balancer-listeners-dark");
    } finally {
      await phone.close();
    }
  }, 60_000);
});
