/**
 * The benchmark runner: gets Node 26 and Node 24 (lib/runtimes.ts), starts Redis and every
 * server, then runs wrk against each scenario in rounds, each run right after a run of its
 * baseline, and writes the tables (bench/results.md) and the chart of the first runtime's ratios
 * (bench/results.svg).
 *
 *   tsx bench/run.ts [--quick] [--rounds N] [--duration S] [--warmup S] [--only TEXT]
 *                    [--node 26|24|all] [--part all|main|scale|devices] [--redis-core 0|1] [--compare DIR]
 *                    [--posture-without 'hash_ids;login,proxy'] [--previous FILE]
 *
 * A smoke run of one server: `--only "<name>" --node 26 --part main --rounds 1 --duration 1 --warmup 0`
 * (--only matches scenario names; the baselines they are divided by run too).
 *
 * Method (DESIGN §8): servers on core 0; wrk and (unless --redis-core 0) redis-server on core 1,
 * so the server core does nothing but the server's work. A server that fails to start has its
 * scenarios reported as skipped with the reason; every child process is killed at the end, even
 * on error.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { chart } from './lib/chart.ts';
import { parseResults, previousSection } from './lib/previous.ts';
import { profileSection, readProfiles, type JsonCost } from './lib/profile-section.ts';
import { readInstructionCounts } from './lib/instruction-counts.ts';
import { targetsSection } from './lib/targets.ts';
import { busy, processCpuSeconds, snapshot } from './lib/cpu.ts';
import { createSessions, SESSIONS } from './lib/sessions.ts';
import { freePort, LOAD_CORE, SERVER_CORE, spawnPinned, stop, waitFor, waitForPort, type Pinned } from './lib/processes.ts';
import { startRedis, type BenchRedis } from './lib/redis.ts';
import { cpuOf, micros, ratioOf, secureSummary, summary, table, type Row, type Sample } from './lib/report.ts';
import { runtimes as findRuntimes, type Runtime } from './lib/runtimes.ts';
import { wrk, wrkVersion } from './lib/wrk.ts';
import { buildScenarios, compareServer, serverFile, SESSION_SIZES, sizeLabel, type ServerSpec } from './scenarios.ts';
import { growthReport, runDevices } from './growth/curves.ts';

/** Starman workers: one per wrk connection, as each keeps its connection while it is alive. */
const STARMAN_WORKERS = 50;
/** Sessions the memory probe stores. */
const PROBE_SESSIONS = 1_000_000;
/**
 * How old a baseline's last run may be for a scenario to be paired with it: older, the baseline
 * runs again first. About two scenario runs: this VM's speed drifted 2x within a minute.
 */
const BASELINE_FRESH_MS = 8_000;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    node: { type: 'string', default: 'all' },
    part: { type: 'string', default: 'all' },
    'redis-core': { type: 'string', default: String(LOAD_CORE) },
    compare: { type: 'string' },
    'posture-without': { type: 'string' },
    previous: { type: 'string' },
  },
});
const rounds = Number(args.rounds ?? (args.quick ? 2 : 3));
const seconds = Number(args.duration ?? (args.quick ? 1 : 2));
// --quick has no warm-up pass (its first round warms up), to stay near 5 minutes.
const warmup = Number(args.warmup ?? (args.quick ? 0 : 1));
const only = args.only;
const redisCore = Number(args['redis-core']);
if (!['all', 'main', 'scale', 'devices'].includes(args.part)) throw new Error(`--part ${args.part}: use all, main, scale or devices`);
const parts = { main: ['all', 'main'].includes(args.part), scale: ['all', 'scale'].includes(args.part), devices: ['all', 'devices'].includes(args.part) };

const log = (line: string): void => { process.stderr.write(`${line}\n`); };
// What this run is compared with: the results.md it replaces, read before it is overwritten, or `--previous FILE`.
const previousFile = args.previous ?? fileURLToPath(new URL('results.md', import.meta.url));
const previous = existsSync(previousFile) ? parseResults(readFileSync(previousFile, 'utf8')) : undefined;
const runtimes = await findRuntimes(args.node, log);
const compare = args.compare === undefined ? undefined
  : { dir: args.compare, label: basename(args.compare), posture: readFileSync(compareServer({ dir: args.compare }), 'utf8').includes('BENCH_POSTURE') };
