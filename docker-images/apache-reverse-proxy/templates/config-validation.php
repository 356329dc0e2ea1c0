<?php
/*
 * Reads and validates the reverse proxy's environment for config-template.php.
 *
 * Everything that ends up in the Apache config is checked against a strict pattern *before*
 * anything is rendered: a value such as `10.0.0.5:3000" route=9` or one with a newline would
 * otherwise inject directives into the vhost. Errors name the variable and the rule, e.g.
 *   DYNAMIC_APP_2 must be host:port with port 1-65535 (got "10.0.0.5:99999")
 */

declare(strict_types=1);

/** A missing or invalid environment variable; the message names it and is safe to print. */
final class ConfigError extends RuntimeException
{
}

const DEFAULT_SERVER_NAME = 'demo.res.ch';
const DEFAULT_BALANCER_MANAGER_USER = 'admin';
const DEFAULT_HTPASSWD_FILE = '/etc/apache2/balancer-manager.htpasswd';

/**
 * A value quoted for an error message: JSON escaping makes quotes, newlines and control
 * characters visible (and harmless in a terminal or log), and long values are cut.
 */
function quoteForMessage(string $value): string
{
    $limit = 80;
    $shown = strlen($value) > $limit ? substr($value, 0, $limit) : $value;
    $quoted = json_encode($shown, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
    return strlen($value) > $limit ? $quoted . '...' : (string) $quoted;
}

/**
 * A DNS hostname per RFC 1123 section 2.1: dot-separated labels of 1-63 letters, digits and
 * hyphens, not starting or ending with a hyphen, 253 characters at most. A name whose last label
 * is all digits is not a hostname (RFC 3696 section 2): it is a (possibly invalid) IPv4 address.
 */
function isHostname(string $value): bool
{
    if ($value === '' || strlen($value) > 253) {
        return false;
    }
    $labels = explode('.', $value);
    foreach ($labels as $label) {
        if (preg_match('/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/D', $label) !== 1) {
            return false;
        }
    }
    return preg_match('/^[0-9]+$/D', end($labels)) !== 1;
}

function isIpv4(string $value): bool
{
    // filter_var rejects leading zeros ("010.0.0.1"), which some parsers read as octal.
    return filter_var($value, FILTER_VALIDATE_IP, FILTER_FLAG_IPV4) !== false;
}

function isIpv6(string $value): bool
{
    // Zone ids ("fe80::1%eth0") are rejected: they mean nothing across a Docker network.
    return filter_var($value, FILTER_VALIDATE_IP, FILTER_FLAG_IPV6) !== false;
}

/**
 * A backend address `host:port`: a DNS hostname, an IPv4 address or a bracketed IPv6 address,
 * then a port from 1 to 65535. Nothing else: no scheme, path, spaces, quotes or newlines.
 * Returns the address unchanged, ready to go after "http://" in a BalancerMember line.
 */
function validateAddress(string $name, string $value): string
{
    $got = ' (got ' . quoteForMessage($value) . ')';
    if (str_contains($value, '://')) {
        throw new ConfigError("$name must be host:port without a scheme such as http://$got");
    }
    if (str_contains($value, '/')) {
        throw new ConfigError("$name must be host:port without a path$got");
    }
    // The /D modifier: without it "$" also matches before a trailing newline.
    if (preg_match('/^(?:\[(?<ipv6>[^\[\]]*)\]|(?<host>[^\[\]:]*)):(?<port>[^:]*)$/D', $value, $m) !== 1) {
        if (substr_count($value, ':') > 1 && !str_contains($value, '[')) {
            throw new ConfigError(
                "$name must be host:port; an IPv6 address goes in brackets, e.g. [fd00::5]:3000$got"
            );
        }
        throw new ConfigError("$name must be host:port, e.g. 10.0.0.5:3000 or web-1:80$got");
    }
    $port = $m['port'];
    if (preg_match('/^[1-9][0-9]{0,4}$/D', $port) !== 1 || (int) $port > 65535) {
        throw new ConfigError("$name must be host:port with port 1-65535$got");
    }
    $ipv6 = $m['ipv6'] ?? '';
    $host = $m['host'] ?? '';
    $validHost = $ipv6 !== '' ? isIpv6($ipv6) : isHostname($host) || isIpv4($host);
    if (!$validHost) {
        throw new ConfigError(
            "$name must be host:port where host is a DNS hostname, an IPv4 address"
            . " or a [bracketed] IPv6 address$got"
        );
    }
    return $value;
}

/** An optional variable: unset and empty both mean "use the default" (like ${VAR:-default}). */
function optionalValue(array $env, string $name, string $default): string
{
    $value = $env[$name] ?? '';
    return $value === '' ? $default : $value;
}

/**
 * The members PREFIX_1, PREFIX_2, ... taken until the next number is missing; at least one is
 * required. Any other PREFIX_<n> variable (a gap such as STATIC_APP_1 + STATIC_APP_3, or
 * STATIC_APP_0) is an error rather than silently dropped: a backend that was meant to be in the
 * pool would otherwise never get traffic, with nothing in the logs to say why.
 *
 * @param array<string, string> $env the environment (getenv())
 * @return list<string> the validated addresses, member 1 first
 */
function readMembers(array $env, string $prefix, string $description, string $example): array
{
    $members = [];
    for ($number = 1; array_key_exists("{$prefix}_{$number}", $env); $number++) {
        $members[] = validateAddress("{$prefix}_{$number}", (string) $env["{$prefix}_{$number}"]);
    }
    if ($members === []) {
        throw new ConfigError(
            "{$prefix}_1 is required: host:port of the first $description backend, e.g. $example"
        );
    }
    $next = "{$prefix}_" . (count($members) + 1);
    $rule = "members are numbered {$prefix}_1, {$prefix}_2, ... without gaps";
    foreach (array_keys($env) as $name) {
        $name = (string) $name;
        if (preg_match('/^' . preg_quote($prefix, '/') . '_([0-9]+)$/D', $name, $m) !== 1) {
            continue;
        }
        $number = $m[1];
        if (preg_match('/^[1-9][0-9]*$/D', $number) !== 1) {
            throw new ConfigError("$name is not a member number: $rule");
        }
        if ((int) $number > count($members)) {
            throw new ConfigError("$name is set but $next is missing: $rule");
        }
    }
    return $members;
}

/**
 * Everything config-template.php needs, validated.
 *
 * @param array<string, string> $env the environment (getenv())
 * @return array{
 *   serverName: string,
 *   staticMembers: list<string>,
 *   dynamicMembers: list<string>,
 *   balancerManager: null|array{user: string, htpasswdFile: string},
 *   memberConnections: 'pooled'|'per-request',
 *   configId: null|string
 * }
 */
function readProxySettings(array $env): array
{
    $serverName = optionalValue($env, 'SERVER_NAME', DEFAULT_SERVER_NAME);
    if (!isHostname($serverName)) {
        throw new ConfigError(
            'SERVER_NAME must be a DNS hostname such as demo.res.ch (got ' . quoteForMessage($serverName) . ')'
        );
    }

    $staticMembers = readMembers($env, 'STATIC_APP', 'static', '10.0.0.2:80');
    $dynamicMembers = readMembers($env, 'DYNAMIC_APP', 'dynamic', '10.0.0.4:3000');

    // Checked even while the manager is off: a bad value is a configuration mistake either way.
    // No ":" (the htpasswd separator) and nothing a shell or a log could misread.
    $user = optionalValue($env, 'BALANCER_MANAGER_USER', DEFAULT_BALANCER_MANAGER_USER);
    if (preg_match('/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/D', $user) !== 1) {
        throw new ConfigError(
            'BALANCER_MANAGER_USER must be 1-64 letters, digits, ".", "_" or "-", starting with a letter'
            . ' or digit (got ' . quoteForMessage($user) . ')'
        );
    }

    // The manager can drain and re-weight members: it is only served behind a password.
    $balancerManager = null;
    $password = $env['BALANCER_MANAGER_PASSWORD'] ?? '';
    if ($password !== '') {
        // The password itself never appears in a message.
        if (preg_match('/[\x00-\x1f\x7f]/', $password) === 1) {
            throw new ConfigError(
                'BALANCER_MANAGER_PASSWORD must not contain newlines or other control characters'
            );
        }
        if (strlen($password) > 72) {
            // bcrypt (htpasswd -B) ignores everything after the 72nd byte.
            throw new ConfigError(
                'BALANCER_MANAGER_PASSWORD must be at most 72 bytes long (bcrypt ignores the rest)'
            );
        }
        // Set by apache2-foreground, which writes the file; not meant to be set by users.
        $htpasswdFile = optionalValue($env, 'BALANCER_MANAGER_HTPASSWD_FILE', DEFAULT_HTPASSWD_FILE);
        if (preg_match('#^/[A-Za-z0-9._/-]+$#D', $htpasswdFile) !== 1) {
            throw new ConfigError(
                'BALANCER_MANAGER_HTPASSWD_FILE must be an absolute path of letters, digits, ".", "_", "-"'
                . ' and "/" (got ' . quoteForMessage($htpasswdFile) . ')'
            );
        }
        $balancerManager = ['user' => $user, 'htpasswdFile' => $htpasswdFile];
    }

    // How the proxy connects to its members: `pooled` (the default) keeps connections open and
    // reuses them; `per-request` opens one for each request, for members that can vanish with
    // their host (Swarm services on a node that dies): see config-template.php.
    $memberConnections = optionalValue($env, 'BALANCER_MEMBER_CONNECTIONS', 'pooled');
    if (!in_array($memberConnections, ['pooled', 'per-request'], true)) {
        throw new ConfigError(
            'BALANCER_MEMBER_CONNECTIONS must be "pooled" or "per-request" (got '
            . quoteForMessage($memberConnections) . ')'
        );
    }

    // An opaque name of this configuration, echoed on /proxy-healthz (X-Proxy-Config) so that a
    // deploy can tell when a proxy runs it (Swarm mode: the node's id and a digest of the rest).
    $configId = $env['PROXY_CONFIG_ID'] ?? '';
    if ($configId !== '' && preg_match('/^[A-Za-z0-9._-]{1,200}$/D', $configId) !== 1) {
        throw new ConfigError(
            'PROXY_CONFIG_ID must be 1-200 letters, digits, ".", "_" or "-" (got '
            . quoteForMessage($configId) . ')'
        );
    }

    return [
        'serverName' => $serverName,
        'staticMembers' => $staticMembers,
        'dynamicMembers' => $dynamicMembers,
        'balancerManager' => $balancerManager,
        'memberConnections' => $memberConnections,
        'configId' => $configId === '' ? null : $configId,
    ];
}
