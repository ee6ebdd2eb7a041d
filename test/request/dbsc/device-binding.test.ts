/**
 * DBSC through HTTP (docs/design.md#device-bound-sessions), with a spec-conformant client in
 * node:crypto playing the browser (test/support/dbsc-client.ts): a login offers registration,
 * the key registers, the bound cookie is renewed through the 403 challenge, and a foreign key, a
 * replayed or stale challenge, a tampered proof, `alg: none` and a copied session cookie on a
 * `{ deviceBound: true }` route are refused. On Memory, Redis and a Redis Cluster.
 */
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { createApp, destroyUserSessions, login, logout, session, userSessions, type App, type SettingsInput } from '../../../src/index.ts';
import { testClient, type TestClient } from '../../../src/testing.ts';
import { b64, DbscBrowser, DbscKey, parseChallenge, parseRegistration } from '../../support/dbsc-client.ts';
import { startCluster, startRedis, redisAvailable, type RedisCluster, type RedisServer } from '../../support/redis-server.ts';
import { uniquePrefix } from '../../session/engines/redis/helpers.ts';
import { withoutCsrf } from '../../support/serve.ts';

function routes(app: App): App {
  return app
    .post('/login', async () => {
      await session('user', 'ann');
      await login('ann');
      return 'in';
    })
    .post('/logout', async () => {
      await logout();
      return 'out';
    })
    .post('/others-out', async () => String(await destroyUserSessions('ann', { except: (await session()).id })))
    .get('/open', async () => `open ${String(await session('user'))}`)
    .get('/bound', { deviceBound: true }, async () => `bound ${String(await session('user'))}`)
    .get('/sessions', async () => userSessions('ann'));
}

interface Store {
  name: string;
  engine(): Promise<{ session: string; options: Record<string, unknown> }>;
  /** Commands per name since reset(): the scripts sent, and the commands they ran inside. */
  calls?(): Promise<Map<string, number>>;
  reset?(): Promise<void>;
  stop(): Promise<void>;
}

const memory: Store = { name: 'Memory', engine: async () => ({ session: 'Memory', options: {} }), stop: async () => {} };

/** Commands per name in INFO commandstats texts (one per node), the tests' own (INFO, CONFIG) left out. */
function commandCalls(texts: string[]): Map<string, number> {
  const calls = new Map<string, number>();
  for (const text of texts) {
    for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (name !== 'info' && !name!.startsWith('config')) calls.set(name!, (calls.get(name!) ?? 0) + Number(count));
  }
  return calls;
}

function singleRedis(): Store {
  let redis: RedisServer | undefined;
  const started = async () => (redis ??= await startRedis());
  return {
    name: 'Redis',
    engine: async () => ({ session: 'Redis', options: { url: (await started()).url, command_timeout: 500, key_prefix: uniquePrefix() } }),
    reset: async () => void (await redis!.cli('CONFIG', 'RESETSTAT')),
    calls: async () => commandCalls([await redis!.cli('INFO', 'commandstats')]),
    stop: async () => redis?.stop(),
  };
}

function clusterRedis(): Store {
  let cluster: RedisCluster | undefined;
  const started = async () => (cluster ??= await startCluster());
  return {
    name: 'Redis Cluster',
    engine: async () => ({ session: 'Redis', options: { cluster: (await started()).nodes, command_timeout: 1000, key_prefix: uniquePrefix() } }),
    reset: async () => void (await Promise.all(cluster!.ports.map(port => cluster!.cli(port, 'CONFIG', 'RESETSTAT')))),
    calls: async () => commandCalls(await Promise.all(cluster!.ports.map(port => cluster!.cli(port, 'INFO', 'commandstats')))),
    stop: async () => cluster?.stop(),
  };
}

async function withApp(store: Store, body: (client: TestClient, app: App) => Promise<void>, extra: Record<string, unknown> = {}): Promise<void> {
  const { session: engine, options } = await store.engine();
  const input: SettingsInput = { log: 'none', session: engine, engines: { session: { [engine]: { ...options, dbsc: true, hash_ids: true, ...extra } } } };
  const app = routes(createApp(withoutCsrf(input)));
  const client = await testClient(app);
  try {
    await body(client, app);
  } finally {
    await client.close();
  }
}

