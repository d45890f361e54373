/**
 * What a network fault asks for (issue 14, item 2). The schema lives in lib/core/faults.ts,
 * where the API's action schema (lib/core/mgmt.ts, pure domain) can import it.
 */
export { networkFaultParamsSchema, type NetworkFaultParams } from "@/lib/core/faults";
