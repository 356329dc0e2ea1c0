<?php

declare(strict_types=1);

// The landing page. PHP only names the static backend that rendered it; app.js then polls the
// dynamic backends through the balancer. Everything is served from this origin: no CDN, no fonts.

// Each reload must reach a backend so round-robin stays visible; nothing may cache this page.
header('Cache-Control: no-store');

// The container's hostname, which Pulumi sets to the container name.
$hostname = gethostname();
$staticBackend = htmlspecialchars(
    $hostname === false ? 'unknown' : $hostname,
    ENT_QUOTES | ENT_HTML5,
    'UTF-8'
);
?>
<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <meta name="description" content="Random animals served by Express backends behind an Apache load balancer.">
    <title>Animals behind the balancer</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/style.css">
    <script src="/app.js" defer></script>
  </head>
  <body data-static-backend="<?= $staticBackend ?>">
    <header class="page-header">
      <div class="container">
        <h1>Animals behind the balancer</h1>
        <p class="lead">
          This page comes from a <strong>static</strong> Apache backend, chosen round-robin on
          every reload. The animals come from a <strong>dynamic</strong> Express backend that stays
          the same while your <code>ROUTEID</code> cookie holds (sticky session).
        </p>
      </div>
    </header>

    <main class="container">
      <section class="panel" aria-labelledby="backends-title">
        <h2 id="backends-title">Who answered</h2>
        <dl class="facts">
          <div class="fact fact-wide">
            <dt>Static backend <span class="fact-hint">(this page)</span></dt>
            <dd id="static-backend" class="backend-name"><?= $staticBackend ?></dd>
          </div>
          <div class="fact fact-wide">
            <dt>Dynamic backend <span class="fact-hint">(last refresh)</span></dt>
            <dd id="dynamic-backend" class="backend-name">&mdash;</dd>
          </div>
          <div class="fact">
            <dt>Balancer route</dt>
            <dd id="route" class="backend-name">&mdash;</dd>
          </div>
          <div class="fact">
            <dt>Successful refreshes</dt>
            <dd id="refresh-count">0</dd>
          </div>
        </dl>
        <p id="status" class="status" role="status" aria-live="polite" data-state="loading">Loading animals&hellip;</p>
      </section>

      <div class="columns">
        <section class="panel" aria-labelledby="animals-title">
          <h2 id="animals-title">Animals</h2>
          <div class="table-scroll" role="region" aria-labelledby="animals-title" tabindex="0">
            <!-- On narrow screens style.css lays the rows out as cards; the explicit roles keep the
                 table semantics that some browsers drop when table elements change display. -->
            <table class="animals" role="table">
              <caption>The latest batch from the dynamic backend, refreshed every 3 seconds.</caption>
              <thead role="rowgroup">
                <tr role="row">
                  <th scope="col" role="columnheader">Name</th>
                  <th scope="col" role="columnheader">Species</th>
                  <th scope="col" role="columnheader" class="numeric">Age</th>
                  <th scope="col" role="columnheader">Gender</th>
                  <th scope="col" role="columnheader">City</th>
                </tr>
              </thead>
              <tbody id="animals" role="rowgroup">
                <tr class="placeholder" role="row">
                  <td colspan="5" role="cell">Waiting for the first answer&hellip;</td>
                </tr>
              </tbody>
            </table>
          </div>
        </section>

        <section class="panel" aria-labelledby="history-title">
          <h2 id="history-title">Recent refreshes</h2>
          <p id="history-summary" class="muted">No successful refresh yet.</p>
          <ol id="history" class="history"></ol>
        </section>
      </div>

      <noscript>
        <p class="status" data-state="error">
          JavaScript is off, so the animals can't be loaded. The static backend above still shows
          which server rendered this page.
        </p>
      </noscript>
    </main>

    <footer class="page-footer">
      <p class="container muted">
        Reload the page to see another static backend. Open a private window to get a new session,
        and possibly another dynamic backend.
      </p>
    </footer>
  </body>
</html>
