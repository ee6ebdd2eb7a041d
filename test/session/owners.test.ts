/**
 * Issue 14's owner index and hashed ids, through HTTP on Memory, Redis and a Redis Cluster: two
 * browsers (cookie jars with their own user agents) logged in as one user see each other in
 * userSessions, "sign out everywhere else" ends the other and keeps the current one, logout and
 * expiry take a session out of the list, and with hash_ids no Redis key or value holds an id
 * that was ever issued.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createApp, escapeHtml, type App, type SettingsInput, type UserSession } from '../../src/index.ts';
import { testClient, type TestClient } from '../../src/testing.ts';
import { redisSuite, startCluster, startRedis, type RedisCluster, type RedisServer } from '../support/redis-server.ts';
import { uniquePrefix } from './engines/redis/helpers.ts';
import { ownerRoutes } from './owner-routes.ts';
import { withoutCsrf } from '../support/serve.ts';

const COOKIE = 'sid';
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A store the suite runs on: its engine settings, and (Redis) every key and value in it. */
interface Store {
  name: string;
  engine(): Promise<{ session: string; options: Record<string, unknown> }>;
  /** Every key name and every value (strings, hash fields and values, set and zset members). */
  dump?(): Promise<string[]>;
  /** INFO commandstats calls summed over the masters, after a CONFIG RESETSTAT (reset()). */
  calls?(): Promise<Map<string, number>>;
  reset?(): Promise<void>;
  stop(): Promise<void>;
}

/** All of one node's keys and values, by SCAN and a read that fits each key's type. */
async function dumpNode(cli: (...args: string[]) => Promise<string>): Promise<string[]> {
  const keys = (await cli('--scan')).split('\n').filter(Boolean);
  const out: string[] = [];
  for (const key of keys) {
    const type = await cli('TYPE', key);
    // Expired between SCAN and TYPE (a moved-to pointer lives 10 s): it holds nothing any more.
    if (type === 'none') continue;
    out.push(key);
    const read = { string: ['GET', key], hash: ['HGETALL', key], zset: ['ZRANGE', key, '0', '-1', 'WITHSCORES'], set: ['SMEMBERS', key] }[type];
    if (!read) throw new Error(`unexpected ${type} key ${key}`);
    out.push(await cli(...read));
  }
  return out;
}

function statsOf(text: string, into: Map<string, number>): void {
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(config|info|cluster|ping|scan|type|hgetall|smembers|select)\b/.test(name!)) into.set(name!, (into.get(name!) ?? 0) + Number(count));
  }
}

const memory: Store = { name: 'Memory', engine: async () => ({ session: 'Memory', options: {} }), stop: async () => {} };

function singleRedis(): Store {
  let redis: RedisServer | undefined;
  const started = async () => (redis ??= await startRedis());
  return {
    name: 'Redis',
    engine: async () => ({ session: 'Redis', options: { url: (await started()).url, command_timeout: 300, key_prefix: uniquePrefix() } }),
    dump: async () => dumpNode((...args) => redis!.cli(...args)),
    reset: async () => void (await redis!.cli('CONFIG', 'RESETSTAT')),
    calls: async () => {
      const calls = new Map<string, number>();
      statsOf(await redis!.cli('INFO', 'commandstats'), calls);
      return calls;
    },
    stop: async () => redis?.stop(),
  };
}

function clusterRedis(): Store {
  let cluster: RedisCluster | undefined;
  const started = async () => (cluster ??= await startCluster());
  return {
    name: 'Redis Cluster',
    engine: async () => ({ session: 'Redis', options: { cluster: (await started()).nodes, command_timeout: 1000, key_prefix: uniquePrefix() } }),
    dump: async () => (await Promise.all(cluster!.ports.map(port => dumpNode((...args) => cluster!.cli(port, ...args))))).flat(),
    reset: async () => void (await Promise.all(cluster!.ports.map(port => cluster!.cli(port, 'CONFIG', 'RESETSTAT')))),
    calls: async () => {
      const calls = new Map<string, number>();
      for (const port of cluster!.ports) statsOf(await cluster!.cli(port, 'INFO', 'commandstats'), calls);
      return calls;
    },
    stop: async () => cluster?.stop(),
  };
}

/** The Cookie engine with a revocation store (`revocation`: Memory, or a single Redis): its owner index is the store's. */
function cookieWith(store: 'Memory' | 'Redis'): Store {
  let redis: RedisServer | undefined;
  const secret_key = 'owners-test-'.padEnd(44, 'x');
  return {
    name: `Cookie, revocation on ${store}`,
    engine: async () => ({
      session: 'Cookie',
      options: { secret_key, revocation: store === 'Memory' ? { store } : { store, url: (redis ??= await startRedis()).url, key_prefix: uniquePrefix() } },
    }),
    stop: async () => redis?.stop(),
  };
}

