/**
 * The owner index's unhappy paths: an engine without it fails loudly at login and userSessions
 * (never a silent no-op), Redis down is a 503, and on Redis (single node and Cluster) what a
 * crash between the index command and the session's own write leaves — a stale member — is
 * skipped by the list, never ended by destroyUserSessions, and pruned once old.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createApp } from '../../src/index.ts';
import { STALE_AFTER_MS } from '../../src/session/engines/redis/owners.ts';
import { PRUNE_ABOVE } from '../../src/session/engines/redis/scripts.ts';
import { Session } from '../../src/session/session.ts';
import { WrappedEngine } from '../support/engine-calls.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../support/redis-server.ts';
import { withClient, withoutCsrf } from '../support/serve.ts';
import { makeEngine, newId, uniquePrefix } from './engines/redis/helpers.ts';
import { ownerRoutes } from './owner-routes.ts';

const plain = suite('owners :: an engine without the owner index');

plain('login and userSessions :: a 500 that names the missing capability; nothing is stored', async () => {
  // WrappedEngine forwards the base contract only: no ownedSessions, no destroyOwned.
  const app = ownerRoutes(createApp(withoutCsrf({ log: 'none' }), { sessionEngine: new WrappedEngine() }));
  await withClient(app, async client => {
    for (const [method, path] of [['POST', '/login/ann'], ['GET', '/sessions/ann'], ['POST', '/everywhere-out/ann']] as const) {
      const res = await client.request(method, path);
      assert.is(res.status, 500, path);
      assert.match(res.text, /keeps no owner index \(the &quot;owners&quot; capability: ownedSessions and destroyOwned\); Memory and Redis do/);
      assert.is(res.setCookie('sid'), undefined, `${path} stored nothing`);
    }
  });
});

plain.run();

const down = redisSuite('owners :: Redis down');

down('login, userSessions, destroyUserSessions :: 503 while Redis is down, working again when it is back', async () => {
  const redis = await startRedis();
  try {
    const app = ownerRoutes(createApp({ log: 'none', session: 'Redis', engines: { session: { Redis: { url: redis.url, command_timeout: 300, hash_ids: true, csrf: false } } } }));
    await withClient(app, async client => {
      assert.is((await client.post('/login/ann')).status, 200);
      await redis.stop();
      for (const [method, path] of [['GET', '/sessions/ann'], ['POST', '/others-out/ann'], ['POST', '/login/bob'], ['POST', '/logout']] as const) {
        assert.is((await client.request(method, path)).status, 503, path);
      }
      await redis.restart();
      // The client reconnects within a second (reconnectDelay); until then, still 503.
      let status = 0;
      for (let tries = 0; tries < 40 && status !== 200; tries++) {
        status = (await client.post('/login/ann')).status;
        if (status !== 200) await new Promise(resolve => setTimeout(resolve, 100));
      }
      assert.is(status, 200);
      assert.is((await client.get('/sessions/ann')).json().length, 1);
    });
  } finally {
    await redis.stop();
  }
});

down.run();

interface Target {
  name: string;
  start(): Promise<{ options: Record<string, unknown>; cli(...args: string[]): Promise<string>; stop(): Promise<void> }>;
}

const single: Target = {
  name: 'Redis',
  start: async () => {
    const redis: RedisServer = await startRedis();
    return { options: { url: redis.url }, cli: (...args) => redis.cli(...args), stop: () => redis.stop() };
  },
};

const cluster: Target = {
  name: 'Redis Cluster',
  start: async () => {
    const started: RedisCluster = await startCluster();
    // A key's own node answers; redis-cli -c follows MOVED to it.
    return { options: { cluster: started.nodes }, cli: (...args) => started.cli(started.ports[0]!, '-c', ...args), stop: () => started.stop() };
  },
};

for (const target of [single, cluster]) {
  const test = redisSuite(`owners :: a crash between index and session :: ${target.name}`);

  test('stale members :: skipped by the list, never ended, pruned only once older than STALE_AFTER_MS', async () => {
    const store = await target.start();
    try {
      const prefix = uniquePrefix();
      const { engine } = makeEngine({ ...store.options, key_prefix: prefix });
      const index = `${prefix}owner:ann`;
      const [live, bobs, missingOld, missingNew] = [newId(), newId(), newId(), newId()];
      const login = async (id: string, owner: string) => {
        const session = new Session(id, {}, true);
        session.setOwner(owner);
        await engine.flush(id, session.change, 60);
      };
      await login(live, 'ann');
      await login(bobs, 'bob');
      const old = String(Date.now() - STALE_AFTER_MS - 1000);
      // What a crash after the index command leaves: members whose session never got the owner.
      await store.cli('ZADD', index, old, prefix + bobs);
      await store.cli('ZADD', index, old, prefix + missingOld);
      await store.cli('ZADD', index, String(Date.now()), prefix + missingNew);
      assert.equal((await engine.ownedSessions('ann')).map(s => s.id), [live], 'only the live session of ann is listed');
      const members = (await store.cli('ZRANGE', index, '0', '-1')).split('\n').sort();
      assert.equal(members, [prefix + live, prefix + missingNew].sort(), 'old stale members pruned; a recent one kept (its write may be on its way)');
      assert.is(await engine.destroyOwned('ann'), 1);
      assert.ok(await engine.retrieve(bobs), 'a stale member never ends the session of another user');
      assert.equal((await engine.ownedSessions('bob')).map(s => s.id), [bobs]);
      await engine.close();
    } finally {
      await store.stop();
    }
  });

  test('a large index :: a login that brings an index past PRUNE_ABOVE members to a power of two prunes the old stale ones', async () => {
    const store = await target.start();
    try {
      const prefix = uniquePrefix();
      const { engine } = makeEngine({ ...store.options, key_prefix: prefix });
      const index = `${prefix}owner:ann`;
      const old = String(Date.now() - STALE_AFTER_MS - 1000);
      // What expired sessions of a user who never opened the list leave behind.
      // 2 * PRUNE_ABOVE - 1 of them: the login makes 64, a power of two (scripts.ts pruneDue).
      for (let i = 0; i < 2 * PRUNE_ABOVE - 1; i++) await store.cli('ZADD', index, old, prefix + newId());
      const live = newId();
      const session = new Session(live, {}, true);
      session.setOwner('ann');
      await engine.flush(live, session.change, 60);
      assert.equal((await store.cli('ZRANGE', index, '0', '-1')).split('\n'), [prefix + live]);
      await engine.close();
    } finally {
      await store.stop();
    }
  });

  test.run();
}
