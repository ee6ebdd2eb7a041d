/**
 * The faults production Redis deployments report most, as stores for faults.ts's load (two app
 * servers, clients alternating an increment and a read): memory full under `noeviction`, an
 * evicting policy (`allkeys-lru`) under memory pressure, a network partition in either mode
 * (test/support/tcp-proxy.ts), and every slot of one Cluster master moved to another while the
 * clients run. The same Redis set-ups as the CI tests (test/session/engines/redis/
 * memory-pressure, partition, reshard), here with the example app in processes of its own.
 */
import { execFile } from 'node:child_process';
import { startCluster, startRedis, type RedisServer } from '../test/support/redis-server.ts';
import { startTcpProxy, type PartitionMode } from '../test/support/tcp-proxy.ts';
import type { Store } from './faults.ts';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** How long memory stays full, and a partition lasts. */
export const FULL_MS = 5000, PARTITION_MS = 8000;

/** A Redis with maxmemory 4 MB under `policy`, DEBUG allowed so it can be filled in one command. */
const smallRedis = (policy: string): Promise<RedisServer> =>
  startRedis({ args: ['--maxmemory', '4mb', '--maxmemory-policy', policy, '--enable-debug-command', 'yes'] });

/** Fills the Redis well past 4 MB (80,000 keys filler:N of 100 bytes). */
const fill = (redis: RedisServer) => redis.cli('DEBUG', 'POPULATE', '80000', 'filler', '100');

/**
 * `noeviction`, memory full for FULL_MS: writes are refused (OOM), reads still served; then
 * maxmemory is lifted, which is when the store is back.
 */
export async function memoryFull(): Promise<Store> {
  const redis = await smallRedis('noeviction');
  return {
    redisOptions: { url: redis.url },
    inject: async () => {
      await fill(redis);
      await sleep(FULL_MS);
      await redis.cli('CONFIG', 'SET', 'maxmemory', '0');
      return Date.now();
    },
    stop: () => redis.stop(),
  };
}

/**
 * `allkeys-lru`, filled past maxmemory: Redis evicts what it likes, sessions included. Nothing
 * comes back; the run shows that it is said (a warning at connect, a line when evictions are noticed).
 */
export async function memoryEvicting(): Promise<Store> {
  const redis = await smallRedis('allkeys-lru');
  return {
    redisOptions: { url: redis.url },
    inject: async () => {
      await fill(redis);
      await redis.cli('SET', 'one-more', 'x'); // the command after the fill is what makes Redis evict
      return Date.now();
    },
    stop: () => redis.stop(),
  };
}

/** The apps reach Redis through a proxy that partitions them for PARTITION_MS (`hold` or `drop`), then heals. */
export async function partitioned(mode: PartitionMode): Promise<Store> {
  const redis = await startRedis();
  const proxy = await startTcpProxy(redis.port);
  return {
    redisOptions: { url: `redis://127.0.0.1:${proxy.port}` },
    inject: async () => {
      proxy.partition(mode);
      await sleep(PARTITION_MS);
      proxy.heal();
      return Date.now();
    },
    stop: async () => {
      await proxy.stop();
      await redis.stop();
    },
  };
}

/** The slot ranges a node owns, from its CLUSTER NODES line ("a-b" or "a"), as a count. */
function slotsOf(nodesLine: string): number {
  return nodesLine.trim().split(' ').slice(8).filter(range => /^\d/.test(range))
    .reduce((sum, range) => { const [a, b = a] = range.split('-').map(Number); return sum + b! - a! + 1; }, 0);
}

/**
 * A 3-master Cluster: `redis-cli --cluster reshard` moves every slot of the first master to the
 * second while the clients run (keys migrate one by one: MOVED and ASK). The store is "back"
 * when the move is done; it rejects if the first master still owns a slot.
 */
export async function clusterResharded(): Promise<Store & { slotsMoved(): number }> {
  const cluster = await startCluster();
  const [fromPort, toPort] = cluster.ports as [number, number];
  const id = async (port: number) => (await cluster.cli(port, 'CLUSTER', 'MYID')).trim();
  const line = async (nodeId: string) => (await cluster.cli(toPort, 'CLUSTER', 'NODES')).split('\n').find(l => l.startsWith(nodeId)) ?? '';
  let moved = 0;
  return {
    redisOptions: { cluster: cluster.nodes },
    inject: async () => {
      const [from, to] = [await id(fromPort), await id(toPort)];
      const slots = slotsOf(await line(from));
      const args = ['--cluster', 'reshard', `127.0.0.1:${fromPort}`, '--cluster-from', from, '--cluster-to', to, '--cluster-slots', String(slots), '--cluster-yes', '--cluster-pipeline', '20'];
      await new Promise<void>((resolve, reject) => execFile('redis-cli', args, { timeout: 300_000 }, (error, stdout, stderr) => (error ? reject(new Error(`redis-cli --cluster reshard: ${stderr || stdout}`)) : resolve())));
      const left = slotsOf(await line(from));
      if (left > 0) throw new Error(`the first master still owns ${left} slots after the reshard`);
      moved = slots;
      return Date.now();
    },
    slotsMoved: () => moved,
    stop: () => cluster.stop(),
  };
}