/** A browser: its own cookie jar and user agent; records every session id it was ever given. */
class Browser {
  readonly client: TestClient;
  readonly userAgent: string;
  readonly issued: Set<string>;

  constructor(client: TestClient, userAgent: string, issued: Set<string>) {
    this.client = client;
    this.userAgent = userAgent;
    this.issued = issued;
  }

  async request(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) {
    const res = await this.client.request(method, path, { headers: { 'user-agent': this.userAgent, ...headers } });
    const id = res.setCookie(COOKIE)?.value;
    if (id) this.issued.add(id);
    return res;
  }

  async sessions(user = 'ann'): Promise<(Omit<UserSession, 'createdAt' | 'lastSeenAt'> & { createdAt: string; lastSeenAt: string })[]> {
    const res = await this.request('GET', `/sessions/${user}`);
    assert.is(res.status, 200, res.text);
    return res.json();
  }

  get id(): string | undefined {
    return this.client.jar.get(COOKIE)?.value;
  }
}

interface Ctx {
  app: App;
  client: TestClient;
  issued: Set<string>;
  browser(userAgent: string): Browser;
}

/** Runs `body` against an app on `store` with `settings` over the engine's. */
async function withApp(store: Store, settings: Record<string, unknown>, body: (ctx: Ctx) => Promise<void>): Promise<void> {
  const { session, options } = await store.engine();
  const input: SettingsInput = { log: 'none', session, engines: { session: { [session]: { ...options, ...settings } } } };
  const app = ownerRoutes(createApp(withoutCsrf(input)));
  const client = await testClient(app);
  const issued = new Set<string>();
  try {
    await body({ app, client, issued, browser: userAgent => new Browser(client.fork(), userAgent, issued) });
  } finally {
    await client.close();
  }
}

/** Two browsers logged in as ann: a laptop (logged in first) and a phone. */
async function twoDevices(ctx: Ctx): Promise<{ laptop: Browser; phone: Browser }> {
  const laptop = ctx.browser('Laptop Firefox/1');
  const phone = ctx.browser('Phone Safari/2');
  // The laptop has an anonymous session first: login must change its id.
  assert.is((await laptop.request('POST', '/visit')).status, 200);
  const before = laptop.id;
  assert.is((await laptop.request('POST', '/login/ann')).status, 200);
  assert.is.not(laptop.id, before, 'login changed the session id');
  await sleep(5);
  assert.is((await phone.request('POST', '/login/ann')).status, 200);
  return { laptop, phone };
}

