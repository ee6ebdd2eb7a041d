/**
 * The Redis engine on a real 3-master Redis Cluster on loopback: the engine contract, sessions
 * spread over the masters, changeId between slots, and listing that scans every master.
 */
import * as assert from 'uvu/assert';
import { storedRedisEngine } from '../../../../src/session/engines/redis/definition.ts';
import { engineContract, uvuTest } from '../../../../src/testing/engine-contract.ts';
import { redisSuite, startCluster, type RedisCluster } from '../../../support/redis-server.ts';
import { listAll, makeEngine, newId, read, uniquePrefix, write } from './helpers.ts';

let started: Promise<RedisCluster> | undefined;
const cluster = () => (started ??= startCluster());
const engineOn = async (extra: Record<string, unknown> = {}, sessionDuration = 60) =>
  makeEngine({ cluster: (await cluster()).nodes, key_prefix: uniquePrefix(), ...extra }, sessionDuration).engine;

// session_duration 1: see redis.test.ts.
const contract = redisSuite('engine contract :: Redis Cluster');
engineContract(uvuTest(contract), {
  name: 'Redis Cluster',
  setup: async ({ sessionDuration }) => ({ engine: storedRedisEngine(await engineOn({}, sessionDuration)) }),
  capabilities: { changeId: true, take: true, flushUnread: true, owners: true, hashedKeys: true, renewal: true },
});
contract.run();

const test = redisSuite<{ cluster: RedisCluster }>('Redis engine :: cluster', {} as never);
test.before(async context => {
  context.cluster = await cluster();
});
test.after(async () => {
  await (await started)?.stop();
});

/** The master port that holds `key`. */
async function ownerOf(cluster: RedisCluster, key: string): Promise<number> {
  for (const port of cluster.ports) {
    if ((await cluster.cli(port, 'EXISTS', key)) === '1') return port;
  }
  throw new Error(`no master holds ${key}`);
}

test('sessions :: spread over the masters, each one key in one slot, listed by scanning every master', async ({ cluster }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix });
  const ids = Array.from({ length: 30 }, newId);
  await Promise.all(ids.map((id, i) => write(engine, id, true, s => s.set('i', i))));
  const owners = new Set(await Promise.all(ids.map(id => ownerOf(cluster, prefix + id))));
  assert.is(owners.size, 3, 'every master holds some sessions');
  assert.equal(await read(engine, ids[7]!), { i: 7 });
  assert.equal(await listAll(engine), [...ids].sort());
  await engine.close();
});

test('changeId :: moves the session to a key in another slot; the old id is gone', async ({ cluster }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix });
  const oldId = newId();
  let freshId = newId();
  const slot = (id: string) => cluster.cli(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', prefix + id);
  while ((await slot(oldId)) === (await slot(freshId))) freshId = newId();
  await write(engine, oldId, true, s => { s.set('user', 'ann'); s.set('list', []); });
  await engine.changeId(oldId, freshId);
  assert.is(await read(engine, oldId), undefined);
  assert.equal(await read(engine, freshId), { user: 'ann', list: [] });
  const owner = await ownerOf(cluster, prefix + freshId);
  assert.ok(Number(await cluster.cli(owner, 'TTL', prefix + freshId)) > 50, 'the new key has a TTL');
  // A late flush from a request that read the session before the move follows the moved-to pointer
  // to the new key; the old id does not come back.
  await write(engine, oldId, false, s => s.set('late', 1));
  assert.is(await read(engine, oldId), undefined);
  assert.equal(await read(engine, freshId), { user: 'ann', list: [], late: 1 });
  await engine.close();
});

test('round trips :: a read is one EVALSHA (read script) and a flush one EVALSHA, on the master that owns the key', async ({ cluster }) => {
  const engine = await engineOn();
  const id = newId();
  await write(engine, id, true, s => s.set('a', 1));
  const calls = async () => {
    const total = new Map<string, number>();
    for (const port of cluster.ports) {
      for (const [, name, count] of (await cluster.cli(port, 'INFO', 'commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (!/^(config|info|cluster|ping)\b/.test(name!)) total.set(name!, (total.get(name!) ?? 0) + Number(count));
      }
    }
    return total;
  };
  await read(engine, id); // loads the read script on the node
  for (const port of cluster.ports) await cluster.cli(port, 'CONFIG', 'RESETSTAT');
  await read(engine, id);
  await write(engine, id, false, s => s.increment('a'));
  assert.equal(Object.fromEntries(await calls()), { evalsha: 2, get: 2, expire: 1, set: 1 });
  assert.equal(await read(engine, id), { a: 2 });
  await engine.close();
});

test.run();