/** Logs `browser` in and registers its key; asserts both. */
async function loginAndRegister(browser: DbscBrowser): Promise<void> {
  const loggedIn = await browser.client.post('/login');
  assert.is(loggedIn.status, 200);
  const registered = await browser.register(loggedIn);
  assert.is(registered.status, 200, registered.text);
}

const stores = [memory, ...(redisAvailable() ? [singleRedis(), clusterRedis()] : [])];

for (const store of stores) {
  const test = suite(`dbsc on ${store.name}`);
  test.after(() => store.stop());

  test('a login offers registration; the key registers and gets the instructions and a bound cookie', () =>
    withApp(store, async client => {
      const loggedIn = await client.post('/login');
      const offer = parseRegistration(loggedIn.headers.get('secure-session-registration'));
      assert.ok(offer, 'Secure-Session-Registration on the login response');
      assert.equal(offer.algorithms, ['ES256', 'RS256']);
      const browser = new DbscBrowser(client);
      const res = await browser.register(loggedIn);
      assert.is(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const instructions = res.json();
      assert.type(instructions.session_identifier, 'string');
      assert.is(instructions.scope.include_site, false);
      assert.is(instructions.credentials[0].type, 'cookie');
      const sessionCookie = loggedIn.setCookies[0]!;
      assert.not.ok(instructions.session_identifier === sessionCookie.value, 'the DBSC id is not the session id');
      const bound = res.setCookie(instructions.credentials[0].name)!;
      assert.ok(bound, 'the bound cookie is set');
      assert.match(bound.name, /^__Host-.*\.bound$/);
      assert.ok(bound.secure && bound.httpOnly && bound.path === '/' && bound.domain === undefined);
      assert.is(bound.maxAge, 600);
      assert.is((await client.get('/bound')).text, 'bound ann');
    }));

  test('refresh: 403 with a challenge first, then the signed challenge renews the bound cookie', () =>
    withApp(store, async client => {
      const browser = new DbscBrowser(client);
      await loginAndRegister(browser);
      client.jar.delete(browser.boundCookie!);
      const { first, second } = await browser.refresh();
      assert.is(first.status, 403);
      const challenge = parseChallenge(first.headers.get('secure-session-challenge'));
      assert.ok(challenge, 'Secure-Session-Challenge: "<challenge>";id="<session id>"');
      assert.is(challenge.id, browser.sessionId);
      assert.is(second!.status, 200, second!.text);
      assert.ok(second!.setCookie(browser.boundCookie!)?.value);
      assert.is((await client.get('/bound')).text, 'bound ann');
    }));

  test('a copied session cookie alone is refused on a deviceBound route and works elsewhere', () =>
    withApp(store, async client => {
      const browser = new DbscBrowser(client);
      await loginAndRegister(browser);
      const thief = client.fork();
      for (const [name, entry] of client.jar) if (name !== browser.boundCookie) thief.jar.set(name, entry);
      assert.is((await thief.get('/open')).text, 'open ann', 'routes without the option keep working');
      const refused = await thief.get('/bound');
      assert.is(refused.status, 403);
      assert.not.match(refused.text, /bound ann/);
      // A made-up bound cookie does not pass either.
      thief.jar.set(browser.boundCookie!, { value: 'zzzzzz.AAAAAAAAAAAAAAAAAAAAAA', path: '/' });
      assert.is((await thief.get('/bound')).status, 403);
      // The thief's own key cannot renew it: not the session's key.
      const impostor = new DbscBrowser(thief);
      impostor.sessionId = browser.sessionId;
      impostor.refreshUrl = browser.refreshUrl;
      const { second } = await impostor.refresh();
      assert.is(second!.status, 400);
      assert.is(second!.setCookie(browser.boundCookie!), undefined);
      assert.is((await thief.get('/bound')).status, 403);
      // ...and the real browser is still bound.
      client.jar.delete(browser.boundCookie!);
      assert.is((await browser.refresh()).second!.status, 200);
    }));

  if (store.calls) {
    test('the refresh endpoint costs the session read (403) and read + flush (200): nothing more', () =>
      withApp(store, async client => {
        const browser = new DbscBrowser(client);
        await loginAndRegister(browser);
        const open = async () => {
          await store.reset!();
          await client.get('/open');
          return store.calls!();
        };
        const read = await open();

        await store.reset!();
        const first = await browser.refreshRequest();
        assert.is(first.status, 403);
        assert.equal(Object.fromEntries(await store.calls!()), Object.fromEntries(read), 'a challenge costs the session read only');
        const challenge = parseChallenge(first.headers.get('secure-session-challenge'))!.challenge;
        await store.reset!();
        assert.is((await browser.refreshRequest(browser.key.proof(challenge))).status, 200);
        // One script more, the flush, which runs a GET and a SET inside (commandstats counts those too): nothing sent besides.
        const flush = { evalsha: 1, get: 1, set: 1 };
        const expected = Object.fromEntries([...new Set([...read.keys(), ...Object.keys(flush)])].map(name => [name, (read.get(name) ?? 0) + (flush[name as keyof typeof flush] ?? 0)]));
        assert.equal(Object.fromEntries(await store.calls!()), expected, 'a refresh costs the read and one flush');
      }));
  }

  test('logout and signing out elsewhere end the binding: refresh answers {"continue": false}', () =>
    withApp(store, async client => {
      const laptop = new DbscBrowser(client);
      await loginAndRegister(laptop);
      const phone = new DbscBrowser(client.fork());
      await loginAndRegister(phone);
      const list = (await client.get('/sessions')).json() as { deviceBound: boolean }[];
      assert.equal(list.map(s => s.deviceBound), [true, true]);
      assert.is((await phone.client.post('/others-out')).text, '1');
      const ended = await laptop.refreshRequest();
      assert.is(ended.status, 200);
      assert.equal(ended.json(), { continue: false });
      const out = await phone.client.post('/logout');
      assert.ok(out.setCookie(phone.boundCookie!) !== undefined && out.setCookie(phone.boundCookie!)!.value === '', 'logout drops the bound cookie');
      assert.equal((await phone.refreshRequest()).json(), { continue: false });
    }));

  // On a single Redis the re-login's id change happens in its flush script (changeIdAtFlush): the binding ends in the same step.
  test('a new login binds anew: the old DBSC session ends, the old bound cookie no longer passes', () =>
    withApp(store, async client => {
      const browser = new DbscBrowser(client);
      await loginAndRegister(browser);
      const oldCookie = client.jar.get(browser.boundCookie!)!;
      const relogin = await client.post('/login');
      assert.ok(parseRegistration(relogin.headers.get('secure-session-registration')));
      assert.equal((await browser.refreshRequest()).json(), { continue: false });
      const second = new DbscBrowser(client);
      assert.is((await second.register(relogin)).status, 200);
      client.jar.set(browser.boundCookie!, oldCookie);
      assert.is((await client.get('/bound')).status, 403);
    }));

  test.run();
}

const test = suite('dbsc proofs (Memory)');

test('quoted and bare header values are both accepted', async () => {
  for (const quoted of [true, false]) {
    await withApp(memory, async client => {
      const browser = new DbscBrowser(client, new DbscKey(), quoted);
      await loginAndRegister(browser);
      client.jar.delete(browser.boundCookie!);
      assert.is((await browser.refresh()).second!.status, 200, `quoted: ${quoted}`);
    });
  }
});

test('RS256 keys register and refresh too', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client, new DbscKey('RS256'));
    await loginAndRegister(browser);
    assert.is((await browser.refresh()).second!.status, 200);
  }));

