// A tiny HTTP client for the e2e checks: one cookie jar per session, like one browser. It refuses
// any URL that is not on 127.0.0.1, so a test can never send traffic elsewhere.

export interface Reply {
  status: number;
  servedBy: string | null;
  route: string | null;
  setCookie: string[];
  body: string;
}

export function assertLoopback(url: string): URL {
  const parsed = new URL(url);
  if (parsed.hostname !== "127.0.0.1") {
    throw new Error(`refusing to send traffic to ${parsed.hostname}: tests talk to 127.0.0.1 only`);
  }
  return parsed;
}

export class HttpSession {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {
    assertLoopback(baseUrl);
  }

  get cookie(): string | undefined {
    return this.cookies.get("ROUTEID");
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    const url = assertLoopback(new URL(path, this.baseUrl).toString());
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const response = await fetch(url, {
      headers: { ...headers, ...(cookie ? { cookie } : {}) },
      signal: AbortSignal.timeout(this.timeoutMs),
      redirect: "manual",
    });
    const setCookie = response.headers.getSetCookie();
    for (const line of setCookie) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return {
      status: response.status,
      servedBy: response.headers.get("x-served-by"),
      route: response.headers.get("x-balancer-route"),
      setCookie,
      body: await response.text(),
    };
  }
}

/** Counts how often each value occurs. */
export function tally(values: (string | null)[]): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
