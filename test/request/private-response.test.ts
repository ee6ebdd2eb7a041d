/**
 * Private responses and logout (issue 26, ASVS 14.3.1 and 14.3.2), through HTTP on Memory, a
 * real Redis and the Cookie engine: a response built from a session carries
 * `Cache-Control: no-store` unless the route set its own (then `Vary: Cookie`); a public route
 * gets no header at all; ending the session sends `Clear-Site-Data`.
 */
import { randomBytes } from 'node:crypto';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, createApp, loadConfig, type App } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { removeDir, siteDir } from '../support/site-dir.ts';
import { withoutCsrf } from '../support/serve.ts';

type Engine = 'Memory' | 'Redis' | 'Cookie';

function privateApp(engine: Engine, options: Record<string, unknown> = {}): App {
  const app = createApp(withoutCsrf({ log: 'none', session: engine, engines: { session: { [engine]: options } } }));
  app.get('/hello', () => 'hello');
  app.get('/me', async ctx => String((await ctx.session('user')) ?? 'nobody'));
  app.post('/login', async ctx => {
    await ctx.session('user', 'ann');
    await ctx.changeSessionId();
    return 'in';
  });
  app.get('/cached', async ctx => {
    ctx.header('cache-control', 'private, max-age=60');
    ctx.header('vary', 'Accept');
    return String((await ctx.session('user')) ?? 'nobody');
  });
  app.get('/form', ctx => ctx.csrfToken());
  app.get('/missing', async ctx => {
    await ctx.session('user');
    return ctx.sendError('Not here', 404);
  });
  app.post('/logout', async ctx => {
    await ctx.logout();
    return 'bye';
  });
  app.post('/logout-flash', async ctx => {
    await ctx.logout();
    await ctx.flash('notice', 'Signed out');
    return ctx.redirect('/');
  });
  return app;
}


function privateTests(test: Test<{ client: TestClient; app: App }>): void {
  test('public :: a route that never touches the session gets no Cache-Control, Vary or Clear-Site-Data', async ({ client }) => {
    const browser = client.fork();
    await browser.post('/login');
    const res = await browser.get('/hello');
    assert.is(res.text, 'hello');
    for (const name of ['cache-control', 'vary', 'clear-site-data']) assert.is(res.headers.get(name), null, name);
  });

  test('no-store :: a response that sets the session cookie, and every page read from a session, is no-store', async ({ client, app }) => {
    const browser = client.fork();
    const login = await browser.post('/login');
    assert.ok(login.setCookie(app.sessions.policy.cookie_name), 'the login sets the cookie');
    assert.is(login.headers.get('cache-control'), 'no-store');
    const me = await browser.get('/me');
    assert.is(me.text, 'ann');
    assert.is(me.headers.get('cache-control'), 'no-store', 'an authenticated page, with or without a Set-Cookie');
    assert.is((await browser.get('/missing')).headers.get('cache-control'), 'no-store', 'an error page read from a session too');
  });

  test('own Cache-Control :: the route\'s is kept, with Cookie added to its Vary', async ({ client }) => {
    const browser = client.fork();
    await browser.post('/login');
    const res = await browser.get('/cached');
    assert.is(res.text, 'ann');
    assert.is(res.headers.get('cache-control'), 'private, max-age=60');
    assert.is(res.headers.get('vary'), 'Accept, Cookie');
  });

  test('anonymous :: a page that looked for a session and found none is not no-store, but varies on Cookie', async ({ client }) => {
    const res = await client.fork().get('/me');
    assert.is(res.text, 'nobody');
    assert.is(res.headers.get('cache-control'), null);
    assert.is(res.headers.get('vary'), 'Cookie');
    assert.equal(res.setCookies, []);
  });

  test('CSRF cookie :: an anonymous form page that sets the browser\'s CSRF cookie is no-store, and so is its next visit', async ({ client, app }) => {
    const browser = client.fork();
    const first = await browser.get('/form');
    assert.ok(first.setCookie(app.sessions.cookieOver(false).csrfName));
    assert.is(first.headers.get('cache-control'), 'no-store');
    const again = await browser.get('/form');
    assert.equal(again.setCookies, [], 'the cookie is reused');
    assert.is(again.headers.get('cache-control'), 'no-store', 'the page still carries the token');
  });

  test('logout :: the response ends the session with Clear-Site-Data: "cookies", no-store and the expired cookie', async ({ client, app }) => {
    const browser = client.fork();
    await browser.post('/login');
    const res = await browser.post('/logout');
    assert.is(res.headers.get('clear-site-data'), '"cookies"');
    assert.is(res.headers.get('cache-control'), 'no-store');
    assert.is(res.setCookie(app.sessions.policy.cookie_name)?.value, '');
    assert.is((await browser.get('/me')).text, 'nobody');
    assert.is((await browser.get('/me')).headers.get('clear-site-data'), null, 'only the response that ended it');
  });

  test('logout then a flash :: "cookies" is left out, so the new session\'s cookie survives', async ({ client }) => {
    const browser = client.fork();
    await browser.post('/login');
    const res = await browser.post('/logout-flash');
    assert.is(res.status, 302);
    assert.is(res.headers.get('clear-site-data'), null);
    assert.is(res.headers.get('cache-control'), 'no-store');
  });
}

