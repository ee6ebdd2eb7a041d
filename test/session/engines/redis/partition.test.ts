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
import { getWith, redisApp, sleep, uniquePrefix } from './helpers.ts';

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
    let worst = 0;
    let firstBackMs = Infinity;
    const acknowledged: number[] = new Array(CLIENTS).fill(0);
    const ids: string[] = [];
    const log = await stderrOf(() => withClient(app, async client => {
      for (let i = 0; i < CLIENTS; i++) ids.push((await getWith(client.url, '/start', undefined)).id!);
      let healedAt: number | undefined;
      let stop = false;
      const loops = ids.map(async (id, i) => {
        while (!stop) {
          const start = performance.now();
          const { status } = await getWith(client.url, '/inc', id);
          const end = performance.now();
          worst = Math.max(worst, end - start);
          if (status === 200) {
            acknowledged[i]!++;
            if (healedAt !== undefined) firstBackMs = Math.min(firstBackMs, end - healedAt);
          } else {
            assert.is(status, 503, `client ${i}: only 503 while partitioned`);
            await sleep(20);
          }
        }
      });
      await sleep(500);
      proxy.partition(mode);
      await sleep(PARTITION_MS);
      proxy.heal();
      healedAt = performance.now();
      await sleep(2500);
      stop = true;
      await Promise.all(loops);
      for (let i = 0; i < CLIENTS; i++) {
        const stored = Number((await getWith(client.url, '/count', ids[i])).text);
        assert.ok(stored >= acknowledged[i]!, `client ${i}: ${acknowledged[i]} acknowledged, ${stored} stored`);
      }
    }));
    await proxy.stop();
    assert.ok(worst < COMMAND_TIMEOUT + MARGIN, `worst request ${worst.toFixed(0)} ms (command_timeout ${COMMAND_TIMEOUT})`);
    assert.ok(firstBackMs < 2000, `first 200 ${firstBackMs.toFixed(0)} ms after the heal`);
    const lines = log.split('\n').filter(line => line.includes('session store:'));
    assert.is(lines.filter(line => line.includes('is unreachable')).length, 1, lines.join('\n'));
    assert.is(lines.filter(line => line.includes('is reachable again')).length, 1, lines.join('\n'));
    assert.ok(acknowledged.reduce((a, b) => a + b, 0) > CLIENTS * 5, 'the clients did work before and after');
  });
}

test.run();
