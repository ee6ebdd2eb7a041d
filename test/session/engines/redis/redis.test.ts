/**
 * The Redis engine against a real redis-server started on a free loopback port: the engine
 * contract, the storage format, exact values through the flush script, round trips counted with
 * INFO commandstats, and concurrent writers sharing one Redis.
 */
import * as assert from 'uvu/assert';
import { SessionStoreError } from '../../../../src/base/errors.ts';
import { applyChange } from '../../../../src/session/apply-change.ts';
import type { SessionChange } from '../../../../src/session/engine.ts';
import { storedRedisEngine } from '../../../../src/session/engines/redis/definition.ts';
import { engineContract, uvuTest } from '../../../../src/testing/engine-contract.ts';
import { redisSuite, startRedis, type RedisServer } from '../../../support/redis-server.ts';
import { listAll, makeEngine, newId, read, uniquePrefix, write } from './helpers.ts';

let started: Promise<RedisServer> | undefined;
const server = () => (started ??= startRedis());
const engineOn = async (extra: Record<string, unknown> = {}, sessionDuration = 60) =>
  makeEngine({ server: `127.0.0.1:${(await server()).port}`, key_prefix: uniquePrefix(), ...extra }, sessionDuration).engine;

// session_duration 1: a read slides the TTL to at least session_duration (the read script's EXPIRE GT),
// and the contract's expiry test expects a read to keep the 1 s ttl of the write before it.
const contract = redisSuite('engine contract :: Redis');
engineContract(uvuTest(contract), {
  name: 'Redis',
  setup: async ({ sessionDuration }) => ({ engine: storedRedisEngine(await engineOn({}, sessionDuration)) }),
  capabilities: { changeId: true, changeIdAtFlush: true, take: true, flushUnread: true, owners: true, hashedKeys: true, renewal: true },
});
contract.run();

const test = redisSuite<{ redis: RedisServer }>('Redis engine', {} as never);
test.before(async context => {
  context.redis = await server();
});
test.after(async () => {
  await (await started)?.stop();
});

test('storage :: one JSON string at key_prefix + id, readable with redis-cli GET, TTL set', async ({ redis }) => {
  const engine = await engineOn({ key_prefix: undefined });
  const id = newId();
  await write(engine, id, true, s => { s.set('user', 'ann'); s.set('roles', ['admin']); }, 120);
  assert.equal(JSON.parse(await redis.cli('GET', `dancer.session:${id}`)), { user: 'ann', roles: ['admin'] });
  const ttl = Number(await redis.cli('TTL', `dancer.session:${id}`));
  assert.ok(ttl > 110 && ttl <= 120, `TTL ${ttl} is the flush's ttl`);
  await engine.close();
});

test('retrieve :: a read refreshes the TTL to session_duration (read script, EXPIRE GT)', async ({ redis }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix }, 600);
  const id = newId();
  await write(engine, id, true, s => s.set('a', 1), 600);
  await redis.cli('EXPIRE', prefix + id, '5');
  assert.equal(await read(engine, id), { a: 1 });
  const ttl = Number(await redis.cli('TTL', prefix + id));
  assert.ok(ttl > 590, `TTL ${ttl} was slid back to 600 by the read`);
  await engine.close();
});

const TRICKY = {
  text: 'héllo "quoted" {brace} [bracket] \\ back\\"slash\nline ✓ 😀 \u0000 \u2028',
  json_looking: '{"a":[1,2],"b":"}"}',
  big: 2 ** 53 - 1, negative_big: -(2 ** 53 - 1), tenth: 0.1, third: 1 / 3, tiny: 1e-7, smallest: 5e-324,
  huge: 1.7976931348623157e308, exponent: 1e21, negative: -0.5, zero: 0,
  yes: true, no: false, nothing: null, empty_list: [], empty_object: {}, empty_string: '',
  nested: { list: [1, '}', ['[', { '"': '\\' }], [], {}], deep: { a: { b: { c: [[[]]] } } } },
  'key "with" quotes': 1, 'key\\with\\backslashes': 2, 'ключ': 3, '': 'empty key', '}': '{', __proto__x: 4,
};

test('flush :: values survive the script that splits and rebuilds the stored object', async () => {
  const engine = await engineOn();
  const id = newId();
  await write(engine, id, true, s => { for (const [k, v] of Object.entries(TRICKY)) s.set(k, v); });
  // A second flush makes the script split the stored object and join it again around the change.
  await write(engine, id, false, s => { s.set('added', [{}]); s.delete('zero'); s.increment('counter', 2); });
  const { zero, ...kept } = TRICKY;
  assert.equal(await read(engine, id), { ...kept, added: [{}], counter: 2 });
  await engine.close();
});

