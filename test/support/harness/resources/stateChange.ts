// terraform-plugin-sdk's helper/retry `StateChangeConf.WaitForStateContext` (helper/retry/state.go),
// which terraform-provider-docker uses to wait for services to converge: wait `delay`, refresh at
// once, then back off (the wait doubles from 100 ms, at least `minTimeout`, at most 10 s) until the
// refresh reports a target state, returns an error, or `timeout` passes.

export interface StateChange {
  delay: number;
  minTimeout: number;
  timeout: number;
  pending: readonly string[];
  target: readonly string[];
  /** One look at the world: its state, or a thrown error that ends the wait. */
  refresh(): Promise<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the target state reached; throws the refresh's error, or on timeout. */
export async function waitForState(conf: StateChange): Promise<string> {
  const deadline = Date.now() + conf.timeout;
  await sleep(conf.delay);
  let wait = 0;
  for (;;) {
    const state = await conf.refresh();
    if (conf.target.includes(state)) return state;
    if (!conf.pending.includes(state)) {
      // state.go: "unexpected state '%s', wanted target '%s'" (UnexpectedStateError)
      throw new Error(`unexpected state '${state}', wanted target '${conf.target.join(", ")}'`);
    }
    wait = Math.min(Math.max(wait * 2, conf.minTimeout), 10_000);
    if (Date.now() + wait > deadline) {
      // state.go TimeoutError: "timeout while waiting for state to become '…' (last state: '…')"
      throw new Error(
        `timeout while waiting for state to become '${conf.target.join(", ")}' (last state: '${state}', timeout: ${conf.timeout / 1000}s)`,
      );
    }
    await sleep(wait);
  }
}
