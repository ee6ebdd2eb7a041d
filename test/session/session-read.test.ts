/**
 * A session read the route never awaited fails closed (src/session/session-read.ts), through HTTP
 * on Memory, a real Redis and the Cookie engine: `if (!session('admin')) return redirect('/login')`
 * without `await` must not serve the protected page. The response is a 500 in every environment,
 * the route's response (body, headers, cookies) is not sent, nothing is saved, and one log line
 * names the keyword and the fix (and the call site where show_errors is on). Awaited reads, reads
 * returned from the route and reads given to Promise.all work as before.
 */
import { randomBytes } from 'node:crypto';
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, csrfToken, flash, redirect, session, userSessions, type App, type Context } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { stderrOf } from '../support/stderr.ts';
import { SessionRead } from '../../src/session/session-read.ts';

type Engine = 'Memory' | 'Redis' | 'Cookie';

/** The reads a route can forget to await, each in its DSL and its ctx form. */
const FORGOTTEN: Record<string, (ctx: Context) => unknown> = {
  'session("admin")': () => {
    if (!session('admin')) return redirect('/login');
    return 'the admin page';
  },
  'ctx.session("admin")': ctx => {
    if (!ctx.session('admin')) return redirect('/login');
    return 'the admin page';
  },
  'session()': () => {
    const current = session();
    // tsc reports a Promise tested as a condition (TS2801), not a negated one (above).
    // @ts-expect-error TS2801: this condition will always return true
    return current ? 'the admin page' : redirect('/login');
  },
  // @ts-expect-error TS2801: this condition will always return true
  'ctx.session()': ctx => (ctx.session() ? 'the admin page' : redirect('/login')),
  'flash("notice")': () => `the admin page ${String(flash('notice'))}`,
  'ctx.flash("notice")': ctx => `the admin page ${String(ctx.flash('notice'))}`,
  'csrfToken()': () => `the admin page <input name="_csrf" value="${String(csrfToken())}">`,
  'ctx.csrfToken()': ctx => `the admin page ${String(ctx.csrfToken())}`,
  // @ts-expect-error TS2801: this condition will always return true
  'userSessions(userId)': () => (userSessions('ann') ? 'the admin page' : ''),
  // @ts-expect-error TS2801: this condition will always return true
  'ctx.userSessions(userId)': ctx => (ctx.userSessions('ann') ? 'the admin page' : ''),
  // @ts-expect-error TS2801: this condition will always return true
  'ctx.findSession()': ctx => (ctx.findSession() ? 'the admin page' : ''),
};

function readApp(engine: Engine, options: Record<string, unknown>, environment: string): App {
  const app = createApp({ log: 'error', environment, session: engine, engines: { session: { [engine]: { csrf: false, ...options } } } });
  app.post('/login', async () => {
    await session('user', 'ann');
    await flash('notice', 'hello');
    return 'in';
  });
  for (const [index, handler] of Object.values(FORGOTTEN).entries()) {
    app.get(`/forgot/${index}`, ctx => {
      // A write in the same request: it must not be saved, since the request failed.
      void session('visited', index);
      ctx.header('x-route', 'ran');
      return handler(ctx);
    });
  }
  app.get('/admin', async () => ((await session('admin')) ? 'the admin page' : redirect('/login')));
  app.get('/returned', () => session('user'));
  app.get('/all', async ctx => (await Promise.all([session('user'), ctx.findSession()])).map(String).join(' '));
  app.get('/then', () => session('user').then(user => `then ${String(user)}`));
  app.get('/caught', () => flash('notice').catch(() => 'none'));
  app.get('/visited', async () => String(await session('visited')));
  app.hook('before', ctx => {
    if (ctx.path === '/hooked') void ctx.session('user');
  });
  app.get('/hooked', () => 'hooked page');
  return app;
}

type Ctx = { client: TestClient; redis?: RedisServer };

function readTests(test: Test<Ctx>): void {
  test('every read keyword not awaited :: 500, the route\'s response is not sent, nothing saved, one line naming it', async ({ client }) => {
    for (const [index, name] of Object.keys(FORGOTTEN).entries()) {
      const browser = client.fork();
      assert.is((await browser.post('/login')).status, 200);
      let res: Awaited<ReturnType<TestClient['get']>> | undefined;
      const log = await stderrOf(async () => {
        res = await browser.get(`/forgot/${index}`);
      });
      assert.is(res!.status, 500, name);
      assert.not.match(res!.text, /the admin page/, `${name}: the route's page is not sent`);
      assert.is(res!.headers.get('location'), null, `${name}: nor its redirect`);
      assert.is(res!.headers.get('x-route'), null, `${name}: nor its headers`);
      assert.equal(res!.setCookies, [], `${name}: nor a cookie`);
      const keyword = name.replace(/^ctx\./, '');
      const lines = log.split('\n').filter(line => line.includes('UnawaitedSessionReadError'));
      assert.is(lines.length, 1, `${name}: one line: ${log}`);
      assert.ok(lines[0]!.includes(`${keyword} was called at `), `${name}: names the keyword and where: ${lines[0]}`);
      assert.ok(lines[0]!.includes('session-read.test.ts:'), `${name}: the call site is this file: ${lines[0]}`);
      assert.ok(lines[0]!.includes(`write \`await ${keyword}\``), `${name}: names the fix`);
      assert.is((await browser.get('/visited')).text, 'undefined', `${name}: the write in the failed request was not saved`);
    }
  });

  test('awaited, returned, then, catch, Promise.all :: all served as before', async ({ client }) => {
    const browser = client.fork();
    assert.is((await browser.get('/admin')).status, 302, 'anonymous: the awaited check redirects');
    await browser.post('/login');
    assert.is((await browser.get('/returned')).text, 'ann');
    assert.is((await browser.get('/then')).text, 'then ann');
    assert.is((await browser.get('/caught')).text, 'hello');
    assert.match((await browser.get('/all')).text, /^ann \[object Object\]$/);
  });

  test('a before hook :: a read it started and did not await fails the request too', async ({ client }) => {
    let res: Awaited<ReturnType<TestClient['get']>> | undefined;
    const log = await stderrOf(async () => {
      res = await client.fork().get('/hooked');
    });
    assert.is(res!.status, 500);
    assert.not.match(res!.text, /hooked page/);
    assert.match(log, /session\("user"\) was called at \S+session-read\.test\.ts:\d+:\d+ and never awaited/);
  });
}

