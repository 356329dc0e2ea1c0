<?php
/*
 * HTTPS for the reverse proxy: reads and validates the TLS variables, and renders the parts of the
 * config that only exist with TLS on (config-template.php includes this file):
 *
 *   TLS_MODE              unset or "off": plain HTTP only. "given": the files below. "acme":
 *                         mod_md obtains and renews the certificate.
 *   TLS_PUBLIC_PORT       the HTTPS port clients use (the host's), for the HTTP -> HTTPS redirect
 *   TLS_CERTIFICATE_FILE  given: the PEM chain, leaf first (uploaded file or Docker secret)
 *   TLS_PRIVATE_KEY_FILE  given: its key; the key itself is never in the environment
 *   ACME_DOMAINS          acme: space-separated DNS names
 *   ACME_EMAIL            acme: the account's contact
 *   ACME_DIRECTORY_URL    acme: the CA's directory (https://)
 *   ACME_CA_ROOT_FILE     acme, optional: the PEM root that signs a private CA's HTTPS
 *   ACME_STORE_DIR        acme: mod_md's store, a volume that outlives the container
 *   ACME_CHECK_INTERVAL   acme, optional: seconds between renewal checks (default mod_md's 12 h)
 */

declare(strict_types=1);

/**
 * The ports Apache listens on inside the container, both above 1023 (it runs as www-data): plain
 * HTTP (the image's ports.conf; src/proxyEnvironment.ts PROXY_PORT) and TLS (src/tls.ts).
 */
const HTTP_LISTEN_PORT = 8080;
const TLS_LISTEN_PORT = 8443;
const DEFAULT_ACME_STORE_DIR = '/var/lib/apache2/md';

/** An absolute path of plain characters: safe to print into the config unquoted or quoted. */
function validatePath(string $name, string $value): string
{
    if (preg_match('#^/[A-Za-z0-9._/-]+$#D', $value) !== 1) {
        throw new ConfigError(
            "$name must be an absolute path of letters, digits, \".\", \"_\", \"-\" and \"/\" (got "
            . quoteForMessage($value) . ')'
        );
    }
    return $value;
}

/** A file the entrypoint (and Apache, reading it as the same user) can read. */
function readableFile(array $env, string $name): string
{
    $path = validatePath($name, (string) ($env[$name] ?? ''));
    if (!is_readable($path)) {
        throw new ConfigError("$name names no readable file (got " . quoteForMessage($path) . ')');
    }
    return $path;
}

/**
 * Whether the file's first certificate (the server's) names an OCSP responder (Authority
 * Information Access, "OCSP - URI"). Only then is there anything to staple: without one mod_ssl
 * logs AH02218 and AH02604 at level error on every start (ssl_stapling_init_cert) and staples
 * nothing, so stapling is left off instead.
 */
function namesOcspResponder(string $file): bool
{
    try {
        $certificate = openssl_x509_parse((string) file_get_contents($file));
    } catch (ErrorException $error) {
        $certificate = false;
    }
    if ($certificate === false) {
        throw new ConfigError(
            'TLS_CERTIFICATE_FILE holds no PEM certificate (got ' . quoteForMessage($file) . ')'
        );
    }
    $access = $certificate['extensions']['authorityInfoAccess'] ?? '';
    return is_string($access) && str_contains($access, 'OCSP - URI:');
}

/**
 * The TLS settings, validated, or null when TLS is off.
 *
 * @param array<string, string> $env the environment (getenv())
 * @return null|array{mode: string, publicPort: int, certificateFile?: string, privateKeyFile?: string,
 *   ocspStapling?: bool, domains?: list<string>, email?: string, directoryUrl?: string, caRootFile?: null|string,
 *   storeDir?: string, checkInterval?: int}
 */
