/**
 * SessionFactory policy through HTTP: ids, fixation, changeId, destroy, cookie settings.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, createApp, type App } from '../../src/index.ts';
import type { TestClient } from '../../src/testing.ts';
import { hashedKey } from '../../src/session/store-key.ts';
import { CountingEngine, storeOf } from '../support/engine-calls.ts';
import { withClient } from '../support/serve.ts';

const factory = suite('SessionFactory');

function sessionApp(options: Record<string, unknown> = {}, engine?: CountingEngine): App {
  const app = createApp({ log: 'none', session: 'Memory', engines: { session: { Memory: options } } }, engine ? { sessionEngine: engine } : {});
  app.get('/read', async ctx => JSON.stringify((await ctx.session('user')) ?? null));
  app.get('/login/:user', async ctx => {
    await ctx.session('user', ctx.param('user'));
    return ctx.changeSessionId();
  });
  app.get('/write/:user', async ctx => {
    await ctx.session('user', ctx.param('user'));
    return 'ok';
  });
  app.get('/logout', async ctx => {
    await ctx.destroySession();
    return 'bye';
  });
  app.get('/churn', async ctx => {
    await ctx.session('user', 'old');
    await ctx.destroySession();
    await ctx.session('user', 'new');
    return 'ok';
  });
  return app;
}


const sessionCookie = (client: TestClient) => client.jar.get('sid')?.value;

factory('ids :: 32 base64url characters, 10,000 without a repeat', () => {
  const f = createApp({ log: 'none' }).sessions;
  const ids = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const id = f.generateId();
    assert.ok(f.validateId(id), id);
    ids.add(id);
  }
  assert.is(ids.size, 10_000);
  for (const bad of ['', 'short', 'a'.repeat(31), 'a'.repeat(33), `${'a'.repeat(31)}!`, `${'a'.repeat(32)}\n`, 'ä'.repeat(32)]) {
    assert.not.ok(f.validateId(bad), JSON.stringify(bad));
  }
  void f.close();
});

factory('changeSessionId :: keeps the data under a new id; the old id no longer works', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    await client.get('/write/ann');
    const before = sessionCookie(client)!;
    const response = await client.get('/login/bob');
    const after = sessionCookie(client)!;
    assert.is(response.text, after, 'changeSessionId() returns the new id');
    assert.is.not(after, before);
    assert.is((await client.get('/read')).text, '"bob"');
    const attacker = client.fork();
    const stale = await attacker.get('/read', { headers: { cookie: `sid=${before}` } });
    assert.is(stale.text, 'null', 'the old id reads nothing');
  });
});

factory('changeSessionId :: on a brand-new session it stores under the new id only', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    const response = await client.get('/login/ann');
    assert.is(response.setCookies.length, 1);
    assert.is(sessionCookie(client), response.text);
    assert.is((await client.get('/read')).text, '"ann"');
  });
});

factory('hash_ids :: a read, a new id and a write in one request store under the new id\'s hash; a read-and-write uses its one key', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({ hash_ids: true }, engine);
  app.get('/visit', async ctx => {
    (await ctx.session()).increment('visits');
    return 'ok';
  });
  app.get('/rotate', async ctx => {
    const session = await ctx.session();
    await ctx.changeSessionId();
    session.increment('visits');
    return 'ok';
  });
  await withClient(app, async client => {
    await client.get('/visit');
    const first = sessionCookie(client)!;
    await client.get('/visit');
    assert.equal(engine.calls.retrieve.at(-1), hashedKey(first));
    assert.equal(engine.calls.flush.at(-1), hashedKey(first), 'the write of what was read goes where the read found it');
    await client.get('/rotate');
    const second = sessionCookie(client)!;
    assert.is.not(second, first);
    // The key the read found is not reused once the id changed (the store would follow a pointer at best).
    assert.equal(engine.calls.flush.at(-1), hashedKey(second));
    assert.equal((await storeOf(app).retrieve(hashedKey(second)))?.data['visits'], 3);
  });
});

factory('destroySession :: deletes the stored session and expires the cookie', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    await client.get('/write/ann');
    const id = sessionCookie(client)!;
    const response = await client.get('/logout');
    const cookie = response.setCookie('sid')!;
    assert.is(cookie.value, '');
    assert.ok(cookie.expires!.getTime() < Date.now(), 'the cookie is expired');
    assert.is(sessionCookie(client), undefined, 'the client dropped it');
    assert.is(await storeOf(app).retrieve(id), undefined, 'gone from the store');
    const stale = await client.get('/read', { headers: { cookie: `sid=${id}` } });
    assert.is(stale.text, 'null');
  });
});

factory('destroySession :: destroy then write in one request gives one cookie with a new id', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    await client.get('/write/ann');
    const first = sessionCookie(client)!;
    const response = await client.get('/churn');
    assert.is(response.setCookies.length, 1);
    const second = response.setCookie('sid')!.value!;
    assert.match(second, /^[A-Za-z0-9_-]{32}$/);
    assert.is.not(second, first);
    assert.is((await client.get('/read')).text, '"new"');
    assert.is(await storeOf(app).retrieve(first), undefined);
  });
});

factory('bad ids :: malformed and oversized ids never reach retrieve; unknown ids are never adopted', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  const calls = engine.calls;
  await withClient(app, async client => {
    for (const bad of ['x', 'a'.repeat(33), 'a'.repeat(5000), '../../etc/passwd', '%00%00', `${'a'.repeat(31)};`, '"quoted"']) {
      const response = await client.get('/write/ann', { headers: { cookie: `sid=${encodeURIComponent(bad)}` } });
      assert.is(response.status, 200, bad);
      const issued = response.setCookie('sid')!.value;
      assert.is.not(issued, bad);
      assert.match(issued!, /^[A-Za-z0-9_-]{32}$/);
    }
    assert.equal(calls.retrieve, [], 'no malformed id was looked up');
    const unknown = 'A'.repeat(32);
    const response = await client.get('/write/ann', { headers: { cookie: `sid=${unknown}` } });
    assert.equal(calls.retrieve, [unknown], 'a well-formed id is looked up');
    assert.is.not(response.setCookie('sid')!.value, unknown, 'but never adopted');
    assert.is(await storeOf(app).retrieve(unknown), undefined, 'and nothing is stored under it');
  });
});

factory('bad ids :: a stale cookie used by a read is cleared', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    const response = await client.get('/read', { headers: { cookie: `sid=${'B'.repeat(32)}` } });
    assert.is(response.text, 'null');
    assert.ok(response.setCookie('sid')!.expires!.getTime() < Date.now());
  });
});

factory('cookie :: defaults are Path=/, HttpOnly, SameSite=Lax, no Secure, no Domain, no Expires', async () => {
  await withClient(sessionApp(), async client => {
    const header = (await client.get('/write/ann')).headers.get('set-cookie')!;
    assert.match(header, /^sid=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
  });
});

factory('cookie :: every setting changes the header as documented', async () => {
  const app = sessionApp({
    cookie_name: 'sid', cookie_path: '/app', cookie_domain: 'example.test', cookie_duration: '1 hour',
    is_secure: true, is_http_only: false, cookie_same_site: 'strict',
  });
  app.get('/app/write', async ctx => {
    await ctx.session('user', 'ann');
    return 'ok';
  });
  await withClient(app, async client => {
    const response = await client.get('/app/write');
    const header = response.headers.get('set-cookie')!;
    // Secure with a Domain: the __Secure- prefix (__Host- forbids a Domain).
    assert.match(header, /^__Secure-sid=[A-Za-z0-9_-]{32}; /);
    assert.match(header, /; Path=\/app/);
    assert.match(header, /; Domain=example\.test/);
    assert.match(header, /; Secure/);
    assert.match(header, /; SameSite=Strict/);
    assert.not.match(header, /HttpOnly/);
    const expires = response.setCookie('__Secure-sid')!.expires!.getTime();
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 5000, 'Expires is one hour ahead');
  });
});

factory('cookie :: cookie_path limits where the browser sends it back', async () => {
  const app = sessionApp({ cookie_path: '/foo' });
  app.get('/foo/write', async ctx => { await ctx.session('user', 'ann'); return 'ok'; });
  app.get('/foo/read', async ctx => JSON.stringify((await ctx.session('user')) ?? null));
  await withClient(app, async client => {
    await client.get('/foo/write');
    assert.is((await client.get('/foo/read')).text, '"ann"');
    assert.is((await client.get('/read')).text, 'null', 'outside the path the cookie is not sent');
  });
});

factory('cookie :: with cookie_duration a read refreshes Expires; without it a read sends nothing', async () => {
  const app = sessionApp({ cookie_duration: 600 });
  await withClient(app, async client => {
    await client.get('/write/ann');
    const read = await client.get('/read');
    assert.ok(read.setCookie('sid')!.expires!.getTime() > Date.now() + 590_000);
  });
});

factory('config :: SameSite=None without is_secure is a ConfigError; bad values are named', () => {
  const attempt = (options: Record<string, unknown>) => () => createApp({ engines: { session: { Memory: options } } });
  assert.throws(attempt({ cookie_same_site: 'None' }), (e: unknown) => e instanceof ConfigError && e.key.endsWith('cookie_same_site'));
  assert.throws(attempt({ cookie_same_site: 'Sometimes' }), (e: unknown) => e instanceof ConfigError && /Strict/.test(e.message));
  assert.throws(attempt({ cookie_duration: 'forever' }), (e: unknown) => e instanceof ConfigError && e.key.endsWith('cookie_duration'));
  assert.throws(attempt({ is_secure: 'maybe' }), (e: unknown) => e instanceof ConfigError && e.key.endsWith('is_secure'));
  assert.throws(attempt({ cookie_nmae: 'typo' }), (e: unknown) => e instanceof ConfigError && /cookie_name/.test(e.message));
  createApp({ engines: { session: { Memory: { cookie_same_site: 'None', is_secure: true } } } });
});

factory.run();
