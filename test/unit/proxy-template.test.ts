// The reverse proxy's vhost template (docker-images/apache-reverse-proxy/templates/config-template.php),
// rendered with the php CLI exactly as the image's entrypoint does, for a range of environments.
// Apache itself is not needed: the rendered text is checked directive by directive.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { phpVersion, runPhp, type PhpResult } from "../support/php";
import { createTestCa, type IssuedCertificate } from "../support/testCa";

const TEMPLATE = path.resolve(
  __dirname,
  "../../docker-images/apache-reverse-proxy/templates/config-template.php",
);

// Without php these tests can't run. A developer without php gets a warning and skipped tests;
// CI must never report green because nothing ran.
const php = phpVersion();
const inCi = ["", "0", "false"].includes((process.env.CI ?? "").toLowerCase()) === false;
if (!php && !inCi) {
  console.warn(
    "proxy-template.test.ts: no `php` on PATH, skipping the proxy template tests " +
      "(install php-cli to run them; with CI=true they fail instead)",
  );
}
const describeWithPhp = php || inCi ? describe : describe.skip;

type Env = Record<string, string>;

const staticAddress = (n: number) => `10.0.1.${n}:80`;
const dynamicAddress = (n: number) => `10.0.2.${n}:3000`;
const numbers = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

/** STATIC_APP_1..n and DYNAMIC_APP_1..m with distinct addresses, plus `extra`. */
function proxyEnv(staticCount: number, dynamicCount: number, extra: Env = {}): Env {
  const env: Env = {};
  for (const n of numbers(staticCount)) env[`STATIC_APP_${n}`] = staticAddress(n);
  for (const n of numbers(dynamicCount)) env[`DYNAMIC_APP_${n}`] = dynamicAddress(n);
  return { ...env, ...extra };
}

function describeRun(result: PhpResult): string {
  return `exit ${result.status}\n--- stderr:\n${result.stderr}\n--- stdout:\n${result.stdout}`;
}

/** The rendered vhost; fails the test (showing stderr) unless php succeeded silently. */
function render(env: Env): string {
  const result = runPhp(TEMPLATE, env);
  expect(result.status, describeRun(result)).toBe(0);
  expect(result.stderr, describeRun(result)).toBe("");
  return result.stdout;
}

/** The config without comment lines, so explanations can't satisfy or break an assertion. */
function directives(config: string): string {
  return config
    .split("\n")
    .filter((line) => !line.trim().startsWith("#"))
    .join("\n");
}