function readTlsSettings(array $env): ?array
{
    $mode = $env['TLS_MODE'] ?? '';
    if ($mode === '' || $mode === 'off') {
        return null;
    }
    if ($mode !== 'given' && $mode !== 'acme') {
        throw new ConfigError('TLS_MODE must be off, given or acme (got ' . quoteForMessage($mode) . ')');
    }
    $port = $env['TLS_PUBLIC_PORT'] ?? '';
    if (preg_match('/^[1-9][0-9]{0,4}$/D', $port) !== 1 || (int) $port > 65535) {
        throw new ConfigError(
            'TLS_PUBLIC_PORT must be the HTTPS port clients use, 1-65535 (got ' . quoteForMessage($port) . ')'
        );
    }
    $settings = ['mode' => $mode, 'publicPort' => (int) $port];
    if ($mode === 'given') {
        $settings['certificateFile'] = readableFile($env, 'TLS_CERTIFICATE_FILE');
        $settings['privateKeyFile'] = readableFile($env, 'TLS_PRIVATE_KEY_FILE');
        $settings['ocspStapling'] = namesOcspResponder($settings['certificateFile']);
        return $settings;
    }

    $domains = preg_split('/\s+/', trim($env['ACME_DOMAINS'] ?? ''), -1, PREG_SPLIT_NO_EMPTY);
    if ($domains === false || $domains === []) {
        throw new ConfigError('ACME_DOMAINS must name at least one domain, e.g. www.example.org');
    }
    foreach ($domains as $domain) {
        if (!isHostname($domain) || strpos($domain, '.') === false) {
            throw new ConfigError('ACME_DOMAINS: ' . quoteForMessage($domain) . ' is not a DNS name');
        }
    }
    $email = $env['ACME_EMAIL'] ?? '';
    if (preg_match('/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/D', $email) !== 1) {
        throw new ConfigError('ACME_EMAIL must be an email address (got ' . quoteForMessage($email) . ')');
    }
    $url = $env['ACME_DIRECTORY_URL'] ?? '';
    if (preg_match('#^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/%-]*)?$#D', $url) !== 1) {
        throw new ConfigError(
            'ACME_DIRECTORY_URL must be an https:// URL (got ' . quoteForMessage($url) . ')'
        );
    }
    $settings['domains'] = $domains;
    $settings['email'] = $email;
    $settings['directoryUrl'] = $url;
    $settings['caRootFile'] = ($env['ACME_CA_ROOT_FILE'] ?? '') === ''
        ? null : readableFile($env, 'ACME_CA_ROOT_FILE');
    $interval = optionalValue($env, 'ACME_CHECK_INTERVAL', '43200');
    if (preg_match('/^[1-9][0-9]{0,4}$/D', $interval) !== 1 || (int) $interval > 86400) {
        throw new ConfigError(
            'ACME_CHECK_INTERVAL must be a number of seconds from 1 to 86400 (got '
            . quoteForMessage($interval) . ')'
        );
    }
    $settings['checkInterval'] = (int) $interval;
    $settings['storeDir'] = validatePath(
        'ACME_STORE_DIR',
        optionalValue($env, 'ACME_STORE_DIR', DEFAULT_ACME_STORE_DIR)
    );
    return $settings;
}

/**
 * Server-wide TLS: the modules (loaded here, not by a2enmod, so an image with TLS off loads none
 * of them and Debian's ports.conf, read before this file, never opens 443), the port, the
 * Mozilla profile, and for ACME mod_md's settings.
 */
function renderTlsServerConfig(array $tls): void
{
    $modules = [
        'socache_shmcb_module' => 'mod_socache_shmcb.so',
        'ssl_module' => 'mod_ssl.so',
        'http2_module' => 'mod_http2.so',
    ];
    if ($tls['mode'] === 'acme') {
        // mod_md needs mod_watchdog, which Debian compiles into apache2 (see the Dockerfile).
        $modules['md_module'] = 'mod_md.so';
    }
    echo "# TLS modules, loaded only when TLS is on.\n";
    foreach ($modules as $module => $file) {
        printf("<IfModule !%s>\n    LoadModule %s /usr/lib/apache2/modules/%s\n</IfModule>\n", $module, $module, $file);
    }
    printf("Listen %d https\n", TLS_LISTEN_PORT);
    echo "Include /etc/apache2/tls-profile/mozilla-intermediate.conf\n";
    if ($tls['mode'] !== 'acme') {
        return;
    }
    ?>

# mod_md: the ACME client. It orders the certificate in the background (the vhost serves a
# temporary self-signed one until then), stores it in MDStoreDir (a volume: a new container
# finds it there and orders nothing), and renews it when a third of its life is left.
# https://httpd.apache.org/docs/2.4/mod/mod_md.html
MDStoreDir "<?= $tls['storeDir'] ?>"
MDCertificateAuthority <?= $tls['directoryUrl'], "\n" ?>
MDContactEmail <?= $tls['email'], "\n" ?>
MDCertificateAgreement accepted
<?php if ($tls['caRootFile'] !== null): ?>
# The private ACME server's HTTPS is signed by this root (ACME_CA_ROOT_FILE).
MDCACertificateFile "<?= $tls['caRootFile'] ?>"
<?php endif; ?>
# http-01 only: the challenge is answered on the plain HTTP vhost. The CA asks port 80, which
# the host maps to the port Apache listens on here (8080). With the challenges named, mod_md
# uses them without looking at which ports Apache listens on (apache/httpd,
# modules/md/md_acme_drive.c, acme_driver_init: the reachability filter applies only when it is
# "free to chose"), so no MDPortMap is needed; the ACME suite passes without one.
MDCAChallenges http-01
# The vhost's other names (SERVER_NAME) are not ours to certify.
MDMembers manual
MDRenewWindow 33%
# How often mod_md looks whether a renewal is due (it adds up to half of it either way).
# https://httpd.apache.org/docs/2.4/mod/mod_md.html#mdcheckinterval
MDCheckInterval <?= $tls['checkInterval'] ?>s
# OCSP stapling by mod_md, where the CA's certificates name a responder.
MDStapling on
# A renewed certificate is only staged; a graceful restart makes it live. mod_md runs this
# command on each event; on "renewed" it asks Apache's parent for a graceful restart (SIGUSR1),
# which finishes the requests in flight (no dropped request).
# https://httpd.apache.org/docs/2.4/mod/mod_md.html#mdmessagecmd
MDMessageCmd /usr/local/bin/md-message
MDomain <?= implode(' ', $tls['domains']), "\n" ?>
<?php
}