// What each part of the secure posture costs: one variant per part left out (`''` for none).
const postureWithout = (args['posture-without'] ?? 'hash_ids;login;proxy').split(';').filter(Boolean);
const all = buildScenarios(runtimes, parts, compare, postureWithout);
// A filtered run keeps the baselines its scenarios are divided by.
const wanted = all.filter(s => only === undefined || s.name.includes(only));
// (and theirs: a posture variant is divided by the whole posture, which is divided by the minimal).
const selected = [...wanted];
for (let i = 0; i < selected.length; i++) {
  const baseline = all.find(s => s.name === selected[i]!.baseline);
  if (baseline !== undefined && !selected.includes(baseline)) selected.push(baseline);
}
selected.sort((a, b) => all.indexOf(a) - all.indexOf(b));

interface Running { pinned: Pinned; url: string; cookies: string[] }

async function startServer(spec: ServerSpec, redis: BenchRedis | undefined): Promise<Running> {
  if (spec.store === 'redis' && redis === undefined) throw new Error('no Redis server');
  if (spec.runtime?.error !== undefined) throw new Error(spec.runtime.error);
  if (redis !== undefined && spec.redisDb !== undefined && spec.prefill !== undefined) {
    // Quickstep's Redis layout: one JSON string per session at `dancer.session:<id>`.
    await redis.fill(spec.redisDb, spec.prefill, 'dancer.session:', '{"n":1}');
    const stored = await redis.size(spec.redisDb);
    if (stored < spec.prefill) throw new Error(`Redis database ${spec.redisDb} holds ${stored} keys after loading ${spec.prefill}`);
  }
  const env = { NODE_ENV: 'production', BENCH_STORE: spec.store, BENCH_REDIS_PORT: String(redis?.port ?? ''), ...spec.env };
  // Filling a Memory engine with a million sessions takes a few seconds before the server listens.
  const timeout = 20_000 + (spec.prefill ?? 0) / 20;
  let pinned: Pinned;
  let port: string | undefined;
  if (spec.kind === 'starman') {
    port = String(await freePort());
    pinned = spawnPinned(SERVER_CORE, 'starman', [
      '--listen', `127.0.0.1:${port}`, '--workers', String(STARMAN_WORKERS), '--preload-app',
      // No worker recycling during a run: a worker that exits takes its CPU time with it.
      '--max-requests', '100000000', serverFile(spec.file),
    ], { ...env, PLACK_ENV: 'deployment' });
  } else {
    // Both runtimes run the TypeScript through the same tsx loader, so the runtime is the only difference.
    pinned = spawnPinned(SERVER_CORE, spec.runtime!.exec, ['--import', import.meta.resolve('tsx'), serverFile(spec.file)], env);
  }
  try {
    if (spec.kind === 'starman') {
      await waitForPort(pinned, Number(port), timeout).catch((error: Error) => {
        throw new Error(`${error.message} (Dancer2 + Starman: apt-get install libdancer2-perl starman libredis-perl, see bench/README.md)`);
      });
    } else {
      [, port] = await waitFor(pinned, /^PORT (\d+)$/m, timeout);
    }
    const url = `http://127.0.0.1:${port}`;
    return { pinned, url, cookies: spec.store === 'none' ? [] : await createSessions(url, spec, SESSIONS) };
  } catch (error) {
    await stop(pinned);
    throw error;
  }
}

