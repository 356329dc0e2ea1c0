// Restarting the Docker engine under a deployed stack, as a host reboot does. Only an engine that
// scripts/start-docker.sh started (and recorded) may be restarted: never a developer's own daemon.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const OWN_DOCKERD_PIDFILE = process.env.OWN_DOCKERD_PIDFILE ?? "/run/http-infra/dockerd.pid";
const ROOT = join(__dirname, "..", "..");

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pid of the engine scripts/start-docker.sh started, or why this engine is not ours. */
export function ownEngine(): { pid: number } | { why: string } {
  if (!existsSync(OWN_DOCKERD_PIDFILE)) {
    return {
      why: `${OWN_DOCKERD_PIDFILE} is missing: scripts/start-docker.sh did not start this engine`,
    };
  }
  const pid = Number(readFileSync(OWN_DOCKERD_PIDFILE, "utf8").trim());
  if (!Number.isInteger(pid) || !alive(pid)) {
    return { why: `the dockerd recorded in ${OWN_DOCKERD_PIDFILE} (${pid}) is not running` };
  }
  const comm = existsSync(`/proc/${pid}/comm`)
    ? readFileSync(`/proc/${pid}/comm`, "utf8").trim()
    : "";
  if (comm !== "dockerd") return { why: `process ${pid} is ${comm || "unknown"}, not dockerd` };
  return { pid };
}

/**
 * Stops the engine as a shutdown does (SIGTERM: dockerd stops its containers, then exits), waits
 * for it to go, and starts it again with scripts/start-docker.sh. Containers come back by their
 * restart policy, in whatever order the engine starts them. Returns the seconds it took.
 */
export async function restartOwnEngine(pid: number, timeoutSeconds = 90): Promise<number> {
  const started = performance.now();
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (alive(pid)) {
    if (Date.now() > deadline)
      throw new Error(`dockerd ${pid} did not exit within ${timeoutSeconds}s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const start = spawnSync("bash", [join(ROOT, "scripts/start-docker.sh")], {
    encoding: "utf8",
    timeout: timeoutSeconds * 1000,
  });
  if (start.status !== 0) {
    throw new Error(`scripts/start-docker.sh failed (${start.status}): ${start.stderr}`);
  }
  return (performance.now() - started) / 1000;
}
