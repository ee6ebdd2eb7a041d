/**
 * `npm run reliability`: runs the fuzzer, the ids check, fault injection, the production Redis
 * faults (memory, partition, resharding), abuse and the soak for real and writes RELIABILITY.md
 * from what they measured, with the bar beside each figure. Not part of `npm test`. Sizes come
 * from the environment so a short check run is possible: RELIABILITY_SCALE=0.1 (default 1; the
 * file then says it is a small run). Flags (after `npm run reliability --`):
 *   --only <parts>      comma-separated, of: fuzz, ids, faults, redis-faults, abuse, soak
 *                       (default: all); a partial run writes RELIABILITY.partial.md, not RELIABILITY.md
 *   --soak-minutes <n>  the soak's length (default 30, or RELIABILITY_SOAK_MINUTES)
 *   --soak-clients <n>  the soak's virtual users (default 24)
 *   --out <file>        where the report goes (relative to the repository)
 * Every loop is bounded in count and time; everything listens on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stealBetween } from '../bench/lib/cpu.ts';
import { exampleApp, ROOT, type Engine } from '../test/example-app/harness.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { fuzz, type FuzzResult } from './fuzz.ts';
import { abuse, LOAD_CORE, SERVER_CORE, type AbuseResult } from './abuse.ts';
import { canPin, machineCpu, pin } from './processes.ts';
import { idsCheck } from './ids.ts';
import { clusterFailover, COMMAND_TIMEOUT_MS, fault, GRACE_MS, redisHung, redisKilled, sentinelFailover, type FaultResult } from './faults.ts';
import { clusterResharded, FULL_MS, memoryEvicting, memoryFull, PARTITION_MS, partitioned } from './redis-faults.ts';
import { scaleOnPaper } from './scale.ts';
import { FIT_FROM, FLAT_SHARE, METRICS, RESTART_AT, SAMPLE_MS, soak } from './soak.ts';
import { soakSvg } from './soak-plot.ts';

const PARTS = ['fuzz', 'ids', 'faults', 'redis-faults', 'abuse', 'soak'] as const;
type Part = typeof PARTS[number];
const { values: flags } = parseArgs({
  options: { only: { type: 'string' }, 'soak-minutes': { type: 'string' }, 'soak-clients': { type: 'string' }, out: { type: 'string' } },
});
const only = flags.only?.split(',').map(part => part.trim()).filter(Boolean);
for (const part of only ?? []) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only: unknown part ${JSON.stringify(part)}; the parts are ${PARTS.join(', ')}`);
const want = (part: Part) => only === undefined || only.includes(part);
const positive = (flag: string, text: string | undefined, fallback: number) => {
  const value = Number(text ?? fallback);
  if (!(value > 0)) throw new Error(`${flag}: expected a positive number, got ${JSON.stringify(text)}`);
  return value;
};
const soakMinutes = positive('--soak-minutes', flags['soak-minutes'] ?? process.env.RELIABILITY_SOAK_MINUTES, 30);
const soakClients = Math.round(positive('--soak-clients', flags['soak-clients'], 24));
const outFile = resolve(ROOT, flags.out ?? (only ? 'RELIABILITY.partial.md' : 'RELIABILITY.md'));
// The plot lives in reliability/ beside the real report; a partial or other report gets its own, beside it.
const svgFile = outFile === join(ROOT, 'RELIABILITY.md') ? join(ROOT, 'reliability', 'soak.svg') : join(dirname(outFile), `${basename(outFile, '.md')}.soak.svg`);

const scale = Number(process.env.RELIABILITY_SCALE ?? '1');
const n = (full: number) => Math.max(1, Math.round(full * scale));
const secs = (full: number, min: number) => Math.max(min, Math.round(full * scale));
const lines: string[] = [];
const out = (s = '') => { lines.push(s); console.log(s); };
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const int = (x: number) => x.toLocaleString('en');

// Commands that change stored data. Scripts are not counted as such: commandstats counts the
// commands a script runs under their own names, and a read is a script too (GET + EXPIRE GT,
// which slides the TTL as GETEX did and changes no data).
const WRITES = ['set', 'setex', 'getdel', 'del', 'rename', 'renamenx', 'hset', 'hdel', 'sadd', 'srem'];
const writeCalls = (calls: Map<string, number>) => WRITES.reduce((sum, name) => sum + (calls.get(name) ?? 0), 0);

async function fuzzEngine(engine: Engine): Promise<FuzzResult & { readOnlyWrites: number | string }> {
  const redis = engine === 'Redis' ? await startRedis() : undefined;
  const app = exampleApp(engine, redis?.url);
  const { url } = await app.listen(0, '127.0.0.1');
  const port = Number(new URL(url).port);
  try {
    const result = await fuzz(port, { count: n(12_000), seed: engine === 'Memory' ? 101 : 202, timeLimitMs: 300_000 });
    // Requests that must not write: reads with hostile or unknown cookies.
    let readOnlyWrites: number | string = 'n/a (no store commands)';
    if (redis) {
      await redis.cli('CONFIG', 'RESETSTAT');
      const cookies = ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'x', '../../a', 'A'.repeat(40), '%00', ''];
      for (let i = 0; i < n(2_000); i++) {
        // Not `/`: its login form stores a session for the CSRF token, a write by design.
        const path = ['/whoami', '/prefs', '/health'][i % 3]!;
        await fetch(url + path, { headers: { cookie: `sid=${cookies[i % cookies.length]}` } }).then(r => r.arrayBuffer());
      }
      readOnlyWrites = writeCalls(await redis.commandCalls());
    }
    return { ...result, readOnlyWrites };
  } finally {
    await app.close();
    await redis?.stop();
  }
}

/** Redis's own CPU seconds (user + system) and the commands it ran since the last RESETSTAT. */
async function redisCpu(cli: (...args: string[]) => Promise<string>): Promise<{ cpu: number; commands: number }> {
  const info = await cli('INFO', 'cpu');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  let commands = 0;
  for (const [, count] of (await cli('INFO', 'commandstats')).matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) commands += Number(count);
  return { cpu: field('used_cpu_user') + field('used_cpu_sys'), commands };
}

