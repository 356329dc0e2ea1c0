// warmUp.js serves a burst to the app on a throw-away loopback port before server.js opens the
// real one, so a fresh member's first crowd meets warmed code. It must send what it was asked to,
// spread over the connections, stop at its deadline, and leave no port or socket open behind it.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const { warmUp } = require("../warmUp.js");

describe("warmUp", () => {
  it("answers every warm-up request through the handler, over several connections", async () => {
    const seen = { requests: 0, connections: new Set() };
    const answered = await warmUp(
      (req, res) => {
        seen.requests++;
        seen.connections.add(`${req.socket.remoteAddress}:${req.socket.remotePort}`);
        res.end("ok");
      },
      { requests: 200, connections: 10 },
    );
    expect(answered).toBe(200);
    expect(seen.requests).toBe(200);
    expect(seen.connections.size).toBe(10);
  });

  it("stops at its deadline when the handler never answers, and still resolves", async () => {
    const started = Date.now();
    const answered = await warmUp(() => {}, { requests: 50, connections: 5, deadlineMs: 300 });
    expect(answered).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("leaves no server or socket open", async () => {
    // Destroyed sockets release their handles on the next turns of the event loop.
    const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
    await settle();
    const before = process.getActiveResourcesInfo().filter((r) => /TCP/.test(r)).length;
    await warmUp((req, res) => res.end("ok"), { requests: 20, connections: 4 });
    await settle();
    const after = process.getActiveResourcesInfo().filter((r) => /TCP/.test(r)).length;
    expect(after).toBe(before);
  });
});