/** The directives between `<tag "arg">` and its closing tag (sections here are not nested). */
function section(config: string, tag: string, arg: string): string {
  const lines = directives(config).split("\n");
  const start = lines.findIndex((line) => line.trim() === `<${tag} "${arg}">`);
  expect(start, `<${tag} "${arg}"> in\n${config}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && line.trim() === `</${tag}>`);
  expect(end, `</${tag}> after <${tag} "${arg}">`).toBeGreaterThan(start);
  return lines.slice(start + 1, end).join("\n");
}

interface Member {
  address: string;
  options: string[];
}

function balancerMembers(proxySection: string): Member[] {
  return [...proxySection.matchAll(/^\s*BalancerMember\s+"http:\/\/([^"]+)"(.*)$/gm)].map((m) => ({
    address: m[1],
    options: m[2].trim().split(/\s+/),
  }));
}

/** The ProxyPass directives in order, as [path, target]. */
function proxyPasses(config: string): [string, string][] {
  return [...directives(config).matchAll(/^\s*ProxyPass\s+"([^"]+)"\s+(\S+)\s*$/gm)].map((m) => [
    m[1],
    m[2],
  ]);
}

describeWithPhp("proxy vhost template", () => {
  if (inCi) {
    it("php-cli is on PATH (CI=true: the template tests must run, not skip)", () => {
      expect(php, "install php-cli (the `php` command) on the CI runner").toBeDefined();
    });
  }

  describe.each([1, 2, 5])("with %i member(s) of each kind", (count) => {
    it("lists every dynamic member in order with route=1..N", () => {
      const members = balancerMembers(
        section(render(proxyEnv(count, count)), "Proxy", "balancer://dynamic"),
      );
      expect(members.map((m) => m.address)).toEqual(numbers(count).map(dynamicAddress));
      members.forEach((member, i) => {
        expect(
          member.options.filter((o) => o.startsWith("route=")),
          member.address,
        ).toEqual([`route=${i + 1}`]);
      });
    });

    it("lists every static member in order, without a route", () => {
      const members = balancerMembers(
        section(render(proxyEnv(count, count)), "Proxy", "balancer://static"),
      );
      expect(members.map((m) => m.address)).toEqual(numbers(count).map(staticAddress));
      for (const member of members) {
        expect(
          member.options.some((o) => o.startsWith("route=")),
          member.address,
        ).toBe(false);
      }
    });

    it("a different number of static and dynamic members is fine", () => {
      const config = render(proxyEnv(count, count === 1 ? 3 : 1));
      expect(balancerMembers(section(config, "Proxy", "balancer://static"))).toHaveLength(count);
      expect(balancerMembers(section(config, "Proxy", "balancer://dynamic"))).toHaveLength(
        count === 1 ? 3 : 1,
      );
    });
  });

  it("dynamic members are sticky on ROUTEID, balanced by request count", () => {
    const dynamic = section(render(proxyEnv(2, 2)), "Proxy", "balancer://dynamic");
    expect(dynamic).toMatch(/^\s*ProxySet stickysession=ROUTEID lbmethod=byrequests\s*$/m);
  });

  it("new sessions have a balancer of their own, with the same members, routes and options", () => {
    const config = render(proxyEnv(2, 3));
    const sticky = section(config, "Proxy", "balancer://dynamic");
    const fresh = section(config, "Proxy", "balancer://dynamic-new");
    // Same routes: a cookie set by either balancer is understood by the other.
    expect(fresh).toBe(sticky);
    expect(balancerMembers(fresh)).toHaveLength(3);
  });

  it("only requests without a ROUTEID cookie go to balancer://dynamic-new", () => {
    const config = directives(render(proxyEnv(2, 2)));
    const rule =
      /RewriteCond "%\{HTTP_COOKIE\}" "(.*)"\n\s*RewriteRule "\^\/api\/animals\/\(\.\*\)\$" "balancer:\/\/dynamic-new\/\$1" \[P\]/;
    const match = rule.exec(config);
    expect(
      match,
      "a cookie condition right before the rewrite to balancer://dynamic-new",
    ).not.toBeNull();
    expect(config).toMatch(/^\s*RewriteEngine On$/m);
    // The condition, negated, as Apache's PCRE reads it (the same syntax in JavaScript here).
    const hasRoute = new RegExp(match![1].replace(/^!/, ""));
    expect(match![1].startsWith("!"), "the rule applies when the cookie is absent").toBe(true);
    for (const header of ["ROUTEID=.1", "a=b; ROUTEID=.2", "a=b;ROUTEID=.2"]) {
      expect(hasRoute.test(header), header).toBe(true);
    }
    for (const header of ["", "a=b", "XROUTEID=.1", "ROUTEID=", "MYROUTEID=.1; a=b"]) {
      expect(hasRoute.test(header), header).toBe(false);
    }
  });

  it("static members are not sticky: stickysession appears only in the dynamic balancer", () => {
    const config = render(proxyEnv(2, 2));
    expect(section(config, "Proxy", "balancer://static")).toMatch(
      /^\s*ProxySet lbmethod=byrequests\s*$/m,
    );
    expect(section(config, "Proxy", "balancer://static")).not.toContain("stickysession");
    // balancer://dynamic and balancer://dynamic-new, nowhere else.
    expect(directives(config).match(/stickysession/g)).toHaveLength(2);
  });

  it("the ROUTEID cookie is set only on /api/animals/, only when the route changes, Path=/ HttpOnly SameSite=Lax", () => {
    const config = render(proxyEnv(2, 2));
    const cookieLine =
      'Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; Path=/; HttpOnly; SameSite=Lax" env=BALANCER_ROUTE_CHANGED';
    expect(section(config, "Location", "/api/animals/")).toContain(cookieLine);
    // Nowhere else: static responses must never carry a ROUTEID cookie.
    expect(directives(config).match(/Set-Cookie/g)).toHaveLength(1);
  });

  it("/api/animals/ responses carry the route in X-Balancer-Route (page scripts can't read the HttpOnly cookie)", () => {
    const apiLocation = section(render(proxyEnv(1, 2)), "Location", "/api/animals/");
    expect(apiLocation).toContain(
      'Header set X-Balancer-Route "%{BALANCER_WORKER_ROUTE}e" env=BALANCER_WORKER_ROUTE',
    );
  });

  it("every member fails fast, drops idle pooled connections before the backends do, and is health-checked on /healthz", () => {
    const config = render(proxyEnv(2, 3));
    const members = [
      ...balancerMembers(section(config, "Proxy", "balancer://static")),
      ...balancerMembers(section(config, "Proxy", "balancer://dynamic")),
    ];
    expect(members).toHaveLength(5);
    for (const member of members) {
      expect(member.options, member.address).toEqual(
        expect.arrayContaining([
          "connectiontimeout=1",
          "retry=5",
          "timeout=10",
          // under the backends' 65 s keep-alive timeout
          "ttl=30",
          "keepalive=On",
          "hcmethod=GET",
          "hcuri=/healthz",
          "hcinterval=2",
          // a busy member leaves rotation at its 3rd failed check (counted cumulatively, not in a
          // row: mod_proxy_hcheck.c hc_check), and returns at its 2nd passing one
          "hcfails=3",
          "hcpasses=2",
        ]),
      );
    }
  });

  it("BALANCER_MEMBER_CONNECTIONS=per-request opens a connection per request and keeps each address until a connect fails; pooled by default", () => {
    const membersOf = (config: string) => [
      ...balancerMembers(section(config, "Proxy", "balancer://static")),
      ...balancerMembers(section(config, "Proxy", "balancer://dynamic")),
      ...balancerMembers(section(config, "Proxy", "balancer://dynamic-new")),
    ];
    const byName = proxyEnv(1, 1, {
      STATIC_APP_1: "http-infra-dev-static-1:80",
      DYNAMIC_APP_1: "http-infra-dev-dynamic-1:3000",
      BALANCER_MEMBER_CONNECTIONS: "per-request",
    });
    for (const member of membersOf(render(byName))) {
      // addressttl=-1 with it: disablereuse alone would look the name up on every request, and
      // a name without an address is a 500 that never fails over.
      expect(member.options, member.address).toEqual(
        expect.arrayContaining(["disablereuse=On", "addressttl=-1"]),
      );
      // The last value of a parameter wins: a lost member is retried by requests once a minute.
      expect(member.options.filter((o) => o.startsWith("retry=")).at(-1), member.address).toBe(
        "retry=60",
      );
    }
    for (const env of [proxyEnv(1, 1), proxyEnv(1, 1, { BALANCER_MEMBER_CONNECTIONS: "pooled" })]) {
      for (const member of membersOf(render(env))) {
        expect(member.options.join(" "), member.address).not.toMatch(/addressttl|disablereuse/);
        expect(
          member.options.filter((o) => o.startsWith("retry=")),
          member.address,
        ).toEqual(["retry=5"]);
      }
    }
  });

  it("/proxy-healthz reports PROXY_CONFIG_ID in X-Proxy-Config, and only when it is set", () => {
    const location = (env: Env) => section(render(env), "Location", "/proxy-healthz");
    expect(location(proxyEnv(1, 1, { PROXY_CONFIG_ID: "nodeid1-0123abcd" }))).toContain(
      'Header always set X-Proxy-Config "nodeid1-0123abcd"',
    );
    expect(location(proxyEnv(1, 1))).not.toContain("X-Proxy-Config");
  });

  describe("with TLS given", () => {
    const ca = createTestCa();
    const dir = mkdtempSync(path.join(tmpdir(), "proxy-template-tls-"));
    let files = 0;
    const write = (name: string, content: string) => {
      const file = path.join(dir, `${++files}-${name}`);
      writeFileSync(file, content);
      return file;
    };
    const plain = ca.issue({ names: ["demo.res.ch"] });
    const withResponder = ca.issue({
      names: ["demo.res.ch"],
      ocspUrl: "http://ocsp.http-infra.invalid/",
    });
    const tlsEnv = (certificate: IssuedCertificate, extra: Env = {}) =>
      proxyEnv(1, 1, {
        TLS_MODE: "given",
        TLS_PUBLIC_PORT: "8443",
        TLS_CERTIFICATE_FILE: write("chain.pem", certificate.chain),
        TLS_PRIVATE_KEY_FILE: write("key.pem", certificate.privateKey),
        ...extra,
      });
    afterAll(() => {
      ca.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it("the plain HTTP vhost's /proxy-healthz reports PROXY_CONFIG_ID too (a swarm's checks ask there)", () => {
      const plainVhost = (env: Env) => {
        const config = render(env);
        return config.slice(
          config.indexOf("<VirtualHost *:8080>"),
          config.indexOf("</VirtualHost>"),
        );
      };
      const withId = plainVhost(tlsEnv(plain, { PROXY_CONFIG_ID: "nodeid1-0123abcd" }));
      expect(withId).toContain("RewriteRule");
      expect(section(withId, "Location", "/proxy-healthz")).toContain(
        'Header always set X-Proxy-Config "nodeid1-0123abcd"',
      );
      expect(plainVhost(tlsEnv(plain))).not.toContain("X-Proxy-Config");
    });

    it("staples OCSP only when the certificate names a responder (else mod_ssl logs errors at every start)", () => {
      expect(directives(render(tlsEnv(withResponder)))).toMatch(/^\s*SSLUseStapling On$/m);
      expect(directives(render(tlsEnv(plain)))).not.toContain("SSLUseStapling");
    });

    it("refuses a certificate file that holds no certificate, naming the variable", () => {
      const result = runPhp(
        TEMPLATE,
        tlsEnv(plain, { TLS_CERTIFICATE_FILE: write("not-a-certificate.pem", "hello") }),
      );
      expect(result.status).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^TLS_CERTIFICATE_FILE holds no PEM certificate/);
    });
  });

  it("static members hold at most 128 pooled connections (under the static backends' 150 workers), dynamic ones are not capped", () => {
    const config = render(proxyEnv(2, 3));
    for (const member of balancerMembers(section(config, "Proxy", "balancer://static"))) {
      expect(
        member.options.filter((o) => o.startsWith("max=")),
        member.address,
      ).toEqual(["max=128"]);
    }
    for (const member of balancerMembers(section(config, "Proxy", "balancer://dynamic"))) {
      expect(
        member.options.filter((o) => o.startsWith("max=")),
        member.address,
      ).toEqual([]);
    }
  });

  it("fails closed: each member's health check expects its own role in the /healthz answer", () => {
    const config = directives(render(proxyEnv(2, 3)));
    const expressions = Object.fromEntries(
      [...config.matchAll(/^\s*ProxyHCExpr\s+(\S+)\s+\{(.*)\}\s*$/gm)].map((m) => [m[1], m[2]]),
    );
    const roleOf = (member: Member) =>
      member.options.find((option) => option.startsWith("hcexpr="))?.slice("hcexpr=".length);
    for (const [balancer, role] of [
      ["balancer://static", "static"],
      ["balancer://dynamic", "dynamic"],
    ]) {
      for (const member of balancerMembers(section(render(proxyEnv(2, 3)), "Proxy", balancer))) {
        const name = roleOf(member);
        expect(name, `${balancer} member ${member.address} has an hcexpr`).toBeDefined();
        // A 200 alone is not enough: any web server at the address would pass.
        expect(expressions[name!], `ProxyHCExpr ${name}`).toContain("%{REQUEST_STATUS} -eq 200");
        expect(expressions[name!], `ProxyHCExpr ${name}`).toContain(
          `hc('body') =~ /"role":"${role}"/`,
        );
      }
    }
  });

  it("fails closed by name: a member found by name must answer /healthz as that name (X-Served-By), one expression each", () => {
    const env = proxyEnv(2, 2, {
      STATIC_APP_1: "http-infra-dev-static-1:80",
      STATIC_APP_2: "http-infra-dev-static-2:80",
      DYNAMIC_APP_1: "http-infra-dev-dynamic-1:3000",
      DYNAMIC_APP_2: "http-infra-dev-dynamic-2:3000",
    });
    const config = directives(render(env));
    const expressions = Object.fromEntries(
      [...config.matchAll(/^\s*ProxyHCExpr\s+(\S+)\s+\{(.*)\}\s*$/gm)].map((m) => [m[1], m[2]]),
    );
    const expressionOf = (member: Member) => {
      const name = member.options.find((o) => o.startsWith("hcexpr="))?.slice("hcexpr=".length);
      expect(name, `${member.address} has an hcexpr`).toBeDefined();
      return expressions[name!];
    };
    for (const [balancer, role] of [
      ["balancer://static", "static"],
      ["balancer://dynamic", "dynamic"],
      ["balancer://dynamic-new", "dynamic"],
    ]) {
      for (const member of balancerMembers(section(config, "Proxy", balancer))) {
        const host = member.address.slice(0, member.address.lastIndexOf(":"));
        const expression = expressionOf(member);
        expect(expression, member.address).toContain(`hc('body') =~ /"role":"${role}"/`);
        expect(expression, member.address).toContain(`resp('X-Served-By') == '${host}'`);
      }
    }
    // Members at IP addresses have no name to check: the role alone.
    for (const member of balancerMembers(
      section(render(proxyEnv(2, 2)), "Proxy", "balancer://static"),
    ))
      expect(member.options, member.address).toContain("hcexpr=static_role");
  });

  it("ProxyHCExpr names fit Apache's 15-character limit (AH00526 stops Apache at start)", () => {
    // 16 members of each kind found by name: one expression per member.
    const byName: Env = {};
    for (const n of numbers(16)) {
      byName[`STATIC_APP_${n}`] = `member-static-${n}:80`;
      byName[`DYNAMIC_APP_${n}`] = `member-dynamic-${n}:3000`;
    }
    const names = [
      ...directives(render(proxyEnv(2, 2))).matchAll(/^\s*ProxyHCExpr\s+(\S+)/gm),
      ...directives(render(byName)).matchAll(/^\s*ProxyHCExpr\s+(\S+)/gm),
    ].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name.length, name).toBeLessThanOrEqual(15);
  });

  it("ProxyPass rules go from the local paths to /api/animals/ to the catch-all /, which maps to balancer://static/", () => {
    expect(proxyPasses(render(proxyEnv(2, 2)))).toEqual([
      ["/proxy-healthz", "!"],
      ["/balancer-manager", "!"],
      ["/api/animals/", '"balancer://dynamic/"'],
      ["/", '"balancer://static/"'],
    ]);
  });

  it("responses are rewritten back through both balancers (ProxyPassReverse)", () => {
    const config = directives(render(proxyEnv(1, 1)));
    expect(config).toContain('ProxyPassReverse "/api/animals/" "balancer://dynamic/"');
    expect(config).toContain('ProxyPassReverse "/" "balancer://static/"');
  });

  it("/proxy-healthz is answered by the proxy from a local file, never proxied", () => {
    const config = directives(render(proxyEnv(1, 1)));
    expect(config).toContain('ProxyPass "/proxy-healthz" !');
    expect(config).toContain('Alias "/proxy-healthz" "/var/www/proxy/healthz.txt"');
  });

  it("forward proxying is off and a client's Proxy header never reaches a backend", () => {
    const config = directives(render(proxyEnv(1, 1)));
    expect(config).toMatch(/^\s*ProxyRequests Off$/m);
    expect(config).toMatch(/^\s*RequestHeader unset Proxy early$/m);
  });

  it.each([
    ["unset", {}],
    ["empty", { BALANCER_MANAGER_PASSWORD: "" }],
  ])(
    "the balancer manager is off (404, not proxied) when BALANCER_MANAGER_PASSWORD is %s",
    (_, extra) => {
      const config = directives(render(proxyEnv(1, 1, extra)));
      expect(config).not.toContain("SetHandler balancer-manager");
      expect(config).not.toContain("AuthUserFile");
      expect(config).toContain('ProxyPass "/balancer-manager" !');
      expect(config).toContain('Redirect 404 "/balancer-manager"');
    },
  );

  it("the balancer manager is behind basic auth when BALANCER_MANAGER_PASSWORD is set, and the password is not in the config", () => {
    const password = "correct horse battery staple";
    const config = render(proxyEnv(1, 1, { BALANCER_MANAGER_PASSWORD: password }));
    const manager = section(config, "Location", "/balancer-manager");
    for (const directive of [
      "SetHandler balancer-manager",
      "AuthType Basic",
      'AuthUserFile "/etc/apache2/balancer-manager.htpasswd"',
      "Require valid-user",
    ]) {
      expect(manager).toContain(directive);
    }
    expect(directives(config)).not.toContain("Redirect 404");
    expect(config).not.toContain(password);
  });

  it("the htpasswd path comes from BALANCER_MANAGER_HTPASSWD_FILE (set by the entrypoint)", () => {
    const config = render(
      proxyEnv(1, 1, {
        BALANCER_MANAGER_PASSWORD: "pw",
        BALANCER_MANAGER_HTPASSWD_FILE: "/run/proxy/manager.htpasswd",
      }),
    );
    expect(section(config, "Location", "/balancer-manager")).toContain(
      'AuthUserFile "/run/proxy/manager.htpasswd"',
    );
  });

  it("ServerName defaults to demo.res.ch", () => {
    expect(directives(render(proxyEnv(1, 1)))).toMatch(/^\s*ServerName demo\.res\.ch$/m);
  });

  it("ServerName comes from SERVER_NAME", () => {
    const config = render(proxyEnv(1, 1, { SERVER_NAME: "shop.example.org" }));
    expect(directives(config)).toMatch(/^\s*ServerName shop\.example\.org$/m);
  });

  it("there is exactly one vhost, on port 8080 (the image's Listen, which needs no privilege)", () => {
    expect(directives(render(proxyEnv(1, 1))).match(/<VirtualHost [^>]*>/g)).toEqual([
      "<VirtualHost *:8080>",
    ]);
  });

  it("with TLS on, the redirect vhost stays on 8080 and HTTPS listens on 8443: no port needs privilege", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "proxy-tls-"));
    const ca = createTestCa();
    try {
      // The template reads the chain (to decide on OCSP stapling): a real one.
      const issued = ca.issue({ names: ["demo.res.ch"] });
      const chain = path.join(dir, "chain.pem");
      const key = path.join(dir, "key.pem");
      writeFileSync(chain, issued.chain);
      writeFileSync(key, issued.privateKey);
      const config = directives(
        render(
          proxyEnv(1, 1, {
            TLS_MODE: "given",
            TLS_PUBLIC_PORT: "443",
            TLS_CERTIFICATE_FILE: chain,
            TLS_PRIVATE_KEY_FILE: key,
          }),
        ),
      );
      expect(config.match(/<VirtualHost [^>]*>/g)).toEqual([
        "<VirtualHost *:8080>",
        "<VirtualHost *:8443>",
      ]);
      expect(config.match(/^Listen .*$/gm)).toEqual(["Listen 8443 https"]);
    } finally {
      ca.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with ACME, mod_md answers http-01 on the 8080 vhost and runs md-message on its events", () => {
    const config = directives(
      render(
        proxyEnv(1, 1, {
          TLS_MODE: "acme",
          TLS_PUBLIC_PORT: "443",
          ACME_DOMAINS: "www.example.test",
          ACME_EMAIL: "ops@example.test",
          ACME_DIRECTORY_URL: "https://acme.example.test/dir",
        }),
      ),
    );
    expect(config).toMatch(/^MDCAChallenges http-01$/m);
    expect(config).toMatch(/^MDMessageCmd \/usr\/local\/bin\/md-message$/m);
    expect(config.match(/<VirtualHost [^>]*>/g)).toEqual([
      "<VirtualHost *:8080>",
      "<VirtualHost *:8443>",
    ]);
  });

  it("accepts bracketed IPv6 addresses and DNS hostnames", () => {
    const config = render({
      STATIC_APP_1: "web-1:80",
      STATIC_APP_2: "static.internal.example:8080",
      DYNAMIC_APP_1: "[fd00::5]:3000",
      DYNAMIC_APP_2: "api-2:65535",
    });
    expect(
      balancerMembers(section(config, "Proxy", "balancer://static")).map((m) => m.address),
    ).toEqual(["web-1:80", "static.internal.example:8080"]);
    expect(
      balancerMembers(section(config, "Proxy", "balancer://dynamic")).map((m) => m.address),
    ).toEqual(["[fd00::5]:3000", "api-2:65535"]);
  });

  describe("a bad environment: non-zero exit, nothing on stdout, the variable named on stderr", () => {
    const valid = proxyEnv(2, 2);
    const withDynamic2 = (value: string): Env => ({ ...valid, DYNAMIC_APP_2: value });
    const withStatic1 = (value: string): Env => ({ ...valid, STATIC_APP_1: value });

    it.each<[string, Env, string]>([
      ["STATIC_APP_1 missing", proxyEnv(0, 2), "STATIC_APP_1"],
      ["DYNAMIC_APP_1 missing", proxyEnv(2, 0), "DYNAMIC_APP_1"],
      ["no members at all", {}, "STATIC_APP_1"],
      ["port 0", withDynamic2("10.0.0.5:0"), "DYNAMIC_APP_2"],
      ["port 65536", withDynamic2("10.0.0.5:65536"), "DYNAMIC_APP_2"],
      ["port 99999", withDynamic2("10.0.0.5:99999"), "DYNAMIC_APP_2"],
      ["non-numeric port", withDynamic2("10.0.0.5:http"), "DYNAMIC_APP_2"],
      ["missing port", withStatic1("10.0.0.5"), "STATIC_APP_1"],
      ["empty port", withStatic1("10.0.0.5:"), "STATIC_APP_1"],
      ["empty value", withStatic1(""), "STATIC_APP_1"],
      ["space", withStatic1("10.0.0.5 :80"), "STATIC_APP_1"],
      ["trailing space", withDynamic2("10.0.0.5:80 "), "DYNAMIC_APP_2"],
      ["double quote", withDynamic2('10.0.0.5:80" route=9'), "DYNAMIC_APP_2"],
      ["single quote", withStatic1("'10.0.0.5':80"), "STATIC_APP_1"],
      ["newline", withDynamic2("10.0.0.5:80\nProxyPass / http://evil/"), "DYNAMIC_APP_2"],
      ["trailing newline", withStatic1("10.0.0.5:80\n"), "STATIC_APP_1"],
      ["scheme http://", withDynamic2("http://10.0.0.5:3000"), "DYNAMIC_APP_2"],
      ["path /x", withStatic1("10.0.0.5:80/x"), "STATIC_APP_1"],
      ["IPv6 without brackets", withDynamic2("fd00::5:3000"), "DYNAMIC_APP_2"],
      ["IPv6 with a zone id", withDynamic2("[fe80::1%eth0]:3000"), "DYNAMIC_APP_2"],
      ["invalid IPv4", withStatic1("10.0.0.256:80"), "STATIC_APP_1"],
      ["hostname label starting with a hyphen", withStatic1("-web:80"), "STATIC_APP_1"],
      ["hostname with an underscore", withStatic1("web_1:80"), "STATIC_APP_1"],
      [
        "numbering gap (STATIC_APP_1, STATIC_APP_3)",
        proxyEnv(1, 1, { STATIC_APP_3: "10.0.0.9:80" }),
        "STATIC_APP_3",
      ],
      ["numbering from 0", proxyEnv(1, 1, { DYNAMIC_APP_0: "10.0.0.9:3000" }), "DYNAMIC_APP_0"],
      ["SERVER_NAME with a space", proxyEnv(1, 1, { SERVER_NAME: "demo res.ch" }), "SERVER_NAME"],
      [
        "SERVER_NAME with a newline",
        proxyEnv(1, 1, { SERVER_NAME: "demo.res.ch\nInclude /etc/x" }),
        "SERVER_NAME",
      ],
      [
        "BALANCER_MANAGER_USER with a colon",
        proxyEnv(1, 1, { BALANCER_MANAGER_USER: "ad:min" }),
        "BALANCER_MANAGER_USER",
      ],
      [
        "BALANCER_MANAGER_PASSWORD with a newline",
        proxyEnv(1, 1, { BALANCER_MANAGER_PASSWORD: "pw\nx" }),
        "BALANCER_MANAGER_PASSWORD",
      ],
      [
        "PROXY_CONFIG_ID with a quote",
        proxyEnv(1, 1, { PROXY_CONFIG_ID: 'abc" env=x' }),
        "PROXY_CONFIG_ID",
      ],
      [
        "BALANCER_MEMBER_CONNECTIONS of another kind",
        proxyEnv(1, 1, { BALANCER_MEMBER_CONNECTIONS: "none" }),
        "BALANCER_MEMBER_CONNECTIONS",
      ],
      [
        "BALANCER_MANAGER_PASSWORD over 72 bytes",
        proxyEnv(1, 1, { BALANCER_MANAGER_PASSWORD: "p".repeat(73) }),
        "BALANCER_MANAGER_PASSWORD",
      ],
    ])("%s", (_, env, variable) => {
      const result = runPhp(TEMPLATE, env);
      expect(result.status, describeRun(result)).not.toBe(0);
      expect(result.status, describeRun(result)).not.toBeNull();
      expect(result.stdout, describeRun(result)).toBe("");
      expect(result.stderr, describeRun(result)).toContain(variable);
    });

    it("says which rule was broken and shows the bad value quoted", () => {
      const result = runPhp(TEMPLATE, withDynamic2("10.0.0.5:99999"));
      expect(result.stderr).toBe(
        'DYNAMIC_APP_2 must be host:port with port 1-65535 (got "10.0.0.5:99999")\n',
      );
    });

    it("shows a bad value escaped, on one line", () => {
      const result = runPhp(TEMPLATE, withDynamic2('10.0.0.5:80"\nProxyPass / http://evil/'));
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain('(got "10.0.0.5:80\\"\\nProxyPass / http://evil/")');
    });

    it("a numbering gap names the missing variable too", () => {
      const result = runPhp(TEMPLATE, proxyEnv(1, 1, { STATIC_APP_3: "10.0.0.9:80" }));
      expect(result.stderr).toContain("STATIC_APP_3 is set but STATIC_APP_2 is missing");
    });

    it("never shows the password", () => {
      const password = "hunter2\nsecret";
      const result = runPhp(TEMPLATE, proxyEnv(1, 1, { BALANCER_MANAGER_PASSWORD: password }));
      expect(result.status).not.toBe(0);
      expect(result.stderr).not.toContain("hunter2");
      expect(result.stdout).toBe("");
    });
  });
});
