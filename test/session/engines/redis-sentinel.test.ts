/**
 * The Redis engine through a real sentinel (redis-server --sentinel): it asks the sentinel for the
 * master's address and stores its sessions there.
 */
import * as assert from 'uvu/assert';
import { SessionStoreError } from '../../../src/errors.ts';
import { redisSuite, startRedis, startSentinel, type RedisSentinel, type RedisServer } from '../../support/redis-server.ts';
import { makeEngine, newId, read, uniquePrefix, write } from './redis-helpers.ts';

const test = redisSuite<{ master: RedisServer; sentinel: RedisSentinel }>('Redis engine :: sentinel', {} as never);
test.before(async context => {
  context.master = await startRedis();
  context.sentinel = await startSentinel(context.master.port, 'sessions');
});
test.after(async ({ master, sentinel }) => {
  await sentinel?.stop();
  await master?.stop();
});

test('sentinel :: sessions are stored on the master the sentinel names', async ({ master, sentinel }) => {
  const prefix = uniquePrefix();
  const { engine, logs } = makeEngine({ sentinels: [`127.0.0.1:${sentinel.port}`], name: sentinel.name, key_prefix: prefix });
  const id = newId();
  await write(engine, id, true, s => s.set('user', 'ann'));
  await write(engine, id, false, s => s.increment('visits'));
  assert.equal(await read(engine, id), { user: 'ann', visits: 1 });
  assert.equal(JSON.parse(await master.cli('GET', prefix + id)), { user: 'ann', visits: 1 });
  assert.ok((await master.cli('CLIENT', 'LIST')).includes('name=quickstep.session'), 'the engine is connected to the master');
  assert.equal(logs, []);
  await engine.close();
});

test('sentinel :: a master name the sentinel does not know is a SessionStoreError, not a hang', async ({ sentinel }) => {
  const { engine } = makeEngine({ sentinels: [`127.0.0.1:${sentinel.port}`], name: 'unknown', command_timeout: 300 });
  const started = performance.now();
  const error = await engine.retrieve(newId()).catch(e => e);
  assert.instance(error, SessionStoreError);
  assert.ok(performance.now() - started < 600);
  await engine.close();
});

test.run();
