/** Where the Docker engine is and how to reach it: a unix socket or plain tcp://, API 1.41. */
import type Docker from "dockerode";
import { AppError } from "@/lib/core/errors";
import { DOCKER_API_VERSION } from "./docker-errors";

export type DockerEndpoint = {
  /** default /var/run/docker.sock */
  socketPath?: string;
  /** unix:///path or tcp://host:port (plain HTTP); used when socketPath is not given */
  dockerHost?: string;
};

/** dockerode's options for the endpoint, and the address in words for error messages. */
export function connectionOptions(opts: DockerEndpoint): { options: Docker.DockerOptions; where: string } {
  // Explicit undefined values override what docker-modem would take from DOCKER_HOST.
  const base = { version: DOCKER_API_VERSION, protocol: "http" as const };
  if (!opts.socketPath && opts.dockerHost && !opts.dockerHost.startsWith("unix://")) {
    const raw = opts.dockerHost.includes("://") ? opts.dockerHost : `tcp://${opts.dockerHost}`;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new AppError("bad_request", `DOCKER_HOST ${opts.dockerHost} is not like tcp://127.0.0.1:2375 or unix:///var/run/docker.sock`);
    }
    if (url.protocol !== "tcp:" && url.protocol !== "http:") {
      throw new AppError("unsupported", `DOCKER_HOST ${opts.dockerHost}: only unix:// and plain tcp:// are supported`);
    }
    return { options: { ...base, host: url.hostname, port: Number(url.port || 2375), socketPath: undefined }, where: `tcp://${url.host}` };
  }
  const socketPath = opts.socketPath ?? (opts.dockerHost ? opts.dockerHost.slice("unix://".length) : "/var/run/docker.sock");
  return { options: { ...base, socketPath, host: undefined, port: undefined }, where: `unix://${socketPath}` };
}
