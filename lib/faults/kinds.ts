/**
 * The registry of fault kinds (issue 14, item 2): the fault store picks a kind's
 * apply/undo/resume by its name. Each kind lives in its own file or folder.
 */
import type { FaultKind, FaultKindName } from "@/lib/faults/types";
import { networkFaultKind } from "@/lib/faults/network/kind";
import { pauseKind } from "@/lib/faults/pause";
import { runtimeStressKind } from "@/lib/faults/runtime-stress";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind has its own params and state; the store keeps them as JSON
type AnyFaultKind = FaultKind<any, any>;

export const faultKinds: Partial<Record<FaultKindName, AnyFaultKind>> = {
  pause: pauseKind,
  "runtime-stress": runtimeStressKind,
  "network-fault": networkFaultKind,
};

/** The kind named `name`, or null when this panel has none by that name. */
export function faultKindOf(name: FaultKindName | string): AnyFaultKind | null {
  return faultKinds[name as FaultKindName] ?? null;
}
