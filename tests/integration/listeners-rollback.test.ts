/**
 * Listeners are part of the balancer configuration (issue 13): adding and deleting one
 * is a revision, and rolling back to a revision brings its listeners back, in the
 * database and on the engine. The controller as the panel runs it (controller-harness)
 * on the builtin engine. Ports: default listener 18449, another listener 18430 (shared
 * with listeners-tls: integration files run one at a time), replicas 28250-28299.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControllerHarness, type ControllerHarness } from "@/tests/helpers/controller-harness";
import { until } from "@/tests/helpers/load";

let h: ControllerHarness;

/** Does anything accept a TCP connection on 127.0.0.1:port? */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

beforeAll(async () => {
  h = await startControllerHarness({ engine: "builtin", listen: 18449, portRange: "28250-28299", service: { replicas: 1 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("listeners in revisions", () => {
  it("adds and deletes a listener as revisions, and a rollback brings it back on the engine", async () => {
    const { createListener, deleteListener, listListeners } = await import("@/lib/services/manage-listeners");
    const { rollbackTo } = await import("@/lib/services/revisions");
    const names = async () => (await listListeners()).map((l) => `${l.name}:${l.port}`);

    const added = await createListener({ name: "extra", port: 18430, protocol: "http" }, h.user);
    expect(added.revision.status).toBe("applied");
    expect(await names()).toEqual(["default:18449", "extra:18430"]);
    await until("the extra listener bound", () => answers(18430), (x) => x, 10_000);

    const deleted = await deleteListener("extra", h.user);
    expect(deleted.revision.number).toBe(added.revision.number + 1);
    expect(await names()).toEqual(["default:18449"]);
    await until("the extra listener closed", () => answers(18430), (x) => !x, 10_000);

    const back = await rollbackTo(added.revision.number, h.user);
    expect(back.revision.status).toBe("applied");
    expect(await names()).toEqual(["default:18449", "extra:18430"]);
    await until("the extra listener bound again", () => answers(18430), (x) => x, 10_000);
    // the revision's snapshot holds the listeners
    const row = await h.m.db().revision.findUnique({ where: { number: back.revision.number } });
    expect((JSON.parse(row!.config) as { listeners: { name: string }[] }).listeners.map((l) => l.name)).toEqual(["default", "extra"]);
    console.log(`listeners-rollback: revision ${added.revision.number} added extra:18430, ${deleted.revision.number} deleted it, rollback ${back.revision.number} restored it (row and socket)`);
  }, 60_000);
});
