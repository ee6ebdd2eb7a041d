/**
 * Hono 4 on @hono/node-server with @hono/session, Hono's own session middleware (a JWE cookie:
 * `dir` + A256GCM by jose), mounted as its README shows, with `duration.absolute` as it
 * recommends. `BENCH_STORE=redis`: its `useSessionStorage` on ioredis (plain client, default
 * options), one JSON string per session under `honos:<id>` with a TTL; the cookie then carries
 * only the sealed session id. `BENCH_STORE=cookie`: no storage, the data sealed in the cookie.
 *
 * The middleware is lazy: a route that never calls `session.get()` / `update()` opens nothing.
 * Note: it does not await the storage's `set` (persistSession), so a Redis write's response may
 * leave before Redis has the data; the CPU per request counts it all the same.
 */
import { serve } from '@hono/node-server';
import { useSession, useSessionStorage, type SessionEnv } from '@hono/session';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { announce, redisPort, SESSION_TTL, storeKind } from './harness.ts';

interface Data { n?: number }
const app = new Hono<SessionEnv<Data>>();

if (storeKind() === 'redis') {
  const redis = new Redis({ host: '127.0.0.1', port: redisPort() });
  const storage = {
    async get(sid: string): Promise<Data | null> {
      const json = await redis.get(`honos:${sid}`);
      return json === null ? null : (JSON.parse(json) as Data);
    },
    set(sid: string, value: Data): void {
      void redis.set(`honos:${sid}`, JSON.stringify(value), 'EX', SESSION_TTL);
    },
    delete(sid: string): void {
      void redis.del(`honos:${sid}`);
    },
  };
  app.use(useSessionStorage(storage));
}
app.use(useSession({ secret: 'a bench-only secret that is at least 32 characters long', duration: { absolute: SESSION_TTL } }));

app.get('/hello', c => c.text('hello'));
app.get('/read', async c => c.text(String((await c.var.session.get())?.n ?? 0)));
app.get('/write', async c => {
  await c.var.session.update(data => ({ ...data, n: (data?.n ?? 0) + 1 }));
  return c.text('ok');
});

serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, info => announce(info.port));