test('a replayed proof is refused (the challenge is single-use) and asked again', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client);
    await loginAndRegister(browser);
    const { second, challenge } = await browser.refresh();
    assert.is(second!.status, 200);
    const replay = await browser.refreshRequest(browser.key.proof(challenge!));
    assert.is(replay.status, 403);
    assert.is(replay.setCookie(browser.boundCookie!), undefined);
    assert.ok(parseChallenge(replay.headers.get('secure-session-challenge')), 'a fresh challenge to sign');
    // The registration challenge cannot be used for a refresh either (it was consumed).
  }));

test('a stale challenge (older than a minute) is refused and asked again', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client);
    await loginAndRegister(browser);
    const first = await browser.refreshRequest();
    const challenge = parseChallenge(first.headers.get('secure-session-challenge'))!.challenge;
    const realNow = Date.now;
    const shift = 61_000;
    Date.now = () => realNow() + shift;
    try {
      const late = await browser.refreshRequest(browser.key.proof(challenge));
      assert.is(late.status, 403);
      assert.is(late.setCookie(browser.boundCookie!), undefined);
    } finally {
      Date.now = realNow;
    }
  }));

test('tampered proofs, alg none, a wrong typ and a made-up challenge are refused', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client);
    await loginAndRegister(browser);
    const challenge = parseChallenge((await browser.refreshRequest()).headers.get('secure-session-challenge'))!.challenge;
    const good = browser.key.proof(challenge);
    const [h, p, s] = good.split('.') as [string, string, string];
    const tamperedPayload = `${h}.${b64({ jti: challenge, extra: 1 })}.${s}`;
    const flippedSignature = `${h}.${p}.${(s[0] === 'A' ? 'B' : 'A') + s.slice(1)}`;
    const none = `${b64({ alg: 'none', typ: 'dbsc+jwt' })}.${p}.`;
    const noneSigned = `${b64({ alg: 'none', typ: 'dbsc+jwt' })}.${p}.${s}`;
    const wrongTyp = browser.key.proof(challenge, { header: { typ: 'JWT' } });
    const madeUp = browser.key.proof('lq0.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA');
    for (const [name, proof] of Object.entries({ tamperedPayload, flippedSignature, none, noneSigned, wrongTyp, madeUp, garbage: 'not-a-jwt' })) {
      const res = await browser.refreshRequest(proof);
      assert.is(res.status, 400, name);
      assert.is(res.setCookie(browser.boundCookie!), undefined, name);
    }
    // alg none at registration, too.
    const again = await client.post('/login');
    const offer = parseRegistration(again.headers.get('secure-session-registration'))!;
    const noneRegistration = `${b64({ alg: 'none', typ: 'dbsc+jwt' })}.${b64({ jti: offer.challenge })}.`;
    assert.is((await client.post(offer.path, { headers: { 'secure-session-response': noneRegistration } })).status, 400);
    // The untouched proof still works: nothing above consumed the challenge.
    const fresh = new DbscBrowser(client);
    assert.is((await fresh.register(again)).status, 200);
  }));

