/**
 * The framework's session hook (DESIGN §2 step 4-5): it runs after user after hooks, saves on
 * halt / redirect / 4xx, saves nothing after an uncaught 500, and answers 503 instead of a
 * 200 when the flush fails. Plus concurrency on one session through HTTP.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createApp, halt, redirect, session, type App } from '../../src/index.ts';
import { withClient, withoutCsrf } from '../support/serve.ts';
import type { SessionEngine } from '../../src/session/engine.ts';
import { FailingFlushEngine } from '../support/engine-calls.ts';

const hook = suite('session hook');

function sessionApp(engine?: SessionEngine, environment?: string): App {
  const app = createApp(withoutCsrf({ log: 'none', ...(environment === undefined ? {} : { environment }) }), engine ? { sessionEngine: engine } : {});
  app.get('/all', async ctx => (await ctx.session()).toJSON());
  return app;
}


hook('redirect :: a write right before a redirect is read by the very next request', async () => {
  const app = sessionApp();
  app.post('/login', async () => {
    await session('flash', 'Welcome back');
    return redirect('/all', 303);
  });
  await withClient(app, async client => {
    const response = await client.post('/login');
    assert.is(response.status, 303);
    assert.is(response.headers.get('location'), '/all');
    assert.ok(response.setCookie('sid'));
    assert.equal((await client.get('/all')).json(), { flash: 'Welcome back' });
  });
});

hook('hooks :: writes in a before hook and in an after hook are both saved', async () => {
  const app = sessionApp();
  app.before(async ctx => {
    if (ctx.path === '/visit') await ctx.session('seen_by_before', true);
  });
  app.get('/visit', () => 'hi');
  app.after(async ctx => {
    if (ctx.path === '/visit') (await ctx.session()).increment('after_hook_runs');
  });
  await withClient(app, async client => {
    await client.get('/visit');
    await client.get('/visit');
    assert.equal((await client.get('/all')).json(), { seen_by_before: true, after_hook_runs: 2 });
  });
});

hook('halt, 4xx and 404 :: the session is still saved', async () => {
  const app = sessionApp();
  app.get('/halt', async () => {
    await session('halted', true);
    return halt('stopped');
  });
  app.get('/forbidden', async ctx => {
    await ctx.session('refused', true);
    return ctx.sendError('No entry', 403);
  });
  app.before(async ctx => {
    if (ctx.path === '/missing') await ctx.session('missing', true);
  });
  await withClient(app, async client => {
    assert.is((await client.get('/halt')).text, 'stopped');
    assert.is((await client.get('/forbidden')).status, 403);
    assert.is((await client.get('/missing')).status, 404);
    assert.equal((await client.get('/all')).json(), { halted: true, refused: true, missing: true });
  });
});

hook('500 :: a request that ends in an uncaught exception saves nothing', async () => {
  const app = sessionApp();
  app.get('/ok', async () => {
    await session('balance', 100);
    return 'ok';
  });
  app.get('/crash', async () => {
    await session('balance', 0);
    throw new Error('boom halfway through');
  });
  await withClient(app, async client => {
    await client.get('/ok');
    const crashed = await client.get('/crash');
    assert.is(crashed.status, 500);
    assert.is(crashed.headers.get('set-cookie'), null);
    assert.equal((await client.get('/all')).json(), { balance: 100 });
  });
});

hook('503 :: a failed flush answers 503, never a 200 that lost the data', async () => {
  const app = sessionApp(new FailingFlushEngine(new Error('disk on fire')), 'production');
  app.get('/write', async () => {
    await session('x', 1);
    return 'saved?';
  });
  await withClient(app, async client => {
    const response = await client.get('/write');
    assert.is(response.status, 503);
    assert.is.not(response.text, 'saved?');
    assert.not.match(response.text, /disk on fire/, 'internal messages are not shown');
    assert.is(response.headers.get('set-cookie'), null, 'no cookie for a session that was not stored');
  });
});

hook('concurrency :: 50 concurrent requests writing 50 keys of one session keep all 50', async () => {
  const app = sessionApp();
  app.get('/start', async () => { await session('started', true); return 'ok'; });
  app.get('/set/:key', async ctx => {
    await new Promise(resolve => setTimeout(resolve, Math.random() * 20)); // interleave the requests
    await session(ctx.param('key') as string, ctx.param('key'));
    return 'ok';
  });
  await withClient(app, async client => {
    await client.get('/start');
    const keys = Array.from({ length: 50 }, (_, i) => `key${i}`);
    await Promise.all(keys.map(key => client.get(`/set/${key}`)));
    const stored = (await client.get('/all')).json();
    for (const key of keys) assert.is(stored[key], key);
    assert.is(Object.keys(stored).length, 51);
  });
});

hook('concurrency :: 50 concurrent increments of one key add 50', async () => {
  const app = sessionApp();
  app.get('/start', async () => { await session('n', 0); return 'ok'; });
  app.get('/inc', async () => {
    const s = await session();
    await new Promise(resolve => setTimeout(resolve, Math.random() * 20));
    s.increment('n');
    return 'ok';
  });
  await withClient(app, async client => {
    await client.get('/start');
    await Promise.all(Array.from({ length: 50 }, () => client.get('/inc')));
    assert.equal((await client.get('/all')).json(), { n: 50 });
  });
});

hook.run();
