/**
 * A network partition between the app and Redis (test/support/tcp-proxy.ts), in both modes:
 * `hold` (connections stay open, nothing gets through: the client learns only from its timers)
 * and `drop` (connections reset, new ones refused). Ten clients keep incrementing their counter
 * through it. Every request answers within command_timeout (a 503 while partitioned), no
 * acknowledged increment is lost, the app serves again soon after the heal, and the log has one
 * line down and one back.
 */
import * as assert from 'uvu/assert';
import { stderrOf } from '../../../support/stderr.ts';
import { startTcpProxy, type PartitionMode } from '../../../support/tcp-proxy.ts';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { withClient } from '../../../support/serve.ts';
import { incrementLoad, redisApp, sleep, uniquePrefix, type IncrementLoad } from './helpers.ts';

const COMMAND_TIMEOUT = 500;
/** Slack for timers and the event loop on a loaded 2-core machine. */
const MARGIN = 400;
const CLIENTS = 10;
const PARTITION_MS = 3000;

const test = redisSuite<{ redis: RedisServer }>('Redis engine :: network partition', {} as never);
test.before(async ctx => {
  ctx.redis = await startRedis();
});
test.after(async ({ redis }) => {
  await redis?.stop();
});

for (const mode of ['hold', 'drop'] as PartitionMode[]) {
  test(`${mode} :: every request answers within command_timeout, no acknowledged increment lost, one line down and one back`, async ({ redis }) => {
    const proxy = await startTcpProxy(redis.port);
    const app = redisApp({ server: `127.0.0.1:${proxy.port}`, key_prefix: uniquePrefix(), command_timeout: COMMAND_TIMEOUT }, 'info');
    let healedAt = Infinity;
    let load: IncrementLoad | undefined;
    const log = await stderrOf(() => withClient(app, async client => {
      load = await incrementLoad(client.url, CLIENTS);
      await sleep(500);
      proxy.partition(mode);
      await sleep(PARTITION_MS);
      proxy.heal();
      healedAt = performance.now();
      await sleep(2500);
      await load.stop();
      await load.assertNoneLost();
    }));
    await proxy.stop();
    const { worstMs, statuses, okAt, acknowledged } = load!;
    assert.equal([...statuses.keys()].filter(status => status !== 200 && status !== 503), [], 'only 503 while partitioned');
    assert.ok(worstMs < COMMAND_TIMEOUT + MARGIN, `worst request ${worstMs.toFixed(0)} ms (command_timeout ${COMMAND_TIMEOUT})`);
    const firstBackMs = (okAt.find(at => at > healedAt) ?? Infinity) - healedAt;
    assert.ok(firstBackMs < 2000, `first 200 ${firstBackMs.toFixed(0)} ms after the heal`);
    const lines = log.split('\n').filter(line => line.includes('session store:'));
    assert.is(lines.filter(line => line.includes('is unreachable')).length, 1, lines.join('\n'));
    assert.is(lines.filter(line => line.includes('is reachable again')).length, 1, lines.join('\n'));
    assert.ok(acknowledged.reduce((a, b) => a + b, 0) > CLIENTS * 5, 'the clients did work before and after');
  });
}

test.run();
