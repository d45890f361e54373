/**
 * Container memory and CPU without waiting on Docker's stats endpoint (1.5 s a call):
 * the container's cgroup files when this process can see them, else the last value of
 * a cache refreshed in the background with one-shot API calls.
 */
import type Docker from "dockerode";
import { readCgroupSample, resolveCgroupFiles, type CgroupFiles, type CgroupSample } from "./cgroup";
import { cpuPercentBetween, type CpuSample } from "@/lib/process/proc-stat";
import { sleep } from "@/lib/process/sleep";
import type { ReplicaStats } from "./types";

type StatsEntry = {
  id: string;
  cgroup: CgroupFiles | null;
  prevCpu: CpuSample | null;
  last: ReplicaStats | null;
  refreshedAt: number;
  refreshing: Promise<void> | null;
};

export type DockerStatsOptions = {
  docker: Docker;
  /** a managed container by id, replica id or name; null when there is none */
  find: (ref: string) => Promise<Docker.ContainerInspectInfo | null>;
  /** "auto": cgroup files when visible, else the API; "api": always the API */
  statsFrom: "auto" | "api";
  /** least time between two background refreshes of one container */
  refreshMs: number;
};

export function createDockerStats(opts: DockerStatsOptions) {
  const cache = new Map<string, StatsEntry>();

  function recordSample(entry: StatsEntry, sample: CgroupSample, atMs: number, fallbackLimit: number | null): ReplicaStats {
    let cpuPercent = entry.last?.cpuPercent ?? 0;
    if (sample.cpuNs !== null) {
      const now: CpuSample = { cpu: sample.cpuNs, atMs };
      if (entry.prevCpu) cpuPercent = cpuPercentBetween(entry.prevCpu, now, 1e9);
      entry.prevCpu = now;
    }
    const memoryLimitBytes = sample.memoryLimitBytes ?? fallbackLimit;
    // Docker puts the container's Memory limit on its cgroup: the kernel holds it to it.
    entry.last = { memoryBytes: sample.memoryBytes, memoryLimitBytes, memoryLimitEnforced: memoryLimitBytes !== null, cpuPercent, at: atMs };
    return entry.last;
  }

  async function refresh(ref: string, entry: StatsEntry): Promise<void> {
    const info = await opts.find(ref);
    if (!info || !info.State.Running) {
      cache.delete(ref);
      return;
    }
    entry.id = info.Id;
    const limit = info.HostConfig.Memory ? info.HostConfig.Memory : null;
    // The pid is Docker's view; only trust the cgroup if it names this container (same pid namespace).
    const cgroup = info.State.Pid && opts.statsFrom !== "api" ? await resolveCgroupFiles(info.State.Pid) : null;
    const dir = cgroup ? (cgroup.version === 1 ? cgroup.memoryDir : cgroup.dir) : "";
    if (cgroup && dir.includes(info.Id)) {
      entry.cgroup = cgroup;
      if (!entry.prevCpu) entry.prevCpu = { cpu: 0, atMs: Date.parse(info.State.StartedAt) };
      const sample = await readCgroupSample(cgroup);
      if (sample) recordSample(entry, sample, Date.now(), limit);
      return;
    }
    const s = await opts.docker.getContainer(info.Id).stats({ stream: false, "one-shot": true });
    const mem = s.memory_stats;
    const inactive = mem?.stats?.total_inactive_file ?? (mem?.stats as { inactive_file?: number } | undefined)?.inactive_file ?? 0;
    const at = Date.parse(s.read) || Date.now();
    recordSample(
      entry,
      {
        memoryBytes: Math.max(0, (mem?.usage ?? 0) - inactive),
        memoryLimitBytes: mem?.limit && limit ? mem.limit : null,
        cpuNs: s.cpu_stats?.cpu_usage?.total_usage ?? null,
      },
      at,
      limit,
    );
  }

  function kickRefresh(ref: string, entry: StatsEntry): Promise<void> {
    entry.refreshing ??= refresh(ref, entry)
      .catch(() => undefined) // the next call tries again; stats are best effort
      .finally(() => {
        entry.refreshedAt = Date.now();
        entry.refreshing = null;
      });
    return entry.refreshing;
  }

  return {
    /** Returns at once: cgroup files when visible, else the last cached API value (refreshed in the background). */
    async stats(ref: string): Promise<ReplicaStats | null> {
      let entry = cache.get(ref);
      if (entry?.cgroup) {
        const sample = await readCgroupSample(entry.cgroup);
        if (sample) return recordSample(entry, sample, Date.now(), entry.last?.memoryLimitBytes ?? null);
        // The files are gone: stopped (or restarted, with new files). Forget the old figures and look again.
        entry.cgroup = null;
        entry.last = null;
        entry.prevCpu = null;
      }
      if (!entry) {
        entry = { id: ref, cgroup: null, prevCpu: null, last: null, refreshedAt: 0, refreshing: null };
        cache.set(ref, entry);
      }
      if (Date.now() - entry.refreshedAt >= opts.refreshMs || !entry.last) {
        const refreshing = kickRefresh(ref, entry);
        // The first look at a container may wait a moment (an inspect and a file read, or a one-shot call).
        if (!entry.last) await Promise.race([refreshing, sleep(300)]);
      }
      return cache.get(ref)?.last ?? null;
    },
    /** Forget what was cached under `ref` (a removed container). */
    forget(ref: string): void {
      cache.delete(ref);
    },
    /** Forget every entry of the container with this id (it died). */
    forgetContainer(id: string): void {
      for (const [ref, entry] of cache) if (entry.id === id) cache.delete(ref);
    },
  };
}
