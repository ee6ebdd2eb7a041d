/**
 * The example app in a real browser (Debian's headless Chromium driven by playwright-core; no
 * browser is ever downloaded), on each engine: log in through the form, reload and stay logged
 * in, count visits, switch the theme preference, log out.
 *
 * Without /usr/bin/chromium the suites are skipped, except under CI=true, where that fails.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { redisSuite } from '../support/redis-server.ts';
import { COOKIE, CSRF_COOKIE, ENGINES, serve, type Engine, type Served } from './harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Ctx {
  served: Served;
  browser: Browser;
}

/** A suite that runs only where Chromium (and, for Redis, redis-server) is installed. */
function browserSuite(engine: Engine): Test<Ctx> {
  const name = `example app :: browser :: ${engine}`;
  const test = engine === 'Redis' ? redisSuite<Ctx>(name, {} as Ctx) : suite<Ctx>(name, {} as Ctx);
  if (existsSync(CHROMIUM)) return test;
  if (process.env.CI === 'true') {
    test('chromium is installed', () => {
      throw new Error(`${CHROMIUM} is missing, and CI=true forbids skipping the browser tests: install the Debian package chromium (.ci/run should)`);
    });
  }
  // Tests are reported as skipped and no hook runs (it would only fail to launch the browser).
  const noHook = Object.assign(() => {}, { each: () => {} });
  const skipped = ((title: string, fn: Parameters<Test<Ctx>>[1]) => test.skip(title, fn)) as Test<Ctx>;
  return Object.assign(skipped, { before: noHook, after: noHook, only: test.skip, skip: test.skip, run: test.run });
}

const visits = async (page: Page) => Number(await page.locator('#visits').textContent());

for (const engine of ENGINES) {
  const test = browserSuite(engine);

  test.before(async ctx => {
    ctx.served = await serve(engine);
    ctx.browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });
  test.after(async ctx => {
    await ctx.browser?.close();
    await ctx.served?.stop();
  });

  test('log in, reload, count visits, switch theme, log out', async ctx => {
    const context = await ctx.browser.newContext({ viewport: { width: 900, height: 640 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(ctx.served.url);
      assert.is(await page.locator('h1').textContent(), 'Welcome to Quickstep');
      const anonymous = await context.cookies();
      assert.equal(anonymous.map(c => c.name), [CSRF_COOKIE], "the login form's token lives in the browser's CSRF cookie: no session");
      assert.ok(anonymous[0]?.httpOnly, 'scripts cannot read the CSRF cookie');
      assert.is(anonymous[0]?.sameSite, 'Lax');

      await page.fill('input[name="user"]', '  Ann <b>&</b>  ');
      await Promise.all([page.waitForURL(`${ctx.served.url}/`), page.click('button:has-text("Log in")')]);
      assert.is(await page.locator('h1').textContent(), 'Hello, Ann <b>&</b>', 'the name is shown as text, not markup');
      assert.is(await visits(page), 1);
      const cookie = (await context.cookies()).find(c => c.name === COOKIE);
      assert.ok(cookie, 'logging in made a session');
      assert.ok(cookie?.httpOnly, 'scripts cannot read the session cookie');

      await page.reload();
      assert.is(await page.locator('h1').textContent(), 'Hello, Ann <b>&</b>');
      assert.is(await visits(page), 2);

      await Promise.all([page.waitForEvent('load'), page.click('button:has-text("dark theme")')]);
      assert.is(await page.locator('body').getAttribute('class'), 'dark');
      assert.is(await page.locator('dd').textContent(), '"dark"');
      assert.is(await visits(page), 3);
      if (engine === 'Memory') await page.screenshot({ path: join(tmpdir(), 'quickstep-example-app.png') });

      await Promise.all([page.waitForURL(`${ctx.served.url}/`), page.click('button:has-text("Log out")')]);
      assert.is(await page.locator('h1').textContent(), 'Welcome to Quickstep');
      assert.equal((await context.cookies()).map(c => c.name), [CSRF_COOKIE], 'after logout the browser holds no session cookie');
      await page.reload();
      assert.ok(await page.locator('input[name="user"]').isVisible());
      assert.equal((await context.cookies()).map(c => c.name), [CSRF_COOKIE], 'and the login page gives it none');
    } finally {
      await context.close();
    }
  });

  test('a name of 65 characters shows the error page, and no cookie', async ctx => {
    const context = await ctx.browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    try {
      await page.goto(ctx.served.url);
      const before = await context.cookies();
      // The maxlength attribute would stop a person typing more; a crafted form is what this checks.
      await page.locator('input[name="user"]').evaluate(input => input.removeAttribute('maxlength'));
      await page.fill('input[name="user"]', 'x'.repeat(65));
      const [response] = await Promise.all([page.waitForResponse(`${ctx.served.url}/login`), page.click('button:has-text("Log in")')]);
      assert.is(response.status(), 400);
      assert.match((await page.locator('.error').textContent())!, /at most 64 characters/);
      assert.equal(await context.cookies(), before, 'no new cookie');
    } finally {
      await context.close();
    }
  });

  test.run();
}