async function measure(row: Row, server: Running, duration: number, redis?: BenchRedis): Promise<Sample> {
  const counter = row.scenario.server.store === 'redis' ? redis : undefined;
  const pid = server.pinned.child.pid!;
  const commandsBefore = await counter?.commands();
  const cpuBefore = snapshot();
  const ownBefore = processCpuSeconds(pid);
  const result = await wrk(server.url + row.scenario.path, duration, LOAD_CORE, server.cookies, row.scenario.server.headers);
  const ownAfter = processCpuSeconds(pid);
  const cpuAfter = snapshot();
  const commandsAfter = await counter?.commands();
  const requests = Math.max(result.requests, 1);
  const perRequest = (key: 'total' | 'scripts'): number | undefined =>
    commandsAfter === undefined || commandsBefore === undefined ? undefined : (commandsAfter[key] - commandsBefore[key]) / requests;
  return {
    rps: result.rps,
    requests: result.requests,
    failures: result.failures,
    cpuMicros: ((ownAfter - ownBefore) * 1e6) / requests,
    p50: result.p50,
    p99: result.p99,
    commandsPerRequest: perRequest('total'),
    scriptsPerRequest: perRequest('scripts'),
    serverCore: busy(cpuBefore, cpuAfter, SERVER_CORE),
    loadCore: busy(cpuBefore, cpuAfter, LOAD_CORE),
  };
}

const exec = promisify(execFile);

/**
 * Where the instruction counts are (`npm run bench:instructions`, made apart, with its own date and
 * commit): pointed to rather than copied, so a later count never sits beside older timings.
 */
function instructionsSection(): string[] {
  if (!existsSync(new URL('instructions.md', import.meta.url))) return [];
  return ['## Instructions per request', '',
    'Counted by valgrind\'s callgrind, free of the drift above: [instructions.md](instructions.md) (`npm run bench:instructions`, its own date and commit).', ''];
}

