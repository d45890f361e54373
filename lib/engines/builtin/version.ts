import pkg from "../../../package.json";

/** What the proxy reports as its version, and status().version. */
export const BUILTIN_VERSION = `switchyard-builtin ${pkg.version}`;
