// One raw HTTP/1.1 keep-alive connection to 127.0.0.1, for tests that must control exactly which
// request goes down which connection (a member's drain, a proxy's reuse of pooled connections).
import net from "node:net";

export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

export interface RawConnection {
  /** Sends a GET and resolves with the next complete response; rejects if the server closes first. */
  get(path: string, headers?: Record<string, string>): Promise<RawResponse>;
  /** Resolves with performance.now() at the moment the connection closed. */
  readonly closed: Promise<number>;
  destroy(): void;
}

export async function rawConnection(port: number, timeoutMs = 5_000): Promise<RawConnection> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {}); // a reset shows as `closed`
  let received = "";
  let waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;
  const take = () => {
    if (!waiting) return;
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = received.slice(0, end);
    const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (Buffer.byteLength(received.slice(end + 4)) < length) return;
    const body = received.slice(end + 4, end + 4 + length);
    received = received.slice(end + 4 + length);
    const [statusLine, ...headerLines] = head.split("\r\n");
    const headers = Object.fromEntries(
      headerLines.map((line) => {
        const at = line.indexOf(":");
        return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
      }),
    );
    const { resolve } = waiting;
    waiting = undefined;
    resolve({ status: Number(statusLine.split(" ")[1]), headers, body });
  };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    received += chunk;
    take();
  });
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => {
      waiting?.reject(new Error("the server closed the connection without answering"));
      waiting = undefined;
      resolve(performance.now());
    }),
  );
  return {
    closed,
    destroy: () => socket.destroy(),
    get(path, headers = {}) {
      const response = new Promise<RawResponse>((resolve, reject) => {
        waiting = { resolve, reject };
      });
      const lines = Object.entries({ Host: "127.0.0.1", ...headers }).map(([k, v]) => `${k}: ${v}`);
      socket.write(`GET ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer to GET ${path} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return Promise.race([response, timeout]).finally(() => clearTimeout(timer));
    },
  };
}
