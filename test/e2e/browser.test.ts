// The landing page in a real browser (Debian's chromium, driven by playwright-core) through the
// deployed proxy: the report's manual test, made repeatable. Part of the e2e run.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchChromium, screenshotPath } from "../support/chromium";
import { deployStack, describeWithDocker, type DeployedStack } from "../support/e2eStack";
import { HOST_PORTS } from "../support/ports";

const PORT = HOST_PORTS.browser.ports.proxy;

describeWithDocker("the landing page in Chromium", () => {
  let stack: DeployedStack;
  let browser: Browser;
  const problems: string[] = [];

  /** A fresh context (its own cookie jar) that records console errors and foreign requests. */
  async function openPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const origin = new URL(stack.url).origin;
    context.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) {
        problems.push(`request left the stack: ${url}`);
      }
    });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(stack.url);
    return { context, page };
  }

  const text = (page: Page, selector: string) => page.locator(selector).innerText();
  const refreshes = async (page: Page) => Number(await text(page, "#refresh-count"));

  beforeAll(async () => {
    stack = await deployStack({ stack: "e2e-browser", config: { proxyPort: PORT } });
    browser = await launchChromium();
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    if (stack) expect(await stack.harness.destroy()).toEqual({ containers: [], networks: [] });
  }, 120_000);

  it("renders animals live and keeps one dynamic backend per browser (the cookie jar)", async () => {
    const { context, page } = await openPage();
    await expect
      .poll(() => refreshes(page), { timeout: 20_000, interval: 500 })
      .toBeGreaterThanOrEqual(3);

    expect(await page.locator("#animals tr:not(.placeholder)").count()).toBeGreaterThan(0);
    expect(await text(page, "#static-backend")).toMatch(/^http-infra-e2e-browser-static-\d$/);
    const dynamic = await text(page, "#dynamic-backend");
    expect(dynamic).toMatch(/^http-infra-e2e-browser-dynamic-\d$/);
    expect(await text(page, "#route")).toMatch(/^\d+$/);
    const history = await page
      .locator("#history li")
      // Runs in the page; the project's TypeScript has no DOM types, hence the element's shape here.
      .evaluateAll((items: { getAttribute(name: string): string | null }[]) =>
        items.map((item) => item.getAttribute("data-dynamic-backend")),
      );
    expect(history.length).toBeGreaterThanOrEqual(3);
    expect(new Set(history), "every refresh in one browser hits one backend").toEqual(
      new Set([dynamic]),
    );

    await page.screenshot({ path: screenshotPath("landing-desktop"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: screenshotPath("landing-phone"), fullPage: true });
    await context.close();
    expect(problems).toEqual([]);
  });

  it("shows both dynamic backends across fresh browser contexts", async () => {
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 6 && seen.size < 2; attempt++) {
      const { context, page } = await openPage();
      await expect.poll(() => refreshes(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      seen.add(await text(page, "#dynamic-backend"));
      await context.close();
    }
    expect([...seen].sort()).toEqual([
      "http-infra-e2e-browser-dynamic-1",
      "http-infra-e2e-browser-dynamic-2",
    ]);
    expect(problems).toEqual([]);
  });

  it("keeps working on the other backend when its own dynamic backend stops", async () => {
    const { context, page } = await openPage();
    await expect.poll(() => refreshes(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const bound = await text(page, "#dynamic-backend");
    const container = stack.harness.docker.getContainer(bound);
    await container.stop({ t: 5 });
    try {
      await expect
        .poll(() => text(page, "#dynamic-backend"), { timeout: 10_000, interval: 250 })
        .not.toBe(bound);
      const before = await refreshes(page);
      await expect.poll(() => refreshes(page), { timeout: 10_000 }).toBeGreaterThan(before);
      expect(await page.locator("#status").getAttribute("data-state")).toBe("ok");
      await page.screenshot({ path: screenshotPath("landing-after-failover"), fullPage: true });
    } finally {
      await container.start();
      await context.close();
    }
    expect(problems).toEqual([]);
  });

  it("says so when the API is down, keeps retrying, and recovers by itself", async () => {
    const { context, page } = await openPage();
    await expect.poll(() => refreshes(page), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    const dynamic = [1, 2].map((i) =>
      stack.harness.docker.getContainer(`http-infra-e2e-browser-dynamic-${i}`),
    );
    await Promise.all(dynamic.map((container) => container.stop({ t: 5 })));
    try {
      await expect
        .poll(() => page.locator("#status").getAttribute("data-state"), { timeout: 15_000 })
        .toBe("error");
      expect(await text(page, "#status")).toMatch(/^API unreachable, retrying/);
      await page.screenshot({ path: screenshotPath("landing-api-down"), fullPage: true });
    } finally {
      await Promise.all(dynamic.map((container) => container.start()));
    }
    const before = await refreshes(page);
    await expect
      .poll(() => page.locator("#status").getAttribute("data-state"), { timeout: 30_000 })
      .toBe("ok");
    await expect.poll(() => refreshes(page), { timeout: 10_000 }).toBeGreaterThan(before);
    await context.close();
    // While no backend answers, the proxy replies 503 and Chromium itself logs each failed fetch;
    // the page's own code logs nothing. Anything else is a real problem.
    const browserLogged503 = /^console error: Failed to load resource: .* status of 503/;
    expect(problems.filter((problem) => !browserLogged503.test(problem))).toEqual([]);
  });
});
