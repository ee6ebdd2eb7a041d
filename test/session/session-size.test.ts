/**
 * `max_session_size` (issue 8, item 4): a write that would make a session larger than the limit
 * fails at the call with a 413 and stores nothing; concurrent writes whose merged result passes
 * it are caught by the engine at flush. Over HTTP on Memory and on a real Redis.
 */
import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, HttpError, SessionTooLargeError, type App } from '../../src/index.ts';
import { MemoryEngine } from '../../src/session/engines/memory/memory.ts';
import { Session } from '../../src/session/session.ts';
import { readSessionSettings } from '../../src/session/settings.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { newId } from './engines/redis/helpers.ts';

const LIMIT = 10_000;
const KiB = 1024;

/** An app whose session may hold at most `LIMIT` bytes, with routes that write big values. */
function sizedApp(engine: 'Memory' | 'Redis', options: Record<string, unknown>): App {
  const app = createApp({ log: 'none', environment: 'production', session: engine, engines: { session: { [engine]: { max_session_size: LIMIT, ...options } } } });
  app.get('/all', async ctx => (await ctx.session()).toJSON());
  app.get('/small', async ctx => {
    await ctx.session('user', 'ann');
    return 'ok';
  });
  // ?n= characters under `key`: the write is the route's only change.
  app.get('/big/:key', async ctx => {
    await ctx.session(ctx.param('key') as string, 'x'.repeat(Number(ctx.query.n)));
    return 'ok';
  });
  // Catches the error: the user decides the answer, and the earlier write of this request stays.
  app.get('/caught', async ctx => {
    const session = await ctx.session();
    session.set('note', 'kept');
    try {
      session.set('blob', 'x'.repeat(LIMIT));
    } catch (error) {
      if (error instanceof SessionTooLargeError) return `refused: ${error.size} > ${error.limit}`;
      throw error;
    }
    return 'stored?';
  });
  return app;
}

/** Two requests that both load the session before either writes, then each writes `n` chars. */
let arrived: (() => void)[] = [];
function addBarrierRoute(app: App): void {
  app.get('/together/:key', async ctx => {
    const session = await ctx.session();
    await new Promise<void>(resolve => {
      arrived.push(resolve);
      if (arrived.length === 2) for (const go of arrived.splice(0)) go();
    });
    session.set(ctx.param('key') as string, 'x'.repeat(Number(ctx.query.n)));
    return 'ok';
  });
}

function sizeTests(test: Test<{ client: TestClient }>): void {
  test('set over max_session_size :: 413 naming size, limit and setting; nothing stored', async ({ client }) => {
    const browser = client.fork();
    await browser.get('/small');
    const res = await browser.get(`/big/blob?n=${LIMIT}`);
    assert.is(res.status, 413);
    assert.match(res.text, /max_session_size/);
    assert.match(res.text, new RegExp(`${LIMIT}`));
    assert.equal((await browser.get('/all')).json(), { user: 'ann' }, 'the session still holds its old data');
  });

  test('set over max_session_size :: in a new session, no session is stored and no cookie sent', async ({ client }) => {
    const browser = client.fork();
    const res = await browser.get(`/big/blob?n=${LIMIT}`);
    assert.is(res.status, 413);
    assert.equal(res.setCookies, []);
  });

  test('set over max_session_size :: many writes that add up are refused at the one that passes', async ({ client }) => {
    const browser = client.fork();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await browser.get(`/big/k${i}?n=2000`)).status);
    assert.equal(statuses, [200, 200, 200, 200, 413, 413]);
    const stored = (await browser.get('/all')).text;
    assert.ok(stored.length <= LIMIT, `stored ${stored.length} bytes`);
    assert.equal(Object.keys(JSON.parse(stored)), ['k0', 'k1', 'k2', 'k3']);
  });

  test('set over max_session_size :: overwriting a big value with one as big is fine', async ({ client }) => {
    const browser = client.fork();
    assert.is((await browser.get('/big/blob?n=9000')).status, 200);
    assert.is((await browser.get('/big/blob?n=9000')).status, 200);
    assert.is((await browser.get('/big/blob?n=9900')).status, 200);
    assert.is((await browser.get('/big/other?n=200')).status, 413);
  });

  test('SessionTooLargeError :: a route can catch it; its other writes are stored', async ({ client }) => {
    const browser = client.fork();
    const res = await browser.get('/caught');
    assert.is(res.status, 200);
    assert.match(res.text, new RegExp(`^refused: \\d+ > ${LIMIT}$`));
    assert.equal((await browser.get('/all')).json(), { note: 'kept' });
  });

  test('concurrent writes :: merged over the limit, one request is a 413, stored within the limit', async ({ client }) => {
    const browser = client.fork();
    await browser.get('/small');
    const [a, b] = await Promise.all([browser.get('/together/a?n=6000'), browser.get('/together/b?n=6000')]);
    assert.equal([a.status, b.status].sort(), [200, 413]);
    const stored = (await browser.get('/all')).text;
    assert.ok(stored.length <= LIMIT, `stored ${stored.length} bytes`);
    const keys = Object.keys(JSON.parse(stored)).sort();
    assert.ok(keys.length === 2 && keys[0] === (a.status === 200 ? 'a' : 'b') && keys[1] === 'user', `stored keys ${keys}`);
  });
}

