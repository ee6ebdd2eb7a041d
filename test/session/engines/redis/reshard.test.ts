/**
 * Redis Cluster resharding under load: while 100 logged-in clients keep incrementing their
 * counters through the app, `redis-cli --cluster reshard` moves a third of the slots from one
 * master to another (keys migrate one by one: MOVED and ASK redirections, keys briefly in two
 * places). No acknowledged increment may be lost, no request may take longer than
 * command_timeout (+ a margin, + the longest the test process's event loop stalled: the clients
 * time their requests in the process that serves them, so on a loaded machine, as CI's parallel
 * shards make it, a stall is in every figure; 1,525 ms once, against 1,500), nothing but 200 and
 * 503 may come back, and 503s stay rare: a redirection is followed, not turned into an error.
 */
import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as assert from 'uvu/assert';
import { redisSuite, startCluster, type RedisCluster } from '../../../support/redis-server.ts';
import { withClient } from '../../../support/serve.ts';
import { incrementLoad, redisApp, sleep, uniquePrefix } from './helpers.ts';

const COMMAND_TIMEOUT = 1000;
const MARGIN = 500;
const CLIENTS = 100;

const test = redisSuite<{ cluster: RedisCluster }>('Redis engine :: cluster resharding', {} as never);
test.before(async ctx => {
  ctx.cluster = await startCluster();
});
test.after(async ({ cluster }) => {
  await cluster?.stop();
});

/** The node id of the master on `port`. */
async function nodeId(cluster: RedisCluster, port: number): Promise<string> {
  return (await cluster.cli(port, 'CLUSTER', 'MYID')).trim();
}

function reshard(from: string, to: string, at: string, slots: number): Promise<string> {
  const args = ['--cluster', 'reshard', at, '--cluster-from', from, '--cluster-to', to, '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '20'];
  return new Promise((resolve, reject) => execFile('redis-cli', args, { timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`redis-cli --cluster reshard: ${stderr || stdout}`)) : resolve(stdout))));
}

test(`${CLIENTS} clients incrementing while all 5,461 slots of one master move :: no acknowledged write lost, every answer within command_timeout, only 200 or 503`, async ({ cluster }) => {
  const app = redisApp({ cluster: cluster.nodes, key_prefix: uniquePrefix(), command_timeout: COMMAND_TIMEOUT }, process.env.QUICKSTEP_REDIS_REPORT ? 'debug' : 'none');
  const stalls = monitorEventLoopDelay({ resolution: 10 });
  stalls.enable();
  await withClient(app, async client => {
    const load = await incrementLoad(client.url, CLIENTS);
    await sleep(500);
    const [from, to] = [await nodeId(cluster, cluster.ports[0]!), await nodeId(cluster, cluster.ports[1]!)];
    const moved = reshard(from, to, cluster.nodes[0]!, 5461);
    await moved;
    await sleep(500);
    await load.stop();
    // Every slot of the first master moved: its line in CLUSTER NODES lists no slot range any more.
    const line = (await cluster.cli(cluster.ports[1]!, 'CLUSTER', 'NODES')).split('\n').find(l => l.startsWith(from))!;
    assert.is(line.trim().split(' ').length, 8, `the first master owns no slot: ${line}`);
    await load.assertNoneLost();
    const { statuses, worstMs: worst } = load;
    const shown = JSON.stringify(Object.fromEntries(statuses));
    if (process.env.QUICKSTEP_REDIS_REPORT) process.stderr.write(`reshard: statuses ${shown}, worst ${worst.toFixed(0)} ms\n`);
    assert.equal([...statuses.keys()].filter(status => status !== 200 && status !== 503), [], `statuses ${shown}`);
    // A MOVED or ASK is followed, not answered 503 (auto-pipelining on a Cluster leaked 4-5% as 503s).
    assert.ok((statuses.get(503) ?? 0) < (statuses.get(200) ?? 0) / 100, `503s are rare (${shown})`);
    stalls.disable();
    const stall = stalls.max / 1e6;
    assert.ok(worst < COMMAND_TIMEOUT + MARGIN + stall, `worst request ${worst.toFixed(0)} ms (command_timeout ${COMMAND_TIMEOUT}, longest event-loop stall ${stall.toFixed(0)} ms)`);
    assert.ok((statuses.get(200) ?? 0) > CLIENTS * 3, `the clients did work (${shown})`);
  });
});

test.run();
