/**
 * The session lifecycle through HTTP on Memory, Redis and a Redis Cluster: renewal with a grace
 * window (two requests across a renewal keep their writes, one live session remains, the old id
 * dies after the grace), recent authentication (`{ recentAuth }` routes and a re-login with a new
 * id), ending one device by its handle, the per-user cap under both policies with N+1 browsers,
 * turning hash_ids on for a running store without logging anyone out, the meta's format version,
 * and (commandstats) no extra round trip on a plain read with all of it configured. The Cookie
 * engine (revocation store on Memory) runs the items that apply to it here (recentAuth, the cap);
 * its renewal and ending one device are revocation/revocation.test.ts's.
 */
import { randomBytes } from 'node:crypto';
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { ConfigError, createApp, type App, type SettingsInput } from '../../src/index.ts';
import { MemoryEngine, storedMemoryEngine } from '../../src/session/engines/memory/memory.ts';
import type { SessionEngine } from '../../src/session/engine.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../support/redis-server.ts';
import { uniquePrefix } from './engines/redis/helpers.ts';
import { withoutCsrf } from '../support/serve.ts';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

interface Store {
  name: string;
  /** A sealing engine (Cookie): only the items that apply to it run (recentAuth, the cap). */
  sealed?: boolean;
  /** The engine block (fixed per call: the same store and key_prefix for `same`). */
  engine(same?: boolean): Promise<{ session: string; options: Record<string, unknown> }>;
  /** Every session key and value and every owner index member (Redis; not the moved-to pointers). */
  dump?(): Promise<string>;
  calls?(): Promise<Record<string, number>>;
  reset?(): Promise<void>;
  /** Runs a redis-cli command on the node holding `key` (Redis). */
  cli?(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function statsOf(text: string, into: Record<string, number>): void {
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(config|info|cluster|ping|scan|type|hgetall|smembers|select|keys|zrange|get)\b/.test(name!) || name === 'get') into[name!] = (into[name!] ?? 0) + Number(count);
  }
}

const memory: Store = { name: 'Memory', engine: async () => ({ session: 'Memory', options: {} }), stop: async () => {} };

/** The Cookie engine with its revocation store (which login, userSessions and the cap need) on Memory. */
const cookieEngine: Store = {
  name: 'Cookie (revocation on Memory)',
  sealed: true,
  engine: async () => ({ session: 'Cookie', options: { secret_key: randomBytes(32).toString('base64url'), revocation: { store: 'Memory' } } }),
  stop: async () => {},
};

function singleRedis(): Store {
  let redis: RedisServer | undefined;
  let prefix = uniquePrefix();
  const started = async () => (redis ??= await startRedis());
  return {
    name: 'Redis',
    engine: async same => {
      if (!same) prefix = uniquePrefix();
      return { session: 'Redis', options: { url: (await started()).url, command_timeout: 500, key_prefix: prefix } };
    },
    dump: async () => {
      const keys = (await redis!.cli('--scan')).split('\n').filter(Boolean);
      const out: string[] = [];
      for (const key of keys) {
        const type = await redis!.cli('TYPE', key);
        // A hash is a changeId's moved-to pointer: no read follows it, so its key gives no session.
        if (type !== 'hash') out.push(key, await redis!.cli(...({ string: ['GET', key], zset: ['ZRANGE', key, '0', '-1'] }[type] ?? ['TYPE', key])));
      }
      return out.join('\n');
    },
    reset: async () => void (await redis!.cli('CONFIG', 'RESETSTAT')),
    calls: async () => {
      const calls: Record<string, number> = {};
      statsOf(await redis!.cli('INFO', 'commandstats'), calls);
      return calls;
    },
    cli: (...args) => redis!.cli(...args),
    stop: async () => redis?.stop(),
  };
}

function clusterRedis(): Store {
  let cluster: RedisCluster | undefined;
  let prefix = uniquePrefix();
  const started = async () => (cluster ??= await startCluster());
  return {
    name: 'Redis Cluster',
    engine: async same => {
      if (!same) prefix = uniquePrefix();
      return { session: 'Redis', options: { cluster: (await started()).nodes, command_timeout: 1000, key_prefix: prefix } };
    },
    reset: async () => void (await Promise.all(cluster!.ports.map(port => cluster!.cli(port, 'CONFIG', 'RESETSTAT')))),
    calls: async () => {
      const calls: Record<string, number> = {};
      for (const port of cluster!.ports) statsOf(await cluster!.cli(port, 'INFO', 'commandstats'), calls);
      return calls;
    },
    stop: async () => cluster?.stop(),
  };
}

