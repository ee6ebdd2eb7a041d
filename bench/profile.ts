/**
 * `npm run bench:profile`: where a Quickstep server's CPU goes, per route, from V8's own sampling
 * profiler (`node --cpu-prof`) under the bench's load. Writes bench/profile.md: for each of the
 * Redis read, write and write-only routes, the Memory and Cookie read and write routes, and the
 * Memory and Redis read and write routes in the secure posture (bench/servers/quickstep.ts), the busy time
 * split by who spends it (Quickstep's src/, ioredis, Node's HTTP and sockets, GC, ...) and the
 * functions with the most self time. The hand-written baselines are profiled the same way, so
 * each Quickstep route is also shown as what it adds to its baseline, function by function, and
 * each secure-posture route as what it adds to the minimal one (bench/profile.json holds the
 * splits and these differences, which results.md quotes). It answers "what is left to remove"
 * for the ratios in results.md; it is not a speed measurement (the profiler itself costs a few percent).
 *
 *   tsx bench/profile.ts [--seconds 6] [--node 26|24] [--only <label regex>]
 *
 * `--only` profiles the matching cases and prints them, leaving profile.md and profile.json alone.
 * Same method as the bench: server on core 0, wrk and Redis on core 1, 50 sessions cycled.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LOAD_CORE, SERVER_CORE, spawnPinned, stop, waitFor } from './lib/processes.ts';
import { startRedis } from './lib/redis.ts';
import { createSessions, SESSIONS } from './lib/sessions.ts';
import { runtimes as findRuntimes } from './lib/runtimes.ts';
import { wrk } from './lib/wrk.ts';
import { SECURE_POSTURE, serverFile } from './scenarios.ts';

const { values: args } = parseArgs({ options: {
  seconds: { type: 'string', default: '6' }, node: { type: 'string', default: '26' },
  // Profiles only the cases whose label matches, and prints them instead of writing profile.md/json.
  only: { type: 'string' },
} });
const seconds = Number(args.seconds);
const log = (line: string): void => { process.stderr.write(`${line}\n`); };
const runtime = (await findRuntimes(args.node, log))[0];
if (runtime === undefined || runtime.error !== undefined) throw new Error(`no Node ${args.node}: ${runtime?.error ?? 'not found'}`);

/**
 * One profiled route; `secure`: the secure posture (BENCH_POSTURE=secure, sessions made by a login,
 * behind an https proxy); `server`: a hand-written baseline instead of Quickstep (the servers the
 * bench's ratios divide by), profiled so each Quickstep route can be read as "the baseline's work
 * plus what Quickstep adds".
 */
interface Case { store: 'redis' | 'memory' | 'cookie'; path: string; label: string; secure?: boolean; server?: Baseline }
type Baseline = 'hand-redis' | 'hand-map' | 'hand-cookie';
/** The baseline each store's routes are held to in results.md. */
const BASELINE: Record<Case['store'], Baseline> = { redis: 'hand-redis', memory: 'hand-map', cookie: 'hand-cookie' };

// Each route beside its hand-written baseline and its secure posture: the differences below
// subtract neighbours, so a machine whose speed drifts over the run skews them least.
const ALL: Case[] = [
  { store: 'redis', path: '/read', label: 'Redis read' },
  { store: 'redis', path: '/read', label: 'hand-written Redis read', server: 'hand-redis' },
  { store: 'redis', path: '/read', label: 'Redis read, secure posture', secure: true },
  { store: 'redis', path: '/write', label: 'Redis write (read, then increment)' },
  { store: 'redis', path: '/write', label: 'hand-written Redis write', server: 'hand-redis' },
  { store: 'redis', path: '/write', label: 'Redis write, secure posture', secure: true },
  { store: 'redis', path: '/set', label: 'Redis write-only (session(k, v), no read)' },
  { store: 'memory', path: '/read', label: 'Memory read' },
  { store: 'memory', path: '/read', label: 'hand-written Map read', server: 'hand-map' },
  { store: 'memory', path: '/read', label: 'Memory read, secure posture', secure: true },
  { store: 'memory', path: '/write', label: 'Memory write' },
  { store: 'memory', path: '/write', label: 'hand-written Map write', server: 'hand-map' },
  { store: 'memory', path: '/write', label: 'Memory write, secure posture', secure: true },
  { store: 'cookie', path: '/read', label: 'Cookie read' },
  { store: 'cookie', path: '/read', label: 'hand-written AES-GCM cookie read', server: 'hand-cookie' },
  { store: 'cookie', path: '/write', label: 'Cookie write' },
  { store: 'cookie', path: '/write', label: 'hand-written AES-GCM cookie write', server: 'hand-cookie' },
];
const CASES = ALL.filter(c => args.only === undefined || new RegExp(args.only, 'i').test(c.label));

