/**
 * Revocable sealed cookies (ASVS 5.0 7.4.1), through HTTP on the Cookie engine with its
 * revocation store in Memory, in Redis and in a Redis Cluster: a copy of a cookie taken before a
 * logout, a log out everywhere or an id change is no session after it; a renewal reseals under a
 * new id and the old cookie dies after the grace window; the store down is a 503, never a
 * revoked cookie let through; and what it costs (commandstats). Also the start-up rules: the
 * Cookie block must say where revocations live, or `revocation: false`.
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, createApp, type App, type SettingsInput } from '../../../src/index.ts';
import { testClient, type TestClient } from '../../../src/testing.ts';
import { redisSuite, startCluster, startFailoverGroup, startRedis, type RedisCluster, type RedisServer } from '../../support/redis-server.ts';
import { withoutCsrf } from '../../support/serve.ts';
import { uniquePrefix } from '../engines/redis/helpers.ts';

const secret_key = randomBytes(32).toString('base64url');
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Where a suite keeps its revocations: the `revocation` block, and (Redis) the commands it ran. */
interface Where {
  name: string;
  revocation(): Promise<Record<string, unknown>>;
  calls?(): Promise<Map<string, number>>;
  reset?(): Promise<void>;
  stop(): Promise<void>;
}

const memory: Where = { name: 'Memory', revocation: async () => ({ store: 'Memory' }), stop: async () => {} };

function single(): Where {
  let redis: RedisServer | undefined;
  return {
    name: 'Redis',
    revocation: async () => ({ store: 'Redis', url: (redis ??= await startRedis()).url, key_prefix: uniquePrefix() }),
    reset: async () => void (await redis!.cli('CONFIG', 'RESETSTAT')),
    calls: async () => {
      const calls = await redis!.commandCalls();
      for (const name of calls.keys()) if (name.includes('|') || ['config', 'info', 'ping', 'hello', 'script'].includes(name)) calls.delete(name);
      return calls;
    },
    stop: async () => redis?.stop(),
  };
}

function cluster(): Where {
  let nodes: RedisCluster | undefined;
  return {
    name: 'Redis Cluster',
    revocation: async () => ({ store: 'Redis', cluster: (nodes ??= await startCluster()).nodes, key_prefix: uniquePrefix() }),
    stop: async () => nodes?.stop(),
  };
}

/** The Cookie engine's settings with `revocation` and `more` over them. */
function cookieSettings(revocation: unknown, more: Record<string, unknown> = {}): SettingsInput {
  return withoutCsrf({ log: 'none', session: 'Cookie', engines: { session: { Cookie: { secret_key, revocation, ...more } } } });
}

function routes(app: App): App {
  return app
    .post('/visit', async ctx => ({ visits: await ctx.increment('visits') }))
    .post('/login/:user', async ctx => {
      await ctx.login(ctx.params.user);
      return 'ok';
    })
    .get('/me', async ctx => ({ user: (await ctx.findSession())?.owner ?? null, visits: (await ctx.session('visits')) ?? null }))
    .post('/logout', async ctx => {
      await ctx.logout();
      return 'bye';
    })
    .post('/everywhere-out/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user) }))
    .post('/others-out/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { except: (await ctx.session()).id }) }))
    .post('/new-id', async ctx => {
      await ctx.changeSessionId();
      return 'ok';
    })
    .post('/password/:user', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { credentialsChanged: true }) }))
    .get('/sessions/:user', ctx => ctx.userSessions(ctx.params.user))
    .post('/sign-out/:user/:handle', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { only: ctx.params.handle }) }))
    .get('/id', async ctx => ({ id: (await ctx.findSession())?.id ?? null }));
}

/** A second browser holding a copy of `from`'s session cookie as it is now. */
function copyOf(from: TestClient): TestClient {
  const thief = from.fork();
  for (const [name, entry] of from.jar) thief.jar.set(name, { ...entry });
  return thief;
}

async function me(client: TestClient): Promise<{ user: string | null; visits: number | null }> {
  const res = await client.request('GET', '/me');
  assert.is(res.status, 200, res.text);
  return res.json();
}

