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
