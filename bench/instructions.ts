/**
 * Instructions per request, counted by valgrind's callgrind: a bench figure this VM's speed drift
 * cannot move. The load tests (run.ts) measure CPU time, which on this machine moves by ±10–50%
 * between rounds with no change to the code; callgrind counts the instructions the server's
 * process executes in user space, which do not depend on how fast the VM runs them. They do
 * depend on how many requests share an event-loop turn, so run it on an otherwise idle machine
 * (another load on the cores changes that: a test suite run beside it moved a hand-written row
 * by 12%). It answers "did this change make Quickstep do more work?" to within a few per cent,
 * where a difference of 0.5 µs in 20 is lost in the load tests' noise.
 *
 *   tsx bench/instructions.ts [--node 26|24] [--compare DIR] [--only TEXT] [--seconds S] [--warm S] [--keep]
 *
 * Each server runs under `valgrind --tool=callgrind` with instrumentation off, pinned to core 0,
 * and gets its sessions. Per route: wrk (-c10, 30 s timeout, the sessions cycled, on core 1) warms the JIT with
 * instrumentation off, then instrumentation goes on (`callgrind_control -i on`), a short run lets
 * valgrind translate the hot code, the counters are zeroed, one run of `--seconds` is counted,
 * and its dump's total is divided by the requests wrk completed.
 *
 * What it does not count: the kernel's part (the socket reads and writes, a large share of every
 * route's CPU time: `writeUtf8String` in the profiles), and the speed of an instruction (a cache
 * miss costs more than an add). So its ratios are not the load tests' ratios: the kernel's part,
 * the same for Quickstep and its baseline, is left out of both, and what differs weighs more.
 * Under valgrind a server is about 50 times slower, so more of the 10 connections' requests
 * arrive in each event-loop turn than at full speed; the count is per request all the same. The
 * Memory and Cookie routes mostly repeat within a few per cent (one run in four put one row 18%
 * off: run a surprising row again); the Redis routes do not (±25% seen): how many requests share
 * a round trip depends on timing against the real Redis.
 * Writes bench/instructions.md.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { LOAD_CORE, SERVER_CORE, spawnPinned, stop, waitFor } from './lib/processes.ts';
import { startRedis, type BenchRedis } from './lib/redis.ts';
import { nodeBin } from './lib/runtimes.ts';
import { createSessions, SESSIONS } from './lib/sessions.ts';
import { wrk } from './lib/wrk.ts';
import { compareServer, PATHS, SECURE_POSTURE, serverFile, type Route } from './scenarios.ts';

const TRANSLATE_SECONDS = 3;
/** Fewer connections than the load tests, and a long timeout: a server under valgrind is ~50x slower, and its GC pauses take seconds. */
const LOAD = { connections: 10, timeoutSeconds: 30 };

const { values: args } = parseArgs({
  options: {
    node: { type: 'string', default: '26' },
    compare: { type: 'string' },
    only: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    warm: { type: 'string', default: '15' },
    keep: { type: 'boolean', default: false },
  },
});
const major = Number(args.node);
const seconds = Number(args.seconds);
/** Uninstrumented load first, until V8 has compiled the hot code: its compiler threads count too. */
const WARM_SECONDS = Number(args.warm);
const exec = promisify(execFile);
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

/** One server, the routes counted on it, and what each is divided by (a server's name and route). */
interface Server {
  name: string;
  file: string;
  store: 'memory' | 'redis' | 'cookie' | 'none';
  routes: Route[];
  /** Per route, the server whose count of the same route is the baseline (`bare` for untouched). */
  baseline?: string;
  env?: Record<string, string>;
  headers?: Record<string, string>;
  sessionPath?: string;
}

