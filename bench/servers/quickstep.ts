/**
 * Quickstep with the same three routes as its peers, on the engine named by `BENCH_STORE`
 * (`memory`, `redis`, or `cookie`: the Cookie engine, with a fixed bench-only secret); with
 * `BENCH_KEYWORDS=off` the app sets `keywords: false` (the routes use ctx methods either way).
 *
 * Scale scenarios: `BENCH_SESSION_BYTES` makes each session about that long (a `pad` key set by
 * the first write); `BENCH_REDIS_DB` picks the Redis database (the runner pre-fills it);
 * `BENCH_PREFILL=N` fills a Memory engine with N one-key sessions before listening, through the
 * public API only (a `MemoryEngine` flushed with new-session changes, given to `createApp`).
 *
 * `BENCH_POSTURE=secure` (Memory and Redis): the posture a production app gets, as the config
 * `quickstep new` writes and deployment.md shows: `hash_ids: true`, `csrf: true`, `trust_proxy:
 * true` behind a proxy that says `X-Forwarded-Proto: https` (the runner sends it: the cookie is
 * then `__Host-<name>`, Secure), and every session logged in (`login()` at GET /login, which the
 * runner uses to make its sessions), so each write of the owned session also writes its owner
 * index entry. `Cache-Control: no-store` and the Sec-Fetch-Site lock are on by default in both
 * postures (the lock only checks unsafe methods, so the GET routes pass it for free).
 * `BENCH_POSTURE_WITHOUT=hash_ids,login,proxy` leaves parts of it out, to see what each costs.
 */
import { randomBytes } from 'node:crypto';
import { createApp } from 'quickstep';
import { MemoryEngine, type SessionChange, type SessionEngine } from 'quickstep/engine';
import { announce, redisPort, sessionPad, SESSION_TTL, storeKind } from './harness.ts';

const keywords = process.env['BENCH_KEYWORDS'] !== 'off';
const prefill = Number(process.env['BENCH_PREFILL'] ?? 0);
const PAD = sessionPad();

async function filledMemoryEngine(count: number): Promise<SessionEngine> {
  const engine = new MemoryEngine({ max_sessions: count + 100_000 }, SESSION_TTL);
  const change: SessionChange = { isNew: true, cleared: false, set: new Map([['n', '1']]), deleted: new Set(), incremented: new Map(), pushed: new Map() };
  for (let i = 0; i < count; i++) await engine.flush(randomBytes(24).toString('base64url'), change, SESSION_TTL);
  return { store: engine, changeId: engine, take: engine, flushUnread: engine, owners: engine, close: () => engine.close() };
}

const store = storeKind();
const secure = process.env['BENCH_POSTURE'] === 'secure';
const without = new Set((process.env['BENCH_POSTURE_WITHOUT'] ?? '').split(','));
/** The session settings of the secure posture, beside each engine's own options. */
const posture = secure ? { hash_ids: !without.has('hash_ids'), csrf: true } : {};
const top = secure ? { trust_proxy: !without.has('proxy') } : {};
const app = store === 'redis'
  ? createApp({
    log: 'error', environment: 'production', keywords, session: 'Redis', ...top,
    engines: { session: { Redis: { server: `127.0.0.1:${redisPort()}`, database: Number(process.env['BENCH_REDIS_DB'] ?? 0), ...posture } } },
  })
  : store === 'cookie'
  ? createApp({ log: 'error', environment: 'production', keywords, session: 'Cookie', engines: { session: { Cookie: { secret_key: 'bench-only-secret-of-at-least-32-bytes', revocation: false } } } })
  : createApp({ log: 'error', environment: 'production', keywords, session: 'Memory', ...top, ...(secure ? { engines: { session: { Memory: posture } } } : {}) },
    prefill > 0 ? { sessionEngine: await filledMemoryEngine(prefill) } : {});

app.get('/hello', () => 'hello');
app.get('/read', async ctx => String((await ctx.session('n')) ?? 0));
app.get('/write', async ctx => {
  const session = await ctx.session();
  session.increment('n');
  if (PAD !== undefined && !session.has('pad')) session.set('pad', PAD);
  return 'ok';
});

// The secure posture's sessions are made here: a login (a new id, the owner recorded in the
// owner index) and the first write, so /read answers 1 as with the other servers.
let users = 0;
if (secure) {
  app.get('/login', async ctx => {
    if (!without.has('login')) await ctx.login(`user-${++users}`);
    (await ctx.session()).increment('n');
    return 'ok';
  });
}

// A write without a read: `session(key, value)` alone (one round trip on Redis: flushUnread).
let writes = 0;
app.get('/set', async ctx => {
  await ctx.session('last', ++writes);
  return 'ok';
});

const { port } = await app.listen(0, '127.0.0.1');
announce(port);