const memory = suite<{ client: TestClient; app: App }>('private responses :: Memory over HTTP', {} as never);
memory.before(async context => {
  context.app = privateApp('Memory');
  context.client = await testClient(context.app);
});
memory.after(async ({ client }) => {
  await client?.close();
});
privateTests(memory);
memory.run();

const cookie = suite<{ client: TestClient; app: App }>('private responses :: Cookie over HTTP', {} as never);
cookie.before(async context => {
  context.app = privateApp('Cookie', { secret_key: randomBytes(32).toString('base64url'), revocation: false });
  context.client = await testClient(context.app);
});
cookie.after(async ({ client }) => {
  await client?.close();
});
privateTests(cookie);
cookie.run();

const redis = redisSuite<{ client: TestClient; app: App; redis: RedisServer }>('private responses :: Redis over HTTP', {} as never);
redis.before(async context => {
  context.redis = await startRedis();
  context.app = privateApp('Redis', { url: context.redis.url });
  context.client = await testClient(context.app);
});
redis.after(async ({ client, redis }) => {
  await client?.close();
  await redis?.stop();
});
privateTests(redis);
redis.run();

/** An app with a user's sessions (Memory or Redis: both keep the owner index). */
function ownerApp(engine: 'Memory' | 'Redis', options: Record<string, unknown>): App {
  const app = createApp(withoutCsrf({ log: 'none', session: engine, engines: { session: { [engine]: options } } }));
  app.post('/login', async ctx => {
    await ctx.login('ann');
    return 'in';
  });
  app.post('/everywhere', async ctx => String(await ctx.destroyUserSessions('ann')));
  app.post('/elsewhere', async ctx => String(await ctx.destroyUserSessions('ann', { except: (await ctx.session()).id })));
  return app;
}

async function everywhere(app: App): Promise<void> {
  const client = await testClient(app);
  try {
    const phone = client.fork();
    await phone.post('/login');
    await client.post('/login');
    const elsewhere = await client.post('/elsewhere');
    assert.is(elsewhere.text, '1');
    assert.is(elsewhere.headers.get('clear-site-data'), null, 'the current session goes on: nothing to clear');
    await phone.post('/login');
    const all = await client.post('/everywhere');
    assert.is(all.text, '2');
    assert.is(all.headers.get('clear-site-data'), '"cookies", "storage", "cache"', 'it ended the current session too');
  } finally {
    await client.close();
  }
}

const owners = suite('private responses :: destroyUserSessions');
owners('Memory :: Clear-Site-Data when it ended the current session, none when it kept it; the configured kinds', async () => {
  await everywhere(ownerApp('Memory', { clear_site_data: ['cookies', 'storage', 'cache'] }));
});
owners.run();

const ownersRedis = redisSuite('private responses :: destroyUserSessions on Redis');
ownersRedis('Redis :: Clear-Site-Data when it ended the current session, none when it kept it; the configured kinds', async () => {
  const server = await startRedis();
  try {
    await everywhere(ownerApp('Redis', { url: server.url, clear_site_data: 'cookies, storage, cache' }));
  } finally {
    await server.stop();
  }
});
ownersRedis.run();

const settings = suite('private responses :: clear_site_data');

settings('storage and cache :: added to "cookies"; without "cookies" after a flash, the rest is still sent; [] sends nothing', async () => {
  for (const [option, plain, flash] of [
    [['cookies', 'storage', 'cache'], '"cookies", "storage", "cache"', '"storage", "cache"'],
    [['cache'], '"cache"', '"cache"'],
    [[], null, null],
  ] as const) {
    const client = await testClient(privateApp('Memory', { clear_site_data: option }));
    try {
      await client.post('/login');
      assert.is((await client.post('/logout')).headers.get('clear-site-data'), plain, JSON.stringify(option));
      await client.post('/login');
      assert.is((await client.post('/logout-flash')).headers.get('clear-site-data'), flash, `${JSON.stringify(option)} with a flash`);
    } finally {
      await client.close();
    }
  }
});

settings('config :: a clear_site_data with an unknown kind is a ConfigError naming the file, the key and the kinds', () => {
  const dir = siteDir({ 'config.yml': 'engines:\n  session:\n    Memory:\n      clear_site_data: everything\n' });
  try {
    assert.throws(() => loadConfig({ dir, env: {} }), (error: unknown) =>
      error instanceof ConfigError && error.file === 'config.yml' && error.key === 'engines.session.Memory.clear_site_data'
      && error.message.includes('"cookies", "storage", "cache"') && /everything/.test(error.message));
  } finally {
    removeDir(dir);
  }
  assert.throws(() => createApp({ engines: { session: { Redis: { clear_site_data: 3 } } } }), (error: unknown) =>
    error instanceof ConfigError && error.key === 'engines.session.Redis.clear_site_data');
});

settings.run();
