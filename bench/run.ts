/**
 * The benchmark runner: starts Redis and every server, then runs wrk against each scenario in
 * interleaved rounds and prints/writes the ratios table (bench/results.md).
 *
 *   tsx bench/run.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--only TEXT] [--compare DIR]
 *
 * Method (DESIGN §8): servers on core 0; wrk and (unless --redis-core 0) redis-server on core 1,
 * so the server core does nothing but the Node process's work. A server that fails to start (Quickstep before src/index.ts exists) has its
 * scenarios reported as skipped; every child process is killed at the end, even on error.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { busy, snapshot } from './lib/cpu.ts';
import { spawnPinned, stop, waitFor, type Pinned } from './lib/processes.ts';
import { startRedis, type BenchRedis } from './lib/redis.ts';
import { table, type Row, type Sample } from './lib/report.ts';
import { wrk, wrkVersion } from './lib/wrk.ts';
import { comparedScenarios, scenarios, type Scenario, type ServerSpec } from './scenarios.ts';

const SERVER_CORE = 0;
const LOAD_CORE = 1;
/** Sessions created per server; wrk cycles through them (one per connection on average). */
const SESSIONS = 50;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    'redis-core': { type: 'string', default: String(LOAD_CORE) },
    compare: { type: 'string' },
  },
});
const rounds = Number(args.rounds ?? (args.quick ? 3 : 5));
const seconds = Number(args.duration ?? (args.quick ? 2 : 4));
const warmup = Number(args.warmup ?? (args.quick ? 1 : 2));
const only = args.only;
const redisCore = Number(args['redis-core']);
// A filtered run keeps the baselines its scenarios are divided by.
const all = args.compare === undefined ? scenarios : [...scenarios, ...comparedScenarios(args.compare, basename(args.compare))];
const wanted = all.filter(s => only === undefined || s.name.includes(only));
const selected = all.filter(s => wanted.includes(s) || wanted.some(w => w.baseline === s.name));

interface Running { pinned: Pinned; url: string; cookies: string[] }

/** Creates SESSIONS sessions through GET /write and checks one reads back, returning their cookies. */
async function createSessions(url: string): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const response = await fetch(`${url}/write`);
    const body = await response.text();
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (!response.ok || cookie === undefined) throw new Error(`GET /write answered ${response.status} "${body}" with no session cookie`);
    cookies.push(cookie);
  }
  const check = await (await fetch(`${url}/read`, { headers: { cookie: cookies[0]! } })).text();
  if (check !== '1') throw new Error(`GET /read after one write answered "${check}", expected "1"`);
  return cookies;
}

async function startServer(spec: ServerSpec, redis: BenchRedis | undefined): Promise<Running> {
  if (spec.store === 'redis' && redis === undefined) throw new Error('no Redis server');
  const file = spec.file.startsWith('/') ? spec.file : fileURLToPath(new URL(`servers/${spec.file}`, import.meta.url));
  const pinned = spawnPinned(SERVER_CORE, process.execPath, ['--import', import.meta.resolve('tsx'), file], {
    NODE_ENV: 'production',
    BENCH_STORE: spec.store,
    BENCH_REDIS_PORT: String(redis?.port ?? ''),
    ...spec.env,
  });
  try {
    const [, port] = await waitFor(pinned, /^PORT (\d+)$/m);
    const url = `http://127.0.0.1:${port}`;
    return { pinned, url, cookies: spec.store === 'none' ? [] : await createSessions(url) };
  } catch (error) {
    await stop(pinned);
    throw error;
  }
}

async function measure(scenario: Scenario, server: Running, duration: number, redis?: BenchRedis): Promise<Sample> {
  const counter = scenario.server.store === 'redis' ? redis : undefined;
  const commandsBefore = await counter?.commands();
  const cpuBefore = snapshot();
  const result = await wrk(server.url + scenario.path, duration, LOAD_CORE, server.cookies);
  const cpuAfter = snapshot();
  const commandsAfter = await counter?.commands();
  const perRequest = (key: 'total' | 'scripts'): number | undefined =>
    commandsAfter === undefined || commandsBefore === undefined
      ? undefined : (commandsAfter[key] - commandsBefore[key]) / Math.max(result.requests, 1);
  return {
    rps: result.rps,
    failures: result.failures,
    commandsPerRequest: perRequest('total'),
    scriptsPerRequest: perRequest('scripts'),
    serverCore: busy(cpuBefore, cpuAfter, SERVER_CORE),
    loadCore: busy(cpuBefore, cpuAfter, LOAD_CORE),
  };
}

function version(pkg: string): string {
  const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  try { return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version; } catch { return '?'; }
}

function commit(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return 'no commit yet'; }
}

const log = (line: string): void => { process.stderr.write(`${line}\n`); };
const servers = new Map<ServerSpec, Running>();
const rows: Row[] = selected.map(scenario => ({ scenario, samples: [] }));
let redis: BenchRedis | undefined;
try {
  if (selected.some(s => s.server.store === 'redis')) {
    redis = await startRedis(redisCore).catch((error: unknown) => { log(`Redis did not start: ${String(error)}`); return undefined; });
  }
  for (const spec of new Set(selected.map(s => s.server))) {
    try {
      servers.set(spec, await startServer(spec, redis));
      log(`started ${spec.name}`);
    } catch (error) {
      const why = (error instanceof Error ? error.message : String(error)).slice(0, 160);
      for (const row of rows) if (row.scenario.server === spec) row.skipped = why;
      log(`skipping ${spec.name}: ${why}`);
    }
  }
  const runnable = rows.filter(row => row.skipped === undefined);
  for (const row of runnable) await measure(row.scenario, servers.get(row.scenario.server)!, warmup, redis);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no scenario always runs right after the same neighbour.
    const offset = round % runnable.length;
    for (const row of [...runnable.slice(offset), ...runnable.slice(0, offset)]) {
      const sample = await measure(row.scenario, servers.get(row.scenario.server)!, seconds, redis);
      row.samples.push(sample);
      log(`round ${round + 1}/${rounds}  ${row.scenario.name}: ${Math.round(sample.rps)} req/s`);
    }
  }
  const command = `tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  const report = [
    '# Quickstep benchmark results', '',
    `- date: ${new Date().toISOString()}; Quickstep commit: ${commit()}`,
    `- command: \`${command}\``,
    `- node ${process.version}, wrk ${await wrkVersion()}, redis-server ${redis?.version ?? 'not run'}; fastify ${version('fastify')}, @fastify/session ${version('@fastify/session')}, express ${version('express')}, express-session ${version('express-session')}, connect-redis ${version('connect-redis')} (node-redis ${version('redis')}), ioredis ${version('ioredis')}`,
    `- method: servers on core ${SERVER_CORE}, wrk (-t1 -c50, keep-alive, ${SESSIONS} sessions cycled) on core ${LOAD_CORE}, redis-server on core ${redisCore}; ` +
      `${rounds} interleaved rounds × ${seconds} s per scenario after a ${warmup} s warm-up; medians (ratio = median of per-round ratios)`,
    '', table(rows), '',
  ].join('\n');
  process.stdout.write(report);
  writeFileSync(new URL('results.md', import.meta.url), report);
  if (rows.some(row => row.samples.some(s => s.failures > 0))) process.exitCode = 1;
} finally {
  for (const server of servers.values()) await stop(server.pinned);
  await redis?.stop();
}
