/**
 * Sessions that never silently lose a write (issue 13), through HTTP on both engines: writes
 * nobody awaited, push, flash, the two timeouts, remember-me, and the session hooks.
 */
import * as assert from 'uvu/assert';
import type { App, SettingsInput } from '../../src/index.ts';
import { createApp, destroySession, flash, increment, push, redirect, session } from '../../src/index.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient } from '../support/serve.ts';
import { suite } from 'uvu';

type Engine = 'Memory' | 'Redis';
let redis: Promise<RedisServer> | undefined;

/** An app on `engine` with `options` under engines.session.<engine>. */
async function appOn(engine: Engine, options: Record<string, unknown> = {}, settings: SettingsInput = {}): Promise<App> {
  const own = engine === 'Redis' ? { url: (await (redis ??= startRedis())).url, key_prefix: `lost:${Math.random().toString(36).slice(2)}:`, ...options } : options;
  return createApp({ log: 'none', ...settings, session: engine, engines: { session: { [engine]: { csrf: false, ...own } } } });
}

const all = (app: App) => app.get('/all', async ctx => (await ctx.session()).toJSON());
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

for (const engine of ['Memory', 'Redis'] as const) {
  const test = engine === 'Redis' ? redisSuite(`never lost :: ${engine}`) : suite(`never lost :: ${engine}`);
  if (engine === 'Redis') test.after(async () => void (await (await redis)?.stop(), (redis = undefined)));

  test('un-awaited writes :: session(k, v), session().then(set), increment, push are stored; the 303 carries the cookie', async () => {
    const app = await appOn(engine);
    app.post('/login', () => {
      void session('user', 'ann');
      void session().then(s => s.set('via', 'session()'));
      void increment('visits', 2);
      void push('recent', '/login');
      return redirect('/', 303);
    });
    all(app);
    await withClient(app, async client => {
      const res = await client.post('/login');
      assert.is(res.status, 303);
      assert.ok(res.setCookie('sid'), 'the session cookie goes out with the redirect');
      assert.equal((await client.get('/all')).json(), { user: 'ann', via: 'session()', visits: 2, recent: ['/login'] });
    });
  });

  test('un-awaited destroySession :: the session is gone; a failing un-awaited write fails the request loudly', async () => {
    const app = await appOn(engine);
    app.get('/in', async () => { await session('user', 'ann'); return 'in'; });
    app.get('/out', () => { void destroySession(); return 'bye'; });
    app.get('/bad', () => { void session('bad', () => 1); return 'looks fine'; });
    all(app);
    await withClient(app, async client => {
      await client.get('/in');
      const out = await client.get('/out');
      assert.is(out.setCookie('sid')?.value, '', 'an expired cookie');
      assert.equal((await client.get('/all')).json(), {});
      const bad = await client.get('/bad');
      assert.is(bad.status, 500, 'a write that cannot be kept is never a 200');
    });
  });

  test('push :: 50 concurrent pushes to one key keep all 50; max keeps the last N', async () => {
    const app = await appOn(engine);
    app.get('/start', async () => { await session('user', 'ann'); return 'ok'; });
    app.get('/push/:n', async ctx => { await push('items', Number(ctx.params.n)); return 'ok'; });
    app.get('/seen/:page', async ctx => push('recent', ctx.params.page, { max: 5 }));
    all(app);
    await withClient(app, async client => {
      await client.get('/start');
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => client.get(`/push/${i}`).then(r => r.status)));
      assert.ok(statuses.every(s => s === 200));
      const items = (await client.get('/all')).json().items as number[];
      assert.equal([...items].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
      for (const page of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) await client.get(`/seen/${page}`);
      assert.equal((await client.get('/all')).json().recent, ['c', 'd', 'e', 'f', 'g']);
    });
  });

  test('flash :: shown once after a redirect, gone on the next request, kept by a request that does not read it', async () => {
    const app = await appOn(engine);
    app.post('/login', async ctx => { await session('user', 'ann'); await flash('notice', 'Welcome back'); return ctx.redirect('/', 303); });
    app.get('/', async () => `notice: ${(await flash('notice')) ?? 'none'}`);
    app.get('/elsewhere', async () => `user: ${await session('user')}`);
    app.get('/set-again', async () => { await flash('notice', 'Again'); return 'ok'; });
    await withClient(app, async client => {
      assert.is((await client.post('/login')).status, 303);
      assert.is((await client.get('/elsewhere')).text, 'user: ann', 'a page that does not read the flash');
      assert.is((await client.get('/')).text, 'notice: Welcome back');
      assert.is((await client.get('/')).text, 'notice: none', 'gone after it was shown');
      await client.get('/set-again');
      const both = await Promise.all([client.get('/'), client.get('/'), client.get('/')]);
      assert.equal(both.map(r => r.text).filter(t => t === 'notice: Again').length, 1, 'two tabs never both show it');
    });
  });

  test('absolute_duration :: a session used every half second reads as unknown after it; changeSessionId keeps the creation time', async () => {
    const app = await appOn(engine, { session_duration: 60, absolute_duration: 2 });
    app.get('/start', async () => { await session('user', 'ann'); return 'ok'; });
    app.get('/user', async () => String((await session('user')) ?? 'none'));
    app.get('/rotate', async ctx => { await ctx.changeSessionId(); return 'ok'; });
    await withClient(app, async client => {
      await client.get('/start');
      for (let i = 0; i < 3; i++) {
        await sleep(500);
        assert.is((await client.get('/user')).text, 'ann', `alive at ${(i + 1) * 0.5} s`);
      }
      await client.get('/rotate');
      await sleep(700);
      assert.is((await client.get('/user')).text, 'none', 'past absolute_duration, though used all along and renamed');
    });
  });

  test('remember() :: a persistent cookie that sticks across requests and outlives session_duration; forget() ends it', async () => {
    const app = await appOn(engine, { session_duration: 1 });
    app.post('/login', async ctx => { const s = await ctx.session(); s.set('user', 'ann'); s.remember(30); return 'ok'; });
    app.get('/user', async () => String((await session('user')) ?? 'none'));
    app.post('/forget', async ctx => { (await ctx.session()).forget(); return 'ok'; });
    await withClient(app, async client => {
      const login = await client.post('/login');
      const expires = login.setCookie('sid')!.expires!;
      assert.ok(Math.abs(expires.getTime() - Date.now() - 30_000) < 3000, `Expires ${expires.toISOString()} is 30 s ahead`);
      await sleep(1300);
      const later = await client.get('/user');
      assert.is(later.text, 'ann', 'alive after session_duration: the remembered lifetime holds');
      assert.ok(later.setCookie('sid')?.expires, 'a touch refreshes the persistent cookie');
      const forgot = await client.post('/forget');
      assert.is(forgot.setCookie('sid')!.expires, undefined, 'back to a browser-session cookie');
      await sleep(2200);
      assert.is((await client.get('/user')).text, 'none', 'then session_duration applies again');
    });
  });

  test('session hooks :: each fires once per event with the id; a failing hook loses nothing', async () => {
    const app = await appOn(engine);
    const events: string[] = [];
    const ids = new Map<string, string>();
    for (const name of ['session.created', 'session.loaded', 'session.id_changed', 'session.destroyed', 'session.flushed'] as const) {
      app.hook(name, (_ctx, id, previous) => {
        events.push(name);
        ids.set(name, previous ? `${previous}->${id}` : id);
      });
    }
    app.hook('session.flushed', () => { throw new Error('metrics are down'); });
    app.get('/new', async () => { await session('a', 1); return 'ok'; });
    app.get('/read', async () => String(await session('a')));
    app.get('/login', async ctx => { await ctx.changeSessionId(); return 'ok'; });
    app.get('/out', async () => { await destroySession(); return 'ok'; });
    await withClient(app, async client => {
      await client.get('/new');
      const first = client.jar.get('sid')!.value;
      assert.equal(events.splice(0), ['session.created', 'session.flushed']);
      assert.is(ids.get('session.created'), first);
      assert.is((await client.get('/read')).text, '1', 'the failing flushed hook lost nothing');
      assert.equal(events.splice(0), ['session.loaded']);
      await client.get('/login');
      assert.equal(events.splice(0), ['session.loaded', 'session.id_changed']);
      assert.is(ids.get('session.id_changed'), `${first}->${client.jar.get('sid')!.value}`);
      await client.get('/out');
      assert.equal(events.splice(0), ['session.loaded', 'session.destroyed']);
    });
  });

  if (engine === 'Redis') {
    test('push :: 50 concurrent pushes through two app instances on one Redis keep all 50', async () => {
      const prefix = `lost:two:${Math.random().toString(36).slice(2)}:`;
      const [first, second] = [await appOn('Redis', { key_prefix: prefix }), await appOn('Redis', { key_prefix: prefix })];
      for (const app of [first, second]) {
        app.get('/start', async () => { await session('user', 'ann'); return 'ok'; });
        app.get('/push/:n', async ctx => { await push('items', Number(ctx.params.n)); return 'ok'; });
        all(app);
      }
      await withClient(first, client => withClient(second, async other => {
        await client.get('/start');
        const cookie = `sid=${client.jar.get('sid')!.value}`;
        const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? other : client).get(`/push/${i}`, { headers: { cookie } }).then(r => r.status)));
        assert.ok(statuses.every(s => s === 200), statuses.join(','));
        const items = (await other.get('/all', { headers: { cookie } })).json().items as number[];
        assert.equal([...items].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
      }));
    });
  }

  test.run();
}
