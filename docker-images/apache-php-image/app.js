"use strict";

// Landing page behaviour: poll the dynamic backends through the balancer and show which one
// answered, on which route. Plain browser JavaScript, no build step. Values from the API are only
// ever written with textContent, never parsed as HTML.

(() => {
  const API_URL = "/api/animals/";
  const POLL_INTERVAL_MS = 3000;
  // A request that hangs (a backend stopped mid-answer) must not stall the polling loop.
  const REQUEST_TIMEOUT_MS = 5000;
  const HISTORY_LENGTH = 10;
  // The ROUTEID cookie is HttpOnly, so page scripts can't read it; the proxy repeats the route in
  // this response header instead.
  const ROUTE_HEADER = "X-Balancer-Route";
  // Field -> column label; the label is repeated on each cell for the narrow-screen card layout.
  const ANIMAL_COLUMNS = new Map([
    ["name", "Name"],
    ["species", "Species"],
    ["age", "Age"],
    ["gender", "Gender"],
    ["city", "City"],
  ]);
  // Keep in sync with the [data-tone] rules in style.css.
  const TONE_COUNT = 6;
  const UNKNOWN = "\u2014";

  const ui = {
    animals: document.getElementById("animals"),
    dynamicBackend: document.getElementById("dynamic-backend"),
    route: document.getElementById("route"),
    refreshCount: document.getElementById("refresh-count"),
    status: document.getElementById("status"),
    history: document.getElementById("history"),
    historySummary: document.getElementById("history-summary"),
  };

  const state = {
    refreshCount: 0,
    history: [],
    hasAnimals: false,
    // Backend name -> colour index, in order of first appearance, so two backends never share one.
    tones: new Map(),
  };

  class ApiError extends Error {}

  async function fetchAnimals() {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(API_URL, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (!response.ok) {
        throw new ApiError(`HTTP ${response.status}`);
      }
      const body = await response.json();
      if (!isAnimalsPayload(body)) {
        throw new ApiError("unexpected response");
      }
      return {
        servedBy: body.servedBy,
        animals: body.animals,
        route: response.headers.get(ROUTE_HEADER),
      };
    } finally {
      window.clearTimeout(timer);
    }
  }

  function isAnimalsPayload(body) {
    return (
      typeof body === "object" &&
      body !== null &&
      typeof body.servedBy === "string" &&
      Array.isArray(body.animals) &&
      body.animals.every((animal) => typeof animal === "object" && animal !== null)
    );
  }

  function describeFailure(error) {
    if (error instanceof ApiError) {
      return error.message;
    }
    if (error instanceof SyntaxError) {
      return "invalid JSON";
    }
    if (error.name === "AbortError") {
      return "timed out";
    }
    return "network error";
  }

  function showSuccess({ servedBy, animals, route }) {
    state.refreshCount += 1;
    state.hasAnimals = true;
    renderAnimals(animals);
    showBackend(ui.dynamicBackend, servedBy);
    ui.route.textContent = route || UNKNOWN;
    ui.refreshCount.textContent = String(state.refreshCount);
    addToHistory({ time: new Date(), servedBy, route });
    setStatus("ok", `Live: the animals refresh every ${POLL_INTERVAL_MS / 1000} seconds.`);
  }

  // Expected while a backend restarts: say so on the page (no console noise) and keep the last
  // animals on screen; the next successful poll clears it.
  function showFailure(reason) {
    if (!state.hasAnimals) {
      renderPlaceholder("No animals yet: the API has not answered.");
    }
    setStatus("error", `API unreachable, retrying\u2026 Last error: ${reason}.`);
  }

  // Only touch the live region when the message changes, so screen readers don't repeat it on
  // every poll.
  function setStatus(kind, message) {
    ui.status.dataset.state = kind;
    if (ui.status.textContent !== message) {
      ui.status.textContent = message;
    }
  }

  function renderAnimals(animals) {
    if (animals.length === 0) {
      renderPlaceholder("This batch has no animals.");
      return;
    }
    ui.animals.replaceChildren(...animals.map(animalRow));
  }

  // Roles are explicit for the same reason as in index.php: the card layout changes `display`.
  function animalRow(animal) {
    const row = document.createElement("tr");
    row.setAttribute("role", "row");
    for (const [field, label] of ANIMAL_COLUMNS) {
      // The name labels its row for screen readers.
      const isName = field === "name";
      const cell = document.createElement(isName ? "th" : "td");
      if (isName) {
        cell.scope = "row";
      }
      cell.setAttribute("role", isName ? "rowheader" : "cell");
      if (field === "age") {
        cell.className = "numeric";
      }
      cell.dataset.label = label;
      cell.textContent = displayValue(animal[field]);
      row.append(cell);
    }
    return row;
  }

  function renderPlaceholder(message) {
    const cell = document.createElement("td");
    cell.colSpan = ANIMAL_COLUMNS.size;
    cell.setAttribute("role", "cell");
    cell.textContent = message;
    const row = document.createElement("tr");
    row.className = "placeholder";
    row.setAttribute("role", "row");
    row.append(cell);
    ui.animals.replaceChildren(row);
  }

  function addToHistory(entry) {
    state.history = [entry, ...state.history].slice(0, HISTORY_LENGTH);
    ui.history.replaceChildren(...state.history.map(historyItem));
    ui.historySummary.textContent = summarizeHistory(state.history);
  }

  function historyItem({ time, servedBy, route }) {
    const item = document.createElement("li");
    item.dataset.dynamicBackend = servedBy;
    item.dataset.route = route || "";
    item.dataset.tone = toneOf(servedBy);

    const timestamp = document.createElement("time");
    timestamp.dateTime = time.toISOString();
    timestamp.textContent = formatTime(time);

    const backend = document.createElement("span");
    backend.className = "history-backend";
    backend.textContent = servedBy;

    const routeLabel = document.createElement("span");
    routeLabel.className = "history-route";
    routeLabel.textContent = route ? `route ${route}` : "no route";

    item.append(timestamp, backend, routeLabel);
    return item;
  }

  function summarizeHistory(history) {
    const [latest] = history;
    const backends = new Set(history.map((entry) => entry.servedBy));
    if (history.length === 1) {
      return `First refresh answered by ${latest.servedBy}.`;
    }
    if (backends.size === 1) {
      return `All ${history.length} recent refreshes answered by ${latest.servedBy}: the session is sticky.`;
    }
    return `The last ${history.length} refreshes were answered by ${backends.size} different dynamic backends.`;
  }

  function showBackend(element, name) {
    element.textContent = name;
    element.dataset.tone = toneOf(name);
  }

  function toneOf(name) {
    if (!state.tones.has(name)) {
      state.tones.set(name, state.tones.size % TONE_COUNT);
    }
    return String(state.tones.get(name));
  }

  function displayValue(value) {
    return value === undefined || value === null || value === "" ? UNKNOWN : String(value);
  }

  function formatTime(time) {
    return time.toLocaleTimeString(undefined, {
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
  }

  // One request at a time: the next poll is scheduled only when this one has settled.
  async function refresh() {
    try {
      showSuccess(await fetchAnimals());
    } catch (error) {
      showFailure(describeFailure(error));
    } finally {
      window.setTimeout(refresh, POLL_INTERVAL_MS);
    }
  }

  refresh();
})();