const servers: Server[] = [
  { name: 'bare node:http hello', file: 'bare.ts', store: 'none', routes: ['untouched'] },
  { name: 'hand-written Map', file: 'hand-map.ts', store: 'memory', routes: ['read', 'write'] },
  { name: 'hand-written Redis', file: 'hand-redis.ts', store: 'redis', routes: ['read', 'write'] },
  { name: 'hand-written AES-GCM cookie', file: 'hand-cookie.ts', store: 'cookie', routes: ['read', 'write'] },
  { name: 'Quickstep Memory', file: 'quickstep.ts', store: 'memory', routes: ['untouched', 'read', 'write'], baseline: 'hand-written Map' },
  { name: 'Quickstep Redis', file: 'quickstep.ts', store: 'redis', routes: ['untouched', 'read', 'write'], baseline: 'hand-written Redis' },
  { name: 'Quickstep Cookie', file: 'quickstep.ts', store: 'cookie', routes: ['untouched', 'read', 'write'], baseline: 'hand-written AES-GCM cookie' },
  { name: 'Quickstep Memory, secure posture', file: 'quickstep.ts', store: 'memory', routes: ['untouched', 'read', 'write'], baseline: 'Quickstep Memory', ...SECURE_POSTURE },
  { name: 'Quickstep Redis, secure posture', file: 'quickstep.ts', store: 'redis', routes: ['untouched', 'read', 'write'], baseline: 'Quickstep Redis', ...SECURE_POSTURE },
];
if (args.compare !== undefined) {
  // Another checkout's Quickstep, divided by this one's: above 1.00x, that checkout does less work.
  const label = basename(args.compare);
  const file = compareServer({ dir: args.compare });
  servers.push(
    { name: `Quickstep Memory (${label})`, file, store: 'memory', routes: ['untouched', 'read', 'write'], baseline: 'Quickstep Memory' },
    { name: `Quickstep Redis (${label})`, file, store: 'redis', routes: ['untouched', 'read', 'write'], baseline: 'Quickstep Redis' },
  );
}
const chosen = servers.filter(s => args.only === undefined || s.name.includes(args.only) ||
  servers.some(other => other.name.includes(args.only!) && (other.baseline === s.name || s.name === 'bare node:http hello')));

/** The newest dump's total instructions (its `totals:` line). */
function lastTotal(dir: string): number {
  const dumps = readdirSync(dir).filter(f => /^cg\.out\.\d+$/.test(f)).sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)));
  const text = readFileSync(join(dir, dumps.at(-1)!), 'utf8');
  const total = /^totals: (\d+)/m.exec(text) ?? /^summary: (\d+)/m.exec(text);
  if (total === null) throw new Error(`no totals in ${dumps.at(-1)}`);
  return Number(total[1]);
}

/** Instructions per request of each route of `server`; throws when it does not start or a response fails. */
async function count(server: Server, redis: BenchRedis | undefined): Promise<Map<Route, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-callgrind-'));
  const env = { NODE_ENV: 'production', NODE_OPTIONS: '--conditions=quickstep-source', BENCH_STORE: server.store, BENCH_REDIS_PORT: String(redis?.port ?? ''), ...server.env };
  const pinned = spawnPinned(SERVER_CORE, 'valgrind', [
    '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'cg.out')}`,
    // --keep: V8 writes /tmp/perf-<pid>.map, which names the JIT's code in the dumps (bench/callgrind-diff.ts).
    nodeBin(major), ...(args.keep ? ['--perf-basic-prof'] : []), '--import', import.meta.resolve('tsx'), serverFile(server.file),
  ], env);
  const counts = new Map<Route, number>();
  try {
    const [, port] = await waitFor(pinned, /^PORT (\d+)$/m, 180_000);
    const url = `http://127.0.0.1:${port}`;
    const cookies = server.store === 'none' ? [] : await createSessions(url, server, SESSIONS);
    const pid = String(pinned.child.pid);
    const control = (...flags: string[]) => exec('callgrind_control', [...flags, pid]);
    for (const route of server.routes) {
      const target = url + PATHS[route];
      await wrk(target, WARM_SECONDS, LOAD_CORE, cookies, server.headers, LOAD);
      await control('-i', 'on');
      await wrk(target, TRANSLATE_SECONDS, LOAD_CORE, cookies, server.headers, LOAD);
      await control('-z');
      const result = await wrk(target, seconds, LOAD_CORE, cookies, server.headers, LOAD);
      await control('-d');
      await control('-i', 'off');
      if (result.failures > 0) throw new Error(`${result.failures} failed responses on ${route}`);
      counts.set(route, lastTotal(dir) / result.requests);
      log(`${server.name} ${route}: ${Math.round(counts.get(route)!).toLocaleString('en-US')} instructions per request (${result.requests} requests)`);
    }
  } finally {
    await stop(pinned);
    if (args.keep) log(`${server.name}: callgrind dumps in ${dir} (callgrind_annotate reads them)`);
    else rmSync(dir, { recursive: true, force: true });
  }
  return counts;
}

