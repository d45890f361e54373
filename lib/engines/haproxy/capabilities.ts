/** What HAProxy can do with the rules model. Pure data: the UI may import it without pulling in I/O. */
import type { EngineCapabilities } from "@/lib/engines/types";
import { capabilitiesExcept } from "@/lib/engines/capabilities";

/** HAProxy 2.6 does everything the rules model asks, with dynamic servers too (all five algorithms are dynamic here: hashing is consistent). */
export const haproxyCapabilities: EngineCapabilities = capabilitiesExcept();
