/**
 * A request that only writes keys (`session(key, value)`, `flash(key, value)`) never reads the
 * session first (issue 16): one round trip to Redis, not a read and a flush. What a user must not
 * notice is everything else: stale and expired cookies still get a fresh id, absolute_duration
 * and remember() still hold, a read later in the same request sees the write, hooks still run.
 */
import * as assert from 'uvu/assert';
import { suite, type Test } from 'uvu';
import type { App } from '../../src/server/app.ts';
import { createApp } from '../../src/create-app.ts';
import type { SettingsInput } from '../../src/config/config.ts';
import { redisSuite, startRedis, type RedisServer } from '../support/redis-server.ts';
import { withClient as withApp } from '../support/serve.ts';

const COOKIE = 'sid';

function appOn(engine: () => SettingsInput, policy: Record<string, unknown> = {}, define?: (app: App) => void): App {
  const base = engine();
  const name = base.session as string;
  const app = createApp({ log: 'none', ...base, engines: { session: { [name]: { ...(base.engines as any)?.session?.[name], ...policy } } } });
  app.get('/login/:user', async ctx => {
    await ctx.session('user', ctx.param('user'));
    return 'ok';
  });
  app.get('/new-id', async ctx => ctx.changeSessionId().then(() => 'ok'));
  app.get('/remember', async ctx => {
    (await ctx.session()).remember(3600);
    return 'ok';
  });
  app.get('/note/:text', async ctx => {
    await ctx.session('note', ctx.param('text'));
    return 'noted';
  });
  app.get('/forget-note', async ctx => {
    await ctx.session('note', undefined);
    return 'ok';
  });
  app.get('/note-then-read', async ctx => {
    await ctx.session('note', 'fresh');
    return `${String(await ctx.session('user'))} ${String(await ctx.session('note'))}`;
  });
  app.get('/bad', async ctx => {
    await ctx.session('fn', (() => 1) as never);
    return 'stored?';
  });
  app.get('/big', async ctx => {
    await ctx.session('big', 'x'.repeat(5000));
    return 'stored?';
  });
  app.get('/all', async ctx => (await ctx.session()).toJSON());
  define?.(app);
  return app;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function behaviour(test: Test<any>, engine: () => SettingsInput): void {
  test('a write-only route keeps the rest of the session and sends no cookie', () => withApp(appOn(engine), async client => {
    await client.get('/login/ann');
    const id = client.jar.get(COOKIE)!.value;
    const noted = await client.get('/note/hello');
    assert.is(noted.setCookie(COOKIE), undefined, 'same id, browser-session cookie: nothing to send');
    assert.equal((await client.get('/all')).json(), { user: 'ann', note: 'hello' });
    assert.is(client.jar.get(COOKIE)!.value, id);
    await client.get('/forget-note');
    assert.equal((await client.get('/all')).json(), { user: 'ann' }, 'session(key, undefined) deletes without a read too');
  }));

  test('a stale cookie: the write goes to a new session with a new id, the old id is not adopted', () => withApp(appOn(engine), async client => {
    const stale = 'A'.repeat(32);
    const res = await client.get('/note/hello', { headers: { cookie: `${COOKIE}=${stale}` } });
    const fresh = res.setCookie(COOKIE)?.value;
    assert.ok(fresh && fresh !== stale, `a new id was issued (${fresh})`);
    const other = client.fork();
    assert.equal((await other.get('/all', { headers: { cookie: `${COOKIE}=${fresh}` } })).json(), { note: 'hello' });
    assert.equal((await other.get('/all', { headers: { cookie: `${COOKIE}=${stale}` } })).json(), {}, 'the stale id holds nothing');
  }));

  test('after the id changed, a write-only request with the old id gets a new session, not the renamed one', () => withApp(appOn(engine), async client => {
    await client.get('/login/ann');
    const old = client.jar.get(COOKIE)!.value;
    await client.get('/new-id');
    const current = client.jar.get(COOKIE)!.value;
    assert.is.not(current, old);
    const res = await client.fork().get('/note/planted', { headers: { cookie: `${COOKIE}=${old}` } });
    const issued = res.setCookie(COOKIE)?.value;
    assert.ok(issued && issued !== current && issued !== old, 'a brand-new id');
    assert.equal((await client.get('/all')).json(), { user: 'ann' }, 'nothing was planted in the renamed session');
  }));

  test('a stale cookie and only a delete: the cookie is expired, nothing is created', () => withApp(appOn(engine), async client => {
    const res = await client.get('/forget-note', { headers: { cookie: `${COOKIE}=${'B'.repeat(32)}` } });
    assert.is(res.setCookie(COOKIE)?.value, '', 'the stale cookie is cleared');
  }));

  test('past absolute_duration, a write-only request starts a new session', () => withApp(appOn(engine, { absolute_duration: 1 }), async client => {
    await client.get('/login/ann');
    const id = client.jar.get(COOKIE)!.value;
    await sleep(1100);
    const res = await client.get('/note/late');
    const fresh = res.setCookie(COOKIE)?.value;
    assert.ok(fresh && fresh !== id, 'a new id');
    assert.equal((await client.get('/all')).json(), { note: 'late' }, 'the old session\'s user is not carried over');
  }));

  test('a remembered session keeps its persistent cookie on a write-only request', () => withApp(appOn(engine), async client => {
    await client.get('/login/ann');
    await client.get('/remember');
    const res = await client.get('/note/hello');
    const cookie = res.setCookie(COOKIE);
    assert.ok(cookie?.expires, 'the Expires is refreshed, as on any touched remembered session');
    const left = cookie.expires.getTime() - Date.now();
    assert.ok(left > 3500_000 && left <= 3600_000 + 2000, `about an hour left (${left} ms)`);
  }));

  test('a read after the write in the same request sees both the write and what was stored', () => withApp(appOn(engine), async client => {
    await client.get('/login/ann');
    assert.is((await client.get('/note-then-read')).text, 'ann fresh');
    assert.equal((await client.get('/all')).json(), { user: 'ann', note: 'fresh' });
  }));

  test('bad values are refused at the write, nothing stored', () => withApp(appOn(engine, { max_session_size: 1024 }), async client => {
    await client.get('/login/ann');
    assert.is((await client.get('/bad')).status, 500);
    assert.is((await client.get('/big')).status, 413);
    assert.equal((await client.get('/all')).json(), { user: 'ann' });
  }));

  test('with a session hook the session is read as before (the hook sees it)', async () => {
    const seen: string[] = [];
    const app = appOn(engine, {}, a => a.hook('session.loaded', (_ctx, id) => { seen.push(id); }));
    await withApp(app, async client => {
      await client.get('/login/ann');
      await client.get('/note/hi');
      assert.is(seen.length, 1, `session.loaded ran for the write-only request (${seen.length})`);
    });
  });
}

const memory = suite('unread writes :: Memory');
behaviour(memory, () => ({ session: 'Memory' }));
memory.run();

const redisTest = redisSuite<{ redis: RedisServer }>('unread writes :: Redis', {} as never);
let redis: RedisServer | undefined;
redisTest.before(async context => {
  redis = context.redis = await startRedis();
});
redisTest.after(async () => {
  await redis?.stop();
});
const onRedis = (): SettingsInput => ({ session: 'Redis', engines: { session: { Redis: { server: `127.0.0.1:${redis!.port}` } } } });
behaviour(redisTest, onRedis);

redisTest('a write-only request is one Redis round trip: one script, no read first', ({ redis }) => withApp(appOn(onRedis), async client => {
  await client.get('/login/ann');
  await redis.cli('CONFIG', 'RESETSTAT');
  for (let i = 0; i < 5; i++) assert.is((await client.get(`/note/n${i}`)).status, 200);
  const calls = await redis.commandCalls();
  const scripts = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0);
  assert.is(scripts, 5, `one script call per request (${[...calls].join(' ')})`);
  assert.is(calls.get('get'), 5, 'the one GET is inside the script');
  assert.equal((await client.get('/all')).json(), { user: 'ann', note: 'n4' });
}));

redisTest.run();
