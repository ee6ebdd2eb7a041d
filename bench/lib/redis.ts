/**
 * A private redis-server for the run: loopback only, no persistence, pinned to a core, and
 * a counter of the commands it has executed (INFO commandstats) so scenarios can report
 * Redis commands per request.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
  /** Stores `count` sessions (`prefix` + a random 32-char id -> `json`, 1 day TTL) in database `db`, through `redis-cli --pipe`. */
  fill(db: number, count: number, prefix: string, json: string): Promise<void>;
  /** Keys in database `db`. */
  size(db: number): Promise<number>;
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
    fill(db, count, prefix, json) {
      return new Promise((resolve, reject) => {
        const pipe = spawn('redis-cli', ['-p', String(port), '-n', String(db), '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let output = '';
        pipe.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        pipe.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
        pipe.once('error', reject);
        pipe.once('exit', code => (code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}: ${output.trim()}`))));
        const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
        const tail = bulk(json) + bulk('EX') + bulk('86400');
        let written = 0;
        // The RESP protocol text of SET <key> <json> EX 86400, in chunks, respecting back-pressure.
        const write = (): void => {
          while (written < count) {
            const lines: string[] = [];
            for (let i = 0; i < 10_000 && written < count; i++, written++) {
              lines.push(`*5\r\n$3\r\nSET\r\n${bulk(prefix + randomBytes(24).toString('base64url'))}${tail}`);
            }
            if (!pipe.stdin.write(lines.join(''))) { pipe.stdin.once('drain', write); return; }
          }
          pipe.stdin.end();
        };
        write();
      });
    },
    async size(db) {
      const line = (await admin.info('keyspace')).split('\n').find(l => l.startsWith(`db${db}:`));
      return Number(/keys=(\d+)/.exec(line ?? '')?.[1] ?? 0);
    },
    async stop() {
      admin.disconnect();
      await stop(server);
    },
  };
}
