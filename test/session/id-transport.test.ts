/**
 * The session id travels in the cookie only, and never in a log line (issue 26; ASVS 14.2.1,
 * 3.3.4, 16.2.5), through HTTP on Memory, a real Redis and the Cookie engine: an id sent in a
 * query string, a path segment or a header opens no session; a whole flow at log level debug
 * (login, writes, a CSRF form, logout, and on Redis an outage) logs no raw id and no token.
 */
import { randomBytes } from 'node:crypto';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, type App } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { stderrOf } from '../support/stderr.ts';

type Engine = 'Memory' | 'Redis' | 'Cookie';

function flowApp(engine: Engine, options: Record<string, unknown>, log = 'none'): App {
  const app = createApp({ log, access_log: true, session: engine, engines: { session: { [engine]: { csrf: true, ...options } } } });
  app.get('/form', ctx => ctx.csrfToken());
  app.get('/me', async ctx => String((await ctx.session('user')) ?? 'nobody'));
  app.get('/me/:id', async ctx => String((await ctx.session('user')) ?? 'nobody'));
  app.post('/login', async ctx => {
    await ctx.session('user', 'ann');
    await ctx.changeSessionId();
    return ctx.csrfToken();
  });
  app.post('/note', async ctx => {
    await ctx.session('note', String(ctx.param('note')));
    await ctx.increment('notes');
    return 'saved';
  });
  app.post('/logout', async ctx => {
    await ctx.logout();
    return 'bye';
  });
  return app;
}

/** Logs a new browser in; its session cookie's value (the id, or the sealed cookie) and token. */
async function loggedIn(client: TestClient, app: App): Promise<{ browser: TestClient; id: string; token: string }> {
  const browser = client.fork();
  const form = await browser.get('/form');
  const login = await browser.post('/login', { form: { _csrf: form.text } });
  assert.is(login.status, 200);
  const id = browser.jar.get(app.sessions.policy.cookie_name)!.value;
  return { browser, id, token: login.text };
}

function transportTests(test: Test<{ client: TestClient; app: App }>): void {
  test('cookie only :: an id sent as ?sid=, ?<cookie_name>=, a path segment or a header opens no session and is not adopted', async ({ client, app }) => {
    const { browser, id } = await loggedIn(client, app);
    assert.is((await browser.get('/me')).text, 'ann', 'the cookie works');
    const name = app.sessions.policy.cookie_name;
    const stranger = client.fork();
    const tries: [string, Record<string, string>][] = [
      [`/me?sid=${id}`, {}],
      [`/me?${encodeURIComponent(name)}=${id}`, {}],
      [`/me?session=${id}&session_id=${id}`, {}],
      [`/me/${id}`, {}],
      [`/me;jsessionid=${id}`, {}],
      ['/me', { 'x-session-id': id }],
      ['/me', { [`x-${name.replace(/[^A-Za-z0-9-]/g, '-')}`]: id }],
      ['/me', { authorization: `Bearer ${id}` }],
    ];
    for (const [path, headers] of tries) {
      const res = await stranger.get(path, { headers });
      assert.ok(res.status === 200 || res.status === 404, path);
      if (res.status === 200) assert.is(res.text, 'nobody', `${path} ${JSON.stringify(headers)}`);
      assert.equal(res.setCookies, [], 'nothing stored, no id handed out');
    }
    // A write with the id elsewhere starts a new session: the id is never adopted.
    const form = await stranger.get('/form');
    const write = await stranger.post(`/note?sid=${id}`, { form: { note: 'x', _csrf: form.text }, headers: { 'x-session-id': id } });
    assert.is(write.status, 200);
    assert.is.not(stranger.jar.get(name)?.value, id);
    assert.is((await browser.get('/me')).text, 'ann', "the owner's session is untouched");
  });
}

