/**
 * What every bench server shares with the runner: how it learns its Redis port and how it tells
 * the runner which port it listens on. Kept tiny so no server pays for it on the hot path.
 */

/** The Redis port the runner started, from `BENCH_REDIS_PORT`. Throws when a Redis server runs without it. */
export function redisPort(): number {
  const port = Number(process.env['BENCH_REDIS_PORT']);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error('BENCH_REDIS_PORT is not set: start bench servers through `tsx bench/run.ts`.');
  }
  return port;
}

/** `memory`, `redis` or `cookie` (the session sealed in the cookie), from `BENCH_STORE` (default `memory`). */
export function storeKind(): 'memory' | 'redis' | 'cookie' {
  const store = process.env['BENCH_STORE'];
  return store === 'redis' || store === 'cookie' ? store : 'memory';
}

/** Tells the runner the server is ready: it waits for exactly this line on stdout. */
export function announce(port: number): void {
  process.stdout.write(`PORT ${port}\n`);
}

/** Seconds a bench session lives; long enough that nothing expires during a run. */
export const SESSION_TTL = 86_400;

/**
 * The filler that makes a session about `BENCH_SESSION_BYTES` long as JSON (`{"n":1,"pad":"…"}`),
 * stored under key `pad` by the first write; undefined when unset (the usual tiny session).
 */
export function sessionPad(): string | undefined {
  const bytes = Number(process.env['BENCH_SESSION_BYTES'] ?? 0);
  return bytes > 0 ? 'x'.repeat(Math.max(0, bytes - '{"n":1,"pad":""}'.length)) : undefined;
}