/** One probe (lib/probe.ts) on `runtime`, pinned to the server core; undefined with a log line if it failed. */
async function probe(runtime: Runtime, ...probeArgs: string[]): Promise<Record<string, number> | undefined> {
  if (runtime.error !== undefined) return undefined;
  try {
    const { stdout } = await exec('taskset', ['-c', String(SERVER_CORE), runtime.exec, '--expose-gc', '--max-old-space-size=4096',
      '--import', import.meta.resolve('tsx'), fileURLToPath(new URL('lib/probe.ts', import.meta.url)), ...probeArgs], { timeout: 300_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  } catch (error) {
    log(`probe ${probeArgs.join(' ')} on ${runtime.label} failed: ${String(error).slice(0, 200)}`);
    return undefined;
  }
}

function version(pkg: string): string {
  const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  try { return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version; } catch { return '?'; }
}

// From /: Dancer2 reads config.yml in the directory it starts in, and this repository's is Quickstep's.
function perlVersion(module: string): string {
  try { return execFileSync('perl', [`-M${module}`, '-e', `print $${module}::VERSION`], { cwd: '/', stdio: ['ignore', 'pipe', 'ignore'] }).toString(); } catch { return 'not installed'; }
}

function commit(): string {
  try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return 'no commit yet'; }
}

/** The session-size summary: CPU µs/req per size, the cost per KB, and JSON's own cost per KB beside it. */
function sizeSummary(rows: Row[], label: string, json: Record<string, number> | undefined): string {
  const first = SESSION_SIZES[0]!;
  const last = SESSION_SIZES.at(-1)!;
  const lines = [
    `| server (${label}) | ${SESSION_SIZES.map(b => `${sizeLabel(b)} µs/req`).join(' | ')} | µs per KB (${sizeLabel(first)} → ${sizeLabel(last)}) |`,
    `|---|${SESSION_SIZES.map(() => '---:|').join('')}---:|`,
  ];
  for (const server of ['hand-written Map', 'hand-written Redis', 'Quickstep Memory', 'Quickstep Redis']) {
    for (const route of ['read', 'write']) {
      const costs = SESSION_SIZES.map(bytes => cpuOf(rows, `${label} ${server} ${route}, ${sizeLabel(bytes)} session`));
      if (costs.every(Number.isNaN)) continue;
      const slope = (costs.at(-1)! - costs[0]!) / ((last - first) / 1000);
      lines.push(`| ${server} ${route} | ${costs.map(micros).join(' | ')} | ${Number.isNaN(slope) ? '—' : slope.toFixed(2)} |`);
    }
  }
  if (json !== undefined) {
    const kb = json['bytes']! / 1000;
    lines.push('', `JSON itself on ${label}, for a ${sizeLabel(json['bytes']!)} session: JSON.parse ${(json['parseMicros']! / kb).toFixed(2)} µs per KB, ` +
      `JSON.stringify ${(json['stringifyMicros']! / kb).toFixed(2)} µs per KB (lib/probe.ts). A read parses the session once: about the first per KB. ` +
      'A Memory write parses it twice (the request\'s copy at the read, then the stored copy, to apply the change log: what keeps two requests writing different keys at once from overwriting each other) and serializes it once. ' +
      'A Redis write sends only the changed values; Redis applies them to the stored JSON in its script, on its own CPU, so the app\'s cost per KB is the read\'s. The hand-written Map keeps objects and does neither.');
  }
  return lines.join('\n');
}

const SECURE_NOTE = 'The posture a production app gets (bench/servers/quickstep.ts, `BENCH_POSTURE=secure`): `hash_ids: true`, `csrf: true`, ' +
  'every session logged in (`login()`, so each write also writes the owner index entry), `trust_proxy: true` with every request carrying ' +
  '`X-Forwarded-Proto: https` as a TLS proxy sends it (so the cookie is `__Host-<name>`, Secure), `Sec-Fetch-Site: same-origin`; ' +
  '`Cache-Control: no-store` and the fetch-metadata lock are on by default, in the minimal scenario too. ' +
  'Each row is divided by the minimal Quickstep scenario of the same store and route: 1.00x = the secure defaults cost nothing; the target is within 10% (≥0.91x). ' +
  'The rows "without X" are the same posture with one part left out (`--posture-without`, default `hash_ids;login;proxy`: ' +
  '`hash_ids: false`; the sessions made without `login()`, so no owner, owner index or device record; `trust_proxy: false`, so plain `sid` over http), ' +
  'each divided by the whole posture: 1.10x = that part costs the posture 10% of its CPU per request.';

const servers = new Map<ServerSpec, Running>();
const rows: Row[] = selected.map(scenario => ({ scenario, samples: [], pairs: [] }));
let redis: BenchRedis | undefined;
const started = Date.now();
try {
  if (selected.some(s => s.server.store === 'redis')) {
    redis = await startRedis(redisCore).catch((error: unknown) => { log(`Redis did not start: ${String(error)}`); return undefined; });
  }
  for (const spec of new Set(selected.map(s => s.server))) {
    try {
      servers.set(spec, await startServer(spec, redis));
      log(`started ${spec.name}`);
    } catch (error) {
      const cause = error instanceof Error && error.cause !== undefined ? ` (${String(error.cause)})` : '';
      const why = (error instanceof Error ? error.message + cause : String(error)).replace(/\s+/g, ' ').slice(0, 240);
      for (const row of rows) if (row.scenario.server === spec) row.skipped = why;
      log(`skipping ${spec.name}: ${why}`);
    }
  }
  const runnable = rows.filter(row => row.skipped === undefined);
  if (warmup > 0) for (const row of runnable) await measure(row, servers.get(row.scenario.server)!, warmup, redis);
  const run = async (row: Row, round: number): Promise<Sample> => {
    const sample = await measure(row, servers.get(row.scenario.server)!, seconds, redis);
    row.samples.push(sample);
    log(`round ${round + 1}/${rounds}  ${row.scenario.name}: ${Math.round(sample.rps)} req/s, ${micros(sample.cpuMicros)} µs/req`);
    return sample;
  };
  const baselineOf = (row: Row): Row | undefined => runnable.find(r => r.scenario.name === row.scenario.baseline);
  /** The scenarios of one baseline run together: a row's group is its baseline's name, or its own. */
  const groupOf = (row: Row): string => baselineOf(row)?.scenario.name ?? row.scenario.name;
  for (let round = 0; round < rounds; round++) {
    // Each scenario runs right after a run of its baseline (report.ts pairs them); the scenarios of
    // one baseline run together and share a baseline run while it is fresh. The groups rotate
    // each round so no group always runs right after the same neighbour.
    const groups = [...new Set(runnable.map(groupOf))];
    const offset = groups.length === 0 ? 0 : round % groups.length;
    const last = new Map<Row, { sample: Sample; at: number }>();
    for (const group of [...groups.slice(offset), ...groups.slice(0, offset)]) {
      for (const row of runnable.filter(r => groupOf(r) === group)) {
        const base = baselineOf(row);
        if (base === undefined) {
          if (!last.has(row)) last.set(row, { sample: await run(row, round), at: Date.now() });
          continue;
        }
        let fresh = last.get(base);
        if (fresh === undefined || Date.now() - fresh.at > BASELINE_FRESH_MS) last.set(base, (fresh = { sample: await run(base, round), at: Date.now() }));
        const self = await run(row, round);
        row.pairs.push({ self, base: fresh.sample });
        // A scenario that is also a baseline (the whole secure posture, for its variants) serves as one now.
        last.set(row, { sample: self, at: Date.now() });
      }
    }
  }
  for (const server of servers.values()) await stop(server.pinned);
  servers.clear();

  // Probes, with the load servers stopped: memory per stored session and JSON's cost per KB.
  const probes: string[] = [];
  let json: Record<string, number> | undefined;
  if (parts.scale && (only === undefined || /memory/i.test(only))) {
    const lines = [`| runtime | Quickstep Memory engine: heap bytes / session | RSS bytes / session | hand-written Map of objects: heap bytes / session | RSS bytes / session |`, '|---|---:|---:|---:|---:|'];
    for (const runtime of runtimes) {
      const quickstep = await probe(runtime, 'memory', 'quickstep', String(PROBE_SESSIONS));
      const map = await probe(runtime, 'memory', 'map', String(PROBE_SESSIONS));
      const b = (x: number | undefined): string => (x === undefined ? 'failed' : String(Math.round(x)));
      lines.push(`| ${runtime.label} | ${b(quickstep?.['heapPerSession'])} | ${b(quickstep?.['rssPerSession'])} | ${b(map?.['heapPerSession'])} | ${b(map?.['rssPerSession'])} |`);
    }
    probes.push(`## Memory per stored session (${PROBE_SESSIONS.toLocaleString('en-US')} small sessions)`, '',
      'Measured in a child process (lib/probe.ts): heapUsed and RSS after a full GC, before and after storing the sessions (`{"n":1}` under a 32-char id, ids included) / their number. Heap is the figure to read; RSS also holds what the GC has not returned to the OS.', '',
      lines.join('\n'), '');
  }
  if (runtimes[0] !== undefined && rows.some(r => r.scenario.section.startsWith('Session size'))) json = await probe(runtimes[0], 'json', String(SESSION_SIZES.at(-1)));

  // JSON at the bench's own session sizes (an anonymous session, a logged-in one), for the profile section.
  const smallJson: JsonCost[] = [];
  for (const bytes of [66, 193]) {
    const cost = parts.main && runtimes[0] !== undefined ? await probe(runtimes[0], 'json', String(bytes)) : undefined;
    if (cost !== undefined) smallJson.push({ bytes: cost['bytes']!, parseMicros: cost['parseMicros']!, stringifyMicros: cost['stringifyMicros']! });
  }

  // Sessions per user (bench/growth/devices.ts), with the load servers stopped.
  const devices = parts.devices && only === undefined && runtimes[0] !== undefined ? await runDevices(runtimes[0], SERVER_CORE, redisCore, log) : [];
  const command = `tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
  // The per-runtime tables first (Node 26's first), then the secure-posture and scale ones.
  const found = [...new Set(rows.map(r => r.scenario.section))];
  const sections = [...found.filter(s => !s.includes('(')), ...found.filter(s => s.includes('('))];
  const body: string[] = [];
  for (const section of sections) {
    body.push(`## ${section}`, '');
    if (section.startsWith('Secure defaults cost (')) body.push(SECURE_NOTE, '');
    body.push(table(rows.filter(r => r.scenario.section === section)), '');
    if (section.startsWith('Session size (')) {
      const label = section.slice('Session size ('.length, -1);
      body.push(sizeSummary(rows, label, json), '');
    }
  }
  body.push(growthReport(rows, runtimes[0]?.label, devices));
  const summaries = [...runtimes.map(r => summary(rows, r.label)), ...runtimes.map(r => secureSummary(rows, r.label))].filter(Boolean);
  const head = summaries.length === 0 ? [] : ['## Summary', '',
    'Ratio to the hand-written baseline by the server\'s CPU per request, by req/s in brackets; higher is better. Node 26 first (the targets apply there).', '',
    summaries.join('\n\n'), ''];
  const profiles = readProfiles(new URL('profile.json', import.meta.url));
  const counted = readInstructionCounts(new URL('instructions.md', import.meta.url));
  const targets = runtimes[0] === undefined ? [] : targetsSection(rows, profiles, runtimes[0].label, counted);
  const runtimeLine = runtimes.map(r => `${r.label} = node ${r.version}${r.error ? ` (${r.error})` : ''}`).join(', ');
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  const report = [
    '# Quickstep benchmark results', '',
    `- date: ${new Date().toISOString()}; Quickstep commit: ${commit()}; took ${minutes} min`,
    `- command: \`${command}\``,
    `- runtimes: ${runtimeLine}; every Node server runs through tsx ${version('tsx')} on each`,
    `- wrk ${await wrkVersion()}, redis-server ${redis?.version ?? 'not run'}; fastify ${version('fastify')}, @fastify/session ${version('@fastify/session')}, express ${version('express')}, express-session ${version('express-session')}, connect-redis ${version('connect-redis')} (node-redis ${version('redis')}), hono ${version('hono')}, @hono/node-server ${version('@hono/node-server')}, hono-sessions ${version('hono-sessions')}, @hono/session ${version('@hono/session')} (jose ${version('jose')}), ioredis ${version('ioredis')}; Dancer2 ${perlVersion('Dancer2')}, Starman ${perlVersion('Starman')} (${STARMAN_WORKERS} workers), Redis.pm ${perlVersion('Redis')}`,
    `- method: servers on core ${SERVER_CORE}, wrk (-t1 -c50, keep-alive, ${SESSIONS} sessions cycled) on core ${LOAD_CORE}, redis-server on core ${redisCore}; ` +
      `${rounds} rounds × ${seconds} s per scenario after ${warmup > 0 ? `a ${warmup} s warm-up` : 'no warm-up'}, each run right after a run of its baseline (at most ${BASELINE_FRESH_MS / 1000} s before); medians (ratio = median over those pairs). ` +
      'CPU µs/req = the server process\'s own CPU time (user + system, /proc/<pid>/stat, with its child processes) over the run / requests; ' +
      'ratio (CPU) = baseline µs / this µs, so above 1.00x means cheaper than the baseline, like ratio (req/s) means faster.',
    '', ...head, ...targets, ...previousSection(previous, parseResults(body.join('\n'))), ...body, ...probes, ...profileSection(profiles, smallJson), ...instructionsSection(),
  ].join('\n');
  process.stdout.write(report);
  writeFileSync(new URL('results.md', import.meta.url), report);
  const charted = rows.filter(r => r.scenario.chart !== undefined);
  if (charted.length > 0) {
    const bars = charted.map(r => ({ ...r.scenario.chart!, ratio: r.skipped === undefined ? ratioOf(r, 'cpu') : undefined }));
    writeFileSync(new URL('results.svg', import.meta.url), chart(bars,
      `Quickstep and peers on ${runtimes[0]?.label ?? 'Node'}, CPU per request vs hand-written`,
      `${new Date().toISOString().slice(0, 10)}, commit ${commit()}, \`${command}\``));
  }
  if (rows.some(row => row.samples.some(s => s.failures > 0))) process.exitCode = 1;
} finally {
  for (const server of servers.values()) await stop(server.pinned);
  await redis?.stop();
}