/**
 * The plain HTTP vhost with TLS on: health, ACME challenges, and a redirect for everything else.
 * $configId (PROXY_CONFIG_ID) goes on /proxy-healthz as on the TLS off vhost: a swarm deploy's
 * checks ask there, over plain HTTP.
 */
function renderHttpRedirectVhost(array $tls, string $serverName, ?string $configId): void
{
    $port = $tls['publicPort'] === 443 ? '' : ':' . $tls['publicPort'];
    ?>
<VirtualHost *:<?= HTTP_LISTEN_PORT ?>>
    ServerName <?= $serverName, "\n" ?>
    ErrorLog /dev/stderr
    SetEnvIf Request_URI "^/proxy-healthz$" proxy_healthcheck
    CustomLog /dev/stdout combined env=!proxy_healthcheck

    # Docker's health check asks over plain HTTP inside the container.
    Alias "/proxy-healthz" "/var/www/proxy/healthz.txt"
    <Directory "/var/www/proxy">
        Require all granted
    </Directory>
    <Location "/proxy-healthz">
        Header always set Cache-Control "no-store"
<?php if ($configId !== null): ?>
        # Which configuration this proxy runs: a deploy waits until it reads the one it rolled out.
        Header always set X-Proxy-Config "<?= $configId ?>"
<?php endif; ?>
    </Location>

    # The balancer-manager's password must never cross the wire in clear: refused here, without a
    # redirect (a client that followed one would already have sent its credentials).
    Redirect 403 "/balancer-manager"

    # Everything else moves to HTTPS, except the ACME http-01 challenges (mod_md answers those
    # before this rule is reached; excluded anyway, so no challenge is ever redirected).
    RewriteEngine On
    RewriteCond "%{REQUEST_URI}" "!^/\.well-known/acme-challenge/"
    RewriteCond "%{REQUEST_URI}" "!^/proxy-healthz$"
    RewriteCond "%{REQUEST_URI}" "!^/balancer-manager"
    # The client's host without its port, and the public HTTPS port.
    RewriteCond "%{HTTP_HOST}" "^(\[[0-9A-Fa-f:.]+\]|[^:]+)(:[0-9]+)?$"
    RewriteRule "^/(.*)$" "https://%1<?= $port ?>/$1" [R=301,L,NE]
    # A request without a usable Host: the server's own name.
    RewriteCond "%{REQUEST_URI}" "!^/\.well-known/acme-challenge/"
    RewriteCond "%{REQUEST_URI}" "!^/proxy-healthz$"
    RewriteCond "%{REQUEST_URI}" "!^/balancer-manager"
    RewriteRule "^/(.*)$" "https://<?= $serverName, $port ?>/$1" [R=301,L,NE]
</VirtualHost>

<?php
}

/** The first lines of the TLS vhost: certificate, HTTP/2, HSTS. */
function renderTlsVhostDirectives(array $tls): void
{
    ?>
    # HTTP/2 first, HTTP/1.1 for clients without it (mod_http2 works with mpm_worker).
    # https://httpd.apache.org/docs/2.4/mod/mod_http2.html
    Protocols h2 http/1.1
    SSLEngine on
<?php if ($tls['mode'] === 'given'): ?>
    SSLCertificateFile "<?= $tls['certificateFile'] ?>"
    SSLCertificateKeyFile "<?= $tls['privateKeyFile'] ?>"
<?php if ($tls['ocspStapling']): ?>
    # OCSP stapling: the certificate names a responder, whose answer goes with the handshake.
    SSLUseStapling On
<?php else: ?>
    # No OCSP stapling: the certificate names no OCSP responder, so there is nothing to staple.
<?php endif; ?>
<?php else: ?>
    # The certificate is mod_md's (MDomain above): no SSLCertificateFile.
    ServerAlias <?= implode(' ', $tls['domains']), "\n" ?>
<?php endif; ?>
    # BREACH: compressed HTTPS responses that reflect request input can leak secrets byte by byte.
    # The backends compress when asked (mod_deflate on the static site), so the proxy doesn't ask:
    # answers over HTTPS go out uncompressed (more bytes on the wire, no compression oracle).
    # https://www.breachattack.com/#mitigations
    RequestHeader unset Accept-Encoding early
    # HSTS: two years, what Mozilla's intermediate profile sets. Sent over HTTPS only.
    # https://ssl-config.mozilla.org/
    Header always set Strict-Transport-Security "max-age=63072000"
<?php
}
