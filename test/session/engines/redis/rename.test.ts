/**
 * Writes racing changeId on Redis (issue 8, item 2): a request that read the session before its
 * id changed and flushes after must have its write land where the session now lives (or fail),
 * never be answered 200 and stored nowhere. Over HTTP with real apps, on one Redis and on a
 * Cluster, and at the engine level for what the moved-to pointer allows and what it does not.
 */
import * as assert from 'uvu/assert';
import type { RedisEngine } from '../../../../src/session/engines/redis/redis.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../../../support/redis-server.ts';
import { withClient } from '../../../support/serve.ts';
import { getWith, listAll, makeEngine, newId, read, redisApp, uniquePrefix, write } from './helpers.ts';

const CLIENTS = 20;
const RACE_MS = 2000;

/**
 * CLIENTS clients increment one session while another client logs in again and again
 * (changeSessionId); every client uses the newest id it knows. Returns the increments answered
 * 2xx, the number of id changes, and the count stored at the end.
 */
async function race(base: string): Promise<{ acknowledged: number; failed: number; renames: number; stored: number }> {
  let current = (await getWith(base, '/start', undefined)).id!;
  let acknowledged = 0;
  let failed = 0;
  let renames = 0;
  const until = performance.now() + RACE_MS;
  const incrementer = async () => {
    while (performance.now() < until) {
      const { status } = await getWith(base, '/inc', current);
      if (status === 200) acknowledged++;
      else if (status !== 409) failed++; // 409: the id had changed before this request read it
    }
  };
  const rotator = async () => {
    while (performance.now() < until) {
      const { status, id } = await getWith(base, '/login', current);
      assert.is(status, 200, 'the login succeeds');
      current = id!;
      renames++;
    }
  };
  await Promise.all([rotator(), ...Array.from({ length: CLIENTS }, incrementer)]);
  const stored = Number((await getWith(base, '/count', current)).text);
  return { acknowledged, failed, renames, stored };
}

function report(where: string, result: Awaited<ReturnType<typeof race>>): void {
  if (!process.env.QUICKSTEP_REDIS_REPORT) return;
  process.stderr.write(`${where}: ${result.acknowledged} increments acknowledged, ${result.stored} stored, ${result.failed} failed, ${result.renames} id changes\n`);
}

const test = redisSuite<{ redis: RedisServer }>('Redis engine :: writes racing changeId', {} as never);
test.before(async context => {
  context.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

test('race :: 20 clients increment while the session changes id: every acknowledged increment is stored', async ({ redis }) => {
  await withClient(redisApp({ url: redis.url, key_prefix: uniquePrefix() }), async client => {
    const result = await race(client.url);
    report('one Redis', result);
    assert.ok(result.renames >= 5, `the id changed ${result.renames} times`);
    assert.is(result.stored, result.acknowledged, `${result.acknowledged - result.stored} acknowledged increments were lost`);
  });
});

/** Runs `body` with an engine on `options`, closed afterwards whatever happens. */
async function withEngine(options: Record<string, unknown>, body: (engine: RedisEngine) => Promise<void>): Promise<void> {
  const { engine } = makeEngine({ key_prefix: uniquePrefix(), ...options });
  try {
    await body(engine);
  } finally {
    await engine.close();
  }
}

test('moved-to :: a flush for the old id lands under the new id, through several id changes', ({ redis }) =>
  withEngine({ url: redis.url }, async engine => {
    const first = newId();
    const second = newId();
    const third = newId();
    await write(engine, first, true, s => s.set('user', 'ann'));
    await engine.changeId(first, second);
    await write(engine, first, false, s => s.increment('n'));
    await engine.changeId(second, third);
    await write(engine, first, false, s => s.increment('n'));
    await write(engine, second, false, s => s.increment('n'));
    assert.equal(await read(engine, third), { user: 'ann', n: 3 });
  }));

test('moved-to :: the old id reads as unknown, is not listed, and a late write does not bring a destroyed session back', ({ redis }) =>
  withEngine({ url: redis.url }, async engine => {
    const oldId = newId();
    const freshId = newId();
    await write(engine, oldId, true, s => s.set('user', 'ann'));
    await engine.changeId(oldId, freshId);
    assert.is(await engine.retrieve(oldId), undefined, 'the old id reads as unknown: no fixation');
    assert.is(await engine.retrieve(oldId), undefined, 'and keeps doing so after a read');
    assert.equal(await listAll(engine), [freshId]);
    await engine.destroy(freshId);
    await write(engine, oldId, false, s => s.set('late', 1));
    assert.is(await engine.retrieve(freshId), undefined, 'a late write through the moved-to pointer does not recreate it');
    assert.equal(await listAll(engine), []);
  }));

const onCluster = redisSuite<{ cluster: RedisCluster }>('Redis engine :: writes racing changeId on a Cluster', {} as never);
onCluster.before(async context => {
  context.cluster = await startCluster();
});
onCluster.after(async ({ cluster }) => {
  await cluster?.stop();
});

onCluster('race :: on a Cluster too, every acknowledged increment is stored', async ({ cluster }) => {
  await withClient(redisApp({ cluster: cluster.nodes, key_prefix: uniquePrefix() }), async client => {
    const result = await race(client.url);
    report('Redis Cluster', result);
    assert.ok(result.renames >= 5, `the id changed ${result.renames} times`);
    assert.is(result.stored, result.acknowledged, `${result.acknowledged - result.stored} acknowledged increments were lost`);
  });
});

onCluster('moved-to :: on a Cluster, a flush for the old id lands under the new id (another slot)', ({ cluster }) =>
  withEngine({ cluster: cluster.nodes }, async engine => {
    const ids = [newId(), newId(), newId()] as const;
    await write(engine, ids[0], true, s => s.set('user', 'ann'));
    await engine.changeId(ids[0], ids[1]);
    await engine.changeId(ids[1], ids[2]);
    await write(engine, ids[0], false, s => s.increment('n'));
    assert.is(await engine.retrieve(ids[0]), undefined);
    assert.equal(await read(engine, ids[2]), { user: 'ann', n: 1 });
    assert.equal(await listAll(engine), [ids[2]]);
  }));

test.run();
onCluster.run();