function revocationSuite(where: Where): void {
  const test = where.name === 'Memory' ? suite(`revocable cookies :: ${where.name}`) : redisSuite(`revocable cookies :: ${where.name}`);
  const withApp = async (more: Record<string, unknown>, body: (client: TestClient, app: App) => Promise<void>) => {
    const app = routes(createApp(cookieSettings(await where.revocation(), more)));
    const client = await testClient(app);
    try {
      await body(client, app);
    } finally {
      await client.close();
    }
  };
  test.after(() => where.stop());

  test('sign out this device :: { only: handle } ends that one session, a copy of its cookie included; the others stay', () =>
    withApp({}, async client => {
      const phone = client.fork();
      await client.request('POST', '/login/ann');
      await phone.request('POST', '/login/ann');
      const stolen = copyOf(phone);
      const listed = (await client.request('GET', '/sessions/ann')).json() as { handle: string; current: boolean }[];
      assert.is(listed.length, 2);
      const other = listed.find(s => !s.current)!;
      assert.equal((await client.request('POST', `/sign-out/ann/${other.handle}`)).json(), { ended: 1 });
      assert.is((await me(phone)).user, null, 'the phone is signed out');
      assert.is((await me(stolen)).user, null, 'and so is a copy of its cookie');
      assert.is((await me(client)).user, 'ann', 'this device stays');
      assert.equal((await client.request('POST', `/sign-out/ann/${other.handle}`)).json(), { ended: 0 }, 'a handle already ended');
      assert.equal((await client.request('POST', '/sign-out/bob/nothing')).json(), { ended: 0 }, "a handle that is not the user's");
    }));

  test('logout :: a copy of the cookie taken before it is no session after it, logged in or not', () =>
    withApp({}, async client => {
      await client.request('POST', '/login/ann');
      await client.request('POST', '/visit');
      const stolen = copyOf(client);
      assert.equal(await me(stolen), { user: 'ann', visits: 1 }, 'the copy works while the session lives');
      assert.is((await client.request('POST', '/logout')).status, 200);
      assert.equal(await me(stolen), { user: null, visits: null }, 'refused after logout');
      const write = await stolen.request('POST', '/visit');
      assert.equal(write.json(), { visits: 1 }, 'a write with it starts a new session, never the old one');

      const anonymous = client.fork();
      await anonymous.request('POST', '/visit');
      const copy = copyOf(anonymous);
      await anonymous.request('POST', '/logout');
      assert.equal(await me(copy), { user: null, visits: null }, 'an anonymous session too');
    }));

  test('log out everywhere :: copies of every device\'s cookie are refused, the current one\'s too', () =>
    withApp({}, async client => {
      const laptop = client.fork();
      const phone = client.fork();
      await laptop.request('POST', '/login/ann');
      await phone.request('POST', '/login/ann');
      const laptopCopy = copyOf(laptop);
      const phoneCopy = copyOf(phone);
      const out = await phone.request('POST', '/everywhere-out/ann');
      assert.equal(out.json(), { ended: 2 });
      for (const [name, jar] of [['laptop', laptop], ['laptop copy', laptopCopy], ['phone copy', phoneCopy]] as const) {
        assert.is((await me(jar)).user, null, name);
      }
      await laptop.request('POST', '/login/ann');
      assert.is((await me(laptop)).user, 'ann', 'a login after it is a new session, which works');
    }));

  test('sign out everywhere else, changeSessionId :: the other device and the old id\'s copy are refused, the current session stays', () =>
    withApp({}, async client => {
      const laptop = client.fork();
      const phone = client.fork();
      await laptop.request('POST', '/login/ann');
      await phone.request('POST', '/login/ann');
      const laptopCopy = copyOf(laptop);
      assert.equal((await phone.request('POST', '/others-out/ann')).json(), { ended: 1 });
      assert.is((await me(laptopCopy)).user, null, 'the other device');
      assert.is((await me(phone)).user, 'ann', 'this one stays');
      const before = copyOf(phone);
      await phone.request('POST', '/new-id');
      assert.is((await me(before)).user, null, 'the cookie of the old id');
      assert.is((await me(phone)).user, 'ann');
    }));

  test('credentialsChanged :: the other browser and a copy of this one\'s old cookie are unknown; this one stays under a new id', () =>
    withApp({}, async (client, app) => {
      const laptop = client.fork();
      const phone = client.fork();
      await laptop.request('POST', '/login/ann');
      await phone.request('POST', '/login/ann');
      const old = copyOf(phone);
      const changed = await phone.request('POST', '/password/ann');
      assert.equal(changed.json(), { ended: 1 });
      assert.ok(changed.setCookie(app.sessions.cookieOver(false).name)?.value, 'a new cookie for this browser');
      assert.is((await me(phone)).user, 'ann');
      assert.is((await me(laptop)).user, null, 'the other browser');
      assert.is((await me(old)).user, null, 'the old cookie of this browser');
    }));

  test('a read-only reseal slides the session\'s entry in userSessions with its cookie', () =>
    withApp({ session_duration: 3 }, async client => {
      await client.request('POST', '/login/ann');
      await sleep(1700);
      const read = await client.request('GET', '/me');
      assert.ok(read.headers.getSetCookie().length > 0, 'past half its idle time a read reseals');
      await sleep(1700);
      const listed = (await client.request('GET', '/sessions/ann')).json() as unknown[];
      assert.is(listed.length, 1, 'still listed after the first seal\'s expiry');
    }));

  if (where.calls) {
    test('the price :: a plain read is one Redis command (GET anonymous, one script logged in); a logout one more', () =>
      withApp({}, async client => {
        await client.request('POST', '/visit');
        await where.reset!();
        await me(client);
        assert.equal(Object.fromEntries(await where.calls!()), { get: 1 }, 'anonymous: GET of its denial');
        await client.request('POST', '/login/ann');
        await me(client);
        await where.reset!();
        await me(client);
        assert.equal(Object.fromEntries(await where.calls!()), { evalsha: 1, get: 2 }, 'logged in: one script (its two GETs: denial and not-before)');
        await where.reset!();
        await client.request('POST', '/logout');
        const calls = await where.calls!();
        assert.is(calls.get('evalsha'), 2, 'the read, then the denial');
      }));
  }

  test('renewal_duration :: an old cookie is resealed under a new id, concurrent requests agree on it, and the old one dies after renewal_grace', () =>
    // The grace window is shorter than the renewal period (a ConfigError otherwise).
    withApp({ renewal_duration: 2, renewal_grace: 1 }, async (client, app) => {
      const name = app.sessions.cookieOver(false).name;
      await client.request('POST', '/login/ann');
      await client.request('POST', '/visit');
      const first = client.jar.get(name)!.value;
      await sleep(2100);
      const tab = copyOf(client);
      const [a, b] = await Promise.all([client.request('GET', '/me'), tab.request('GET', '/me')]);
      assert.equal([a.json(), b.json()], [{ user: 'ann', visits: 1 }, { user: 'ann', visits: 1 }]);
      const sealedA = a.setCookie(name)?.value;
      assert.ok(sealedA && sealedA !== first, 'resealed');
      // Two requests that renewed at once moved to the same session: the user has one, not two.
      assert.is(b.setCookie(name)?.value !== undefined, true, 'the other tab resealed too');
      const listed = (await client.request('GET', '/sessions/ann')).json() as { current: boolean }[];
      assert.equal(listed.map(s => s.current), [true], 'one live session, the current one');
      assert.equal(((await tab.request('GET', '/sessions/ann')).json() as { current: boolean }[]).map(s => s.current), [true], 'and it is the other tab\'s too');
      const old = client.fork();
      old.jar.set(name, { value: first, path: '/' });
      assert.is((await me(old)).user, 'ann', 'the old cookie within the grace window');
      await sleep(1100);
      old.jar.set(name, { value: first, path: '/' }); // the request above renewed it in this jar
      assert.is((await me(old)).user, null, 'the old cookie after it');
      assert.is((await me(client)).user, 'ann', 'the renewed one');
    }));

  test.run();
}

