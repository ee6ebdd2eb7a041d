/**
 * The Redis engine behind real apps, over HTTP (issue 4's "Done when"): what a user of several
 * app servers sharing one Redis would see, including Redis going away and coming back.
 */
import * as assert from 'uvu/assert';
import { createApp, type App } from '../../src/index.ts';
import { testClient } from '../../src/testing.ts';
import { storeOf } from '../support/engine-calls.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../support/redis-server.ts';
import { withClient as serve } from '../support/serve.ts';

const COMMAND_TIMEOUT = 300;
/** Slack for timers and the event loop on a loaded 2-core machine. */
const MARGIN = 300;

const test = redisSuite<{ redis: RedisServer }>('Redis engine :: apps over HTTP', {} as never);
test.before(async context => {
  context.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function redisApp(redisOptions: Record<string, unknown>): App {
  const app = createApp({
    log: 'none',
    session: 'Redis',
    engines: { session: { Redis: { command_timeout: COMMAND_TIMEOUT, ...redisOptions } } },
  });
  app.get('/health', () => 'ok');
  app.get('/all', async ctx => (await ctx.session()).toJSON());
  app.get('/read', async ctx => JSON.stringify((await ctx.session('user')) ?? null));
  app.get('/login/:user', async ctx => {
    await ctx.session('user', ctx.param('user'));
    await ctx.changeSessionId();
    return 'ok';
  });
  app.get('/set/:key', async ctx => {
    await ctx.session(ctx.param('key') as string, ctx.param('key'));
    return 'ok';
  });
  app.get('/inc', async ctx => {
    (await ctx.session()).increment('n');
    return 'ok';
  });
  app.get('/slow-write', async ctx => {
    const session = await ctx.session();
    await sleep(300); // the logout lands while this request is still working
    session.set('late', 'write');
    return 'ok';
  });
  app.get('/logout', async ctx => {
    await ctx.destroySession();
    return 'bye';
  });
  return app;
}


/** The counts without the test's own CONFIG RESETSTAT and INFO. */
const withoutOurOwn = (calls: Map<string, number>) => new Map([...calls].filter(([name]) => !/^(config|info)/.test(name)));
const writeCommands = (calls: Map<string, number>) =>
  [...calls].filter(([name]) => /^(set|setex|del|rename|getdel|hset)$/.test(name));

test('read-only :: a read is one script call (GET + EXPIRE GT) and no write of data (INFO commandstats)', async ({ redis }) => {
  const app = redisApp({ url: redis.url, key_prefix: 'readonly:' });
  await serve(app, async client => {
    await client.get('/set/user');
    await client.get('/read'); // loads the read script
    await redis.cli('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 10; i++) assert.is((await client.get('/read')).text, '"user"');
    const calls = withoutOurOwn(await redis.commandCalls());
    assert.equal(writeCommands(calls), [], 'no write command for reads');
    assert.equal([calls.get('evalsha'), calls.get('get'), calls.get('expire')], [10, 10, 10], 'one read script per read: GET and the TTL slid');
    await redis.cli('CONFIG', 'RESETSTAT');
    await client.get('/health');
    assert.equal([...withoutOurOwn(await redis.commandCalls())], [], 'an untouched route sends Redis nothing');
  });
});

test('shared :: two app instances on one Redis see one session; 50 writes and 50 increments kept', async ({ redis }) => {
  const settings = { url: redis.url, key_prefix: 'shared:' };
  const first = await testClient(redisApp(settings));
  const second = await testClient(redisApp(settings));
  try {
    await first.get('/set/start');
    second.jar.set('sid', first.jar.get('sid')!);
    const clients = [first, second];
    const keys = Array.from({ length: 50 }, (_, i) => `key${i}`);
    await Promise.all([
      ...keys.map((key, i) => clients[i % 2]!.get(`/set/${key}`)),
      ...keys.map((_, i) => clients[(i + 1) % 2]!.get('/inc')),
    ]);
    const fromFirst = (await first.get('/all')).json();
    const fromSecond = (await second.get('/all')).json();
    assert.equal(fromFirst, fromSecond, 'both instances read the same session');
    assert.is(fromFirst.n, 50);
    for (const key of keys) assert.is(fromFirst[key], key);
  } finally {
    await first.close();
    await second.close();
  }
});

test('race :: a logout racing a slow request that writes leaves the session destroyed', async ({ redis }) => {
  const app = redisApp({ url: redis.url, key_prefix: 'race:' });
  await serve(app, async client => {
    await client.get('/set/user');
    const id = client.jar.get('sid')!.value;
    const cookie = { cookie: `sid=${id}` };
    const slow = client.get('/slow-write', { headers: cookie });
    await sleep(100);
    assert.is((await client.get('/logout', { headers: cookie })).text, 'bye');
    await slow;
    assert.is(await redis.cli('EXISTS', `race:${id}`), '0', 'the late write did not bring it back');
    assert.is((await client.fork().get('/read', { headers: cookie })).text, 'null');
  });
});

test('outage :: Redis stopped gives 503 within command_timeout, untouched routes stay 200, then recovery', async ({ redis }) => {
  const app = redisApp({ url: redis.url, key_prefix: 'outage:' });
  await serve(app, async client => {
    await client.get('/set/user');
    await redis.stop();
    for (const path of ['/read', '/inc', '/set/x']) {
      const started = performance.now();
      const response = await client.get(path);
      const ms = performance.now() - started;
      assert.is(response.status, 503, path);
      assert.ok(ms < COMMAND_TIMEOUT + MARGIN, `${path} answered in ${ms.toFixed(0)} ms`);
    }
    assert.is((await client.get('/health')).status, 200, 'routes without the session keep answering');
    await redis.restart();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      await sleep(100);
      status = (await client.get('/set/again')).status;
    }
    assert.is(status, 200, 'sessions work again without a restart of the app');
    // The restarted Redis is empty: the old session is gone, and the write made a new one.
    assert.equal((await client.get('/all')).json(), { again: 'again' });
  });
});

test('startup :: an app whose Redis is down starts and serves routes that never touch the session', async () => {
  const app = redisApp({ server: '127.0.0.1:1', key_prefix: 'down:' });
  await serve(app, async client => {
    assert.is((await client.get('/health')).text, 'ok');
    assert.is((await client.get('/set/x')).status, 503);
  });
});

const onCluster = redisSuite<{ cluster: RedisCluster }>('Redis engine :: apps on a Cluster', {} as never);
onCluster.before(async context => {
  context.cluster = await startCluster();
});
onCluster.after(async ({ cluster }) => {
  await cluster?.stop();
});

onCluster('cluster :: login with changeSessionId, reads, increments and logout work', async ({ cluster }) => {
  const app = redisApp({ cluster: cluster.nodes, command_timeout: 1000 });
  await serve(app, async client => {
    await client.get('/set/before');
    const before = client.jar.get('sid')!.value;
    await client.get('/login/ann');
    assert.is.not(client.jar.get('sid')!.value, before);
    await Promise.all(Array.from({ length: 20 }, () => client.get('/inc')));
    assert.equal((await client.get('/all')).json(), { before: 'before', user: 'ann', n: 20 });
    const ids: string[] = [];
    for await (const id of storeOf(app).sessions()) ids.push(id);
    assert.equal(ids, [client.jar.get('sid')!.value]);
    await client.get('/logout');
    assert.is((await client.get('/read')).text, 'null');
  });
});

test.run();
onCluster.run();