function engineSuite(engine: Engine, options: () => Record<string, unknown>, redis = false): void {
  const test = (redis ? redisSuite<Ctx>(`unawaited reads :: ${engine}`, {} as Ctx) : suite<Ctx>(`unawaited reads :: ${engine}`, {} as Ctx));
  test.before(async ctx => {
    if (redis) ctx.redis = await startRedis();
    ctx.client = await testClient(readApp(engine, { ...options(), ...(ctx.redis ? { url: ctx.redis.url } : {}) }, 'development'));
  });
  test.after(async ctx => {
    await ctx.client?.close();
    await ctx.redis?.stop();
  });
  readTests(test);
  test.run();
}

engineSuite('Memory', () => ({}));
engineSuite('Cookie', () => ({ secret_key: randomBytes(32).toString('base64url'), revocation: false }));
engineSuite('Redis', () => ({}), true);

const production = suite('unawaited reads :: production');

production('a 500 with no details in the page; the log line names the keyword, the request and the fix', async () => {
  const client = await testClient(readApp('Memory', {}, 'production'));
  try {
    let res: Awaited<ReturnType<TestClient['get']>> | undefined;
    const log = await stderrOf(async () => {
      res = await client.get('/forgot/0');
    });
    assert.is(res!.status, 500);
    assert.is(res!.text, 'Internal Server Error');
    const line = log.split('\n').find(text => text.includes('UnawaitedSessionReadError'));
    assert.ok(line, log);
    assert.match(line!, /GET \/forgot\/0: uncaught UnawaitedSessionReadError: session\("admin"\) was called by this request and never awaited/);
    assert.match(line!, /write `await session\("admin"\)`/);
  } finally {
    await client.close();
  }
});

production.run();

const unit = suite('SessionRead.of');

/** The rejections the process reports as unhandled while `run` and a few turns after it run. */
async function unhandledDuring(run: () => unknown): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await run();
    for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

unit('a Promise of map(value); awaiting it subscribes; its then gives a plain Promise', async () => {
  const read = SessionRead.of(Promise.resolve({ admin: true }), found => found.admin, undefined, 'session', 'admin');
  assert.ok(read instanceof Promise);
  assert.is(read.subscribed, false, 'nothing subscribed yet');
  assert.is(await read, true);
  assert.is(read.subscribed, true, 'await subscribed through then');
  const next = read.then(value => !value);
  assert.is(Object.getPrototypeOf(next), Promise.prototype, 'what then returns is a plain Promise');
  assert.is(await next, false);
});

unit('a failed source :: rejects with its error when awaited; unawaited, no unhandled rejection', async () => {
  const failure = new Error('the store is down');
  const awaited = SessionRead.of(Promise.reject(failure), (value: unknown) => value, undefined, 'session', 'user');
  let caught: unknown;
  const reported = await unhandledDuring(async () => {
    caught = await awaited.then(() => 'resolved', error => error);
  });
  assert.is(caught, failure);
  const forgotten = SessionRead.of(Promise.reject(new Error('nobody awaits this')), (value: unknown) => value, undefined, 'session', 'user');
  const reportedForgotten = await unhandledDuring(() => undefined);
  assert.equal([...reported, ...reportedForgotten], [], 'no unhandled rejection');
  assert.is(forgotten.subscribed, false, 'the pipeline still sees it as never awaited');
});

unit('map throws :: the read rejects with what it threw, and an unawaited one is not reported', async () => {
  const thrown = new TypeError('bad value');
  const read = SessionRead.of(Promise.resolve(1), () => {
    throw thrown;
  }, undefined, 'session', 'user');
  const forgotten = SessionRead.of(Promise.resolve(1), () => {
    throw new TypeError('nobody awaits this');
  }, undefined, 'session', 'user');
  const reported = await unhandledDuring(async () => {
    assert.is(await read.then(() => undefined, error => error), thrown);
  });
  assert.equal(reported, []);
  assert.is(forgotten.subscribed, false);
});

unit.run();
