/**
 * The session cookie's posture (src/session/session-cookie.ts, docs/design.md#the-session-cookie):
 * Secure and `__Host-` over HTTPS (a trusted proxy's X-Forwarded-Proto here), plain over http, a
 * spoofed header ignored, the cookie settings browsers would refuse as ConfigErrors, and a browser
 * that still has the cookie under its previous name kept logged in. On Memory, Cookie and Redis.
 */
import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../src/base/errors.ts';
import { createApp, type AppParts } from '../../src/create-app.ts';
import { MemoryEngine, storedMemoryEngine } from '../../src/session/engines/memory/memory.ts';
import type { App } from '../../src/server/app.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';
import type { TestClient } from '../../src/testing/client.ts';

const HTTPS = { 'x-forwarded-proto': 'https' };

function cookieApp(engine: string, options: Record<string, unknown>, trust_proxy = true, parts: AppParts = {}): App {
  const app = createApp({ log: 'none', trust_proxy, session: engine, engines: { session: { [engine]: { csrf: false, ...options } } } }, parts);
  app.get('/login', async ctx => { await ctx.session('user', 'ann'); return 'in'; });
  app.get('/me', async ctx => String((await ctx.session('user')) ?? 'nobody'));
  return app;
}

function engineTests(name: string, engine: string, options: () => Record<string, unknown>) {
  const test = engine === 'Redis' ? redisSuite<{ redis: RedisServer }>(name, {} as never) : suite<{ redis: RedisServer }>(name, {} as never);
  if (engine === 'Redis') {
    test.before(async context => { context.redis = await startRedis(); });
    test.after(async ({ redis }) => { await redis.stop(); });
  }
  const opts = (context: { redis: RedisServer }) => (engine === 'Redis' ? { url: context.redis.url, ...options() } : options());

  test('over HTTPS (a trusted proxy) :: Secure, __Host- name, Path=/, no Domain, HttpOnly, SameSite=Lax; read back under that name', async context => {
    await withClient(cookieApp(engine, opts(context)), async client => {
      const login = await client.get('/login', { headers: HTTPS });
      const header = login.headers.getSetCookie()[0]!;
      assert.match(header, /^__Host-sid=/);
      for (const attribute of [/; Path=\//, /; Secure/, /; HttpOnly/, /; SameSite=Lax/]) assert.match(header, attribute);
      assert.not.match(header, /Domain=/);
      assert.is((await client.get('/me', { headers: HTTPS })).text, 'ann');
    });
  });

  test('over plain http :: no Secure, no prefix, so a browser on http://localhost keeps it', async context => {
    await withClient(cookieApp(engine, opts(context)), async client => {
      const header = (await client.get('/login')).headers.getSetCookie()[0]!;
      assert.match(header, /^sid=/);
      assert.not.match(header, /Secure/);
      assert.match(header, /; SameSite=Lax/);
      assert.is((await client.get('/me')).text, 'ann');
    });
  });

  test('spoofed X-Forwarded-Proto without trust_proxy :: changes nothing', async context => {
    await withClient(cookieApp(engine, opts(context), false), async client => {
      const header = (await client.get('/login', { headers: HTTPS })).headers.getSetCookie()[0]!;
      assert.match(header, /^sid=/);
      assert.not.match(header, /Secure/);
    });
  });

  test('cookie_domain :: __Secure- instead of __Host-', async context => {
    await withClient(cookieApp(engine, { ...opts(context), cookie_domain: 'example.test' }), async client => {
      const header = (await client.get('/login', { headers: HTTPS })).headers.getSetCookie()[0]!;
      assert.match(header, /^__Secure-sid=/);
      assert.match(header, /; Domain=example\.test/);
    });
  });

  test('upgrade :: a browser logged in under the old name stays logged in; the new name is sent and the old one expired', async context => {
    await withClient(cookieApp(engine, opts(context)), async client => {
      await client.get('/login'); // the app before: plain http, `sid`
      const old = client.jar.get('sid')!.value;
      client.jar.clear();
      // Moved behind HTTPS, or upgraded: the request brings only the old cookie.
      const res = await client.get('/me', { headers: { ...HTTPS, cookie: `sid=${old}` } });
      assert.is(res.text, 'ann', 'still logged in');
      assert.ok(res.setCookie('__Host-sid')?.value, 're-issued under the new name');
      assert.is(res.setCookie('sid')?.value, '', 'the old one expired');
      assert.is((await client.get('/me', { headers: HTTPS })).text, 'ann', 'the new cookie alone carries the login');
    });
  });

  test('upgrade from the old default name :: a user logged in under `dancer.session` stays logged in, moved to `__Host-sid` over HTTPS', async context => {
    // Before and after the upgrade: two apps on one store (Redis), one secret (Cookie), or one
    // Memory engine handed to both. The app before has Quickstep's old default cookie name.
    const parts = (): AppParts => (engine === 'Memory' ? { sessionEngine: storedMemoryEngine(memory) } : {});
    const memory = new MemoryEngine({ max_sessions: 100, max_bytes: 1 << 20 }, 3600);
    await withClient(cookieApp(engine, { ...opts(context), cookie_name: 'dancer.session' }, true, parts()), async before => {
      await before.get('/login');
      const value = before.jar.get('dancer.session')!.value;
      await withClient(cookieApp(engine, opts(context), true, parts()), async after => {
        const res = await after.get('/me', { headers: { ...HTTPS, cookie: `dancer.session=${value}` } });
        assert.is(res.text, 'ann', 'still logged in');
        assert.ok(res.setCookie('__Host-sid')?.value, 're-issued under the new default name');
        assert.is(res.setCookie('dancer.session')?.value, '', 'the old one expired');
        assert.is((await after.get('/me', { headers: HTTPS })).text, 'ann', 'the new cookie alone carries the login');
      });
    });
  });

  test('cookie tossing :: an id of a session made over HTTPS, planted under a previous or unprefixed name, is not read', async context => {
    await withClient(cookieApp(engine, opts(context)), async victim => {
      // The attacker's own logged-in session, made over HTTPS, so sent as __Host-sid.
      const attacker = victim.fork();
      await attacker.get('/login', { headers: HTTPS });
      const planted = attacker.jar.get('__Host-sid')!.value;
      // From a sibling subdomain the attacker can set `sid` or `dancer.session`, never `__Host-sid`.
      for (const name of ['sid', 'dancer.session']) {
        const res = await victim.get('/me', { headers: { ...HTTPS, cookie: `${name}=${planted}` } });
        assert.is(res.text, 'nobody', `not logged in as the attacker through ${name}`);
        assert.not.ok(res.setCookie('__Host-sid')?.value, 'and not moved to the real name');
      }
      assert.is((await attacker.get('/me', { headers: HTTPS })).text, 'ann', 'the session itself is untouched');
    });
  });

  test('previous_cookie_names :: a changed cookie_name logs no one out; [] turns the lookup off', async context => {
    const memory = new MemoryEngine({ max_sessions: 100, max_bytes: 1 << 20 }, 3600);
    const parts = (): AppParts => (engine === 'Memory' ? { sessionEngine: storedMemoryEngine(memory) } : {});
    await withClient(cookieApp(engine, { ...opts(context), cookie_name: 'app_session' }, true, parts()), async before => {
      await before.get('/login');
      const old = before.jar.get('app_session')!.value;
      await withClient(cookieApp(engine, { ...opts(context), previous_cookie_names: ['app_session'] }, true, parts()), async after => {
        const res = await after.get('/me', { headers: { cookie: `app_session=${old}` } });
        assert.is(res.text, 'ann');
        assert.ok(res.setCookie('sid')?.value);
        assert.is(res.setCookie('app_session')?.value, '');
      });
      await withClient(cookieApp(engine, { ...opts(context), previous_cookie_names: [] }, true, parts()), async closed => {
        const res = await closed.get('/me', { headers: { cookie: `app_session=${old}` } });
        assert.is(res.text, 'nobody', 'no previous name is read once the list is empty');
      });
    });
  });

  test.run();
}

const secret = randomBytes(32).toString('base64url');
engineTests('session cookie :: Memory', 'Memory', () => ({}));
engineTests('session cookie :: Cookie', 'Cookie', () => ({ secret_key: secret }));
engineTests('session cookie :: Redis', 'Redis', () => ({}));

const config = suite('session cookie :: settings browsers would refuse are ConfigErrors');
config('a __Host- name with cookie_domain or a cookie_path other than /; a prefixed name with is_secure false', () => {
  for (const bad of [
    { cookie_name: '__Host-s', cookie_domain: 'example.test' },
    { cookie_name: '__Host-s', cookie_path: '/app' },
    { cookie_name: '__Secure-s', is_secure: false },
  ]) {
    assert.throws(() => createApp({ engines: { session: { Memory: bad } } }), (error: unknown) => error instanceof ConfigError, JSON.stringify(bad));
  }
  const policy = createApp({ engines: { session: { Memory: { cookie_name: '__Host-s' } } } }).sessions.policy;
  assert.is(policy.is_secure, 'auto');
});
config.run();
