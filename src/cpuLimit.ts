// A CPU limit as the Docker provider reads it back. terraform-provider-docker (v4.5.0, helpers.go
// `nanoInt64ToDecimalString`) turns a container's NanoCpus into the `cpus` string it reports: nine
// decimals, trailing zeros cut, but "rounded" to one decimal whenever that string holds exactly
// nine zeros. So 1 CPU reads back as "1.0", 10 as "10.", 1.5 as "1.5", while 0.05 reads back as
// "0.1" and 10.05 as "10.1": other numbers. `cpus` is ForceNew, so the program must write exactly
// what Read reports, and can't use a value Read reports as another number (src/settings.ts refuses
// them).

/** Billionths of a CPU: Docker's NanoCpus, Swarm's nano_cpus. */
export function nanoCpus(cpus: number): number {
  return Math.round(cpus * 1e9);
}

/** nanoInt64ToDecimalString, digit for digit (big.Rat FloatString rounds halves away from zero). */
export function cpusAsProviderReadsThem(cpus: number): string {
  const nano = nanoCpus(cpus);
  if (nano === 0) return "0";
  const whole = Math.floor(nano / 1e9);
  const nine = `${whole}.${String(nano % 1e9).padStart(9, "0")}`;
  // The zeros in it, counted (a split has one piece more than separators).
  if (nine.split("0").length - 1 === 9) {
    const tenths = Math.floor(nano / 1e8) + (nano % 1e8 >= 5e7 ? 1 : 0);
    return `${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  return nine.replace(/0+$/, "");
}

/** Whether the provider reads `cpus` back as the same number (else it would replace every run). */
export function providerKeepsCpus(cpus: number): boolean {
  return Number(cpusAsProviderReadsThem(cpus)) === cpus;
}
