<?php
/*
 * Renders the reverse proxy's Apache vhost from the environment (see config-validation.php for
 * the variables and their rules). apache2-foreground runs it at every container start:
 *
 *   php config-template.php > "$APACHE_RUN_DIR/reverse-proxy.conf"
 *
 * On a missing or bad variable it prints one line naming the variable to stderr, prints nothing
 * to stdout and exits with status 1, so a half-written config can never be loaded.
 */

declare(strict_types=1);

// Warnings must never end up in the rendered config (the CLI prints them to stdout by default).
ini_set('display_errors', 'stderr');
set_error_handler(static function (int $severity, string $message, string $file, int $line): bool {
    throw new ErrorException($message, 0, $severity, $file, $line);
});
// Anything unexpected: discard the half-rendered config instead of letting PHP flush it at exit.
set_exception_handler(static function (Throwable $error): void {
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    fwrite(STDERR, 'config-template.php: ' . $error->getMessage() . PHP_EOL);
    exit(1);
});

require __DIR__ . '/config-validation.php';
require __DIR__ . '/tls.php';

try {
    $settings = readProxySettings(getenv());
    $tls = readTlsSettings(getenv());
} catch (ConfigError $error) {
    fwrite(STDERR, $error->getMessage() . PHP_EOL);
    exit(1);
}

/*
 * Options for every BalancerMember: fail fast, fail over, and never reuse a dead connection.
 *   connectiontimeout=1  a member that doesn't accept within 1 s is dead (same Docker network)
 *   retry=5              a member put in error state by a failed request is retried after 5 s
 *   timeout=10           seconds to wait for a response before answering 504
 *   ttl=30 keepalive=On  pooled backend connections are dropped after 30 s idle, well before the
 *                        backends' 65 s keep-alive timeout: if the backend closed first, the next
 *                        request sent on that connection would fail with a 502
 *   hc*                  mod_proxy_hcheck GETs /healthz 2 s after the previous check ended; the
 *                        3rd failed check takes the member out of rotation (sticky clients move to
 *                        a live member), the 2nd passing check brings it back. The counts are
 *                        cumulative, not "in a row": a passing check does not reset the failures,
 *                        a failing one does not reset the passes; each count restarts only when it
 *                        reaches hcfails or hcpasses, and failures are not counted while the member
 *                        is in error state (apache/httpd, modules/proxy/mod_proxy_hcheck.c, hc_check,
 *                        2.4.x). So it is looser than HAProxy's fall 3 / rise 2 (consecutive): three
 *                        failures spread over any time take a member out. With hcfails=1, one check
 *                        that missed connectiontimeout=1 on a busy but alive member took it out for a
 *                        whole interval, and every new session in that window went to the other
 *                        member. A member that really dies is still avoided at once: the request
 *                        that fails on it fails over and puts it in error state (retry=5). A member
 *                        told to stop drains for longer than hcinterval × (hcfails + 1) before it
 *                        closes (the backend images' drain; test/unit/drain-timing.test.ts).
 * https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#proxypass (worker parameters)
 * https://httpd.apache.org/docs/2.4/mod/mod_proxy_hcheck.html
 */
const MEMBER_OPTIONS = 'connectiontimeout=1 retry=5 timeout=10 ttl=30 keepalive=On'
    . ' hcmethod=GET hcuri=/healthz hcinterval=2 hcfails=3 hcpasses=2';

/*
 * Static members only: at most 128 pooled connections to each (max=128; the proxy is one process,
 * see reverse-proxy-mpm-worker.conf), under the 150 workers of the static backends' prefork Apache:
 * more connections than workers would wait in the backend's listen queue behind idle pooled ones
 * and end as 502/504s under load; instead, requests wait here for a free pooled connection. The
 * Express members take the default (ThreadsPerChild): Node has no worker limit, and a cap there
 * only makes proxy threads queue for a backend connection.
 * https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#proxypass (max)
 */
const STATIC_MEMBER_OPTIONS = MEMBER_OPTIONS . ' max=128';
const DYNAMIC_MEMBER_OPTIONS = MEMBER_OPTIONS;
/*
 * BALANCER_MEMBER_CONNECTIONS=per-request, for members whose host can die (Swarm services): a
 * pooled connection to a node that vanished (no FIN, no RST) passes the reuse check, and a request
 * sent on it waits out timeout=10 and ends in an error without failover (apache/httpd
 * modules/proxy/mod_proxy_http.c ap_proxy_http_process_response, 2.4.x). A new connection fails
 * within connectiontimeout=1 instead, a 503 that proxy_handler (mod_proxy.c) fails over to another
 * member. addressttl=-1 keeps each member's address until a connect to it fails: with disablereuse
 * alone Apache looks the name up on every request (proxy_util.c ap_proxy_initialize_worker), and a
 * name without an address (a lost member not yet rescheduled) is then a 500 that never fails over
 * (proxy_util.c worker_address_resolve). After a failed connect the name is looked up again
 * (proxy_util.c ap_proxy_connect_backend), so a member rescheduled elsewhere is found at its new
 * address in the same request.
 * retry=60 replaces retry=5 above (parameters apply in order: mod_proxy.c add_member): a lost
 * member is tried again by requests once a minute, not every 5 s, when every request sent to it
 * in the next second would wait out the connect timeout. The health check brings it back as soon
 * as it answers again: a passing check clears the error state (mod_proxy_hcheck.c hc_check).
 */
