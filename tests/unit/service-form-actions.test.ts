/** The service form's actions list and health check fields (issue 14) → the API's bodies. */
import { describe, expect, it } from "vitest";
import { actionOf, emptyForm, formFromService, toCreateBody, toUpdateBody, type ActionRow } from "@/components/services/service-form-model";
import { rulesSchema } from "@/lib/core/rules";
import { aServiceView } from "../helpers/service-view";

const row = (over: Partial<ActionRow> = {}): ActionRow => ({ name: "Stress", method: "POST", path: "/api/stress", port: "data", body: "", confirm: false, ...over });

describe("the actions list of the service form", () => {
  it("a body that reads as a JSON object is sent as JSON, other text as text, blank as none", () => {
    expect(actionOf(row({ body: '{"mb": 5}' }))).toEqual({ name: "Stress", method: "POST", path: "/api/stress", port: "data", body: { mb: 5 } });
    expect(actionOf(row({ body: "[1]" })).body).toBe("[1]");
    expect(actionOf(row({ body: "go" })).body).toBe("go");
    expect(actionOf(row({ confirm: true }))).toEqual({ name: "Stress", method: "POST", path: "/api/stress", port: "data", confirm: true });
  });

  it("create sends the actions and a non-default health check; bad rows are named by number", () => {
    const v = { ...emptyForm(), name: "todo", command: "node server.mjs", healthPath: "/api/health", healthExpectStatus: "204", actions: [row(), row({ name: "Clear", path: "/api/stress/clear", confirm: true })] };
    const ok = toCreateBody(v);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.body.actions).toEqual([
      { name: "Stress", method: "POST", path: "/api/stress", port: "data" },
      { name: "Clear", method: "POST", path: "/api/stress/clear", port: "data", confirm: true },
    ]);
    expect(ok.body.rules).toEqual({ healthCheck: { path: "/api/health", expectStatus: 204 } });
    expect(toCreateBody({ ...emptyForm(), name: "todo" }).ok && "rules" in (toCreateBody({ ...emptyForm(), name: "todo" }) as { body: object }).body).toBe(false);

    const bad = toCreateBody({ ...v, actions: [row(), row({ name: "Evil", path: "//evil.example/x" })] });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.actions).toMatch(/^action 2 \(path\): /);
    const badStatus = toCreateBody({ ...v, healthExpectStatus: "999" });
    expect(badStatus.ok || badStatus.errors.healthExpectStatus).toBeTruthy();
    expect(badStatus.ok).toBe(false);
  });

  it("edit sends the actions only when they changed", () => {
    const before = aServiceView({ actions: [{ name: "Stress", method: "POST", path: "/api/stress", port: "data", body: { mb: 5 } }], rules: rulesSchema.parse({ healthCheck: { path: "/api/health" } }) });
    const v = formFromService(before);
    expect(v.healthPath).toBe("/api/health");
    expect(v.actions).toEqual([row({ body: '{"mb":5}' })]);
    const same = toUpdateBody(v, before);
    expect(same.ok && "actions" in same.body).toBe(false);
    const changed = toUpdateBody({ ...v, actions: [...v.actions, row({ name: "Clear", path: "/api/stress/clear" })] }, before);
    expect(changed.ok && (changed.body.actions as unknown[]).length).toBe(2);
    const removed = toUpdateBody({ ...v, actions: [] }, before);
    expect(removed.ok && removed.body.actions).toEqual([]);
  });
});