const version = (cmd: string, args: string[]) => { try { return execFileSync(cmd, args, { encoding: 'utf8' }).trim(); } catch { return '?'; } };
const started = new Date();
const t0 = Date.now();
const cpuAtStart = machineCpu();
const envPrefix = [process.env.RELIABILITY_SCALE ? `RELIABILITY_SCALE=${process.env.RELIABILITY_SCALE}` : '', process.env.RELIABILITY_SOAK_MINUTES ? `RELIABILITY_SOAK_MINUTES=${process.env.RELIABILITY_SOAK_MINUTES}` : ''].filter(Boolean).join(' ');
const args = process.argv.slice(2);
const command = `${envPrefix ? `${envPrefix} ` : ''}npm run reliability${args.length ? ` -- ${args.join(' ')}` : ''}`;
const partial = scale < 1 || only !== undefined || (want('soak') && soakMinutes < 30);
out('# Quickstep reliability');
out();
out(`Written by \`${command}\` (reliability/run.ts) on ${started.toISOString()}${partial ? ' — **a small or partial check run, not the full figures**' : ''}, commit ${version('git', ['rev-parse', '--short', 'HEAD'])}.`);
out(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${mb(totalmem())} RAM, Node ${process.version}, ${process.platform}; ${version('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}.`);
const runLineAt = lines.length;
out('The fuzzer runs the app in this process; fault injection, the Redis faults, abuse and the soak run each app server as a process of its own (reliability/server.ts), the attackers in others (reliability/attacker.ts).');
out(`Parts: ${PARTS.join(', ')}; \`npm run reliability -- --only soak --soak-minutes 2\` runs one alone (a partial run writes RELIABILITY.partial.md), \`--soak-clients <n>\` sets the soak's users, \`RELIABILITY_SCALE=0.1\` shortens every other part. The full run takes about 45 minutes, the soak 30 of them.`);
out();
const barAt = lines.length;
const bar: string[] = [];
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const clients = Math.max(10, n(100));
const seconds = secs(30, 6);
if (want('fuzz')) {
  out('## Hostile HTTP (fuzzer, reliability/fuzz.ts)');
  out();
  out('| engine | requests | answered | closed without answer | crashes | 5xx | leaks (stack/path) | XSS / header injection | adopted ids | Redis writes by read-only requests |');
  out('|---|---|---|---|---|---|---|---|---|---|');
  const examples: string[] = [];
  const fuzzed: FuzzResult[] = [];
  for (const engine of ['Memory', 'Redis'] as const) {
    const r = await fuzzEngine(engine);
    fuzzed.push(r);
    out(`| ${engine} | ${r.requests} | ${r.answered} | ${r.closedWithoutAnswer} | ${r.crashes} | ${r.serverErrors} | ${r.leaks} | ${r.xss} | ${r.adoptedIds} | ${r.readOnlyWrites} |`);
    examples.push(...r.examples.map(e => `${engine}: ${e}`), `${engine} statuses: ${JSON.stringify(r.statuses)}`);
  }
  out();
  for (const e of examples) out(`    ${e}`);
  out();
  bar.push(...fuzzed.map((r, i) => `| 12,000 hostile requests on ${i ? 'Redis' : 'Memory'}: 0 crashes, 0 leaks, 0 adopted ids | ${int(r.requests)} requests: ${r.crashes} crashes, ${r.leaks} leaks, ${r.adoptedIds} adopted ids, ${r.serverErrors} 5xx | ${yes(r.requests >= 12_000 && r.crashes + r.leaks + r.adoptedIds === 0)} |`));
}
if (want('ids')) {
  out('## Session ids');
  const ids = idsCheck(n(4_000_000));
  out();
  out(`${int(ids.count)} ids from \`generateId\` (${ids.seconds.toFixed(0)} s): **${ids.duplicates} duplicates**.`);
  out(`- per position, chi-square over the 64 symbols (63 dof): from ${ids.chiMin.toFixed(1)} to ${ids.chiMax.toFixed(1)}; ${ids.outside} of 32 positions outside the 0.1%–99.9% band (${ids.band[0]}–${ids.band[1]}; 0.064 expected by chance).`);
  out(`- all positions together: chi-square ${ids.chiTotal.toFixed(0)} on ${ids.totalDof} dof, p = ${ids.totalP.toFixed(3)} (uniform unless p < 0.001 or p > 0.999).`);
  out(`- random bits: ones make ${ids.onesFraction.toFixed(5)} of the 192 bits of every id; the most biased of the 192 bit positions is at |z| = ${ids.maxBitZ.toFixed(2)} (|z| > 4.0 would be a 1-in-10,000 event over 192 positions).`);
  out();
  bar.push(`| 4,000,000 ids: no duplicate, uniform positions | ${int(ids.count)} ids: ${ids.duplicates} duplicates, ${ids.outside} of 32 positions outside the band, p = ${ids.totalP.toFixed(3)} overall | ${yes(ids.count >= 4_000_000 && ids.duplicates === 0 && ids.totalP > 0.001 && ids.totalP < 0.999)} |`);
}
const faultHeader = (extra: string) => [
  `| fault | requests | acknowledged writes | acknowledged writes lost | sessions lost | over command_timeout (+${GRACE_MS} ms) | over ${COMMAND_TIMEOUT_MS} ms | slowest | non-2xx | non-2xx other than 503 | ${extra} |`,
  `|---|---|---|---|---|---|---|---|---|---|${extra.split(' | ').map(() => '---|').join('')}`,
];
const faultCells = (f: FaultResult) => `| ${f.name} | ${int(f.requests)} | ${int(f.acked)} | ${f.lost} | ${f.sessionsLost} | ${f.overTimeout} | ${f.overStrict} | ${f.maxMs} ms | ${f.non2xx} | ${f.non2xxNot503} |`;
if (want('faults')) {
  out('## Fault injection (two app servers under load, one fault)');
  out();
  const faults: FaultResult[] = [];
  faults.push(await fault('Redis SIGKILL + restart, 3 times', clients, secs(120, 9), redisKilled, { times: 3 }));
  faults.push(await fault('Redis SIGSTOP 3 s + SIGCONT', clients, seconds, redisHung));
  faults.push(await fault('Sentinel: master SIGKILL (replica promoted, old master restarted)', clients, seconds, () => sentinelFailover(false)));
  faults.push(await fault('Sentinel: master hung, SIGSTOP (replica promoted, old master resumed)', clients, seconds, () => sentinelFailover(true)));
  faults.push(await fault('Cluster: a master SIGKILL (its replica promoted)', clients, seconds, clusterFailover));
  out(`${clients} concurrent clients, alternating a write (GET /counter, an increment) and a read (GET /whoami), spread over both servers; ${seconds} s per scenario (the SIGKILL one ${secs(120, 9)} s). Every Redis has AOF with \`appendfsync always\`; command_timeout ${COMMAND_TIMEOUT_MS} ms. Sentinel: one master, one replica, one sentinel (down-after-milliseconds 500, failover-timeout 2000). Cluster: 3 masters, 3 replicas (cluster-node-timeout 1000).`);
  out('"Lost" compares each client\'s final count with the increments it got a 2xx for; "recovery" runs from the moment the store is back (restarted, resumed, replica promoted) to the next acknowledged write; "longest gap" is the longest time without any acknowledged write, the outage as clients saw it. RSS is each app server\'s (VmRSS).');
  out();
  out(`Times are the client's, HTTP included: "over command_timeout" counts requests slower than command_timeout + ${GRACE_MS} ms; those slower than command_timeout alone are counted beside it and listed below.`);
  out();
  for (const l of faultHeader('recovery after the store is back | longest gap | RSS before → after (each server)')) out(l);
  for (const f of faults) {
    out(`${faultCells(f)} ${f.recoveryMs < 0 ? 'did not recover' : `${f.recoveryMs} ms`} | ${f.longestGapMs} ms | ${f.rssBefore.map(mb).join(', ')} → ${f.rssAfter.map(mb).join(', ')} |`);
  }
  for (const f of faults) if (f.lostDetail.length) out(`\n${f.name}, where writes were lost: ${f.lostDetail.slice(0, 12).join('; ')}${f.lostDetail.length > 12 ? '; …' : ''}.`);
  for (const f of faults) if (f.slow.length) out(`\n${f.name}, the requests over command_timeout: ${f.slow.slice(0, 40).join(', ')}${f.slow.length > 40 ? ', …' : ''}.`);
  // The defects these runs found are caught by tests skipped until the fix (see each file's head).
  const knownDefects = ['test/session/engines/redis/cluster-failover.test.ts', 'test/session/engines/redis/sentinel-resume.test.ts']
    .filter(file => existsSync(join(ROOT, file)) && /^\w+\.skip\(/m.test(readFileSync(join(ROOT, file), 'utf8')));
  if (knownDefects.length) out(`\nKnown defects behind the non-zero figures above, each caught by a test skipped until it is fixed: ${knownDefects.map(f => `\`${f}\``).join(', ')}.`);
  out();
  const kills = faults[0]!;
  bar.push(
    `| 183,255 requests over three Redis kills on two instances with AOF: 0 acknowledged writes lost | ${int(kills.requests)} requests, ${int(kills.acked)} acknowledged writes, ${kills.lost} lost | ${yes(kills.requests >= 183_255 && kills.lost === 0)} |`,
    `| every fault (issue 17's list): 0 acknowledged writes lost, 0 over command_timeout, 0 non-2xx other than 503 | ${faults.map(f => `${f.name}: ${f.lost} / ${f.overTimeout} / ${f.non2xxNot503}`).join('; ')} | ${yes(faults.every(f => f.lost + f.sessionsLost + f.overTimeout + f.non2xxNot503 === 0))} |`,
  );
}
if (want('redis-faults')) {
  out('## The faults production Redis has: memory, partitions, resharding (reliability/redis-faults.ts)');
  out();
  // The log lines each server wrote, by kind (the servers log at info here, to show the "back" lines).
  const KINDS: [string, RegExp][] = [
    ['unreachable', /is unreachable/], ['reachable again', /is reachable again/], ['OOM refused', /refused to \w+ the session \(OOM/],
    ['other refusal', /refused to \w+ the session \((?!OOM)/], ['cleared', /\(\w+ cleared\)/],
    ['policy warning', /has maxmemory-policy [\w-]+: under memory pressure/], ['evictions noticed', /evicted \d+ keys? since the last check/],
  ];
  const tally = (logged: string[], kind: string) => logged.filter(line => KINDS.find(([k]) => k === kind)![1].test(line)).length;
  const logCell = (f: FaultResult) => f.logs.map((logged, i) => {
    const counted = KINDS.map(([kind]) => [kind, tally(logged, kind)] as const).filter(([, c]) => c > 0);
    const other = logged.filter(line => !KINDS.some(([, re]) => re.test(line))).length;
    return `server ${i + 1}: ${[...counted.map(([kind, c]) => `${c} ${kind}`), ...(other ? [`${other} other`] : [])].join(', ') || 'none'}`;
  }).join('; ');
  const each = (f: FaultResult, check: (logged: string[]) => boolean) => f.logs.length === 2 && f.logs.every(check);
  const reshardClients = Math.max(10, n(120));
  let resharder: Awaited<ReturnType<typeof clusterResharded>> | undefined;
  const logged = { logLevel: 'info' } as const;
  const full = await fault(`Memory full, noeviction (maxmemory 4 MB, full for ${FULL_MS / 1000} s)`, clients, seconds, memoryFull, logged);
  const lru = await fault('Memory pressure, allkeys-lru (maxmemory 4 MB, filled past it)', clients, seconds, memoryEvicting, logged);
  const hold = await fault(`Partition, hold (${PARTITION_MS / 1000} s: connections kept open, nothing forwarded)`, clients, seconds, () => partitioned('hold'), logged);
  const drop = await fault(`Partition, drop (${PARTITION_MS / 1000} s: connections reset, new ones refused)`, clients, seconds, () => partitioned('drop'), logged);
  const reshard = await fault('Cluster: every slot of one master moved to another (redis-cli --cluster reshard)', reshardClients, seconds, async () => (resharder = await clusterResharded()), logged);
  const slots = resharder?.slotsMoved() ?? 0;
  const rows = [full, lru, hold, drop, reshard];
  out(`Two app servers (processes of their own) on one store, the clients of the fault injection above alternating an increment and a read (${clients} clients; ${reshardClients} for the resharding); ${seconds} s per scenario, the fault after a third of it. command_timeout ${COMMAND_TIMEOUT_MS} ms. Memory: a Redis with maxmemory 4 MB filled past it at once (\`DEBUG POPULATE\`); under \`noeviction\` maxmemory is lifted after ${FULL_MS / 1000} s. Partition: the apps reach Redis through a loopback proxy (test/support/tcp-proxy.ts) that stops forwarding (\`hold\`) or resets and refuses connections (\`drop\`) for ${PARTITION_MS / 1000} s. Resharding: a 3-master Cluster; \`redis-cli --cluster reshard\` moves all ${int(slots)} slots of the first master to the second, keys migrating one by one (MOVED, ASK). The servers log at \`info\` here; their log lines are counted by kind.`);
  out();
  for (const l of faultHeader('writes answered 503 | reads not 2xx | each server\'s log lines')) out(l);
  for (const f of rows) out(`${faultCells(f)} ${f.write503} | ${f.readNon2xx} | ${logCell(f)} |`);
  out();
  out(`Under \`allkeys-lru\`, Redis evicts sessions as it likes: the writes lost there went with the evicted sessions (the store did not keep the data), which is why Quickstep warns when it connects and says when evictions happen.`);
  for (const f of rows) {
    const lines = [...new Set(f.logs.flat().map(line => line.replace(/^.*?session store:/, 'session store:').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')))];
    if (lines.length) out(`\n${f.name}, the lines logged (each once):\n${lines.slice(0, 8).map(line => `    ${line}`).join('\n')}`);
  }
  for (const f of rows) if (f.lostDetail.length && f !== lru) out(`\n${f.name}, where writes were lost: ${f.lostDetail.slice(0, 12).join('; ')}${f.lostDetail.length > 12 ? '; …' : ''}.`);
  for (const f of rows) if (f.slow.length) out(`\n${f.name}, the requests over command_timeout: ${f.slow.slice(0, 20).join(', ')}${f.slow.length > 20 ? ', …' : ''}.`);
  out();
  const clean = (f: FaultResult) => f.lost === 0 && f.overTimeout === 0 && f.non2xxNot503 === 0;
  const partitionMet = (f: FaultResult) => clean(f) && each(f, l => tally(l, 'unreachable') === 1 && tally(l, 'reachable again') === 1);
  bar.push(
    `| Memory full under noeviction: writes 503, reads 200, one OOM line and one cleared line, 0 acknowledged writes lost | ${int(full.write503)} writes answered 503, ${full.readNon2xx} reads not 200, ${full.lost} of ${int(full.acked)} acknowledged writes lost, ${full.non2xxNot503} non-2xx other than 503; ${logCell(full)} | ${yes(clean(full) && full.write503 > 0 && full.readNon2xx === 0 && each(full, l => tally(l, 'OOM refused') === 1 && tally(l, 'cleared') === 1))} |`,
    `| Memory pressure under allkeys-lru: a warning at connect, a line when sessions are evicted | ${logCell(lru)}; ${lru.sessionsLost} session${lru.sessionsLost === 1 ? '' : 's'} found evicted by the clients | ${yes(lru.non2xxNot503 === 0 && each(lru, l => tally(l, 'policy warning') === 1 && tally(l, 'evictions noticed') >= 1))} |`,
    ...[hold, drop].map(f => `| Network partition, ${f === hold ? 'hold' : 'drop'}: 0 acknowledged writes lost, 0 over command_timeout, only 503, one line down and one back | ${f.lost} of ${int(f.acked)} lost, ${f.overTimeout} over command_timeout (slowest ${f.maxMs} ms), ${f.non2xxNot503} non-2xx other than 503; ${logCell(f)} | ${yes(partitionMet(f))} |`),
    `| Cluster resharding under 100+ connections (all slots of one master moved): 0 acknowledged writes lost, 0 over command_timeout, no 5xx other than 503 | ${reshardClients} clients, ${int(slots)} slots moved, ${int(reshard.requests)} requests: ${reshard.lost} of ${int(reshard.acked)} lost, ${reshard.overTimeout} over command_timeout (slowest ${reshard.maxMs} ms), ${reshard.non2xxNot503} non-2xx other than 503, ${reshard.write503 + reshard.readNon2xx} 503s | ${yes(reshardClients >= 100 && slots > 0 && clean(reshard))} |`,
  );
}
let redisMicrosPerCommand: number | undefined;
if (want('abuse')) {
  out('## Abuse, with a neighbour reading its session every 5 ms');
  out();
  const abused: AbuseResult[] = [];
  // The floods are measured on a server that has served them before (see abuse.ts); the warm-up's own p99 is shown too.
  const FLOOD_WARM_SECONDS = secs(10, 2);
  const cpuBeforeAbuse = machineCpu();
  {
    const redis = await startRedis();
    // The app server gets a core of its own; Redis and the attacker share the other. The neighbour
    // (this process) is left to the scheduler: on the attacker's core its own wait for the CPU
    // would count as the server's latency.
    const redisPid = Number(/^process_id:(\d+)/m.exec(await redis.cli('INFO', 'server'))?.[1]);
    if (redisPid) pin(redisPid, String(LOAD_CORE));
    const onRedis = { SESSION_ENGINE: 'Redis', REDIS_URL: redis.url };
    const onMemory = { SESSION_ENGINE: 'Memory' };
    abused.push(await abuse(onRedis, 'none (baseline), Redis', secs(10, 3), 'none', 0));
    abused.push(await abuse(onRedis, 'slowloris', secs(20, 5), 'slowloris', n(500)));
    abused.push(await abuse(onRedis, 'slow bodies', secs(20, 5), 'slow-bodies', n(200)));
    abused.push(await abuse(onRedis, 'clients that never read', secs(20, 5), 'never-reads', n(100)));
    await redis.cli('CONFIG', 'RESETSTAT');
    const before = await redisCpu(redis.cli);
    abused.push(await abuse(onRedis, '50,000 new sessions a minute, Redis', secs(60, 6), 'login-flood', 50_000, FLOOD_WARM_SECONDS));
    const after = await redisCpu(redis.cli);
    if (after.commands > 1000) redisMicrosPerCommand = ((after.cpu - before.cpu) * 1e6) / (after.commands - before.commands);
    abused.push(await abuse(onRedis, 'largest sessions the limits allow, Redis', secs(30, 5), 'large-sessions', 8));
    abused.push(await abuse(onMemory, 'none (baseline), Memory', secs(10, 3), 'none', 0));
    abused.push(await abuse(onMemory, '50,000 new sessions a minute, Memory', secs(60, 6), 'login-flood', 50_000, FLOOD_WARM_SECONDS));
    abused.push(await abuse(onMemory, 'largest sessions the limits allow, Memory (max_bytes 64 MiB)', secs(30, 5), 'large-sessions', 8));
    await redis.stop();
  }
  out('| attack | what was sent | neighbour requests | neighbour errors | neighbour p50 | neighbour p99 | app server CPU (cores) | app server peak RSS |');
  out('|---|---|---|---|---|---|---|---|');
  const warmNote = (r: AbuseResult) => (r.warmP99 === undefined ? '' : `, after ${r.warmSeconds} s of the same on the same server (neighbour p99 then: ${r.warmP99.toFixed(2)} ms)`);
  for (const r of abused) out(`| ${r.name} | ${r.attack}${warmNote(r)} | ${r.neighbourRequests} | ${r.neighbourErrors} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.serverCpu.toFixed(2)} | ${mb(r.peakRss)} |`);
  out();
  out(canPin
    ? `The app server is a fresh process for each attack, pinned to core ${SERVER_CORE}; the attack (another process) and Redis share core ${LOAD_CORE}; the neighbour (this process) runs where the scheduler puts it.`
    : 'The app server is a fresh process for each attack; the attack runs in another process and the neighbour in this one (no taskset, or one core: they share the cores with each other and with Redis).');
  out(`CPU steal (time the hypervisor gave to other guests) during these runs: ${stealBetween(cpuBeforeAbuse, machineCpu())} of the machine's CPU time; every millisecond of it lands in someone's latency.`);
  out('Slow connections last for the scenario only (Node\'s headersTimeout, 15 s, and requestTimeout, 30 s, may close them first). Large sessions: every client writes a new session whose one preference is the longest string max_session_size (256 KiB) accepts, then reads it back three times.');
  out();
  const floods = abused.filter(r => r.name.startsWith('50,000'));
  const floodMet = (flood: AbuseResult) => {
    const [, logins = '0', floodSeconds = '0', notOk = '1'] = /^(\d+) logins in ([\d.]+) s .*?, (\d+) not 303/.exec(flood.attack) ?? [];
    return Number(logins) >= 50_000 && Number(floodSeconds) <= 61 && Number(notOk) === 0 && flood.p99 < 9;
  };
  bar.push(...floods.map(flood => `| 50,000 logins in a minute, a neighbour's p99 under 9 ms (${flood.name.split(', ').pop()}) | ${flood.attack}${warmNote(flood)}; p99 ${flood.p99.toFixed(2)} ms | ${yes(floodMet(flood))} |`));
}
if (want('soak')) {
  out('## Soak (reliability/soak.ts)');
  out();
  const r = await soak(soakMinutes, soakClients);
  const restartMinute = (r.restartAtSeconds / 60).toFixed(1);
  writeFileSync(svgFile, soakSvg(r, `Soak: ${soakMinutes} min, two app servers on one Redis (SIGKILL + restart at minute ${restartMinute})`));
  const flatCount = r.verdicts.filter(v => v.flat).length;
  out(`${soakMinutes} minutes, two app servers (processes of their own) on one Redis with AOF (\`appendfsync always\`), ${soakClients} virtual users over both, each sending its next request as soon as the last is answered (no think time: the machine is busy throughout): each logs in through the form (CSRF token included), then makes 10 to 39 requests (35% increments, GET /counter; 30% reads, GET /whoami; 10% preference writes; 10% home page views, which count visits; 10% bad cookies: unknown, tampered, junk; 5% new anonymous sessions), then logs out through the form and checks the old cookie is nobody's. At minute ${restartMinute} (${RESTART_AT * 100}% of the run) Redis is killed (SIGKILL) and started again on its files. CPU steal over the soak: ${r.steal}.`);
  out();
  out('| requests | logins | logouts | logouts that left the user logged in | sessions made | bad cookies sent | bad cookies taken for a user | acknowledged writes | acknowledged writes lost | 5xx other than 503 | unanswered | first acknowledged write after the restart |');
  out('|---|---|---|---|---|---|---|---|---|---|---|---|');
  out(`| ${int(r.requests)} | ${int(r.logins)} | ${int(r.logouts)} | ${r.logoutsThatKeptTheUser} | ${int(r.sessions)} | ${int(r.badCookies)} | ${r.badCookiesAccepted} | ${int(r.acked)} | ${r.lost} | ${r.fiveHundreds} | ${r.unanswered} | ${r.recoveryMs < 0 ? 'none' : `${r.recoveryMs} ms`} |`);
  out();
  for (const [kind, statuses] of Object.entries(r.statuses)) out(`    ${kind}: ${JSON.stringify(statuses)}`);
  if (r.lostDetail.length) out(`\nWhere writes were lost: ${r.lostDetail.slice(0, 12).join('; ')}${r.lostDetail.length > 12 ? '; …' : ''}.`);
  out();
  out(`Every ${SAMPLE_MS / 1000} s, each server's RSS (/proc/<pid>/status), open file descriptors (/proc/<pid>/fd), V8 heap used after a full GC (\`global.gc()\` under --expose-gc at each sample: what is still reachable, which is what a leak grows) and active handles and requests (\`process.getActiveResourcesInfo().length\`, in-flight requests' sockets included; the server reports these two over an IPC channel only the soak opens: no HTTP endpoint). Each series is fitted by least squares over the second half of the run (from minute ${(FIT_FROM * soakMinutes).toFixed(1)}: after warm-up and after the restart). **Flat** means the growth the slope projects over the whole run (slope × ${soakMinutes} min) is at most the larger of ${FLAT_SHARE * 100}% of the series' mean and its noise (twice the standard deviation of the samples around the fitted line), or the slope is within two standard errors of zero (no trend the samples can tell from noise; this matters in short runs only). Active handles include the sockets and timers of the requests in flight at the sample, so they move with the load.`);
  out();
  out('| series | server | mean (second half) | slope per minute (± 2 standard errors) | projected over the run | noise (2 sd) | flat |');
  out('|---|---|---|---|---|---|---|');
  for (const v of r.verdicts) {
    const metric = METRICS.find(m => m.key === v.metric)!;
    const f = (x: number) => `${(x / metric.scale).toFixed(2)}${metric.unit ? ` ${metric.unit}` : ''}`;
    out(`| ${metric.label} | ${v.server + 1} | ${f(v.mean)} | ${f(v.slopePerMinute)} ± ${f(2 * v.slopeSe)} | ${f(v.projected)} | ${f(v.noise)} | ${yes(v.flat)} |`);
  }
  out();
  out(`![RSS, heap, file descriptors and handles of both servers over the soak](${relative(dirname(outFile), svgFile)})`);
  out();
  bar.push(`| 30 minutes of mixed traffic on two instances, a Redis restart in the middle: RSS, heap, file descriptors and handles flat within the noise, 0 acknowledged writes lost | ${soakMinutes} min, ${int(r.requests)} requests, ${int(r.acked)} acknowledged writes, ${r.lost} lost, ${r.fiveHundreds + r.unanswered} 5xx other than 503 or unanswered; ${flatCount} of ${r.verdicts.length} series flat | ${yes(soakMinutes >= 30 && r.lost === 0 && r.fiveHundreds + r.unanswered + r.logoutsThatKeptTheUser + r.badCookiesAccepted === 0 && flatCount === r.verdicts.length && r.recoveryMs >= 0)} |`);
}
out('## What a 503 means');
out();
out('A 503 says the session store did not answer within `command_timeout`. On a request that only read the session, nothing');
out('changed. On a write, the outcome is unknown: Redis may still execute the command after the app stopped waiting. Retry');
out('only what is idempotent: `session(k, v)` (setting a value) is safe to repeat; an increment or a push is not — read the');
out('value back first, or make the operation idempotent (a request id stored with it). Routes that never touch the session keep answering 200.');
out();
if (want('abuse')) {
  out('## Scale on paper');
  out();
  for (const l of scaleOnPaper(ROOT, redisMicrosPerCommand)) out(l);
  out();
}
const runTime = `Run time: ${((Date.now() - t0) / 60_000).toFixed(1)} min; CPU steal over the whole run: ${stealBetween(cpuAtStart, machineCpu())} (/proc/stat's steal column, start against end).`;
out(runTime);
lines.splice(runLineAt, 0, runTime);

// The bar, next to this run's figures, at the top of the file.
lines.splice(barAt + 1, 0, '## Against the bar', '', '| the bar | this run | met |', '|---|---|---|', ...bar, '');
writeFileSync(outFile, lines.join('\n') + '\n');
console.log(`${relative(ROOT, outFile)} written; run time ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
process.exit(0);
