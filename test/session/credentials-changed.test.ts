/**
 * `destroyUserSessions(userId, { credentialsChanged: true })` (ASVS 5.0 7.4.3) through HTTP on every engine: Memory, Redis, a
 * Redis Cluster (the owner index) and Cookie (the revocation store's not-before). After a
 * password change in one browser, another browser's session of the user is unknown, a copy of
 * the changing browser's old cookie is unknown, the changing browser stays logged in under a new
 * id, another user's sessions are untouched, and a change made by someone else (an admin) ends
 * every session of the user. A plain read still costs what it did (commandstats).
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, type App, type SettingsInput } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../support/redis-server.ts';
import { withoutCsrf } from '../support/serve.ts';
import { uniquePrefix } from './engines/redis/helpers.ts';

interface Engine {
  name: string;
  settings(): Promise<SettingsInput>;
  /** Commands per name since reset(), for the round-trip check (single Redis only). */
  calls?(): Promise<Map<string, number>>;
  reset?(): Promise<void>;
  stop(): Promise<void>;
}

const settingsFor = (session: string, options: Record<string, unknown>): SettingsInput =>
  withoutCsrf({ log: 'none', session, engines: { session: { [session]: options } } });

const secret_key = randomBytes(32).toString('base64url');
const engines: Engine[] = [
  { name: 'Memory', settings: async () => settingsFor('Memory', {}), stop: async () => {} },
  (() => {
    let redis: RedisServer | undefined;
    return {
      name: 'Redis',
      settings: async () => settingsFor('Redis', { url: (redis ??= await startRedis()).url, key_prefix: uniquePrefix(), hash_ids: true }),
      reset: async () => void (await redis!.cli('CONFIG', 'RESETSTAT')),
      calls: async () => {
        const calls = await redis!.commandCalls();
        for (const name of calls.keys()) if (name.includes('|') || ['config', 'info', 'hello'].includes(name)) calls.delete(name);
        return calls;
      },
      stop: async () => redis?.stop(),
    };
  })(),
  (() => {
    let cluster: RedisCluster | undefined;
    return {
      name: 'Redis Cluster',
      settings: async () => settingsFor('Redis', { cluster: (cluster ??= await startCluster()).nodes, key_prefix: uniquePrefix() }),
      stop: async () => cluster?.stop(),
    };
  })(),
  { name: 'Cookie (revocation on Memory)', settings: async () => settingsFor('Cookie', { secret_key, revocation: { store: 'Memory' } }), stop: async () => {} },
];

function routes(app: App): App {
  return app
    .post('/login/:user', async ctx => {
      await ctx.login(ctx.params.user);
      return 'ok';
    })
    .get('/me', async ctx => ({ user: (await ctx.findSession())?.owner ?? null }))
    .post('/password/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { credentialsChanged: true }), id: (await ctx.session()).id }))
    .post('/bad', ctx => ctx.destroyUserSessions('', { credentialsChanged: true }))
    .post('/bad-except', async ctx => ctx.destroyUserSessions('ann', { credentialsChanged: true, except: (await ctx.session()).id }));
}

function copyOf(from: TestClient): TestClient {
  const copy = from.fork();
  for (const [name, entry] of from.jar) copy.jar.set(name, { ...entry });
  return copy;
}

async function userOf(client: TestClient): Promise<string | null> {
  const res = await client.request('GET', '/me');
  assert.is(res.status, 200, res.text);
  return (res.json() as { user: string | null }).user;
}

for (const engine of engines) {
  const test = engine.name.includes('Redis') ? redisSuite(`credentialsChanged :: ${engine.name}`) : suite(`credentialsChanged :: ${engine.name}`);
  const withApp = async (body: (client: TestClient, app: App) => Promise<void>) => {
    const app = routes(createApp(await engine.settings()));
    const client = await testClient(app);
    try {
      await body(client, app);
    } finally {
      await client.close();
    }
  };
  test.after(() => engine.stop());

  test('after a password change another browser\'s session is unknown, this one stays logged in under a new id', () =>
    withApp(async (client, app) => {
      const name = app.sessions.cookieOver(false).name;
      const laptop = client.fork();
      const phone = client.fork();
      const tablet = client.fork();
      const bob = client.fork();
      for (const [browser, user] of [[laptop, 'ann'], [phone, 'ann'], [tablet, 'ann'], [bob, 'bob']] as const) {
        assert.is((await browser.request('POST', `/login/${user}`)).status, 200);
      }
      const oldPhone = copyOf(phone);
      const before = phone.jar.get(name)!.value;
      const changed = await phone.request('POST', '/password/ann');
      assert.is(changed.status, 200, changed.text);
      assert.is((changed.json() as { ended: number }).ended, 2, 'the two other sessions of ann');
      assert.is.not(phone.jar.get(name)!.value, before, 'this browser got a new cookie (a new id)');
      assert.is(await userOf(phone), 'ann', 'this browser stays logged in');
      assert.is(await userOf(laptop), null, 'another browser: unknown');
      assert.is(await userOf(tablet), null, 'and the third');
      assert.is(await userOf(oldPhone), null, 'a copy of this browser\'s old cookie: unknown');
      assert.is(await userOf(bob), 'bob', 'another user is untouched');
      await laptop.request('POST', '/login/ann');
      assert.is(await userOf(laptop), 'ann', 'logging in again afterwards works');
    }));

  test('a change made by someone else (an admin, support) ends every session of the user and not the caller\'s', () =>
    withApp(async client => {
      const laptop = client.fork();
      const admin = client.fork();
      await laptop.request('POST', '/login/ann');
      await admin.request('POST', '/login/root');
      assert.is((await admin.request('POST', '/password/ann')).json().ended, 1);
      assert.is(await userOf(laptop), null);
      assert.is(await userOf(admin), 'root');
    }));

  test('a bad userId, or an `except` beside it, is a TypeError (500) that changes nothing', () =>
    withApp(async client => {
      await client.request('POST', '/login/ann');
      const res = await client.request('POST', '/bad');
      assert.is(res.status, 500);
      assert.is(await userOf(client), 'ann');
      assert.is((await client.request('POST', '/bad-except')).status, 500, 'except with credentialsChanged: a TypeError');
      assert.is(await userOf(client), 'ann');
    }));

  if (engine.calls) {
    test('a plain read costs what it did: one script call (commandstats)', () =>
      withApp(async client => {
        await client.request('POST', '/login/ann');
        await client.request('POST', '/password/ann');
        await userOf(client);
        await engine.reset!();
        for (let i = 0; i < 3; i++) await userOf(client);
        assert.equal(Object.fromEntries(await engine.calls!()), { evalsha: 3, get: 3, expire: 3 });
      }));
  }
  test.run();
}
