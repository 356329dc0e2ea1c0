"use strict";

// The dynamic backend: a JSON list of random animals, in the style of expressjs/express
// examples/web-service. This module only builds the app; server.js binds the port, so tests can
// drive the app in-process with supertest and never need a fixed port.

const http = require("node:http");
const os = require("node:os");
const Chance = require("chance");
const express = require("express");

const MIN_ANIMALS = 3;
const MAX_ANIMALS = 8;

function randomAnimal(chance) {
  return {
    name: chance.first(),
    species: chance.animal(),
    age: chance.integer({ min: 1, max: 20 }),
    gender: chance.gender(),
    city: chance.city(),
  };
}

function randomAnimals(chance) {
  const count = chance.integer({ min: MIN_ANIMALS, max: MAX_ANIMALS });
  return Array.from({ length: count }, () => randomAnimal(chance));
}

// `hostname` and `chance` can be injected so tests can check the exact values and force failures.
// Each container gets its own hostname (Pulumi sets it to the container name), which is how a
// client behind the balancer sees which backend answered. `isDraining` tells whether the member has
// been told to stop (server.js): it then fails its health check so the proxy takes it out.
function createApp({
  hostname = os.hostname(),
  chance = new Chance(),
  isDraining = () => false,
} = {}) {
  const app = express();

  // Don't advertise the framework: https://expressjs.com/en/advanced/best-practice-security.html
  app.disable("x-powered-by");

  app.use((req, res, next) => {
    res.set("X-Served-By", hostname);
    // Every answer is random (or a live health probe): neither the proxy nor the browser may reuse it.
    res.set("Cache-Control", "no-store");
    next();
  });

  app.get("/", (req, res) => {
    res.json({ servedBy: hostname, animals: randomAnimals(chance) });
  });

  // Probed by the Docker HEALTHCHECK and by the proxy's health check; deliberately touches nothing
  // but the process. It names its role: the proxy keeps a member in balancer://dynamic only while
  // its address answers as "dynamic" (hcexpr in the proxy's vhost template), so a container of
  // another kind that ends up at this address never gets API traffic. While the member drains it
  // answers 503, and the proxy's health check (which wants a 200) takes it out of rotation.
  app.get("/healthz", (req, res) => {
    if (isDraining()) {
      res.status(503).json({ status: "draining", role: "dynamic" });
      return;
    }
    res.json({ status: "ok", role: "dynamic" });
  });

  // Nothing matched: with Express 5 this runs after every route, so it is a JSON 404.
  app.use((req, res) => {
    res.status(404).json({ error: "Not Found" });
  });

  // Express recognises an error handler by its four parameters, so `next` must stay.
  app.use((err, req, res, next) => {
    // Too late for a JSON body: let Express's final handler close the connection.
    // https://expressjs.com/en/guide/error-handling.html#the-default-error-handler
    if (res.headersSent) {
      return next(err);
    }
    const requested = err.status ?? err.statusCode;
    const status =
      Number.isInteger(requested) && requested >= 400 && requested < 600 ? requested : 500;
    if (status >= 500) {
      // The stack goes to the container log, never to the client.
      console.error(err);
    }
    // Client errors raised by Express or http-errors mark their message as safe (`expose`);
    // anything else, and every 5xx, only gets the standard reason phrase.
    const message = err.expose && status < 500 ? err.message : http.STATUS_CODES[status];
    res.status(status).json({ error: message });
  });

  return app;
}

const app = createApp();

module.exports = app;
module.exports.createApp = createApp;
