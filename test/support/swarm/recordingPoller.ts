// A client that polls the stack through one node's proxy while something happens to the swarm,
// and keeps every reply (when sent, status, which member served it), so a test can tell afterwards
// when each thing broke and came back. Bounded in rounds and time; it only talks to 127.0.0.1
// (HttpSession refuses anything else).
import { HttpSession } from "../httpSession";

export interface PollTarget {
  /** Names the target in the samples and the table, e.g. "pinned to dynamic-2". */
  label: string;
  path: string;
  /** A session to reuse (cookies kept, e.g. pinned by ROUTEID); undefined: a new one each time. */
  session?: HttpSession;
}

export interface Sample {
  label: string;
  /** Seconds since the poller started, when the request was sent. */
  sentAt: number;
  /** When the answer (or the failure) came. */
  doneAt: number;
  ok: boolean;
  /** HTTP status, or the error's message. */
  outcome: string;
  servedBy: string | null;
}

export interface RecordingPoller {
  /** Seconds since the poller started (the samples' clock). */
  now(): number;
  readonly samples: readonly Sample[];
  stop(): Promise<Sample[]>;
}

export interface PollerOptions {
  intervalMs?: number;
  maxSeconds?: number;
  /** The client's own timeout per request: past it the request counts as failed. */
  timeoutMs?: number;
  /**
   * "sequential" (the default): each target sends its next request `intervalMs` after the last
   * answer, so a request that hangs holds its target up. "open": each target sends a request every
   * `intervalMs` whatever the earlier ones are doing (at most `maxInFlight` open at once), as many
   * independent visitors would, so a hung request does not hide the answers around it.
   */
  mode?: "sequential" | "open";
  /** Open mode: requests of one target open at once, beyond which a tick sends nothing. */
  maxInFlight?: number;
}

export function startRecordingPoller(
  url: string,
  targets: PollTarget[],
  options: PollerOptions = {},
): RecordingPoller {
  const intervalMs = options.intervalMs ?? 50;
  const maxSeconds = options.maxSeconds ?? 300;
  const timeoutMs = options.timeoutMs ?? 3_000;
  const maxRounds = Math.ceil((maxSeconds * 1000) / intervalMs);
  const started = performance.now();
  const now = () => (performance.now() - started) / 1000;
  const samples: Sample[] = [];
  let stopped = false;

  const ask = async (target: PollTarget) => {
    const session = target.session ?? new HttpSession(url, timeoutMs);
    const sentAt = now();
    try {
      const reply = await session.get(target.path);
      const ok = reply.status === 200;
      samples.push({
        label: target.label,
        sentAt,
        doneAt: now(),
        ok,
        outcome: `HTTP ${reply.status}`,
        servedBy: reply.servedBy,
      });
    } catch (error) {
      const message = (error as Error).message;
      samples.push({
        label: target.label,
        sentAt,
        doneAt: now(),
        ok: false,
        outcome: message,
        servedBy: null,
      });
    }
  };

  const sequential = async (target: PollTarget) => {
    for (let round = 0; round < maxRounds && !stopped && now() < maxSeconds; round++) {
      await ask(target);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  const maxInFlight = options.maxInFlight ?? 100;
  const open = async (target: PollTarget) => {
    const pending = new Set<Promise<void>>();
    for (let round = 0; round < maxRounds && !stopped && now() < maxSeconds; round++) {
      if (pending.size < maxInFlight) {
        const request: Promise<void> = ask(target).finally(() => pending.delete(request));
        pending.add(request);
      }
      // Ticks on the clock, not after the answer: a round that started late does not shift the rest.
      const next = started + (round + 1) * intervalMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
    await Promise.all(pending);
  };
  // Each target polls on its own, so one slow answer (a request caught by the failure) doesn't
  // hold up the others.
  const loop = Promise.all(targets.map(options.mode === "open" ? open : sequential));

  let result: Promise<Sample[]> | undefined;
  return {
    now,
    samples,
    stop() {
      stopped = true;
      result ??= loop.then(() => samples);
      return result;
    },
  };
}

/**
 * Per label, from `from` on: requests sent, failed (anything but a 200), answered with an HTTP 5xx,
 * and the longest time without a good answer (between answers, whenever they were sent).
 */
export function summarize(
  samples: readonly Sample[],
  from: number,
  until: number,
): { label: string; requests: number; failed: number; serverErrors: number; longestGap: number }[] {
  const labels = [...new Set(samples.map((sample) => sample.label))];
  return labels.map((label) => {
    const mine = samples.filter((s) => s.label === label && s.sentAt >= from && s.sentAt <= until);
    let lastGood = from;
    let longestGap = 0;
    const answers = samples
      .filter((s) => s.label === label && s.doneAt >= from && s.doneAt <= until)
      .sort((a, b) => a.doneAt - b.doneAt);
    for (const sample of answers) {
      if (!sample.ok) continue;
      longestGap = Math.max(longestGap, sample.doneAt - lastGood);
      lastGood = sample.doneAt;
    }
    longestGap = Math.max(longestGap, until - lastGood);
    return {
      label,
      requests: mine.length,
      failed: mine.filter((s) => !s.ok).length,
      serverErrors: mine.filter((s) => isServerError(s)).length,
      longestGap,
    };
  });
}

/** An answer with an HTTP 5xx status (not a client-side error such as a timeout). */
export function isServerError(sample: Sample): boolean {
  return /^HTTP 5\d\d$/.test(sample.outcome);
}
