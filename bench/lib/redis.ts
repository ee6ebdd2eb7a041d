/**
 * A private redis-server for the run: loopback only, no persistence, pinned to a core, and
 * a counter of the commands it has executed (INFO commandstats) so scenarios can report
 * Redis commands per request.
 */
import { Redis } from 'ioredis';
import { freePort, spawnPinned, stop, waitFor } from './processes.ts';

/**
 * Redis counts the commands a Lua script runs as well as the EVALSHA that ran it, so a client
 * that sends GETEX + EVALSHA(GET, SET) shows 4 in `total`; `scripts` (EVAL/EVALSHA/FCALL calls)
 * lets the report say so.
 */
export interface CommandCount { total: number; scripts: number }

/** A started Redis with an admin connection. */
export interface BenchRedis {
  port: number;
  version: string;
  /** Commands executed so far, not counting INFO (which this counter itself sends). */
  commands(): Promise<CommandCount>;
  stop(): Promise<void>;
}

/** Starts redis-server on a free port, pinned to `core`. */
export async function startRedis(core: number): Promise<BenchRedis> {
  const port = await freePort();
  const server = spawnPinned(core, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ]);
  await waitFor(server, /Ready to accept connections/);
  const admin = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await admin.connect();
  const version = /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? '?';
  return {
    port,
    version,
    async commands() {
      const count = { total: 0, scripts: 0 };
      for (const [, name = '', calls] of (await admin.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (name !== 'info') count.total += Number(calls);
        if (/^(eval|evalsha|fcall)(_ro)?$/.test(name)) count.scripts += Number(calls);
      }
      return count;
    },
    async stop() {
      admin.disconnect();
      await stop(server);
    },
  };
}
