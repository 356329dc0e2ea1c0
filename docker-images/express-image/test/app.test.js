// The app is CommonJS and loaded through Node's own require, exactly as server.js loads it in the
// container. supertest drives it in-process; it only opens an ephemeral port on 127.0.0.1 per request.
import { createRequire } from "node:module";
import os from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";

const require = createRequire(import.meta.url);
const request = require("supertest");
const Chance = require("chance");
const app = require("../app.js");
const { createApp } = app;

const ANIMAL_FIELDS = ["name", "species", "age", "gender", "city"];

afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /", () => {
  it("returns servedBy and a list of complete random animals", async () => {
    const res = await request(createApp({ hostname: "dynamic-7", chance: new Chance(1) }))
      .get("/")
      .expect(200)
      .expect("Content-Type", /application\/json/);

    expect(res.body.servedBy).toBe("dynamic-7");
    expect(Array.isArray(res.body.animals)).toBe(true);
    for (const animal of res.body.animals) {
      expect(Object.keys(animal).sort()).toEqual([...ANIMAL_FIELDS].sort());
      expect(animal.name).toMatch(/\S/);
      expect(animal.species).toMatch(/\S/);
      expect(Number.isInteger(animal.age)).toBe(true);
      expect(animal.age).toBeGreaterThan(0);
      expect(["Male", "Female"]).toContain(animal.gender);
      expect(animal.city).toMatch(/\S/);
    }
  });

  it("returns from 3 to 8 animals, and every count in between occurs", async () => {
    const seen = new Set();
    // Seeded, so the draws are the same on every run; 60 draws reach every count from 3 to 8.
    for (let seed = 1; seed <= 60; seed++) {
      const res = await request(createApp({ chance: new Chance(seed) }))
        .get("/")
        .expect(200);
      seen.add(res.body.animals.length);
    }

    expect([...seen].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it("draws the animals from the injected chance instance", async () => {
    const expected = await request(createApp({ chance: new Chance(42) })).get("/");
    const again = await request(createApp({ chance: new Chance(42) })).get("/");
    const other = await request(createApp({ chance: new Chance(43) })).get("/");

    expect(again.body.animals).toEqual(expected.body.animals);
    expect(other.body.animals).not.toEqual(expected.body.animals);
  });

  it("gives a new list on every request", async () => {
    const seeded = createApp({ chance: new Chance(7) });
    const first = await request(seeded).get("/");
    const second = await request(seeded).get("/");

    expect(second.body.animals).not.toEqual(first.body.animals);
  });

  it("is marked as not cacheable", async () => {
    await request(app).get("/").expect("Cache-Control", "no-store");
  });

  it("answers HEAD without a body", async () => {
    const res = await request(app).head("/").expect(200);

    expect(res.text).toBeUndefined();
  });
});

describe("the default export", () => {
  it("is an app that serves as this machine's hostname", async () => {
    const res = await request(app).get("/").expect(200).expect("X-Served-By", os.hostname());

    expect(res.body.servedBy).toBe(os.hostname());
  });
});

describe("GET /healthz", () => {
  it("answers 200 with status ok and names its role (the proxy's health check expects it)", async () => {
    const res = await request(app)
      .get("/healthz")
      .expect(200)
      .expect("Content-Type", /application\/json/)
      .expect("Cache-Control", "no-store");

    expect(res.body).toEqual({ status: "ok", role: "dynamic" });
    // The proxy matches the raw body with /"role":"dynamic"/ (hcexpr): keep it compact JSON.
    expect(res.text).toContain('"role":"dynamic"');
  });

  it("answers 503 while the member drains, so the proxy's health check takes it out; the API still serves", async () => {
    let draining = false;
    const drainable = createApp({ hostname: "dynamic-3", isDraining: () => draining });
    await request(drainable).get("/healthz").expect(200);

    draining = true;
    const res = await request(drainable)
      .get("/healthz")
      .expect(503)
      .expect("Content-Type", /application\/json/)
      .expect("Cache-Control", "no-store");

    expect(res.body).toEqual({ status: "draining", role: "dynamic" });
    await request(drainable).get("/").expect(200).expect("X-Served-By", "dynamic-3");
  });
});

describe("every response", () => {
  const seeded = createApp({ hostname: "dynamic-2" });

  it.each(["/", "/healthz", "/no/such/path"])(
    "%s carries X-Served-By: <hostname>",
    async (path) => {
      await request(seeded).get(path).expect("X-Served-By", "dynamic-2");
    },
  );

  it.each(["/", "/healthz", "/no/such/path"])("%s has no X-Powered-By header", async (path) => {
    const res = await request(seeded).get(path);

    expect(res.headers).not.toHaveProperty("x-powered-by");
  });
});

describe("unknown paths", () => {
  it.each([
    ["GET", "/no/such/path"],
    ["GET", "/healthz/extra"],
    ["POST", "/"],
    ["DELETE", "/healthz"],
  ])("%s %s is a JSON 404", async (method, path) => {
    const res = await request(app)
      [method.toLowerCase()](path)
      .expect(404)
      .expect("Content-Type", /application\/json/)
      .expect("X-Served-By", os.hostname());

    expect(res.body).toEqual({ error: "Not Found" });
  });
});

describe("the error handler", () => {
  // The route fails while drawing an animal, the way a bug in the handler would.
  function failingApp(properties = {}) {
    const chance = new Chance(1);
    vi.spyOn(chance, "animal").mockImplementation(() => {
      throw Object.assign(
        new Error("secret internal detail at /usr/src/app/app.js:42"),
        properties,
      );
    });
    return createApp({ hostname: "dynamic-9", chance });
  }

  it("answers a JSON 500 without the message or stack", async () => {
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});

    const res = await request(failingApp())
      .get("/")
      .expect(500)
      .expect("Content-Type", /application\/json/)
      .expect("X-Served-By", "dynamic-9");

    expect(res.body).toEqual({ error: "Internal Server Error" });
    expect(res.text).not.toMatch(/secret|app\.js|\bat\b/);
    // The details are not lost: they go to the container log.
    expect(consoleError).toHaveBeenCalledWith(
      expect.objectContaining({ message: expect.stringMatching(/secret/) }),
    );
  });

  it.each([
    // [error properties, expected status, expected body]
    [{ status: 503 }, 503, { error: "Service Unavailable" }],
    [{ statusCode: 429 }, 429, { error: "Too Many Requests" }],
    [
      { status: 400, expose: true },
      400,
      { error: "secret internal detail at /usr/src/app/app.js:42" },
    ],
    [{ status: 502, expose: true }, 502, { error: "Bad Gateway" }],
    [{ status: 200 }, 500, { error: "Internal Server Error" }],
    [{ status: "404" }, 500, { error: "Internal Server Error" }],
  ])("maps an error with %o to %i", async (properties, status, body) => {
    vi.spyOn(console, "error").mockImplementation(() => {});

    const res = await request(failingApp(properties))
      .get("/")
      .expect(status)
      .expect("Content-Type", /application\/json/);

    expect(res.body).toEqual(body);
  });
});