test('Secure-Session-Skipped is logged as the browser\'s choice; the request is still refused', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client);
    await loginAndRegister(browser);
    client.jar.delete(browser.boundCookie!);
    const res = await client.get('/bound', { headers: { 'secure-session-skipped': `unreachable;session_identifier="${browser.sessionId}"` } });
    assert.is(res.status, 403);
    assert.match(res.text, /skipped its refresh \(unreachable\)/);
  }));

test('the endpoints: POST only, same-origin only, never framed, a refresh needs Sec-Secure-Session-Id', () =>
  withApp(memory, async client => {
    const browser = new DbscBrowser(client);
    await loginAndRegister(browser);
    const get = await client.get(browser.refreshUrl!);
    assert.is(get.status, 405);
    assert.is(get.headers.get('allow'), 'POST');
    const cross = await browser.refreshRequest(undefined, { 'sec-fetch-site': 'cross-site' });
    assert.is(cross.status, 403);
    assert.is(cross.headers.get('secure-session-challenge'), null, 'nothing learned cross-site');
    assert.is(cross.headers.get('x-frame-options'), 'DENY');
    assert.is(cross.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.is(cross.headers.get('access-control-allow-credentials'), null);
    assert.is((await client.post(browser.refreshUrl!)).status, 400);
    // A session that was never bound, or no session: the browser's DBSC session ends.
    const stranger = new DbscBrowser(client.fork());
    stranger.sessionId = browser.sessionId;
    stranger.refreshUrl = browser.refreshUrl;
    assert.equal((await stranger.refreshRequest()).json(), { continue: false });
  }));

test('settings: dbsc is refused with the Cookie engine; deviceBound needs dbsc', () => {
  assert.throws(() => createApp({ log: 'none', session: 'Cookie', engines: { session: { Cookie: { secret_key: 'x'.repeat(32), revocation: false, dbsc: true } } } }), /dbsc: expected false with a sealing engine/);
  const app = createApp({ log: 'none' });
  assert.throws(() => app.get('/x', { deviceBound: true }, () => ''), /needs the session setting dbsc: true/);
  assert.throws(() => createApp({ log: 'none', engines: { session: { Memory: { dbsc_cookie_duration: 0 } } } }), /dbsc_cookie_duration/);
});

test.run();
