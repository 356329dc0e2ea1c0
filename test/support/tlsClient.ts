// HTTPS and HTTP/2 clients for the TLS suites: they trust only the test's CA, connect to
// 127.0.0.1 and verify the certificate for the name the test says (SNI and host name check).
import { connect as http2Connect } from "node:http2";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  type TLSSocket,
  type TLSSocketOptions,
} from "node:tls";

export interface TlsReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The negotiated protocol (ALPN), e.g. "h2" or "http/1.1". */
  alpn: string | false | null;
  /** The TLS version, e.g. "TLSv1.3". */
  tlsVersion: string | null;
  /** The serial of the certificate the server sent (hex, upper case). */
  serial: string;
  authorized: boolean;
}

/** One HTTPS/1.1 request on a new connection, verified against `ca` for `servername`. */
export function httpsGet(options: {
  port: number;
  path: string;
  ca: string;
  servername: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: "127.0.0.1",
        port: options.port,
        path: options.path,
        ca: options.ca,
        servername: options.servername,
        headers: { host: options.servername, ...options.headers },
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (response) => {
        const socket = response.socket as TLSSocket;
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            alpn: socket.alpnProtocol,
            tlsVersion: socket.getProtocol(),
            serial: socket.getPeerCertificate().serialNumber ?? "",
            authorized: socket.authorized,
          }),
        );
      },
    );
    request.on("timeout", () => request.destroy(new Error("HTTPS request timed out")));
    request.on("error", reject);
    request.end();
  });
}

/** One request over HTTP/2 (ALPN h2 only), verified against `ca`. */
export function http2Get(options: {
  port: number;
  path: string;
  ca: string;
  servername: string;
}): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://${options.servername}:${options.port}`, {
      host: "127.0.0.1",
      ca: options.ca,
      servername: options.servername,
      // Resolve the name to the proxy on 127.0.0.1, whatever the machine's DNS says.
      lookup: (_hostname, _options, callback) => callback(null, "127.0.0.1", 4),
    } as Parameters<typeof http2Connect>[1]);
    session.on("error", reject);
    const stream = session.request({ ":path": options.path, ":authority": options.servername });
    let body = "";
    let headers: Record<string, string | string[] | undefined> = {};
    stream.setEncoding("utf8");
    stream.on("response", (received) => (headers = received as typeof headers));
    stream.on("data", (chunk: string) => (body += chunk));
    stream.on("error", reject);
    stream.on("end", () => {
      const socket = session.socket as TLSSocket;
      resolve({
        status: Number(headers[":status"]),
        headers,
        body,
        alpn: session.alpnProtocol ?? null,
        tlsVersion: socket.getProtocol(),
        serial: socket.getPeerCertificate().serialNumber ?? "",
        authorized: socket.authorized,
      });
      session.close();
    });
    stream.end();
  });
}

/** One plain HTTP request, redirects not followed. */
export function plainGet(options: {
  port: number;
  path: string;
  host?: string;
  headers?: Record<string, string>;
}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: "127.0.0.1",
        port: options.port,
        path: options.path,
        headers: { ...(options.host && { host: options.host }), ...options.headers },
        agent: false,
        timeout: 10_000,
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers }),
        );
      },
    );
    request.on("timeout", () => request.destroy(new Error("HTTP request timed out")));
    request.on("error", reject);
    request.end();
  });
}

/**
 * One TLS handshake that asks for a stapled OCSP response (the status_request extension), then
 * closes: whether the chain verified, what the server stapled (null: nothing) and how long the
 * handshake took. Node emits `OCSPResponse` with null when the server staples nothing.
 */
export function ocspHandshake(options: {
  port: number;
  ca: string;
  servername: string;
}): Promise<{ authorized: boolean; stapled: Buffer | null; handshakeMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let stapled: Buffer | null | undefined;
    // tls.connect hands its options to the TLSSocket it makes, which takes requestOCSP
    // (https://nodejs.org/api/tls.html#new-tlstlssocketsocket-options); @types/node lists it
    // there only.
    const connectOptions: ConnectionOptions & Pick<TLSSocketOptions, "requestOCSP"> = {
      host: "127.0.0.1",
      port: options.port,
      ca: options.ca,
      servername: options.servername,
      requestOCSP: true,
      timeout: 15_000,
    };
    const socket = tlsConnect(connectOptions, () => {
      const handshakeMs = performance.now() - started;
      socket.end();
      if (stapled === undefined) reject(new Error("no OCSPResponse event: status not asked?"));
      else resolve({ authorized: socket.authorized, stapled, handshakeMs });
    });
    socket.on("OCSPResponse", (response: Buffer | null) => (stapled = response));
    socket.on("timeout", () => socket.destroy(new Error("TLS handshake timed out")));
    socket.on("error", reject);
  });
}