revocationSuite(memory);
revocationSuite(single());
revocationSuite(cluster());

const down = redisSuite('revocable cookies :: the revocation store down');
down('a Redis revocation store that is down is a 503 within command_timeout, never a cookie let through', async () => {
  const redis = await startRedis();
  const app = routes(createApp(cookieSettings({ store: 'Redis', url: redis.url, command_timeout: 300, connect_timeout: 300, key_prefix: uniquePrefix() })));
  const client = await testClient(app);
  try {
    await client.request('POST', '/login/ann');
    await redis.stop();
    const started = Date.now();
    const res = await client.request('GET', '/me');
    assert.is(res.status, 503);
    assert.ok(Date.now() - started < 2000, `answered in ${Date.now() - started} ms`);
    await redis.restart();
    // A new, empty Redis: no revocations; the cookie opens again.
    await sleep(300);
    assert.is((await me(client)).user, 'ann');
  } finally {
    await client.close();
    await redis.stop();
  }
});
down('with Sentinel (wait_replicas 1 by default) a denial is acknowledged once the replica has it; a replica that left is a 503, not a logout that a failover could undo', async () => {
  const group = await startFailoverGroup('revoked');
  const app = routes(createApp(cookieSettings({ store: 'Redis', sentinels: [`127.0.0.1:${group.sentinel.port}`], name: 'revoked', command_timeout: 600, key_prefix: uniquePrefix() })));
  const client = await testClient(app);
  try {
    await client.request('POST', '/login/ann');
    const stolen = copyOf(client);
    assert.is((await client.request('POST', '/logout')).status, 200);
    assert.is((await me(stolen)).user, null, 'the copy is refused after the logout');
    const other = client.fork();
    await other.request('POST', '/login/ann');
    await group.replica.stop();
    const logout = await other.request('POST', '/logout');
    assert.is(logout.status, 503, 'the denial reached no replica: its outcome is unknown');
  } finally {
    await client.close();
    await group.stop();
  }
});
down.run();

