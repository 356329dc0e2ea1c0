// CPU time a container has used, from its cgroup's counter: read before and after a load run, the
// difference divided by the requests served is the CPU per request. The cgroup files give it at
// once; the Engine API's stats (the fallback, e.g. on Docker Desktop) take about a second.
import type Docker from "dockerode";
import { readFileSync } from "node:fs";

/** Nanoseconds of CPU (user + system) the container has used since it started. */
export async function cpuNanoseconds(docker: Docker, containerId: string): Promise<number> {
  const candidates: [string, (text: string) => number][] = [
    // cgroup v1, cgroupfs driver (Debian's docker.io on cgroup v1)
    [`/sys/fs/cgroup/cpuacct/docker/${containerId}/cpuacct.usage`, (text) => Number(text.trim())],
    // cgroup v1, systemd driver
    [
      `/sys/fs/cgroup/cpuacct/system.slice/docker-${containerId}.scope/cpuacct.usage`,
      (text) => Number(text.trim()),
    ],
    // cgroup v2, systemd driver, then cgroupfs driver
    ...[
      `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`,
      `/sys/fs/cgroup/docker/${containerId}/cpu.stat`,
    ].map((file): [string, (text: string) => number] => [
      file,
      (text) => Number(/^usage_usec (\d+)$/m.exec(text)![1]) * 1000,
    ]),
  ];
  for (const [file, parse] of candidates) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    return parse(text);
  }
  const stats = await docker.getContainer(containerId).stats({ stream: false });
  return stats.cpu_stats.cpu_usage.total_usage;
}

/** CPU nanoseconds of several containers, summed. */
export async function totalCpuNanoseconds(docker: Docker, containerIds: string[]): Promise<number> {
  const values = await Promise.all(containerIds.map((id) => cpuNanoseconds(docker, id)));
  return values.reduce((sum, value) => sum + value, 0);
}

/** How often the CFS quota (a CPU limit) held a container back, from its cgroup's cpu.stat. */
export interface CpuThrottling {
  /** Scheduler periods in which the container ran. */
  periods: number;
  /** Of those, the periods in which it used up its quota and had to wait. */
  throttled: number;
  /** Time spent waiting for the next period, in ms. */
  throttledMs: number;
}

/** The container's throttling counters since it started; undefined where cgroups are not readable. */
export function cpuThrottling(containerId: string): CpuThrottling | undefined {
  const candidates = [
    // cgroup v1 (cpu controller): throttled_time in ns
    `/sys/fs/cgroup/cpu/docker/${containerId}/cpu.stat`,
    `/sys/fs/cgroup/cpu/system.slice/docker-${containerId}.scope/cpu.stat`,
    // cgroup v2: throttled_usec
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/cpu.stat`,
    `/sys/fs/cgroup/docker/${containerId}/cpu.stat`,
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    const field = (name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    return {
      periods: field("nr_periods"),
      throttled: field("nr_throttled"),
      throttledMs: field("throttled_time") / 1e6 + field("throttled_usec") / 1e3,
    };
  }
  return undefined;
}