/** The routes of these tests. */
function routes(app: App): App {
  return app
    .post('/login/:user', async ctx => {
      await ctx.login(ctx.params.user);
      await ctx.session('user', ctx.params.user);
      return { id: (await ctx.session()).id };
    })
    .get('/me', async ctx => ({ user: (await ctx.session('user')) ?? null }))
    .get('/data', async ctx => (await ctx.findSession())?.toJSON() ?? null)
    .post('/slow/:key', async ctx => {
      const session = await ctx.session();
      await sleep(150);
      session.set(ctx.params.key, true);
      return 'ok';
    })
    .post('/write-only/:key', ctx => {
      void ctx.session(ctx.params.key, true);
      return 'ok';
    })
    .get('/sessions/:user', ctx => ctx.userSessions(ctx.params.user))
    .post('/end/:user/:handle', async ctx => ({ ended: await ctx.destroyUserSessions(ctx.params.user, { only: ctx.params.handle }) }))
    .get('/admin', { recentAuth: 1 }, () => 'the admin page')
    .post('/admin', { recentAuth: 1 }, () => 'changed')
    .get('/settings', { recentAuth: 3600 }, () => 'the settings page');
}

interface Ctx {
  app: App;
  client: TestClient;
  cookie: string;
  browser(): TestClient;
}

async function withApp(store: Store, settings: Record<string, unknown>, body: (ctx: Ctx) => Promise<void>, engine?: SessionEngine, same = false): Promise<void> {
  const { session, options } = await store.engine(same);
  const input: SettingsInput = { log: 'none', session, engines: { session: { [session]: { ...options, ...settings } } } };
  const app = routes(createApp(withoutCsrf(input), engine ? { sessionEngine: engine } : {}));
  const client = await testClient(app);
  try {
    await body({ app, client, cookie: app.sessions.cookieOver(false).name, browser: () => client.fork() });
  } finally {
    await client.close();
  }
}

