/**
 * A hung Redis (SIGSTOP: the connection stays open, nothing answers) behind a real app, over
 * HTTP (issue 8, item 3): every request that needs the store answers 503 within
 * command_timeout, however many are concurrent, and sessions work again after SIGCONT with no
 * restart of the app.
 */
import * as assert from 'uvu/assert';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { withClient } from '../../../support/serve.ts';
import { getWith, redisApp, sleep, uniquePrefix } from './helpers.ts';

const COMMAND_TIMEOUT = 300;
/** Slack for timers and the event loop on a loaded 2-core machine. */
const MARGIN = 150;
/** How long each round keeps Redis frozen while its clients keep asking. */
const FREEZE_MS = 1000;
/**
 * A client's pause between an answer and its next request. Without it, 120 clients that get
 * fast 503s keep this one process (server and clients) at 100% CPU, and the test would measure
 * its own queueing instead of the engine's deadline.
 */
const THINK_MS = 100;

const test = redisSuite<{ redis: RedisServer }>('Redis engine :: hung Redis over HTTP', {} as never);
test.before(async context => {
  context.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

/**
 * Freezes Redis and lets `clients` clients ask in a loop (reads and increments of one session)
 * for FREEZE_MS; resolves with the latency of every answer, which must all be 503s.
 */
async function frozenRound(redis: RedisServer, base: string, id: string, clients: number): Promise<number[]> {
  const times: number[] = [];
  const statuses = new Set<number>();
  // Open the connections first, as a load generator has its connections open.
  await Promise.all(Array.from({ length: clients }, () => getWith(base, '/read', id)));
  redis.pause();
  const until = performance.now() + FREEZE_MS;
  try {
    await Promise.all(Array.from({ length: clients }, async (_, i) => {
      await sleep((i / clients) * THINK_MS); // clients that do not all ask in the same millisecond
      while (performance.now() < until) {
        const started = performance.now();
        const { status } = await getWith(base, i % 2 ? '/inc' : '/read', id);
        times.push(performance.now() - started);
        statuses.add(status);
        await sleep(THINK_MS);
      }
    }));
  } finally {
    redis.resume();
  }
  assert.equal([...statuses], [503], `${clients} clients: only 503s while Redis is frozen`);
  return times;
}

/** Polls until a read answers 200 again; returns how long that took. */
async function recovered(base: string, id: string, limitMs = 5000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if ((await getWith(base, '/read', id)).status === 200) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`sessions did not work again within ${limitMs} ms of SIGCONT`);
}

test('hung :: 1, 2, 20 and 120 concurrent clients all get their 503 within command_timeout', async ({ redis }) => {
  const app = redisApp({ url: redis.url, key_prefix: uniquePrefix(), command_timeout: COMMAND_TIMEOUT });
  await withClient(app, async client => {
    const { id } = await getWith(client.url, '/start', undefined);
    assert.ok(id);
    const worst: Record<number, number> = {};
    for (const clients of [1, 2, 20, 120]) {
      const times = await frozenRound(redis, client.url, id, clients);
      worst[clients] = Math.max(...times);
      const back = await recovered(client.url, id);
      assert.is((await getWith(client.url, '/read', id)).text, '"ann"', 'the session survived the freeze');
      if (process.env.QUICKSTEP_REDIS_REPORT) {
        process.stderr.write(`hung Redis, ${clients} clients: ${times.length} answers, worst ${worst[clients]!.toFixed(0)} ms; working again ${back.toFixed(0)} ms after SIGCONT\n`);
      }
    }
    for (const [clients, ms] of Object.entries(worst)) {
      assert.ok(ms < COMMAND_TIMEOUT + MARGIN, `${clients} clients: worst 503 after ${ms.toFixed(0)} ms (command_timeout ${COMMAND_TIMEOUT})`);
    }
  });
});

test.run();