$connectionOptions = $settings['memberConnections'] === 'per-request'
    ? ' disablereuse=On addressttl=-1 retry=60'
    : '';

/*
 * A member found by name keeps its address until a connect to it fails, so if another task takes
 * that address over, the proxy would send it this member's traffic. Fail closed: such a member
 * passes its health check only if /healthz also answers as that name (X-Served-By, the backend's
 * hostname, which Swarm mode sets to the service name). A member at an IP address keeps the role
 * check alone. Returns the expression's name and its condition.
 *
 * @return array{0: string, 1: string}
 */
function memberHealthExpression(string $role, int $number, string $address): array
{
    $host = substr($address, 0, strrpos($address, ':'));
    $roleCheck = "%{REQUEST_STATUS} -eq 200 && hc('body') =~ /\"role\":\"$role\"/";
    if (isIpv4($host) || str_starts_with($host, '[')) {
        return ["{$role}_role", $roleCheck];
    }
    // A validated hostname: letters, digits, hyphens and dots, nothing to escape in quotes.
    return ["{$role}_$number", "$roleCheck && resp('X-Served-By') == '$host'"];
}
$healthExpressions = [];
$conditions = [];
foreach (['static' => $settings['staticMembers'], 'dynamic' => $settings['dynamicMembers']] as $role => $members) {
    foreach ($members as $index => $address) {
        [$name, $condition] = memberHealthExpression($role, $index + 1, $address);
        $healthExpressions[$role][$index] = $name;
        $conditions[$name] = $condition;
    }
}

// Only validated values are rendered below; buffering keeps stdout empty if anything still fails.
ob_start();
?>
# Rendered by apache2-foreground from /var/apache2/templates/config-template.php at container
# start: edits here are lost on the next start. Change the container's environment instead.

<?php if ($tls === null): ?>
<VirtualHost *:<?= HTTP_LISTEN_PORT ?>>
<?php else: ?>
<?php renderTlsServerConfig($tls); ?>

<?php renderHttpRedirectVhost($tls, $settings['serverName'], $settings['configId']); ?>
<VirtualHost *:<?= TLS_LISTEN_PORT ?>>
<?php renderTlsVhostDirectives($tls); ?>
<?php endif; ?>
    # This is the only vhost (000-default is disabled), so it answers whatever Host the client
    # uses (an IP, localhost:8080, demo.res.ch); ServerName only names it in self-referencing URLs.
    ServerName <?= $settings['serverName'], "\n" ?>

    ErrorLog /dev/stderr
    # Docker's HEALTHCHECK asks for /proxy-healthz every few seconds: keep it out of the access log.
    SetEnvIf Request_URI "^/proxy-healthz$" proxy_healthcheck
    CustomLog /dev/stdout combined env=!proxy_healthcheck

    # A reverse proxy only: forward proxying would make this an open proxy.
    # https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#access
    ProxyRequests Off
    # httpoxy: a client's "Proxy:" header must not reach the backends (PHP reads it as HTTP_PROXY).
    # https://httpoxy.org/#fix-now
    RequestHeader unset Proxy early

    # ProxyPass rules are tried in the order they appear and the first match wins: the paths
    # answered here come first, then /api/animals/, and the catch-all "/" last.
    # https://httpd.apache.org/docs/2.4/mod/mod_proxy.html#proxypass (ordering)

    # The proxy's own liveness, answered locally (never proxied) from a file the Dockerfile writes.
    ProxyPass "/proxy-healthz" !
    Alias "/proxy-healthz" "/var/www/proxy/healthz.txt"
    <Directory "/var/www/proxy">
        Require all granted
    </Directory>
    <Location "/proxy-healthz">
        Header always set Cache-Control "no-store"
<?php if ($settings['configId'] !== null): ?>
        # Which configuration this proxy runs (PROXY_CONFIG_ID): a deploy waits until it reads
        # the one it rolled out.
        Header always set X-Proxy-Config "<?= $settings['configId'] ?>"
<?php endif; ?>
    </Location>

    # The balancer manager can drain members and change weights: never proxied to the static site,
    # and only served with a password.
    # https://httpd.apache.org/docs/2.4/mod/mod_proxy_balancer.html#balancer_manager
    ProxyPass "/balancer-manager" !
<?php if ($settings['balancerManager'] === null): ?>
    # BALANCER_MANAGER_PASSWORD is not set: the manager is off, and its URL answers 404.
    Redirect 404 "/balancer-manager"