function engineSuite(store: Store): void {
  const test = store.name === 'Memory' ? suite(`session lifecycle :: ${store.name}`) : redisSuite(`session lifecycle :: ${store.name}`);
  test.after(() => store.stop());
  // The Cookie engine's renewal, end one device and hash_ids (none: no store keys) are revocation/revocation.test.ts's.
  const stored = store.sealed === true;

  if (!stored) test('renewal :: two requests across a renewal keep their writes; one live session; the old id works for the grace window only', () =>
    withApp(store, { renewal_duration: 2, renewal_grace: 1, hash_ids: true }, async ({ client, cookie }) => {
      const login = await client.request('POST', '/login/ann');
      const first = login.setCookie(cookie)!.value;
      assert.ok((await client.request('GET', '/me')).setCookie(cookie) === undefined, 'no renewal before renewal_duration');
      await sleep(2100);
      // Two tabs at once with the same (due) id: each reads it, each writes a key of its own.
      const [a, b] = await Promise.all([client.request('POST', '/slow/a'), client.request('POST', '/slow/b')]);
      assert.is(a.status, 200);
      assert.is(b.status, 200);
      const given = [a.setCookie(cookie)?.value, b.setCookie(cookie)?.value].filter(Boolean);
      assert.ok(given.length >= 1, 'the renewing response gives the new id');
      const renewed = given[0]!;
      assert.is.not(renewed, first, 'a new id');
      for (const id of given) assert.is(id, renewed, 'never two new ids');
      // A request still in flight with the old id, within the grace window: served, and moved on.
      const late = await client.request('POST', '/slow/c', { headers: { cookie: `${cookie}=${first}` } });
      assert.is(late.status, 200);
      assert.is(late.setCookie(cookie)?.value, renewed, 'the old id is forwarded to the new one');
      const data = (await client.request('GET', '/data', { headers: { cookie: `${cookie}=${renewed}` } })).json();
      assert.equal([data.a, data.b, data.c, data.user], [true, true, true, 'ann'], 'every write kept, under the new id');
      const listed = (await client.request('GET', '/sessions/ann', { headers: { cookie: `${cookie}=${renewed}` } })).json();
      assert.is(listed.length, 1, 'one live session');
      assert.ok(listed[0].current);
      await sleep(1100);
      const dead = await client.request('GET', '/me', { headers: { cookie: `${cookie}=${first}` } });
      assert.equal(dead.json(), { user: null }, 'after the grace window the old id is dead');
      const writeOld = await client.request('POST', '/write-only/x', { headers: { cookie: `${cookie}=${first}` } });
      assert.is.not(writeOld.setCookie(cookie)?.value, renewed, 'a write with the dead id never reaches the session');
      assert.equal((await client.request('GET', '/me', { headers: { cookie: `${cookie}=${renewed}` } })).json(), { user: 'ann' });
      assert.is((await client.request('GET', '/data', { headers: { cookie: `${cookie}=${renewed}` } })).json().x, undefined);
    }));

  if (!stored) test('renewal :: a write-only request with the old id inside the grace window lands in the renewed session', () =>
    withApp(store, { renewal_duration: 2, renewal_grace: 1 }, async ({ client, cookie }) => {
      const first = (await client.request('POST', '/login/ann')).setCookie(cookie)!.value;
      await sleep(2100);
      const renewed = (await client.request('GET', '/me')).setCookie(cookie)?.value;
      assert.ok(renewed !== undefined && renewed !== first, 'a read renews a due session');
      assert.is((await client.request('POST', '/write-only/w', { headers: { cookie: `${cookie}=${first}` } })).status, 200);
      assert.is((await client.request('GET', '/data')).json().w, true);
    }));

  test('recentAuth :: a stale login is refused (401, or the reauth_redirect); logging in again gives a new id and opens the route', () =>
    withApp(store, {}, async ({ client, cookie, browser }) => {
      const anonymous = browser();
      assert.is((await anonymous.request('GET', '/admin')).status, 401, 'never logged in');
      const before = (await client.request('POST', '/login/ann')).setCookie(cookie)!.value;
      assert.is((await client.request('GET', '/admin')).text, 'the admin page', 'a fresh login passes');
      await sleep(1100);
      const stale = await client.request('GET', '/admin');
      assert.is(stale.status, 401, stale.text);
      assert.ok(stale.text.includes('log in again'));
      assert.is((await client.request('POST', '/admin')).status, 401);
      const again = await client.request('POST', '/login/ann');
      const after = again.setCookie(cookie)!.value;
      assert.is.not(after, before, 're-authentication changes the id');
      assert.is((await client.request('GET', '/admin')).text, 'the admin page');
      assert.is((await client.request('GET', '/admin', { headers: { cookie: `${cookie}=${before}` } })).status, 401, 'the old id is not the session');
    }).then(() => withApp(store, { reauth_redirect: '/login?why=reauth' }, async ({ client }) => {
      await client.request('POST', '/login/ann');
      await sleep(1100);
      const stale = await client.request('GET', '/admin');
      assert.is(stale.status, 302);
      assert.is(stale.headers.get('location'), '/login?why=reauth&return_to=%2Fadmin');
    })));

  if (!stored) test('end one device :: the list ends a single session by the handle it shows; the others stay', () =>
    withApp(store, { hash_ids: true }, async ({ browser, cookie }) => {
      const [laptop, phone, tablet] = [browser(), browser(), browser()];
      for (const b of [laptop, phone, tablet]) {
        assert.is((await b.request('POST', '/login/ann')).status, 200);
        await sleep(5);
      }
      const listed = (await phone.request('GET', '/sessions/ann')).json() as { handle: string; current: boolean }[];
      assert.is(listed.length, 3);
      // The oldest activity is the laptop's.
      const laptopHandle = listed[2]!.handle;
      assert.equal((await phone.request('POST', `/end/ann/${laptopHandle}`)).json(), { ended: 1 });
      assert.equal((await laptop.request('GET', '/me')).json(), { user: null }, 'that device is signed out');
      assert.equal((await tablet.request('GET', '/me')).json(), { user: 'ann' }, 'another stays');
      assert.equal((await phone.request('GET', '/me')).json(), { user: 'ann' });
      assert.equal((await phone.request('POST', `/end/ann/${laptopHandle}`)).json(), { ended: 0 }, 'a handle already ended ends nothing');
      assert.equal((await phone.request('POST', '/end/ann/not-a-handle')).json(), { ended: 0 });
      assert.equal((await phone.request('POST', `/end/bob/${listed[1]!.handle}`)).json(), { ended: 0 }, "another user's handle ends nothing");
      const own = ((await phone.request('GET', '/sessions/ann')).json() as { handle: string; current: boolean }[]).find(s => s.current)!;
      const self = await phone.request('POST', `/end/ann/${own.handle}`);
      assert.equal(self.json(), { ended: 1 });
      assert.is(self.setCookie(cookie)?.value, '', "ending this device's own session expires its cookie");
      assert.equal((await tablet.request('GET', '/sessions/ann')).json().length, 1);
    }));

  for (const policy of ['end_least_recent', 'refuse'] as const) {
    test(`max_sessions_per_user :: ${policy} holds with N+1 browsers`, () =>
      withApp(store, { max_sessions_per_user: 2, max_sessions_policy: policy }, async ({ browser }) => {
        const browsers = [browser(), browser(), browser()];
        for (const b of browsers.slice(0, 2)) {
          assert.is((await b.request('POST', '/login/ann')).status, 200);
          await sleep(5);
        }
        // Re-authenticating an existing session is not a new one: allowed at the cap.
        assert.is((await browsers[1]!.request('POST', '/login/ann')).status, 200);
        await sleep(5);
        const third = await browsers[2]!.request('POST', '/login/ann');
        if (policy === 'refuse') {
          assert.is(third.status, 409, third.text);
          assert.ok(third.text.includes('max_sessions_per_user'));
          assert.equal((await browsers[2]!.request('GET', '/me')).json(), { user: null }, 'the refused login left no session');
          assert.equal((await browsers[0]!.request('GET', '/me')).json(), { user: 'ann' });
        } else {
          assert.is(third.status, 200);
          assert.equal((await browsers[0]!.request('GET', '/me')).json(), { user: null }, 'the least recently used one ended');
          assert.equal((await browsers[2]!.request('GET', '/me')).json(), { user: 'ann' });
        }
        assert.equal((await browsers[1]!.request('GET', '/me')).json(), { user: 'ann' });
        assert.is((await browsers[1]!.request('GET', '/sessions/ann')).json().length, 2, 'never more than the cap');
        // Another user has a cap of their own.
        assert.is((await browser().request('POST', '/login/bob')).status, 200);
        if (policy === 'end_least_recent') {
          // Logins at the same instant: each trims after its own flush, so the cap still holds.
          const rush = [browser(), browser(), browser(), browser()];
          await Promise.all(rush.map(b => b.request('POST', '/login/ann')));
          const live = (await browser().request('GET', '/sessions/ann')).json().length;
          assert.ok(live >= 1 && live <= 2, `${live} live sessions after 4 simultaneous logins with a cap of 2`);
        }
      }));
  }

  if (store.calls) {
    test('round trips :: with renewal, a cap and recentAuth routes configured, a plain read is still one script call (commandstats)', () =>
      withApp(store, { renewal_duration: 3600, max_sessions_per_user: 5, hash_ids: true }, async ({ client }) => {
        await client.request('POST', '/login/ann');
        await client.request('GET', '/me');
        await store.reset!();
        for (let i = 0; i < 5; i++) assert.equal((await client.request('GET', '/me')).json(), { user: 'ann' });
        assert.equal(await store.calls!(), { evalsha: 5, get: 5, expire: 5 });
        // A recentAuth route's check reads the login time from the session the request reads anyway.
        await store.reset!();
        for (let i = 0; i < 5; i++) assert.is((await client.request('GET', '/settings')).text, 'the settings page');
        assert.equal(await store.calls!(), { evalsha: 5, get: 5, expire: 5 });
      }));
  }

  if (!stored) test('hash_ids :: turning it on for a running store keeps every logged-in user logged in (re-keyed on next use)', async () => {
    const shared = store.name === 'Memory' ? new MemoryEngine({ max_sessions: 1000 }, 3600) : undefined;
    const engine = () => (shared ? storedMemoryEngine(shared) : undefined);
    const ids: string[] = [];
    let cookieName = '';
    await withApp(store, { hash_ids: false }, async ({ browser, cookie }) => {
      cookieName = cookie;
      for (const user of ['ann', 'bob', 'cy']) {
        const b = browser();
        await b.request('POST', '/login/' + user);
        ids.push(b.jar.get(cookie)!.value);
      }
    }, engine());
    await withApp(store, { hash_ids: true }, async ({ client }) => {
      const as = (id: string) => ({ headers: { cookie: `${cookieName}=${id}` } });
      assert.equal((await client.request('GET', '/me', as(ids[0]!))).json(), { user: 'ann' }, 'a read');
      assert.is((await client.request('POST', '/write-only/k', as(ids[1]!))).status, 200, 'a write without a read');
      assert.equal((await client.request('GET', '/data', as(ids[1]!))).json().k, true);
      assert.equal((await client.request('GET', '/me', as(ids[1]!))).json(), { user: 'bob' });
      assert.equal((await client.request('GET', '/me', as(ids[2]!))).json(), { user: 'cy' });
      const listed = (await client.request('GET', '/sessions/ann', as(ids[0]!))).json();
      assert.is(listed.length, 1, 'still in the owner index');
      assert.ok(listed[0].current, 'under its hashed key');
      if (store.dump) {
        await sleep(10);
        const dump = await store.dump();
        for (const id of ids) assert.ok(!dump.includes(id), `id ${id} is no longer a store key or an index member`);
      }
    }, engine(), true);
    await shared?.close();
  });

  if (store.cli) {
    test('format version :: a session stored before the meta had a version is read, and upgraded at its next write', () =>
      withApp(store, {}, async ({ client, cookie }) => {
        const id = 'A'.repeat(32);
        const prefix = (await store.engine(true)).options.key_prefix as string;
        await store.cli!('SET', prefix + id, JSON.stringify({ __quickstep: { created: Date.now() }, user: 'old' }), 'EX', '60');
        const as = { headers: { cookie: `${cookie}=${id}` } };
        assert.equal((await client.request('GET', '/me', as)).json(), { user: 'old' });
        assert.not.match(await store.cli!('GET', prefix + id), /"v":/, 'a read writes nothing');
        await client.request('POST', '/write-only/z', as);
        await client.request('POST', '/slow/y', as);
        assert.match(await store.cli!('GET', prefix + id), /"v":1/);
      }, undefined, false));
  }

  test.run();
}

