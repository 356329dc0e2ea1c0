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

export function startRecordingPoller(
  url: string,
  targets: PollTarget[],
  options: { intervalMs?: number; maxSeconds?: number; timeoutMs?: number } = {},
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

  // Each target polls on its own, so one slow answer (a request caught by the failure) doesn't
  // hold up the others.
  const loop = Promise.all(
    targets.map(async (target) => {
      for (let round = 0; round < maxRounds && !stopped && now() < maxSeconds; round++) {
        await ask(target);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    }),
  );

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

/** Failed requests and the longest time without a good answer, per label, from `from` on. */
export function summarize(
  samples: readonly Sample[],
  from: number,
  until: number,
): { label: string; requests: number; failed: number; longestGap: number }[] {
  const labels = [...new Set(samples.map((sample) => sample.label))];
  return labels.map((label) => {
    const mine = samples.filter((s) => s.label === label && s.sentAt >= from && s.sentAt <= until);
    let lastGood = from;
    let longestGap = 0;
    for (const sample of mine) {
      if (!sample.ok) continue;
      longestGap = Math.max(longestGap, sample.doneAt - lastGood);
      lastGood = sample.doneAt;
    }
    longestGap = Math.max(longestGap, until - lastGood);
    return { label, requests: mine.length, failed: mine.filter((s) => !s.ok).length, longestGap };
  });
}
