/**
 * The Redis engine when Redis is not there: it connects lazily, fails fast with
 * SessionStoreError (the request's 503) within command_timeout, logs once per outage, never lets
 * an 'error' event escape, and works again when Redis is back, with the same engine.
 */
import * as assert from 'uvu/assert';
import { SessionStoreError } from '../../../../src/base/errors.ts';
import type { RedisEngine } from '../../../../src/session/engines/redis/redis.ts';
import { freePort, redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { makeEngine, newId, read, sleep, timed, uniquePrefix, write, type Logged } from './helpers.ts';

const COMMAND_TIMEOUT = 300;
/** Slack for timers and the event loop on a loaded 2-core machine. */
const MARGIN = 150;

const test = redisSuite<{ redis: RedisServer }>('Redis engine :: outage', {} as never);
test.before(async context => {
  context.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

const engineOn = (port: number, extra: Record<string, unknown> = {}) =>
  makeEngine({ server: `127.0.0.1:${port}`, key_prefix: uniquePrefix(), command_timeout: COMMAND_TIMEOUT, ...extra });

const sessionClients = async (redis: RedisServer) =>
  (await redis.cli('CLIENT', 'LIST')).split('\n').filter(line => line.includes('name=quickstep.session')).length;

/** Asserts `promise` rejects with SessionStoreError within command_timeout (+ margin); returns ms. */
async function failsInTime(promise: Promise<unknown>, what: string): Promise<number> {
  const { ms, error } = await timed(promise);
  assert.instance(error, SessionStoreError, `${what}: a SessionStoreError`);
  assert.ok(ms < COMMAND_TIMEOUT + MARGIN, `${what}: failed after ${ms.toFixed(0)} ms`);
  return ms;
}

/** Retries `action` until it works; returns how long Redis took to be usable again. */
async function recovery(action: () => Promise<unknown>, limitMs = 5000): Promise<number> {
  const start = performance.now();
  for (;;) {
    try {
      await action();
      return performance.now() - start;
    } catch (error) {
      assert.instance(error, SessionStoreError);
      if (performance.now() - start > limitMs) throw new Error(`not recovered within ${limitMs} ms`);
      await sleep(50);
    }
  }
}

/** Collects what ioredis would print for an 'error' event nobody listens to. */
function watchConsole(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  return { lines, restore: () => (console.error = original) };
}

const levels = (logs: Logged[], level: string) => logs.filter(entry => entry.level === level);

test('lazy :: creating the engine opens no connection; the first use opens one', async ({ redis }) => {
  const { engine } = engineOn(redis.port);
  await sleep(100);
  assert.is(await sessionClients(redis), 0, 'no connection at start-up');
  assert.is(await engine.retrieve(newId()), undefined);
  assert.is(await sessionClients(redis), 1, 'one connection after the first use');
  await engine.close();
  await sleep(50);
  assert.is(await sessionClients(redis), 0, 'close() quits');
  assert.instance(await engine.retrieve(newId()).catch(e => e), SessionStoreError, 'a closed engine refuses');
});

test('lazy :: an engine pointed at a dead port starts quietly and fails only when used', async () => {
  const { engine, logs } = engineOn(await freePort());
  await sleep(200);
  assert.equal(logs, [], 'nothing happens before the first use');
  await failsInTime(engine.retrieve(newId()), 'first read');
  await failsInTime(write(engine, newId(), true, s => s.set('a', 1)), 'first write');
  assert.is(levels(logs, 'error').length, 1, 'one log line');
  await engine.close();
});

test('outage :: Redis stopped: SessionStoreError within command_timeout, one log line, back after restart', async ({ redis }) => {
  const { engine, logs } = engineOn(redis.port);
  const console = watchConsole();
  try {
    const id = newId();
    await write(engine, id, true, s => s.set('user', 'ann'));
    await redis.stop();
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      times.push(await failsInTime(i % 2 ? engine.retrieve(id) : write(engine, id, false, s => s.increment('n')), `sequential request ${i}`));
    }
    const concurrent = await Promise.all(Array.from({ length: 20 }, (_, i) => failsInTime(engine.retrieve(newId()), `concurrent request ${i}`)));
    assert.is(levels(logs, 'error').length, 1, 'one log line for the whole outage');
    assert.match(levels(logs, 'error')[0]!.message, /unreachable/);

    await redis.restart();
    const back = await recovery(() => write(engine, newId(), true, s => s.set('back', true)));
    assert.is(await read(engine, id), undefined, 'the restarted Redis kept nothing (no persistence in tests)');
    const fresh = newId();
    await write(engine, fresh, true, s => s.set('after', 'restart'));
    assert.equal(await read(engine, fresh), { after: 'restart' });
    assert.is(levels(logs, 'info').length, 1, 'one line when it is back');
    assert.equal(console.lines, [], 'no unhandled ioredis error event was printed');
    report('stopped Redis', times, concurrent, back);
  } finally {
    console.restore();
    await engine.close();
  }
});

test('outage :: a hung Redis (SIGSTOP): requests fail within command_timeout, then work again', async ({ redis }) => {
  const { engine, logs } = engineOn(redis.port);
  const id = newId();
  await write(engine, id, true, s => s.set('user', 'ann'));
  redis.pause();
  try {
    const times = await Promise.all([
      failsInTime(engine.retrieve(id), 'read while hung'),
      failsInTime(write(engine, id, false, s => s.set('b', 1)), 'write while hung'),
    ]);
    assert.is(levels(logs, 'error').length, 1);
    redis.resume();
    const back = await recovery(() => engine.retrieve(id));
    assert.equal((await read(engine, id))?.user, 'ann');
    assert.is(levels(logs, 'info').length, 1);
    report('hung Redis', times, [], back);
  } finally {
    redis.resume();
    await engine.close();
  }
});

test('outage :: a hung Redis: 1, 2, 20 and 120 concurrent callers each fail within command_timeout (issue 8)', async ({ redis }) => {
  // ioredis writes an auto-pipelined batch only after the batch in flight settles, and a
  // command's timer starts when it is written: without socketTimeout a command queued behind
  // the hung batch failed after about 2 x command_timeout.
  const { engine } = engineOn(redis.port);
  const id = newId();
  await write(engine, id, true, s => s.set('user', 'ann'));
  try {
    for (const callers of [1, 2, 20, 120]) {
      redis.pause();
      const until = performance.now() + 800;
      const times: number[] = [];
      // Callers that ask at different moments, as requests do: a caller that asks while a batch
      // is in flight is the one that waited twice.
      await Promise.all(Array.from({ length: callers }, async (_, i) => {
        await sleep((i / callers) * 100);
        while (performance.now() < until) {
          const call = i % 2 ? write(engine, id, false, s => s.increment('n')) : engine.retrieve(id);
          times.push(await failsInTime(call, `${callers} callers, caller ${i}`));
          await sleep(1 + (i % 10));
        }
      }));
      redis.resume();
      await recovery(() => engine.retrieve(id));
      if (process.env.QUICKSTEP_REDIS_REPORT) process.stderr.write(`hung Redis, ${callers} callers: ${times.length} failures, worst ${Math.max(...times).toFixed(0)} ms\n`);
    }
    assert.equal((await read(engine, id))?.user, 'ann');
  } finally {
    redis.resume();
    await engine.close();
  }
});

test('password :: a server with requirepass works with the password, 503s without', async () => {
  const secured = await startRedis({ args: ['--requirepass', 's3cret'] });
  try {
    const good = engineOn(secured.port, { password: 's3cret' }).engine;
    const id = newId();
    await write(good, id, true, s => s.set('a', 1));
    assert.equal(await read(good, id), { a: 1 });
    await good.close();
    const bad: RedisEngine = engineOn(secured.port).engine;
    await failsInTime(bad.retrieve(id), 'read without the password');
    await bad.close();
  } finally {
    await secured.stop();
  }
});

function report(what: string, sequential: number[], concurrent: number[], recoveredMs: number): void {
  if (!process.env.QUICKSTEP_REDIS_REPORT) return;
  const max = (xs: number[]) => (xs.length ? Math.max(...xs).toFixed(1) : '-');
  process.stderr.write(`${what}: failures took max ${max(sequential)} ms (sequential), ${max(concurrent)} ms (concurrent), first ${sequential[0]?.toFixed(1)} ms; usable again ${recoveredMs.toFixed(0)} ms after restart\n`);
}

test.run();