const config = suite('revocable cookies :: start-up');
config('a Cookie block without `revocation` is a ConfigError at start-up naming the key and both choices', () => {
  let error: unknown;
  try {
    createApp({ session: 'Cookie', engines: { session: { Cookie: { secret_key } } } });
  } catch (caught) {
    error = caught;
  }
  assert.instance(error, ConfigError);
  const message = (error as Error).message;
  assert.match(message, 'engines.session.Cookie.revocation');
  assert.match(message, '{ store: Redis, url:');
  assert.match(message, 'or false to keep no server state');
});

config('bad blocks: an unknown store, Redis keys on Memory, a bad url, a non-mapping', () => {
  const cases: [unknown, RegExp][] = [
    [{ store: 'Postgres' }, /revocation\.store: expected one of/],
    [{ store: 'Memory', url: 'redis://127.0.0.1' }, /revocation\.url: expected store: Redis/],
    [{ store: 'Redis', url: 'http://x' }, /revocation\.url/],
    ['yes', /revocation: expected false or a mapping/],
  ];
  for (const [revocation, pattern] of cases) assert.throws(() => createApp(cookieSettings(revocation)), pattern, JSON.stringify(revocation));
});

config('workers above 1 with a Memory revocation store is a ConfigError (a logout in one worker would not be seen by another)', () => {
  assert.throws(() => createApp({ workers: 2, session: 'Cookie', engines: { session: { Cookie: { secret_key, revocation: { store: 'Memory' } } } } }), /workers: expected 1 .*point it at Redis/);
  createApp({ workers: 2, session: 'Cookie', engines: { session: { Cookie: { secret_key, revocation: { store: 'Redis' } } } } });
});

config('revocation: false :: sessions work, and login() is refused before it changes anything', async () => {
  const app = routes(createApp(cookieSettings(false)));
  const client = await testClient(app);
  try {
    assert.equal((await client.request('POST', '/visit')).json(), { visits: 1 });
    const res = await client.request('POST', '/login/ann');
    assert.is(res.status, 500);
    assert.equal(await me(client), { user: null, visits: 1 }, 'the session as it was');
  } finally {
    await client.close();
  }
});
config('renewal_duration without a store :: the cookie is still resealed under a new id (a copy of the old one opens until it expires)', async () => {
  const app = routes(createApp(cookieSettings(false, { renewal_duration: 2, renewal_grace: 1 })));
  const client = await testClient(app);
  try {
    await client.request('POST', '/visit');
    const first = (await client.request('GET', '/id')).json().id;
    await sleep(2100);
    const renewed = await client.request('GET', '/id');
    assert.ok(renewed.setCookie(app.sessions.cookieOver(false).name)?.value, 'resealed');
    assert.is.not(renewed.json().id, first, 'under a new id');
    assert.equal(await me(client), { user: null, visits: 1 }, 'the data kept');
  } finally {
    await client.close();
  }
});
config.run();
