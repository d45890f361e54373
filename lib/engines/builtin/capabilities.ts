/** What the builtin proxy can do with the rules model. Pure data: the UI may import it without pulling in I/O. */
import type { EngineCapabilities } from "@/lib/engines/types";
import { capabilitiesExcept } from "@/lib/engines/capabilities";

/** Everything: the builtin proxy is ours, so every rule option is implemented in it. */
export const builtinCapabilities: EngineCapabilities = capabilitiesExcept();
