// How much memory each container of a stack has used at most, against its limit, and whether the
// kernel's OOM killer ever killed a process in it: from the container's memory cgroup, which keeps
// the peak (cgroup v1 memory.max_usage_in_bytes, v2 memory.peak) and counts OOM kills (v1
// memory.oom_control, v2 memory.events). The cgroup files are read on the machine running the
// engine (this one); where they are not readable, the Engine API's stats give the peak on cgroup
// v1 and inspect's State.OOMKilled tells a killed main process.
import type Docker from "dockerode";
import { readFileSync } from "node:fs";

export interface MemoryPeak {
  container: string;
  limitBytes: number;
  peakBytes: number;
  /** Processes the OOM killer killed in the container (any process, not only its main one). */
  oomKills: number;
}

const readFirst = (files: string[]): string | undefined => {
  for (const file of files) {
    try {
      return readFileSync(file, "utf8");
    } catch {
      continue;
    }
  }
  return undefined;
};

/** The container's memory cgroup directories to try: cgroup v1 then v2, cgroupfs then systemd. */
const cgroupDirectories = (id: string) => [
  `/sys/fs/cgroup/memory/docker/${id}`,
  `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`,
  `/sys/fs/cgroup/docker/${id}`,
  `/sys/fs/cgroup/system.slice/docker-${id}.scope`,
];

export async function memoryPeak(docker: Docker, nameOrId: string): Promise<MemoryPeak> {
  const info = await docker.getContainer(nameOrId).inspect();
  const dirs = cgroupDirectories(info.Id);
  const peakText = readFirst(
    dirs.flatMap((dir) => [`${dir}/memory.max_usage_in_bytes`, `${dir}/memory.peak`]),
  );
  const oomText = readFirst(
    dirs.flatMap((dir) => [`${dir}/memory.oom_control`, `${dir}/memory.events`]),
  );
  let peakBytes = peakText === undefined ? NaN : Number(peakText.trim());
  if (Number.isNaN(peakBytes)) {
    const stats = await docker.getContainer(info.Id).stats({ stream: false });
    peakBytes = stats.memory_stats.max_usage ?? NaN;
  }
  const oomKills = Number(/^oom_kill (\d+)$/m.exec(oomText ?? "")?.[1] ?? 0);
  return {
    container: info.Name.replace(/^\//, ""),
    limitBytes: info.HostConfig.Memory ?? 0,
    peakBytes,
    oomKills: oomKills + (info.State.OOMKilled ? 1 : 0),
  };
}

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** "name peak 41.2 of 256.0 MiB (16 %), 0 OOM kills" per container. */
export function formatPeaks(peaks: readonly MemoryPeak[]): string {
  return peaks
    .map(
      (p) =>
        `${p.container} peak ${mib(p.peakBytes)} of ${p.limitBytes ? mib(p.limitBytes) : "no limit"} MiB` +
        (p.limitBytes ? ` (${Math.round((100 * p.peakBytes) / p.limitBytes)} %)` : "") +
        `, ${p.oomKills} OOM kills`,
    )
    .join("\n");
}
