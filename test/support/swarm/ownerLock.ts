// One test bed per host at a time: its names and ports (test/support/ports.ts) are fixed, so a
// second suite starting a bed would wipe the first one's. One `npm test` runs its files one after
// another, but the host's Docker engine may serve several test runs at once: several checkouts of
// the repository on one machine, or one swarm suite run on its own beside `npm test`. So the bed's
// owner, whichever run it belongs to, holds a lock directory in the system's temporary directory
// (mkdir is atomic; every run on the host sees the same one) with its
// pid; a lock whose process is gone is stale (a crashed run) and is taken over.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "./wait";

const LOCK_DIR = process.env.SWARM_TESTBED_LOCK ?? join(tmpdir(), "http-infra-swarm-testbed.lock");

/** Whether the process runs: a zombie (exited, not yet reaped by its parent) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, so split after ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function ownerPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${LOCK_DIR}/pid`, "utf8"));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock once; returns the live owner's pid when another process holds it. */
function tryLock(): number | undefined {
  try {
    mkdirSync(LOCK_DIR);
    writeFileSync(`${LOCK_DIR}/pid`, String(process.pid));
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const pid = ownerPid();
  if (pid === process.pid) return undefined;
  if (pid !== undefined && alive(pid)) return pid;
  // Stale, or its owner is between mkdir and writing the pid: a lock without a pid counts as
  // held until it is a few seconds old, so a starting owner is not robbed.
  if (pid === undefined) return -1;
  // Rename first: only one of several waiters wins the stale lock.
  const grave = `${LOCK_DIR}.stale-${process.pid}`;
  try {
    renameSync(LOCK_DIR, grave);
    rmSync(grave, { recursive: true, force: true });
  } catch {
    // another waiter took it over first
  }
  return tryLock();
}

/** Waits until this process owns the test bed lock. */
export async function acquireTestbedLock(timeoutMs: number, log: (m: string) => void) {
  let reported: number | undefined;
  let pidless = 0;
  await waitFor("the swarm test bed lock", timeoutMs, 1000, async () => {
    const holder = tryLock();
    if (holder === undefined) return true;
    if (holder === -1 && ++pidless > 5) rmSync(LOCK_DIR, { recursive: true, force: true });
    if (holder !== reported && holder !== -1) {
      log(`waiting: process ${holder} is using the test bed (lock ${LOCK_DIR})`);
      reported = holder;
    }
    return undefined;
  });
}

/** The live process holding the lock, if any. */
export function testbedLockHolder(): number | undefined {
  const pid = ownerPid();
  return pid !== undefined && alive(pid) ? pid : undefined;
}

/** Gives the lock up if this process holds it. */
export function releaseTestbedLock(): void {
  if (ownerPid() === process.pid) rmSync(LOCK_DIR, { recursive: true, force: true });
}