<?php else: ?>
    # Basic auth against the htpasswd file apache2-foreground writes at start (bcrypt). Basic auth
    # sends the password with every request: use it on a trusted network or behind TLS.
    <Location "/balancer-manager">
        SetHandler balancer-manager
        AuthType Basic
        AuthName "balancer-manager"
        AuthBasicProvider file
        AuthUserFile "<?= $settings['balancerManager']['htpasswdFile'] ?>"
        Require valid-user
    </Location>
<?php endif; ?>

    # Fail closed: a member passes its health check only if /healthz answers 200 *and* names the
    # role the member was configured for. An address that now belongs to another kind of backend
    # (or to any other container) leaves rotation instead of serving the wrong content. Both
    # backend images answer {"status":"ok","role":"<role>"}; hc('body') is that body.
    # https://httpd.apache.org/docs/2.4/mod/mod_proxy_hcheck.html#proxyhcexpr
    # Expression names are limited to 15 characters (AH00526 "Expression name limited to 15
    # characters": longer names stop Apache at start).
<?php foreach ($conditions as $name => $condition) { ?>
    ProxyHCExpr <?= $name ?> {<?= $condition ?>}
<?php } ?>

    # Dynamic backends (Express): sticky. A request carrying ROUTEID=.<route> goes to the member with
    # that route; a new client gets the next member in turn, and a new cookie. When a member fails
    # mid-request, the balancer retries the request on another one (maxattempts defaults to the
    # number of members - 1), and a client whose member is out of rotation moves to a live one.
    # https://httpd.apache.org/docs/2.4/mod/mod_proxy_balancer.html#stickyness
    #
    # Two balancers over the same members, because byrequests counts *every* request a member
    # serves, sticky ones included (mod_proxy_balancer.c, proxy_balancer_pre_request: a request
    # routed by its cookie raises every other member's lbstatus). New sessions then go to whichever
    # member has served fewer requests so far: past sticky traffic becomes a debt that the next
    # burst of new sessions pays all at once (measured: 500 new sessions, 500 on one member, 0 on
    # the other). So requests without a cookie go to balancer://dynamic-new, which sees nothing
    # else and deals new sessions strictly in turn, as HAProxy's roundrobin does with cookie insert;
    # requests with a cookie go to balancer://dynamic. Same routes, so a cookie from either is
    # understood by both.
<?php foreach (['dynamic', 'dynamic-new'] as $balancer) { ?>
    <Proxy "balancer://<?= $balancer ?>">
<?php foreach ($settings['dynamicMembers'] as $index => $address) {
    printf(
        "        BalancerMember \"http://%s\" route=%d %s hcexpr=%s%s\n",
        $address, $index + 1, DYNAMIC_MEMBER_OPTIONS, $healthExpressions['dynamic'][$index], $connectionOptions
    );
} ?>
        ProxySet stickysession=ROUTEID lbmethod=byrequests
    </Proxy>
<?php } ?>
    RewriteEngine On
    # No ROUTEID cookie (the balancer looks for ".<route>" in its value): a new session.
    # [P] hands the request to mod_proxy, with the balancer's pooled connections.
    # https://httpd.apache.org/docs/2.4/rewrite/flags.html#flag_p
    RewriteCond "%{HTTP_COOKIE}" "!(^|;)\s*ROUTEID=\."
    RewriteRule "^/api/animals/(.*)$" "balancer://dynamic-new/$1" [P]
    ProxyPass "/api/animals/" "balancer://dynamic/"
    ProxyPassReverse "/api/animals/" "balancer://dynamic/"
    ProxyPassReverse "/api/animals/" "balancer://dynamic-new/"
    <Location "/api/animals/">
        # The sticky cookie, set only when the route changes, and only here: static responses never
        # carry one. HttpOnly: page scripts have no business with it; SameSite=Lax: not sent on
        # cross-site subrequests. The "." before the route is the separator the balancer looks for.
        Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; Path=/; HttpOnly; SameSite=Lax" env=BALANCER_ROUTE_CHANGED
        # Page scripts can't read the HttpOnly cookie, so the landing page shows the route from here.
        Header set X-Balancer-Route "%{BALANCER_WORKER_ROUTE}e" env=BALANCER_WORKER_ROUTE
    </Location>

    # Static backends (Apache + PHP): no session state, so plain round-robin by request count and
    # no stickiness. Failover and health checks as for the dynamic members.
    <Proxy "balancer://static">
<?php foreach ($settings['staticMembers'] as $index => $address) {
    printf(
        "        BalancerMember \"http://%s\" %s hcexpr=%s%s\n",
        $address, STATIC_MEMBER_OPTIONS, $healthExpressions['static'][$index], $connectionOptions
    );
} ?>
        ProxySet lbmethod=byrequests
    </Proxy>
    # "/" maps to "balancer://static/": a trailing slash on one side only would double or drop the
    # slash in every proxied path (the lab report's "balancer://static//").
    ProxyPass "/" "balancer://static/"
    ProxyPassReverse "/" "balancer://static/"
</VirtualHost>
<?php
ob_end_flush();