const checks = suite('session lifecycle :: settings and options checked at start-up');

checks('a bad renewal_grace, reauth_redirect or max_sessions_policy is a ConfigError naming the key', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ renewal_duration: 10, renewal_grace: 10 }, /engines\.session\.Memory\.renewal_grace: expected fewer seconds than renewal_duration \(10\)/],
    [{ reauth_redirect: 'https://elsewhere.example/login' }, /reauth_redirect: expected a path on this site/],
    [{ reauth_redirect: '//elsewhere.example/login' }, /reauth_redirect: expected a path on this site/],
    [{ max_sessions_policy: 'evict_everyone' }, /max_sessions_policy: expected one of "end_least_recent", "refuse"/],
    [{ max_sessions_per_user: 0 }, /max_sessions_per_user: expected an integer of at least 1/],
  ];
  for (const [settings, message] of bad) {
    assert.throws(() => createApp({ log: 'none', engines: { session: { Memory: settings } } }), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(settings));
  }
});

checks('renewal_duration on an engine that cannot renew ids is a ConfigError at start-up, not a logout later', () => {
  const memory = new MemoryEngine({ max_sessions: 10 }, 60);
  const { renewal: _, ...withoutRenewal } = storedMemoryEngine(memory);
  assert.throws(() => createApp({ log: 'none', engines: { session: { Memory: { renewal_duration: 60 } } } }, { sessionEngine: withoutRenewal }), (error: unknown) => error instanceof ConfigError && /renewal_duration: expected no renewal_duration: the session engine \(MemoryEngine\) cannot renew ids/.test(error.message));
  void memory.close();
});

checks('a bad recentAuth option is a TypeError when the route is added', () => {
  const app = createApp({ log: 'none' });
  for (const value of [0, -5, 1.5, '300', null]) {
    assert.throws(() => app.get('/x', { recentAuth: value as never }, () => 'x'), /options\.recentAuth must be a positive whole number of seconds/, String(value));
  }
});

checks.run();

engineSuite(memory);
engineSuite(singleRedis());
engineSuite(clusterRedis());
engineSuite(cookieEngine);