function engineSuite(store: Store): void {
  const test = !store.name.includes('Redis') ? suite(`owners over HTTP :: ${store.name}`) : redisSuite(`owners over HTTP :: ${store.name}`);
  test.after(() => store.stop());

  for (const hashIds of [false, true]) {
    test(`hash_ids ${hashIds} :: two browsers of one user see each other with their user agents; "sign out everywhere else" ends the other, keeps this one`, () =>
      withApp(store, { hash_ids: hashIds }, async ctx => {
        const { laptop, phone } = await twoDevices(ctx);
        const fromPhone = await phone.sessions();
        assert.equal(fromPhone.map(s => [s.userAgent, s.current, s.ip]), [['Phone Safari/2', true, '127.0.0.1'], ['Laptop Firefox/1', false, '127.0.0.1']], 'newest activity first');
        const fromLaptop = await laptop.sessions();
        assert.equal(fromLaptop.map(s => [s.userAgent, s.current]), [['Phone Safari/2', false], ['Laptop Firefox/1', true]]);
        assert.equal(fromLaptop.map(s => s.handle), fromPhone.map(s => s.handle), 'the same handles from either device');
        for (const s of fromPhone) {
          assert.ok(!laptop.issued.has(s.handle), 'a handle is not a session id');
          assert.ok(Date.parse(s.lastSeenAt) >= Date.parse(s.createdAt));
        }
        assert.equal(await ctx.browser('x').sessions('bob'), [], 'another user has none');

        // A write from the laptop with a new user agent: the list shows the last write's client.
        assert.is((await laptop.request('POST', '/visit', { 'user-agent': 'Laptop Firefox/3' })).status, 200);
        assert.equal((await phone.sessions()).map(s => s.userAgent), ['Laptop Firefox/3', 'Phone Safari/2']);

        const out = await phone.request('POST', '/others-out/ann');
        assert.equal(out.json(), { ended: 1 });
        assert.equal((await phone.sessions()).map(s => [s.userAgent, s.current]), [['Phone Safari/2', true]]);
        assert.equal((await phone.request('GET', '/me')).json(), { user: 'ann' }, 'the current session is kept');
        assert.equal((await laptop.request('GET', '/me')).json(), { user: null }, 'the other one is logged out');
      }));
  }

  test('logout :: the session leaves the list; log out everywhere ends the current one too', () =>
    withApp(store, { hash_ids: true }, async ctx => {
      const { laptop, phone } = await twoDevices(ctx);
      assert.is((await laptop.request('POST', '/logout')).status, 200);
      assert.equal((await phone.sessions()).map(s => s.userAgent), ['Phone Safari/2']);
      await laptop.request('POST', '/login/ann');
      const all = await phone.request('POST', '/everywhere-out/ann');
      assert.equal(all.json(), { ended: 2 });
      assert.is(all.setCookie(COOKIE)?.value, '', 'the current session\'s cookie is expired');
      assert.equal(await ctx.browser('x').sessions(), []);
      assert.equal((await laptop.request('GET', '/me')).json(), { user: null });
    }));

  test('login as someone else, changeSessionId :: the session moves to the new owner\'s list; a new id stays listed', () =>
    withApp(store, { hash_ids: true }, async ctx => {
      const { laptop, phone } = await twoDevices(ctx);
      await laptop.request('POST', '/login/bob');
      assert.equal((await phone.sessions()).map(s => s.userAgent), ['Phone Safari/2']);
      assert.equal((await laptop.sessions('bob')).map(s => [s.userAgent, s.current]), [['Laptop Firefox/1', true]]);
      const before = phone.id;
      await phone.request('POST', '/new-id');
      assert.is.not(phone.id, before);
      assert.equal((await phone.sessions()).map(s => [s.userAgent, s.current]), [['Phone Safari/2', true]]);
    }));

  test('clear, remember, forget :: an owned session stays in its list, with its device', () =>
    withApp(store, { hash_ids: true }, async ctx => {
      const { laptop, phone } = await twoDevices(ctx);
      for (const path of ['/clear', '/remember', '/forget', '/clear']) {
        assert.is((await laptop.request('POST', path)).status, 200, path);
        assert.equal((await phone.sessions()).map(s => s.userAgent).sort(), ['Laptop Firefox/1', 'Phone Safari/2'], `after ${path}`);
      }
      assert.equal((await phone.request('POST', '/others-out/ann')).json(), { ended: 1 }, 'and is ended with the others');
    }));

  test('expiry :: an expired session drops out of the list', () =>
    withApp(store, { hash_ids: true, session_duration: 2 }, async ctx => {
      const { laptop, phone } = await twoDevices(ctx);
      for (let i = 0; i < 3; i++) {
        await sleep(900);
        await phone.request('POST', '/visit'); // keeps the phone alive; the laptop idles
      }
      assert.equal((await phone.sessions()).map(s => s.userAgent), ['Phone Safari/2']);
      assert.equal((await laptop.request('GET', '/me')).json(), { user: null });
    }));

  test('trust_proxy :: the IP is the first X-Forwarded-For address only when the setting says so; a long User-Agent is cut to 512', async () => {
    for (const trust of [false, true]) {
      const { session, options } = await store.engine();
      const app = ownerRoutes(createApp({ log: 'none', trust_proxy: trust, session, engines: { session: { [session]: { csrf: false, ...options } } } }));
      const client = await testClient(app);
      try {
        const browser = new Browser(client.fork(), 'Proxied/1 '.repeat(70), new Set());
        await browser.request('POST', '/login/carol', { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' });
        const [listed] = await browser.sessions('carol');
        assert.equal([listed?.ip, listed?.userAgent?.length], [trust ? '203.0.113.7' : '127.0.0.1', 512]);
      } finally {
        await client.close();
      }
    }
  });

  test('bad userId :: login, userSessions and destroyUserSessions refuse a non-string or empty id with a TypeError (500), storing nothing', () =>
    withApp(store, {}, async ctx => {
      const browser = ctx.browser('x');
      const expected = {
        login: 'login(userId): expected the user\'s id as a non-empty string, got number 42',
        userSessions: 'userSessions(userId): expected the user\'s id as a non-empty string, got ""',
        destroyUserSessions: 'destroyUserSessions(userId): expected the user\'s id as a non-empty string, got undefined undefined',
      };
      for (const [keyword, message] of Object.entries(expected)) {
        const res = await browser.request('POST', `/bad/${keyword}`);
        assert.is(res.status, 500, keyword);
        assert.ok(res.text.includes(`<h2>TypeError</h2>\n<pre>${escapeHtml(message)}`), res.text);
        assert.is(res.setCookie(COOKIE), undefined, 'no session stored');
      }
    }));

  test('one request :: a login again (re-authentication), then userSessions, lists this session as current under its new id', () =>
    withApp(store, {}, async ctx => {
      const laptop = ctx.browser('Laptop Firefox/1');
      await laptop.request('POST', '/login/ann');
      const res = await laptop.request('POST', '/login-and-list/ann');
      assert.is(res.status, 200, res.text);
      assert.equal((res.json() as UserSession[]).map(s => [s.current, s.userAgent]), [[true, 'Laptop Firefox/1']]);
      assert.equal((await laptop.sessions()).map(s => s.current), [true], 'and so does the next request');
    }));

  test('one request :: a login, then logout: neither the id before nor the one after gives the session', () =>
    withApp(store, {}, async ctx => {
      const laptop = ctx.browser('Laptop Firefox/1');
      await laptop.request('POST', '/login/ann');
      const before = laptop.client.jar.get(COOKIE)!.value;
      const res = await laptop.request('POST', '/login-and-logout/ann');
      assert.is(res.status, 200, res.text);
      assert.is(res.setCookie(COOKIE)?.value, '', 'the cookie is expired');
      const replay = ctx.browser('Attacker/1');
      replay.client.jar.set(COOKIE, { value: before, path: '/' });
      assert.equal((await replay.request('GET', '/me')).json(), { user: null });
      assert.equal(await replay.sessions(), [], 'ann has no session');
    }));

  if (store.dump) {
    test('hash_ids :: no Redis key or value holds a session id that was issued (SCAN, then GET / HGETALL / ZRANGE every key)', () =>
      withApp(store, { hash_ids: true }, async ctx => {
        const { laptop, phone } = await twoDevices(ctx);
        await phone.request('POST', '/new-id'); // leaves a forward hash at the old key
        await laptop.request('POST', '/visit');
        await ctx.browser('Anon/1').request('POST', '/visit');
        assert.ok(ctx.issued.size >= 5, `${ctx.issued.size} ids issued`);
        const dump = (await store.dump!()).join('\n');
        assert.ok(dump.includes('owner:ann'), 'the dump holds the owner index');
        assert.ok(dump.includes('Phone Safari/2'), 'and the sessions');
        for (const id of ctx.issued) assert.ok(!dump.includes(id), `issued id ${id} found in the store`);
        assert.is((await phone.sessions()).length, 2, 'the list works as without hash_ids');
      }));

    test('round trips :: a login of a stored session is the read and one flush script: the new id, the move and the index in one step (commandstats)', () =>
      withApp(store, { hash_ids: true }, async ctx => {
        const phone = ctx.browser('Phone Safari/2');
        await phone.request('POST', '/visit');
        const before = phone.id!;
        await store.reset!();
        assert.is((await phone.request('POST', '/login/ann')).status, 200);
        const calls = Object.fromEntries(await store.calls!());
        const scripts = (calls.evalsha ?? 0) + (calls.eval ?? 0);
        // On a Cluster the new key is in another slot: the move is its own steps there (redis/owners.ts).
        if (store.name === 'Redis') {
          assert.is(scripts, 2, `one read and one flush script, was ${JSON.stringify(calls)}`);
          assert.equal(Object.keys(calls).filter(name => !/^(evalsha|eval)$/.test(name) && !['get', 'expire', 'type', 'renamenx', 'hset', 'set', 'zadd', 'zcard', 'time', 'zrem'].includes(name)), [], 'nothing but what the two scripts call');
        }
        assert.is.not(phone.id, before);
        assert.equal((await phone.request('GET', '/me')).json(), { user: 'ann' });
        assert.equal((await phone.sessions()).map(s => s.current), [true], 'in the index under its new id');
        const replay = ctx.browser('Attacker/1');
        replay.client.jar.set(COOKIE, { value: before, path: '/' });
        assert.equal((await replay.request('GET', '/me')).json(), { user: null }, 'the id from before the login gives nobody the session (fixation)');
      }));

    test('round trips :: a plain read of an owned session is one script call, as of any session (commandstats)', () =>
      withApp(store, { hash_ids: true }, async ctx => {
        const { phone } = await twoDevices(ctx);
        await phone.request('GET', '/me');
        await store.reset!();
        for (let i = 0; i < 5; i++) assert.equal((await phone.request('GET', '/me')).json(), { user: 'ann' });
        assert.equal(Object.fromEntries(await store.calls!()), { evalsha: 5, get: 5, expire: 5 });
        await store.reset!();
        await phone.request('POST', '/visit');
        assert.equal(Object.fromEntries(await store.calls!()), { evalsha: 2, get: 2, expire: 1, set: 1 }, 'a write of an owned session: the read and one flush script, no index command');
      }));
  }
  test.run();
}

engineSuite(memory);
engineSuite(singleRedis());
engineSuite(clusterRedis());
engineSuite(cookieWith('Memory'));
engineSuite(cookieWith('Redis'));
