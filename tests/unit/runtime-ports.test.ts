import { describe, expect, it } from "vitest";
import { portCandidates } from "@/lib/runtime/ports";

describe("portCandidates", () => {
  it("lists the range in order when nothing is used", () => {
    expect(portCandidates({ from: 20000, to: 20004 }, [])).toEqual([20000, 20001, 20002, 20003, 20004]);
  });

  it("skips ports other replicas use", () => {
    expect(portCandidates({ from: 20000, to: 20005 }, [20000, 20002, 20005])).toEqual([20001, 20003, 20004]);
  });

  it("starts at the given port and wraps around", () => {
    expect(portCandidates({ from: 20000, to: 20004 }, [20001], 20003)).toEqual([20003, 20004, 20000, 20002]);
  });

  it("ignores a start outside the range", () => {
    expect(portCandidates({ from: 20000, to: 20002 }, [], 30000)).toEqual([20000, 20001, 20002]);
  });

  it("is empty when the range is full", () => {
    expect(portCandidates({ from: 20000, to: 20001 }, [20000, 20001, 20002])).toEqual([]);
  });

  it("handles a one-port range", () => {
    expect(portCandidates({ from: 21000, to: 21000 }, [])).toEqual([21000]);
  });

  it("rejects a reversed or out-of-bounds range", () => {
    expect(() => portCandidates({ from: 20010, to: 20000 }, [])).toThrow(/invalid port range/);
    expect(() => portCandidates({ from: 0, to: 10 }, [])).toThrow(/invalid port range/);
    expect(() => portCandidates({ from: 65000, to: 70000 }, [])).toThrow(/invalid port range/);
  });
});