const memory = suite<{ client: TestClient }>('max_session_size :: Memory over HTTP', {} as never);
memory.before(async context => {
  const app = sizedApp('Memory', {});
  addBarrierRoute(app);
  context.client = await testClient(app);
});
memory.after(async ({ client }) => client?.close());
sizeTests(memory);
memory.run();

const redis = redisSuite<{ client: TestClient; redis: RedisServer }>('max_session_size :: Redis over HTTP', {} as never);
redis.before(async context => {
  context.redis = await startRedis();
  const app = sizedApp('Redis', { url: context.redis.url });
  addBarrierRoute(app);
  context.client = await testClient(app);
});
redis.after(async ({ client, redis }) => {
  await client?.close();
  await redis?.stop();
});
sizeTests(redis as unknown as Test<{ client: TestClient }>);
redis.run();

const defaults = suite('max_session_size :: default and config');

defaults('the default is 256 KiB: a 100 KB session is fine, one over 256 KiB is a 413', async () => {
  const app = createApp({ log: 'none' });
  app.get('/big', async ctx => {
    await ctx.session('blob', 'x'.repeat(Number(ctx.query.n)));
    return 'ok';
  });
  const client = await testClient(app);
  try {
    assert.is((await client.get(`/big?n=${100_000}`)).status, 200);
    assert.is((await client.get(`/big?n=${256 * KiB}`)).status, 413);
  } finally {
    await client.close();
  }
  assert.is(readSessionSettings('Memory', {}, WHERE).policy.max_session_size, 256 * KiB);
});

const WHERE = { file: 'config.yml', enginePath: 'session', optionsPath: 'engines.session.Memory' };

defaults('config :: max_session_size must be a positive integer', () => {
  assert.is(readSessionSettings('Memory', { max_session_size: 1000 }, WHERE).policy.max_session_size, 1000);
  assert.throws(() => readSessionSettings('Memory', { max_session_size: 'big' }, WHERE), /engines\.session\.Memory\.max_session_size/);
  assert.throws(() => readSessionSettings('Memory', { max_session_size: 0 }, WHERE), /max_session_size/);
  assert.is(readSessionSettings('Memory', {}, WHERE).engineOptions.max_bytes, 64 * 2 ** 20, 'Memory max_bytes defaults to 64 MiB');
  assert.throws(() => readSessionSettings('Memory', { max_bytes: -1 }, WHERE), /engines\.session\.Memory\.max_bytes/);
});

defaults.run();

const value = suite('max_session_size :: Session and Memory engine');

value('Session.set :: throws a 413 SessionTooLargeError at the call; the session is unchanged', () => {
  const session = new Session(newId(), { a: 1 }, false, 100);
  session.set('b', 'y'.repeat(50));
  let thrown: unknown;
  try {
    session.set('c', 'z'.repeat(50));
  } catch (error) {
    thrown = error;
  }
  assert.instance(thrown, SessionTooLargeError);
  assert.instance(thrown, HttpError);
  assert.is((thrown as HttpError).status, 413);
  assert.is((thrown as SessionTooLargeError).limit, 100);
  assert.ok((thrown as SessionTooLargeError).size > 100);
  assert.equal(session.toJSON(), { a: 1, b: 'y'.repeat(50) });
  assert.equal([...session.change.set.keys()], ['b']);
});

value('Session.set :: a loaded session starts from the reported size; the exact size decides', () => {
  const stored = { a: 'x'.repeat(90) }; // 98 bytes of JSON
  const full = new Session(newId(), structuredClone(stored), false, 100, 98);
  assert.throws(() => full.set('b', 'yy'), (error: unknown) => error instanceof SessionTooLargeError && error.size === 107);
  assert.equal(full.toJSON(), stored);
  full.set('a', 'y'.repeat(90)); // as big as before: fine
  // A size reported too high (or a stale one) only makes the exact measure come sooner.
  const small = new Session(newId(), { a: 1 }, false, 100, 95);
  small.set('b', 'yy');
  assert.equal(small.toJSON(), { a: 1, b: 'yy' });
});

value('Memory flush :: a merged result over the limit throws and stores nothing', async () => {
  const engine = new MemoryEngine({ max_sessions: 10, max_bytes: 2 ** 20 }, 60);
  const id = newId();
  const first = new Session(id, {}, true, 100);
  first.set('a', 'x'.repeat(60));
  await engine.flush(id, first.change, 60, 100);
  const second = new Session(id, {}, false, 100);
  second.set('b', 'x'.repeat(60));
  try {
    await engine.flush(id, second.change, 60, 100);
    assert.unreachable('the flush should fail');
  } catch (error) {
    assert.instance(error, SessionTooLargeError);
  }
  assert.equal((await engine.retrieve(id))?.data, { a: 'x'.repeat(60) });
  await engine.close();
});

value.run();