const redis = chosen.some(s => s.store === 'redis') ? await startRedis(LOAD_CORE) : undefined;
const measured = new Map<string, Map<Route, number>>();
const started = Date.now();
try {
  for (const server of chosen) {
    try {
      measured.set(server.name, await count(server, redis));
    } catch (error) {
      log(`${server.name}: ${String(error).slice(0, 300)}`);
    }
  }
} finally {
  await redis?.stop();
}

const thousands = (x: number | undefined): string => (x === undefined ? '—' : `${(x / 1000).toFixed(1)}k`);
const lines = ['| server | route | instructions / request | baseline | its instructions / request | ratio (baseline / this) |', '|---|---|---:|---|---:|---:|'];
for (const server of chosen) {
  for (const route of server.routes) {
    const own = measured.get(server.name)?.get(route);
    // Untouched: the bare server, but for what is divided by another Quickstep (the posture, a --compare checkout).
    const base = server.baseline === undefined ? undefined
      : route === 'untouched' && servers.find(s => s.name === server.baseline)?.file !== 'quickstep.ts' ? 'bare node:http hello' : server.baseline;
    const baseCount = base === undefined ? undefined : measured.get(base)?.get(route);
    const ratio = own === undefined || baseCount === undefined ? '' : `${(baseCount / own).toFixed(2)}x`;
    lines.push(`| ${server.name} | ${route} | ${thousands(own)} | ${base ?? ''} | ${base === undefined ? '' : thousands(baseCount)} | ${ratio} |`);
  }
}
const version = existsSync(nodeBin(major)) ? (await exec(nodeBin(major), ['--version'])).stdout.trim() : '?';
const valgrind = (await exec('valgrind', ['--version'])).stdout.trim();
const commit = (await exec('git', ['rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: 'no commit' }))).stdout.trim();
const report = ['# Instructions per request (callgrind)', '',
  `- date: ${new Date().toISOString()}; Quickstep commit: ${commit}; node ${version}; ${valgrind}; took ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  `- command: \`tsx bench/instructions.ts ${process.argv.slice(2).join(' ')}\``.replace(/ `$/, '`'),
  `- method: each server under callgrind on core ${SERVER_CORE}, wrk -c10 on core ${LOAD_CORE} (${SESSIONS} sessions cycled); per route ${WARM_SECONDS} s to warm the JIT uninstrumented, ${TRANSLATE_SECONDS} s instrumented, then ${seconds} s counted: ` +
    'user-space instructions of the whole process / requests completed. The kernel\'s part (socket reads and writes) is not counted, so these ratios weigh what differs more than the load tests\' CPU ratios do. ' +
    'Over four runs on 2026-12-07 most Memory and Cookie rows repeated within 1–4% (one Cookie untouched row once came out 18% above its other runs: run a surprising row again); Redis rows do not repeat (up to ±25%): how many requests share one ' +
    'round trip and one reply parse depends on timing against a real Redis, which valgrind\'s 50x slowdown changes from run to run. ' +
    'Untouched routes are divided by the bare node:http server; the posture by the minimal Quickstep of its store; a `--compare` checkout by this one ' +
    '(below 1.00x, the compared checkout does more work per request than this one).', '',
  ...lines, ''].join('\n');
process.stdout.write(report);
if (args.only === undefined) writeFileSync(new URL('instructions.md', import.meta.url), report);
