/**
 * End to end in a real browser against the real panel (npm start on a fresh data
 * folder): first-admin setup, adding a viewer, signing out, signing in as the
 * viewer, and the viewer being refused user management in the UI and the API.
 * Panel ports 3100-3119 (e2e range).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort, startPanel, type Panel } from "@/tests/helpers/panel";
import { launchBrowser, screenshot, type LaunchedBrowser } from "@/tests/helpers/browser";

const ADMIN = { username: "ada", password: "first admin password" };
const VIEWER = { username: "vic-viewer", password: "viewer password 1" };

let panel: Panel;
let browser: LaunchedBrowser;

beforeAll(async () => {
  panel = await startPanel({ port: await findFreePort(3100, 3119), startTimeoutMs: 170_000 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await panel?.stop();
});

const pathOf = (url: string) => new URL(url).pathname;

describe("sign-in flow in a browser", () => {
  it("fresh panel: /services sends a visitor to /setup, which creates the first admin", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/services`);
    expect(pathOf(page.url())).toBe("/setup");
    await expect(page.getByRole("heading", { name: "Welcome to Switchyard" }).count()).resolves.toBe(1);
    await screenshot(page, "setup");

    await page.locator('input[name="username"]').fill(ADMIN.username);
    await page.locator('input[name="password"]').fill(ADMIN.password);
    await page.locator('input[name="confirm"]').fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await page.waitForURL((u) => u.pathname === "/services");
    await page.getByTestId("current-user").waitFor();
    expect((await page.getByTestId("current-user").textContent())?.trim()).toBe(ADMIN.username);
    await screenshot(page, "services-admin");

    // /setup is closed now
    await page.goto(`${panel.url}/setup`);
    expect(pathOf(page.url())).toBe("/login");
  });

  it("the admin adds a viewer in Settings", async () => {
    const { page } = browser;
    await page.goto(`${panel.url}/settings`);
    await page.getByText("Add a user").waitFor();
    await page.locator('input[name="new-username"]').fill(VIEWER.username);
    await page.locator('input[name="new-password"]').fill(VIEWER.password);
    await page.locator('select[name="new-role"]').selectOption("viewer");
    await page.getByRole("button", { name: "Add user" }).click();
    const row = page.getByTestId(`user-row-${VIEWER.username}`);
    await row.waitFor();
    expect(await row.getByRole("combobox").inputValue()).toBe("viewer");
    await screenshot(page, "settings-admin");
  });

  it("signing out ends the session: /services sends to /login", async () => {
    const { page, context } = browser;
    await page.goto(`${panel.url}/services`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((u) => u.pathname === "/login");
    await page.goto(`${panel.url}/services`);
    expect(pathOf(page.url())).toBe("/login");
    const cookies = await context.cookies(panel.url);
    expect(cookies.find((c) => c.name === "sy_session" && c.value)).toBeUndefined();
  });

  it("the viewer signs in, sees no user management, and the API refuses user changes", async () => {
    const { page, context } = browser;
    await page.locator('input[name="username"]').fill(VIEWER.username);
    await page.locator('input[name="password"]').fill(VIEWER.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => u.pathname === "/services");
    await page.getByTestId("current-user").waitFor();
    expect((await page.getByTestId("current-user").textContent())?.trim()).toBe(VIEWER.username);

    await page.goto(`${panel.url}/settings`);
    await page.getByText("Only an admin can manage users").waitFor();
    expect(await page.getByText("Add a user").count()).toBe(0);
    expect(await page.getByTestId(`user-row-${ADMIN.username}`).count()).toBe(0);
    await screenshot(page, "settings-viewer");

    // the session cookie is HttpOnly: scripts on the page cannot read it
    const cookie = (await context.cookies(panel.url)).find((c) => c.name === "sy_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(await page.evaluate(() => document.cookie)).not.toContain("sy_session");

    // the viewer's own cookie, from outside the browser
    const body = { username: "intruder", password: "intruder password", role: "admin" };
    const res = await panel.request("/api/users", { method: "POST", cookie: `sy_session=${cookie!.value}`, json: body });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe("forbidden");

    // and from the page itself (a same-origin fetch that sends the cookie)
    const fromPage = await page.evaluate(async (b) => {
      const r = await fetch("/api/users", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(b) });
      return r.status;
    }, body);
    expect(fromPage).toBe(403);
    const list = await page.evaluate(async () => (await fetch("/api/users")).status);
    expect(list).toBe(403);

    // nothing was created: the admin's view of the users
    const adminCookie = await panel.login(ADMIN.username, ADMIN.password);
    const users = (await (await panel.request("/api/users", { cookie: adminCookie })).json()) as { users: { username: string }[] };
    expect(users.users.map((u) => u.username).sort()).toEqual([ADMIN.username, VIEWER.username].sort());
  });
});
