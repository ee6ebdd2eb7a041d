/**
 * Quickstep with the same three routes as its peers, on the engine named by `BENCH_STORE`; with
 * `BENCH_KEYWORDS=off` the app sets `keywords: false` (the routes use ctx methods either way).
 */
import { createApp } from 'quickstep';
import { announce, redisPort, storeKind } from './harness.ts';

const keywords = process.env['BENCH_KEYWORDS'] !== 'off';
const app = createApp(storeKind() === 'redis'
  ? { log: 'error', environment: 'production', keywords, session: 'Redis', engines: { session: { Redis: { server: `127.0.0.1:${redisPort()}` } } } }
  : { log: 'error', environment: 'production', keywords, session: 'Memory' });

app.get('/hello', () => 'hello');
app.get('/read', async ctx => String((await ctx.session('n')) ?? 0));
app.get('/write', async ctx => {
  const session = await ctx.session();
  session.increment('n');
  return 'ok';
});

const { port } = await app.listen(0, '127.0.0.1');
announce(port);