/** Everything the flow's clients were ever given: ids (or sealed cookies) and CSRF tokens. */
async function flow(client: TestClient, app: App, outage?: () => Promise<void>): Promise<string[]> {
  const secrets: string[] = [];
  const name = app.sessions.policy.cookie_name;
  const { browser, id, token } = await loggedIn(client, app);
  secrets.push(id, token, browser.jar.get(app.sessions.cookieOver(false).csrfName)?.value ?? '');
  assert.is((await browser.post('/note', { form: { note: 'a', _csrf: token } })).status, 200);
  secrets.push(browser.jar.get(name)!.value);
  assert.is((await browser.post('/note', { form: { note: 'forged' } })).status, 403, 'a refused token is logged at debug');
  assert.is((await browser.post('/note', { form: { note: 'b', _csrf: token }, headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);
  const stale = client.fork();
  stale.jar.set(name, { value: id.replace(/^./, id[0] === 'A' ? 'B' : 'A'), path: '/' });
  assert.is((await stale.get('/me')).text, 'nobody', 'an unknown id');
  assert.is((await browser.post('/logout', { form: { _csrf: token } })).status, 200);
  if (outage) {
    const other = await loggedIn(client, app);
    secrets.push(other.id, other.token);
    await outage();
    assert.is((await other.browser.get('/me')).status, 503);
    assert.is((await other.browser.post('/note', { form: { note: 'c', _csrf: other.token } })).status, 503);
  }
  return secrets.filter(secret => secret.length >= 32);
}

function assertNoSecrets(log: string, secrets: string[]): void {
  assert.ok(/debug:/.test(log) && /info:/.test(log), 'the flow logged at debug and info');
  for (const secret of secrets) assert.not.ok(log.includes(secret), `a log line holds a raw id or token: ${secret}`);
}

/** The flow on a fresh app of `engine` at log level debug: no secret it saw is in the log. */
async function flowLogsNoSecret(engine: 'Memory' | 'Cookie', options: Record<string, unknown>): Promise<void> {
  let secrets: string[] = [];
  const log = await stderrOf(async () => {
    const app = flowApp(engine, options, 'debug');
    const client = await testClient(app);
    try {
      secrets = await flow(client, app);
    } finally {
      await client.close();
    }
  });
  assertNoSecrets(log, secrets);
}

const memory = suite<{ client: TestClient; app: App }>('id transport :: Memory over HTTP', {} as never);
memory.before(async context => {
  context.app = flowApp('Memory', {});
  context.client = await testClient(context.app);
});
memory.after(async ({ client }) => {
  await client?.close();
});
transportTests(memory);
memory('logs :: a flow at log level debug logs no raw id and no CSRF token', () => flowLogsNoSecret('Memory', {}));
memory.run();

const cookie = suite<{ client: TestClient; app: App }>('id transport :: Cookie over HTTP', {} as never);
const secret_key = randomBytes(32).toString('base64url');
cookie.before(async context => {
  context.app = flowApp('Cookie', { secret_key, revocation: false });
  context.client = await testClient(context.app);
});
cookie.after(async ({ client }) => {
  await client?.close();
});
transportTests(cookie);
cookie('logs :: a flow at log level debug logs no sealed cookie and no CSRF token', () => flowLogsNoSecret('Cookie', { secret_key, revocation: false }));
cookie.run();

const redis = redisSuite<{ client: TestClient; app: App; redis: RedisServer }>('id transport :: Redis over HTTP', {} as never);
redis.before(async context => {
  context.redis = await startRedis();
  context.app = flowApp('Redis', { url: context.redis.url });
  context.client = await testClient(context.app);
});
redis.after(async ({ client, redis }) => {
  await client?.close();
  await redis?.stop();
});
transportTests(redis);
redis('logs :: a flow at log level debug, with a store outage, logs no raw id and no CSRF token', async () => {
  const server = await startRedis();
  let secrets: string[] = [];
  try {
    const log = await stderrOf(async () => {
      const app = flowApp('Redis', { url: server.url, connect_timeout: 300, command_timeout: 300 }, 'debug');
      const client = await testClient(app);
      try {
        secrets = await flow(client, app, () => server.stop());
      } finally {
        await client.close();
      }
    });
    assert.match(log, /unreachable/, 'the outage was logged');
    assertNoSecrets(log, secrets);
  } finally {
    await server.stop();
  }
});
redis.run();
