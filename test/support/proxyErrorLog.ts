// Reads the proxy container's error log (Apache's ErrorLog goes to stderr) for the lines that show
// a request meeting a member that had already closed.
import type Docker from "dockerode";

/**
 * The proxy's error-log lines since `since` (Unix seconds) where a request met a member closed: a
 * refused connect ("(111)Connection refused: AH00957: HTTP: attempt to connect … failed"; it fails
 * over, but the member closed while still in rotation) or a pooled connection closed under a
 * request (AH01102 "error reading status line from remote server", other than a timeout; the
 * client's request fails). The health checker's own connects ("HCOH:") are not requests: it keeps
 * probing a member it took out, which is how it notices the member is back.
 */
export async function proxyMetClosedMember(
  proxy: Docker.Container,
  since: number,
): Promise<string[]> {
  const buffer = await proxy.logs({ stdout: false, stderr: true, since });
  // Without a TTY the engine multiplexes the streams in 8-byte-header frames; strip them.
  const lines: string[] = [];
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4);
    lines.push(
      ...buffer
        .subarray(at + 8, at + 8 + size)
        .toString("utf8")
        .split("\n"),
    );
    at += 8 + size;
  }
  return lines.filter(
    (line) =>
      (/AH00957: HTTP:/.test(line) && /Connection refused/i.test(line)) ||
      (/AH01102/.test(line) && !/timeout specified has expired/i.test(line)),
  );
}
