/**
 * The session lifecycle as a user sees it over HTTP (DESIGN §3.3, §3.4): lazy, flushed once and
 * only when changed, one cookie at most, no fixation.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, type App } from '../../src/index.ts';
import type { TestClient } from '../../src/testing.ts';
import { CountingEngine, storeOf } from '../support/engine-calls.ts';
import { withClient } from '../support/serve.ts';

const lifecycle = suite('session lifecycle over HTTP');

function sessionApp(settings: Parameters<typeof createApp>[0] = {}, engine?: CountingEngine): App {
  const app = createApp({ log: 'none', ...settings }, engine ? { sessionEngine: engine } : {});
  app.get('/untouched', () => 'no session here');
  app.get('/read/:key', async ctx => JSON.stringify((await ctx.session(ctx.param('key') as string)) ?? null));
  app.get('/write/:key/:value', async ctx => {
    await ctx.session(ctx.param('key') as string, ctx.param('value'));
    return 'written';
  });
  app.get('/all', async ctx => (await ctx.session()).toJSON());
  return app;
}


const cookieOf = (client: TestClient) => client.jar.get('sid')?.value;

lifecycle('untouched :: a route that never uses the session sends no cookie, even to a client that has one', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  const calls = engine.calls;
  await withClient(app, async client => {
    await client.get('/write/user/ann');
    assert.ok(cookieOf(client));
    const response = await client.get('/untouched');
    assert.is(response.headers.get('set-cookie'), null);
    assert.is(calls.retrieve.length, 0, 'no store lookup for an untouched route');
  });
});

lifecycle('read :: without a cookie, a read returns undefined and creates nothing', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  const calls = engine.calls;
  await withClient(app, async client => {
    const response = await client.get('/read/user');
    assert.is(response.text, 'null');
    assert.is(response.headers.get('set-cookie'), null);
    assert.equal(calls, { retrieve: [], flush: [], destroy: [], changeId: [] });
    let stored = 0;
    for await (const _ of storeOf(app).sessions()) stored++;
    assert.is(stored, 0);
  });
});

lifecycle('read :: session() with nothing written stores nothing and sends no cookie', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  const calls = engine.calls;
  await withClient(app, async client => {
    const response = await client.get('/all');
    assert.equal(response.json(), {});
    assert.is(response.headers.get('set-cookie'), null);
    assert.is(calls.flush.length, 0);
  });
});

lifecycle('write :: the first write creates the session and its cookie; the next request reads it', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    const first = await client.get('/write/user/ann');
    const cookie = first.setCookie('sid');
    assert.ok(cookie, 'the session cookie is set');
    assert.match(cookie!.value!, /^[A-Za-z0-9_-]{32}$/);
    assert.is((await client.get('/read/user')).text, '"ann"');
  });
});

lifecycle('read-only :: a request that only reads never calls the engine flush and resends no cookie', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  const calls = engine.calls;
  await withClient(app, async client => {
    await client.get('/write/user/ann');
    const flushesAfterWrite = calls.flush.length;
    const response = await client.get('/read/user');
    assert.is(response.text, '"ann"');
    assert.is(calls.flush.length, flushesAfterWrite, 'no flush for a read');
    assert.is(calls.retrieve.length, 1, 'one store lookup');
    assert.is(response.headers.get('set-cookie'), null, 'no cookie without cookie_duration');
  });
});

lifecycle('write :: several writes in one request are one flush', async () => {
  const engine = new CountingEngine();
  const app = sessionApp({}, engine);
  app.get('/many', async ctx => {
    for (let i = 0; i < 10; i++) await ctx.session(`k${i}`, i);
    (await ctx.session()).increment('n', 5);
    return 'ok';
  });
  const calls = engine.calls;
  await withClient(app, async client => {
    await client.get('/many');
    assert.is(calls.flush.length, 1);
    assert.equal((await client.get('/all')).json(), { k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, n: 5 });
  });
});

lifecycle('delete :: session(key, undefined) removes the key', async () => {
  const app = sessionApp();
  app.get('/forget', async ctx => {
    await ctx.session('user', undefined);
    return 'ok';
  });
  await withClient(app, async client => {
    await client.get('/write/user/ann');
    await client.get('/write/theme/dark');
    await client.get('/forget');
    assert.equal((await client.get('/all')).json(), { theme: 'dark' });
  });
});

lifecycle('clients :: three clients each see only their own session', async () => {
  const app = sessionApp();
  await withClient(app, async client => {
    const others = [client.fork(), client.fork()];
    const all = [client, ...others];
    await Promise.all(all.map((c, i) => c.get(`/write/user/user${i}`)));
    const read = await Promise.all(all.map(c => c.get('/read/user')));
    assert.equal(read.map(r => r.text), ['"user0"', '"user1"', '"user2"']);
    assert.is(new Set(all.map(cookieOf)).size, 3);
  });
});

lifecycle.run();
