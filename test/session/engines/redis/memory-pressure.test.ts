/**
 * The faults a production Redis has most, against a real redis-server: full memory under
 * `noeviction` (writes refused with OOM, reads still served), an evicting policy (`allkeys-lru`:
 * sessions silently dropped), and an ACL user without a command the engine needs (NOPERM). Each
 * is one clear log line naming the cause and the fix when it starts, never one per request, and
 * one line when it clears; with `eviction: refuse` an evicting Redis is refused outright.
 */
import * as assert from 'uvu/assert';
import { SessionStoreError } from '../../../../src/base/errors.ts';
import type { RedisEngine } from '../../../../src/session/engines/redis/redis.ts';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { makeEngine, newId, read, sleep, uniquePrefix, write, type Logged } from './helpers.ts';

const test = redisSuite('Redis engine :: memory pressure and permissions');

const lines = (logs: Logged[], level: string) => logs.filter(entry => entry.level === level).map(entry => entry.message);

/** A Redis with a small maxmemory under `policy`, DEBUG allowed so the test can fill it at once. */
const smallRedis = (policy: string): Promise<RedisServer> =>
  startRedis({ args: ['--maxmemory', '4mb', '--maxmemory-policy', policy, '--enable-debug-command', 'yes'] });

/** Fills the Redis well past 4 MB in one command (keys filler:0.. of 100 bytes). */
const fill = (redis: RedisServer) => redis.cli('DEBUG', 'POPULATE', '80000', 'filler', '100');

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

async function withEngine(options: Record<string, unknown>, run: (engine: RedisEngine, logs: Logged[]) => Promise<void>): Promise<void> {
  const { engine, logs } = makeEngine({ key_prefix: uniquePrefix(), command_timeout: 2000, ...options });
  try {
    await run(engine, logs);
  } finally {
    await engine.close();
  }
}

test('noeviction, memory full :: writes fail (503) while reads work; one error line naming OOM and the fix, one when it clears', async () => {
  const redis = await smallRedis('noeviction');
  try {
    await withEngine({ url: redis.url }, async (engine, logs) => {
      const kept = newId();
      await write(engine, kept, true, s => s.set('user', 'ann'));
      await fill(redis);
      for (let i = 0; i < 20; i++) assert.instance(await failure(write(engine, newId(), true, s => s.set('n', i))), SessionStoreError, `write ${i}`);
      assert.equal(await read(engine, kept), { user: 'ann' }, 'reads still work, and what was stored is kept');
      const errors = lines(logs, 'error');
      assert.is(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /refused to save the session \(OOM command not allowed/);
      assert.match(errors[0]!, /raise maxmemory or give sessions a Redis of their own/);
      await redis.cli('CONFIG', 'SET', 'maxmemory', '0');
      await write(engine, newId(), true, s => s.set('n', 1));
      assert.equal(lines(logs, 'info'), [`session store: Redis ${redis.url} lets the engine save sessions again (OOM cleared)`]);
      assert.equal(lines(logs, 'warning'), [], 'noeviction is the policy to have: no warning');
    });
  } finally {
    await redis.stop();
  }
});

test('allkeys-lru :: a warning naming the risk and the fix when the engine connects; evictions noticed on the next miss', async () => {
  const redis = await smallRedis('allkeys-lru');
  try {
    await withEngine({ url: redis.url }, async (engine, logs) => {
      const ids = Array.from({ length: 50 }, newId);
      for (const id of ids) await write(engine, id, true, s => s.set('user', 'ann'));
      const warnings = lines(logs, 'warning');
      assert.is(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /has maxmemory-policy allkeys-lru: under memory pressure Redis evicts session keys/);
      assert.match(warnings[0]!, /set maxmemory-policy noeviction, or give sessions a Redis of their own/);
      await fill(redis);
      await redis.cli('SET', 'one-more', 'x'); // the command after the fill is what makes Redis evict
      const found = await Promise.all(ids.map(id => read(engine, id)));
      const lost = found.filter(data => data === undefined).length;
      assert.ok(lost > 0, 'Redis evicted sessions (the fault this warns about)');
      await sleep(100); // the eviction count is read off the request's path
      const evicted = lines(logs, 'warning').filter(line => /evicted \d+ keys? since the last check: sessions among them are lost/.test(line));
      assert.is(evicted.length, 1, lines(logs, 'warning').join('\n'));
    });
  } finally {
    await redis.stop();
  }
});

test('eviction: refuse :: an evicting Redis is refused (503, one error line) until its policy is noeviction', async () => {
  const redis = await startRedis({ args: ['--maxmemory-policy', 'volatile-lru'] });
  try {
    await withEngine({ url: redis.url, eviction: 'refuse' }, async (engine, logs) => {
      for (let i = 0; i < 5; i++) assert.instance(await failure(engine.retrieve(newId())), SessionStoreError);
      const errors = lines(logs, 'error');
      assert.is(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /maxmemory-policy volatile-lru.*Sessions are refused \(503\)/);
      assert.is(await redis.cli('DBSIZE'), '0', 'nothing was written');
      await redis.cli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await sleep(2100); // the policy is read again at most every 2 s while refused
      const id = newId();
      await write(engine, id, true, s => s.set('user', 'ann'));
      assert.equal(await read(engine, id), { user: 'ann' });
      assert.match(lines(logs, 'info').join('\n'), /now has maxmemory-policy noeviction; sessions are served again/);
    });
  } finally {
    await redis.stop();
  }
});

test('an ACL user without EVALSHA :: one error line naming NOPERM and the ACL rule, one when it is granted', async () => {
  const redis = await startRedis();
  try {
    await redis.cli('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-evalsha', '-eval');
    await withEngine({ url: `redis://limited:pw@127.0.0.1:${redis.port}` }, async (engine, logs) => {
      for (let i = 0; i < 5; i++) assert.instance(await failure(engine.retrieve(newId())), SessionStoreError);
      const errors = lines(logs, 'error');
      assert.is(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /refused to read the session \(NOPERM/);
      assert.match(errors[0]!, /grant the ACL rule from the Redis guide/);
      assert.not.match(errors[0]!, /:pw@/, 'no password in the line');
      await redis.cli('ACL', 'SETUSER', 'limited', '+evalsha', '+eval');
      assert.is(await engine.retrieve(newId()), undefined);
      assert.match(lines(logs, 'info').join('\n'), /lets the engine read sessions again \(NOPERM cleared\)/);
    });
  } finally {
    await redis.stop();
  }
});

test.run();