test('flush :: increments are computed exactly as JavaScript would', async () => {
  const engine = await engineOn();
  const id = newId();
  const start = { a: 0.1, b: 2 ** 53 - 2, c: 1e-7, d: 1e300, e: -5, f: 'text', g: [1], h: 1.5 };
  const by = { a: 0.2, b: 1, c: 1e-7, d: 1, e: 5, f: 3, g: 1, h: 0.25, missing: 7 };
  await write(engine, id, true, s => { for (const [k, v] of Object.entries(start)) s.set(k, v); });
  await write(engine, id, false, s => { for (const [k, v] of Object.entries(by)) s.increment(k, v); });
  assert.equal(await read(engine, id), {
    a: 0.1 + 0.2, b: 2 ** 53 - 1, c: 2e-7, d: 1e300 + 1, e: 0, f: 3, g: 1, h: 1.75, missing: 7,
  });
  await engine.close();
});

/** A deterministic pseudo-random generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(next: () => number, depth = 0): unknown {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => pick(['a', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', 'é', '😀', '\n'])).join('');
  switch (Math.floor(next() * (depth > 2 ? 4 : 6))) {
    case 0: return text();
    case 1: return pick([0, -1, 2 ** 53 - 1, 0.1, 1e-7, -2.5e-300, 1e21, 123456.789, next() * 1e6]);
    case 2: return pick([true, false, null]);
    case 3: return pick([[], {}, '']);
    case 4: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [text(), randomValue(next, depth + 1)]));
  }
}

test('flush :: 100 random changes leave what applyChange, the Memory engine rule, leaves', async () => {
  const engine = await engineOn();
  const next = random(4);
  const keys = ['a', 'b', 'c', '"q"', 'back\\slash', '', 'ü'];
  const id = newId();
  let expected: Record<string, unknown> = {};
  for (let round = 0; round < 100; round++) {
    const change: SessionChange = { isNew: round === 0, cleared: next() < 0.1, set: new Map(), deleted: new Set(), incremented: new Map(), pushed: new Map() };
    for (const key of keys) {
      const roll = next();
      if (roll < 0.3) change.set.set(key, JSON.stringify(randomValue(next)));
      else if (roll < 0.4) change.deleted.add(key);
      else if (roll < 0.55) change.incremented.set(key, next() < 0.5 ? 1 : next() * 10);
    }
    expected = applyChange(expected, change);
    await engine.flush(id, change, 60);
    assert.equal(await read(engine, id), expected, `round ${round}`);
  }
  await engine.close();
});

test('flush :: 50 different-key writes and 50 increments from two engines on one Redis all kept', async () => {
  const prefix = uniquePrefix();
  const first = await engineOn({ key_prefix: prefix });
  const second = await engineOn({ key_prefix: prefix });
  const id = newId();
  await write(first, id, true, s => s.set('n', 0));
  await Promise.all(Array.from({ length: 100 }, (_, i) => {
    const engine = i % 2 ? first : second;
    return i < 50 ? write(engine, id, false, s => s.set(`k${i}`, i)) : write(engine, id, false, s => s.increment('n'));
  }));
  const data = await read(second, id);
  assert.is(data?.n, 50);
  for (let i = 0; i < 50; i++) assert.is(data?.[`k${i}`], i, `k${i} kept`);
  await first.close();
  await second.close();
});

test('flush :: a late flush after a logout leaves the session destroyed', async ({ redis }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix });
  const id = newId();
  await write(engine, id, true, s => s.set('user', 'ann'));
  await engine.destroy(id);
  await write(engine, id, false, s => { s.set('late', 1); s.increment('visits'); });
  await write(engine, id, false, s => s.clear());
  assert.is(await redis.cli('EXISTS', prefix + id), '0');
  await engine.close();
});

test('flush :: a new session claims its id with NX; a taken id is a SessionStoreError', async () => {
  const engine = await engineOn();
  const id = newId();
  await write(engine, id, true, s => s.set('owner', 'first'));
  const error = await write(engine, id, true, s => s.set('owner', 'second')).catch(e => e);
  assert.instance(error, SessionStoreError);
  assert.equal(await read(engine, id), { owner: 'first' });
  await engine.close();
});

test('changeId :: the old key becomes a short-lived moved-to pointer, the new key holds the data and keeps a TTL', async ({ redis }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix });
  const [oldId, freshId, takenId] = [newId(), newId(), newId()];
  await write(engine, oldId, true, s => s.set('user', 'ann'), 300);
  await write(engine, takenId, true, s => s.set('user', 'bob'));
  await engine.changeId(oldId, freshId);
  assert.is(await redis.cli('TYPE', prefix + oldId), 'hash', 'no session string under the old id');
  assert.is(await redis.cli('HGET', prefix + oldId, 'moved_to'), prefix + freshId);
  assert.ok(Number(await redis.cli('TTL', prefix + oldId)) <= 10, 'the moved-to pointer lives seconds, not a session duration');
  assert.equal(JSON.parse(await redis.cli('GET', prefix + freshId)), { user: 'ann' });
  assert.ok(Number(await redis.cli('TTL', prefix + freshId)) > 290);
  assert.instance(await engine.changeId(freshId, takenId).catch(e => e), SessionStoreError);
  assert.equal(await read(engine, takenId), { user: 'bob' }, 'a taken id is never overwritten');
  await engine.close();
});

test('sessions :: SCAN with the prefix (glob characters escaped), never KEYS', async ({ redis }) => {
  const prefix = `test*[?]\\${uniquePrefix()}`;
  const engine = await engineOn({ key_prefix: prefix });
  const ids = Array.from({ length: 30 }, newId);
  await Promise.all(ids.map(id => write(engine, id, true, s => s.set('x', 1))));
  await redis.cli('SET', `${prefix.replace('*', 'X')}${newId()}`, '{}');
  await redis.cli('CONFIG', 'RESETSTAT');
  assert.equal(await listAll(engine), ids.sort());
  const calls = await redis.commandCalls();
  assert.ok(calls.get('scan')! >= 1, 'listed with SCAN');
  assert.not.ok(calls.has('keys'), 'KEYS was never called');
  await engine.close();
});

test('round trips :: a read is one command (EVALSHA of the read script), a flush one (EVALSHA), nothing else', async ({ redis }) => {
  const engine = await engineOn();
  const id = newId();
  await write(engine, id, true, s => s.set('a', 1)); // connects and loads the scripts once
  await read(engine, id);
  const commandsFor = async (action: () => Promise<unknown>) => {
    await redis.cli('CONFIG', 'RESETSTAT');
    await action();
    const calls = await redis.commandCalls();
    for (const name of calls.keys()) if (/^(config|info)\b/.test(name)) calls.delete(name);
    return Object.fromEntries(calls);
  };
  assert.equal(await commandsFor(() => read(engine, id)), { evalsha: 1, get: 1, expire: 1 }, 'one EVALSHA: GET and EXPIRE GT run inside the script');
  assert.equal(await commandsFor(() => write(engine, id, false, s => { s.set('b', 2); s.increment('c'); s.delete('a'); })), { evalsha: 1, get: 1, set: 1 }, 'one EVALSHA; GET and SET run inside the script, on the server');
  assert.equal(await commandsFor(() => engine.destroy(id)), { del: 1 });
  await engine.close();
});

test('round trips :: a user with 600 sessions logs in, is listed and is logged out everywhere in a few commands, not one per session', async ({ redis }) => {
  const prefix = uniquePrefix();
  const engine = await engineOn({ key_prefix: prefix });
  const ids = Array.from({ length: 600 }, newId);
  for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map(id => write(engine, id, true, s => s.setOwner('many'))));
  const commandsFor = async (action: () => Promise<unknown>) => {
    await redis.cli('CONFIG', 'RESETSTAT');
    const value = await action();
    const calls = await redis.commandCalls();
    for (const name of calls.keys()) if (/^(config|info)\b/.test(name)) calls.delete(name);
    return { value, calls: Object.fromEntries(calls), total: [...calls.values()].reduce((sum, n) => sum + n, 0) };
  };
  // The index was pruned at 64, 128, 256 and 512 members; a login at 601 reads none of them.
  const login = await commandsFor(() => write(engine, newId(), true, s => s.setOwner('many')));
  assert.ok(login.calls['mget'] === undefined && login.calls['get'] === 1 && login.total <= 8, `a login by a user with 600 sessions ran ${JSON.stringify(login.calls)}`);
  const list = await commandsFor(() => engine.ownedSessions('many'));
  assert.is((list.value as unknown[]).length, 601);
  assert.equal(list.calls, { zrange: 1, mget: 3 }, 'the index, then one MGET per 250 sessions');
  const ended = await commandsFor(() => engine.destroyOwned('many', ids[0]));
  assert.is(ended.value, 600);
  assert.ok(ended.total <= 10, `log-out-everywhere of 600 sessions ran ${ended.total} commands: ${JSON.stringify(ended.calls)}`);
  assert.is(await redis.cli('EXISTS', ...ids.slice(1, 4).map(id => prefix + id)), '0');
  assert.equal((await engine.ownedSessions('many')).map(s => s.id), [ids[0]]);
  await engine.close();
});

test('database and url :: sessions land in the configured database', async ({ redis }) => {
  const prefix = uniquePrefix();
  for (const options of [{ url: `${redis.url}/3` }, { server: `127.0.0.1:${redis.port}`, database: 4 }]) {
    const { engine } = makeEngine({ ...options, key_prefix: prefix });
    const id = newId();
    await write(engine, id, true, s => s.set('db', 'yes'));
    const db = 'url' in options ? '3' : '4';
    assert.equal(JSON.parse(await redis.cli('-n', db, 'GET', prefix + id)), { db: 'yes' });
    assert.is(await redis.cli('-n', '0', 'EXISTS', prefix + id), '0');
    await engine.close();
  }
});

test.run();