/** Who spends a sample's time, from the function's script URL. */
function owner(url: string, name: string): string {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(root)') return 'V8 / native, unattributed';
  if (url.includes('/src/')) return 'Quickstep (src/)';
  if (/node_modules\/(ioredis|@ioredis|redis-errors|redis-parser|denque|cluster-key-slot|standard-as-callback)\//.test(url)) return 'ioredis';
  if (/node_modules\/(tsx|esbuild|get-tsconfig)\//.test(url) || url.includes('node:internal/modules')) return 'module loading (start-up)';
  if (url.startsWith('node:') || url === '') return 'Node: HTTP, sockets, timers, promises (incl. the write syscalls)';
  return 'other packages';
}

interface Profile { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] }

/** One route's busy CPU by owner, in µs per request (what results.md shows from profile.json). */
interface RouteProfile { label: string; path: string; server: string; micros: number; owners: Record<string, number> }
const measured: RouteProfile[] = [];
/** Each profiled case's self time per function, µs per request: what the differences below subtract. */
const byFunction = new Map<Case, Map<string, number>>();
/** Who spends each function's time (as `owner` says), by the function's name in those maps. */
const ownerOf = new Map<string, string>();

function summarize(profile: Profile, requests: number, which: Case): string[] {
  const { label, path } = which;
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const who = owner(url, functionName);
    owners.set(who, (owners.get(who) ?? 0) + micros);
    const where = url === '' ? '' : ` (${url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1})`;
    const key = `${functionName || '(anonymous)'}${where}`;
    functions.set(key, (functions.get(key) ?? 0) + micros);
    ownerOf.set(key, who);
  }
  measured.push({ label, path, server: which.server ?? 'quickstep', micros: busy / requests, owners: Object.fromEntries([...owners].map(([who, micros]) => [who, micros / requests])) });
  byFunction.set(which, new Map([...functions].map(([name, micros]) => [name, micros / requests])));
  const share = (micros: number): string => `${((100 * micros) / busy).toFixed(1)}%`;
  const perRequest = (micros: number): string => (micros / requests).toFixed(1);
  const lines = [`Busy CPU ${perRequest(busy)} µs per request (profiled, ${requests.toLocaleString('en-US')} requests).`, '',
    '| who | share of busy CPU | µs / request |', '|---|---:|---:|'];
  for (const [who, micros] of [...owners].sort((a, b) => b[1] - a[1])) lines.push(`| ${who} | ${share(micros)} | ${perRequest(micros)} |`);
  lines.push('', '| function (self time) | share |', '|---|---:|');
  for (const [name, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`| \`${name.replaceAll('|', '\\|')}\` | ${share(micros)} |`);
  return lines;
}

/** What one profiled route adds to another, in µs per request of busy CPU (profile.json's `differences`). */
interface Difference { label: string; against: string; micros: number; owners: Record<string, number>; functions: [string, number][] }
const START_UP = 'module loading (start-up)';

/**
 * What one profiled case adds to another, function by function (self time, µs per request): each
 * Quickstep route against its hand-written baseline, and each secure-posture route against the
 * minimal Quickstep route. The functions whose cost grew most say where a ratio's missing part
 * goes. Start-up (module loading) is left out: the bench's CPU figures start after it.
 */
function differences(): Difference[] {
  const found: Difference[] = [];
  const find = (test: (c: Case) => boolean): Case | undefined => CASES.find(c => byFunction.has(c) && test(c));
  for (const which of CASES) {
    if (which.server !== undefined || !byFunction.has(which)) continue;
    const against = which.secure === true
      ? find(c => c.server === undefined && c.secure !== true && c.store === which.store && c.path === which.path)
      : find(c => c.server === BASELINE[which.store] && c.path === which.path);
    if (against === undefined) continue;
    const mine = byFunction.get(which)!;
    const theirs = byFunction.get(against)!;
    const names = [...new Set([...mine.keys(), ...theirs.keys()])].filter(name => ownerOf.get(name) !== START_UP);
    const delta = names.map(name => [name, (mine.get(name) ?? 0) - (theirs.get(name) ?? 0)] as [string, number]).sort((a, b) => b[1] - a[1]);
    const owners: Record<string, number> = {};
    for (const [name, micros] of delta) owners[ownerOf.get(name)!] = (owners[ownerOf.get(name)!] ?? 0) + micros;
    found.push({ label: which.label, against: against.label, micros: delta.reduce((sum, [, micros]) => sum + micros, 0), owners, functions: delta.slice(0, 10) });
  }
  return found;
}

/** profile.md's section for one Difference. */
function differenceLines({ label, against, micros, owners, functions }: Difference): string[] {
  const lines = [`## ${label} minus ${against}`, '', `${micros.toFixed(1)} µs per request more busy CPU (start-up left out).`, '',
    '| who | µs / request more |', '|---|---:|'];
  for (const [who, more] of Object.entries(owners).sort((a, b) => b[1] - a[1])) lines.push(`| ${who} | ${more.toFixed(2)} |`);
  lines.push('', '| function (self time) | µs / request more |', '|---|---:|');
  for (const [name, more] of functions) lines.push(`| \`${name.replaceAll('|', '\\|')}\` | ${more.toFixed(2)} |`);
  return [...lines, ''];
}

const exitOnTerm = fileURLToPath(new URL('lib/exit-on-term.ts', import.meta.url));
const redis = await startRedis(LOAD_CORE);
const out: string[] = ['# Where a Quickstep server\'s CPU goes', '',
  `- date: ${new Date().toISOString()}; node ${runtime.version}; \`tsx bench/profile.ts ${process.argv.slice(2).join(' ')}\``.trimEnd(),
  `- method: bench/servers/quickstep.ts, and the hand-written servers its ratios divide by, each route right beside its baseline, under \`node --cpu-prof\` on core 0, wrk -t1 -c50 for ${seconds} s on core 1 (50 sessions cycled), Redis on core 1. Shares are of the server's busy (non-idle) samples; µs / request divides them by the requests wrk completed.`, ''];
try {
  for (const which of CASES) {
    const { store, path, label, secure } = which;
    const dir = mkdtempSync(join(tmpdir(), 'quickstep-profile-'));
    const pinned = spawnPinned(SERVER_CORE, runtime.exec, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--import', import.meta.resolve('tsx'), '--import', exitOnTerm, serverFile(`${which.server ?? 'quickstep'}.ts`)],
      { NODE_ENV: 'production', BENCH_STORE: store, BENCH_REDIS_PORT: String(redis.port), ...(secure ? SECURE_POSTURE.env : {}) });
    const [, port] = await waitFor(pinned, /^PORT (\d+)$/m);
    const url = `http://127.0.0.1:${port}`;
    const headers = secure ? SECURE_POSTURE.headers : {};
    const cookies = await createSessions(url, secure ? SECURE_POSTURE : {}, SESSIONS);
    // A warm-up second: the JIT settles; it is in the profile too, so its requests are counted.
    const warm = await wrk(url + path, 1, LOAD_CORE, cookies, headers);
    const result = await wrk(url + path, seconds, LOAD_CORE, cookies, headers);
    await stop(pinned);
    const file = readdirSync(dir).find(name => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no profile written for ${label}: ${pinned.output()}`);
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
    rmSync(dir, { recursive: true, force: true });
    out.push(`## ${label}: \`GET ${path}\``, '', ...summarize(profile, warm.requests + result.requests + cookies.length, which), '');
    log(`profiled ${label}: ${Math.round(result.requests / seconds)} req/s`);
  }
} finally {
  await redis.stop();
}
const added = differences();
out.push(...added.flatMap(differenceLines));
if (args.only === undefined) {
  writeFileSync(new URL('profile.md', import.meta.url), out.join('\n'));
  writeFileSync(new URL('profile.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), node: runtime.version, routes: measured, differences: added }, null, 2) + '\n');
}
process.stdout.write(out.join('\n'));
