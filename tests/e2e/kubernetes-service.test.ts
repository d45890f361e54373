/**
 * A kubernetes service's page in Chromium against the real panel and the FAKE Kubernetes API
 * server (tests/helpers/fake-kube-api.ts on 16301; each pod a real replica process on
 * 127.19.X.N, ports 13010/13011): the replica cards carry each pod's memory from the metrics
 * API, the Rollout card follows a rolling update that stalls (badge "stalled", the Deployment's
 * words) and its Rollback, the Kubernetes nodes card lists the two nodes with the pods on each.
 * Both themes and 390 px without sideways scrolling; screenshots (SCREENSHOTS=1 keeps them).
 *
 * Panels 3560-3569, listeners 18700-18709, PORT_RANGE 13100-13199 (unused).
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Panel } from "@/tests/helpers/panel";
import { startPanelWithBrowser } from "@/tests/helpers/panel-browser";
import { hasChromium, screenshotDir, type LaunchedBrowser } from "@/tests/helpers/browser";
import { startFakeKubeApi, type FakeKubeApi } from "@/tests/helpers/fake-kube-api";
import { waitFor } from "@/tests/helpers/load";
import { needs } from "@/tests/helpers/requirements";

const ADMIN = { username: "kira", password: "kubernetes page pw" };
const TOKEN = randomBytes(24).toString("base64url");

type Row = { id: string; name: string; instances: { id: string; state: string }[] };

describe.skipIf(needs("chromium", hasChromium() ? null : "no /usr/bin/chromium (apt-get install chromium)"))("a kubernetes service's page", () => {
  let fake: FakeKubeApi;
  let panel: Panel;
  let cookie: string;
  let browser: LaunchedBrowser;
  let id = "";

  const api = (p: string, init: { method?: string; json?: unknown } = {}) => panel.request(p, { cookie, ...init });
  const service = async () => ((await (await api(`/api/services/${id}`)).json()) as { service: Row }).service;

  beforeAll(async () => {
    fake = await startFakeKubeApi({ port: 16301, token: TOKEN, ipPrefix: `127.19.${20 + (process.pid % 200)}` });
    ({ panel, cookie, browser } = await startPanelWithBrowser({
      admin: ADMIN,
      panelPorts: [3560, 3569],
      balancerPorts: [18700, 18709],
      portRange: "13100-13199",
      env: { KUBERNETES_API: fake.url, KUBERNETES_TOKEN: TOKEN, KUBERNETES_NAMESPACE: "sy-e2e", KUBERNETES_PROGRESS_DEADLINE_SECONDS: "4" },
    }));
  }, 200_000);

  afterAll(async () => {
    if (id) await api(`/api/services/${id}`, { method: "DELETE" }).catch(() => undefined);
    await browser?.close();
    await panel?.stop();
    await fake?.close();
  }, 60_000);

  it("pods with their memory, a stalled rolling update and its Rollback, the nodes card; both themes, 390 px", async () => {
    const res = await api("/api/services", { method: "POST", json: { name: "kweb", runtime: "kubernetes", image: "switchyard/replica:local", replicaProtocol: true, replicas: 2, dataPort: 13010, adminPort: 13011, memoryLimitMb: 128 } });
    expect(res.status, await res.clone().text()).toBe(201);
    id = ((await res.json()) as { service: { id: string } }).service.id;
    await waitFor("2 ready pods", async () => (await service()).instances.filter((r) => r.state === "ready").length === 2, 60_000, 300);

    const page = browser.page;
    await page.goto(`${panel.url}/services/${id}`);
    // each card shows the pod's memory from the metrics API (data-memory-mb set)
    await waitFor("both cards with memory", async () => (await page.locator('[data-testid="replica-card"][data-memory-mb]:not([data-memory-mb=""])').count()) === 2, 30_000, 300);
    expect(await page.getByTestId("replica-no-metrics").count()).toBe(0);
    await page.getByRole("heading", { name: "Kubernetes nodes" }).waitFor({ timeout: 15_000 });
    await page.getByText("fake-node-a").first().waitFor();

    // a version that never gets ready: the card says stalled, with the Deployment's words
    const bad = await api(`/api/services/${id}`, { method: "PATCH", json: { env: { ERROR_RATE: "101" } } });
    expect(bad.status, await bad.clone().text()).toBe(200);
    await page.locator('[data-testid="rollout-state"] >> text=stalled').waitFor({ timeout: 60_000 });
    await page.getByTestId("rollout-reason").getByText(/timed out progressing/).waitFor();
    const dir = screenshotDir();
    for (const theme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: theme });
      await page.getByTestId("rollout-card").screenshot({ path: path.join(dir, `kubernetes-rollout-stalled-${theme}.png`) });
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 390, height: 900 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(dir, "kubernetes-service-390.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByTestId("rollout-rollback").click();
    await page.locator('[data-testid="rollout-state"] >> text=rolled back').waitFor({ timeout: 60_000 });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: path.join(dir, "kubernetes-service-dark.png"), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
    await page.screenshot({ path: path.join(dir, "kubernetes-service.png"), fullPage: true });
  }, 180_000);
});
