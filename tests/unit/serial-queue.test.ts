import { describe, expect, it } from "vitest";
import { SerialQueue } from "@/lib/process/serial-queue";

describe("SerialQueue", () => {
  it("runs work one at a time, in order, whether the work before failed or not", async () => {
    const q = new SerialQueue();
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = q.run(async () => {
      seen.push("a start");
      await gate;
      seen.push("a end");
    });
    const b = q.run(async () => {
      seen.push("b");
      throw new Error("b failed");
    });
    const c = q.run(async () => seen.push("c"));
    await Promise.resolve();
    expect(seen).toEqual(["a start"]);
    release();
    await a;
    await expect(b).rejects.toThrow("b failed");
    await c;
    expect(seen).toEqual(["a start", "a end", "b", "c"]);
  });

  it("idle() waits for everything handed in so far, failures included", async () => {
    const q = new SerialQueue();
    let done = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    void q.run(async () => {
      await gate;
      done = true;
    });
    void q.run(async () => Promise.reject(new Error("ignored by idle"))).catch(() => undefined);
    const idle = q.idle();
    let idleResolved = false;
    void idle.then(() => (idleResolved = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(idleResolved).toBe(false);
    release();
    await idle;
    expect(done).toBe(true);
  });
});
