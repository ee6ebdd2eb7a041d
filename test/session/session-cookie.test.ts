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
import { createApp } from '../../src/create-app.ts';
import type { App } from '../../src/server/app.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';

const HTTPS = { 'x-forwarded-proto': 'https' };

function cookieApp(engine: string, options: Record<string, unknown>, trust_proxy = true): App {
  const app = createApp({ log: 'none', trust_proxy, session: engine, engines: { session: { [engine]: { csrf: false, ...options } } } });
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
      assert.match(header, /^__Host-dancer\.session=/);
      for (const attribute of [/; Path=\//, /; Secure/, /; HttpOnly/, /; SameSite=Lax/]) assert.match(header, attribute);
      assert.not.match(header, /Domain=/);
      assert.is((await client.get('/me', { headers: HTTPS })).text, 'ann');
    });
  });

  test('over plain http :: no Secure, no prefix, so a browser on http://localhost keeps it', async context => {
    await withClient(cookieApp(engine, opts(context)), async client => {
      const header = (await client.get('/login')).headers.getSetCookie()[0]!;
      assert.match(header, /^dancer\.session=/);
      assert.not.match(header, /Secure/);
      assert.match(header, /; SameSite=Lax/);
      assert.is((await client.get('/me')).text, 'ann');
    });
  });

  test('spoofed X-Forwarded-Proto without trust_proxy :: changes nothing', async context => {
    await withClient(cookieApp(engine, opts(context), false), async client => {
      const header = (await client.get('/login', { headers: HTTPS })).headers.getSetCookie()[0]!;
      assert.match(header, /^dancer\.session=/);
      assert.not.match(header, /Secure/);
    });
  });

  test('cookie_domain :: __Secure- instead of __Host-', async context => {
    await withClient(cookieApp(engine, { ...opts(context), cookie_domain: 'example.test' }), async client => {
      const header = (await client.get('/login', { headers: HTTPS })).headers.getSetCookie()[0]!;
      assert.match(header, /^__Secure-dancer\.session=/);
      assert.match(header, /; Domain=example\.test/);
    });
  });

  test('upgrade :: a browser logged in under the old name stays logged in; the new name is sent and the old one expired', async context => {
    await withClient(cookieApp(engine, opts(context)), async client => {
      await client.get('/login'); // the app before: plain http, `dancer.session`
      const old = client.jar.get('dancer.session')!.value;
      client.jar.clear();
      // Moved behind HTTPS, or upgraded: the request brings only the old cookie.
      const res = await client.get('/me', { headers: { ...HTTPS, cookie: `dancer.session=${old}` } });
      assert.is(res.text, 'ann', 'still logged in');
      assert.ok(res.setCookie('__Host-dancer.session')?.value, 're-issued under the new name');
      assert.is(res.setCookie('dancer.session')?.value, '', 'the old one expired');
      assert.is((await client.get('/me', { headers: HTTPS })).text, 'ann', 'the new cookie alone carries the login');
    });
  });

  test('previous_cookie_names :: a changed cookie_name logs no one out', async context => {
    await withClient(cookieApp(engine, opts(context)), async before => {
      await before.get('/login');
      const old = before.jar.get('dancer.session')!.value;
      // The same store with the app's cookie renamed (Memory and Cookie: only what a seal or id carries).
      if (engine === 'Memory') return;
      await withClient(cookieApp(engine, { ...opts(context), cookie_name: 'sid' }), async after => {
        const res = await after.get('/me', { headers: { cookie: `dancer.session=${old}` } });
        assert.is(res.text, 'ann');
        assert.ok(res.setCookie('sid')?.value);
        assert.is(res.setCookie('dancer.session')?.value, '');
      });
    });
  });

  test.run();
}

const secret = randomBytes(32).toString('base64url');
engineTests('session cookie :: Memory', 'Memory', () => ({}));
engineTests('session cookie :: Cookie', 'Cookie', () => ({ secret_key: secret, revocation: false }));
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
