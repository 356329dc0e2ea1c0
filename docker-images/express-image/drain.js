"use strict";

// How long a stopping member keeps serving (server.js). Told to stop, it first drains: /healthz
// answers 503 and every response closes its connection, while it still answers whatever the proxy
// sends; only then does it close. Closing at once races the proxy, which reuses pooled
// connections: a request sent down a connection the member is closing gets no answer, and
// mod_proxy_http does not retry it, it closes the client's connection or answers 502 (apache/httpd,
// modules/proxy/mod_proxy_http.c, ap_proxy_http_process_response, 2.4.x).
//
// So the drain lasts until the proxy has surely taken the member out. The proxy's health check
// (docker-images/apache-reverse-proxy/templates/config-template.php) starts a check once hcinterval
// has passed since the previous one ended, on the watchdog's 100 ms tick, and takes the member out
// when its failure count reaches hcfails (apache/httpd, modules/proxy/mod_proxy_hcheck.c,
// hc_watchdog_callback and hc_check, 2.4.x): within about hcfails × hcinterval of the first 503.
// One interval more for the checks' own time and the ticks, and one second for requests the proxy
// had already routed here: hcinterval × (hcfails + 1) + 1 s. test/unit/drain-timing.test.ts
// renders the proxy's template and fails if these two values and it disagree.
const PROXY_HEALTH_CHECK_INTERVAL_SECONDS = 2;
const PROXY_HEALTH_CHECK_FAILS = 3;
const DEFAULT_DRAIN_SECONDS =
  PROXY_HEALTH_CHECK_INTERVAL_SECONDS * (PROXY_HEALTH_CHECK_FAILS + 1) + 1;

// After the drain, how long the requests still in flight may take before the process exits anyway.
// Nothing should be in flight by then; the member's own answers take milliseconds.
const CLOSE_TIMEOUT_SECONDS = 5;

const MAX_DRAIN_SECONDS = 60;

/** DRAIN_SECONDS from the environment (tests shorten it), or the default above. */
function parseDrainSeconds(value) {
  if (value === undefined || value === "") {
    return DEFAULT_DRAIN_SECONDS;
  }
  const seconds = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(seconds) || seconds > MAX_DRAIN_SECONDS) {
    throw new Error(
      `DRAIN_SECONDS must be an integer from 0 to ${MAX_DRAIN_SECONDS} (got ${JSON.stringify(value)})`,
    );
  }
  return seconds;
}

module.exports = {
  PROXY_HEALTH_CHECK_INTERVAL_SECONDS,
  PROXY_HEALTH_CHECK_FAILS,
  DEFAULT_DRAIN_SECONDS,
  CLOSE_TIMEOUT_SECONDS,
  parseDrainSeconds,
};
