/**
 * `npm run reliability`: runs the fuzzer, the ids check, fault injection and abuse for real and
 * writes RELIABILITY.md from what they measured, with the issue's bar beside each figure. Not
 * part of `npm test`. Sizes come from the environment so a short check run is possible:
 * RELIABILITY_SCALE=0.1 (default 1; the file then says it is a small run). Every loop is
 * bounded in count and time; everything listens on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stealBetween } from '../bench/lib/cpu.ts';
import { exampleApp, ROOT, type Engine } from '../test/example-app/harness.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { fuzz, type FuzzResult } from './fuzz.ts';
import { abuse, LOAD_CORE, SERVER_CORE, type AbuseResult } from './abuse.ts';
import { canPin, machineCpu, pin } from './processes.ts';
import { idsCheck } from './ids.ts';
import { clusterFailover, COMMAND_TIMEOUT_MS, fault, GRACE_MS, redisHung, redisKilled, sentinelFailover, type FaultResult } from './faults.ts';
import { scaleOnPaper } from './scale.ts';

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
out('# Quickstep reliability');
out();
out(`Written by \`${scale === 1 ? '' : `RELIABILITY_SCALE=${scale} `}npm run reliability\` (reliability/run.ts) on ${started.toISOString()}${scale < 1 ? ' — **a small check run, not the full figures**' : ''}, commit ${version('git', ['rev-parse', '--short', 'HEAD'])}.`);
out(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${mb(totalmem())} RAM, Node ${process.version}, ${process.platform}; ${version('redis-server', ['--version']).split(' ').slice(0, 3).join(' ')}.`);
out('The fuzzer runs the app in this process; fault injection and abuse run each app server as a process of its own (reliability/server.ts), the attackers in others (reliability/attacker.ts).');
out();
const barAt = lines.length;
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
out('## Session ids');
const ids = idsCheck(n(4_000_000));
out();
out(`${int(ids.count)} ids from \`generateId\` (${ids.seconds.toFixed(0)} s): **${ids.duplicates} duplicates**.`);
out(`- per position, chi-square over the 64 symbols (63 dof): from ${ids.chiMin.toFixed(1)} to ${ids.chiMax.toFixed(1)}; ${ids.outside} of 32 positions outside the 0.1%–99.9% band (${ids.band[0]}–${ids.band[1]}; 0.064 expected by chance).`);
out(`- all positions together: chi-square ${ids.chiTotal.toFixed(0)} on ${ids.totalDof} dof, p = ${ids.totalP.toFixed(3)} (uniform unless p < 0.001 or p > 0.999).`);
out(`- random bits: ones make ${ids.onesFraction.toFixed(5)} of the 192 bits of every id; the most biased of the 192 bit positions is at |z| = ${ids.maxBitZ.toFixed(2)} (|z| > 4.0 would be a 1-in-10,000 event over 192 positions).`);
out();
out('## Fault injection (two app servers under load, one fault)');
out();
const clients = Math.max(10, n(100));
const seconds = secs(30, 6);
const faults: FaultResult[] = [];
faults.push(await fault('Redis SIGKILL + restart, 3 times', clients, secs(120, 9), redisKilled, 3));
faults.push(await fault('Redis SIGSTOP 3 s + SIGCONT', clients, seconds, redisHung));
faults.push(await fault('Sentinel: master SIGKILL (replica promoted, old master restarted)', clients, seconds, () => sentinelFailover(false)));
faults.push(await fault('Sentinel: master hung, SIGSTOP (replica promoted, old master resumed)', clients, seconds, () => sentinelFailover(true)));
faults.push(await fault('Cluster: a master SIGKILL (its replica promoted)', clients, seconds, clusterFailover));
out(`${clients} concurrent clients, alternating a write (GET /counter, an increment) and a read (GET /whoami), spread over both servers; ${seconds} s per scenario (the SIGKILL one ${secs(120, 9)} s). Every Redis has AOF with \`appendfsync always\`; command_timeout ${COMMAND_TIMEOUT_MS} ms. Sentinel: one master, one replica, one sentinel (down-after-milliseconds 500, failover-timeout 2000). Cluster: 3 masters, 3 replicas (cluster-node-timeout 1000).`);
out('"Lost" compares each client\'s final count with the increments it got a 2xx for; "recovery" runs from the moment the store is back (restarted, resumed, replica promoted) to the next acknowledged write; "longest gap" is the longest time without any acknowledged write, the outage as clients saw it. RSS is each app server\'s (VmRSS).');
out();
out(`Times are the client's, HTTP included: "over command_timeout" counts requests slower than command_timeout + ${GRACE_MS} ms; those slower than command_timeout alone are counted beside it and listed below.`);
out();
out(`| fault | requests | acknowledged writes | acknowledged writes lost | sessions lost | over command_timeout (+${GRACE_MS} ms) | over ${COMMAND_TIMEOUT_MS} ms | slowest | non-2xx | non-2xx other than 503 | recovery after the store is back | longest gap | RSS before → after (each server) |`);
out('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const f of faults) {
  out(`| ${f.name} | ${int(f.requests)} | ${int(f.acked)} | ${f.lost} | ${f.sessionsLost} | ${f.overTimeout} | ${f.overStrict} | ${f.maxMs} ms | ${f.non2xx} | ${f.non2xxNot503} | ${f.recoveryMs < 0 ? 'did not recover' : `${f.recoveryMs} ms`} | ${f.longestGapMs} ms | ${f.rssBefore.map(mb).join(', ')} → ${f.rssAfter.map(mb).join(', ')} |`);
}
for (const f of faults) if (f.lostDetail.length) out(`\n${f.name}, where writes were lost: ${f.lostDetail.slice(0, 12).join('; ')}${f.lostDetail.length > 12 ? '; …' : ''}.`);
for (const f of faults) if (f.slow.length) out(`\n${f.name}, the requests over command_timeout: ${f.slow.slice(0, 40).join(', ')}${f.slow.length > 40 ? ', …' : ''}.`);
// The defects these runs found are caught by tests skipped until the fix (see each file's head).
const knownDefects = ['test/session/engines/redis/cluster-failover.test.ts', 'test/session/engines/redis/sentinel-resume.test.ts']
  .filter(file => existsSync(join(ROOT, file)) && /^\w+\.skip\(/m.test(readFileSync(join(ROOT, file), 'utf8')));
if (knownDefects.length) out(`\nKnown defects behind the non-zero figures above, each caught by a test skipped until it is fixed: ${knownDefects.map(f => `\`${f}\``).join(', ')}.`);
out();
out('## Abuse, with a neighbour reading its session every 5 ms');
out();
const abused: AbuseResult[] = [];
// The floods are measured on a server that has served them before (see abuse.ts); the warm-up's own p99 is shown too.
const FLOOD_WARM_SECONDS = secs(10, 2);
let redisMicrosPerCommand: number | undefined;
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
out('## What a 503 means');
out();
out('A 503 says the session store did not answer within `command_timeout`. On a request that only read the session, nothing');
out('changed. On a write, the outcome is unknown: Redis may still execute the command after the app stopped waiting. Retry');
out('only what is idempotent: `session(k, v)` (setting a value) is safe to repeat; an increment or a push is not — read the');
out('value back first, or make the operation idempotent (a request id stored with it). Routes that never touch the session keep answering 200.');
out();
out('## Scale on paper');
out();
for (const l of scaleOnPaper(ROOT, redisMicrosPerCommand)) out(l);
out();
out(`Run time: ${((Date.now() - t0) / 60_000).toFixed(1)} min; CPU steal over the whole run: ${stealBetween(cpuAtStart, machineCpu())}.`);

// The issue's bar, next to this run's figures, at the top of the file.
const floods = abused.filter(r => r.name.startsWith('50,000'));
const floodMet = (flood: AbuseResult) => {
  const [, logins = '0', floodSeconds = '0', notOk = '1'] = /^(\d+) logins in ([\d.]+) s .*?, (\d+) not 303/.exec(flood.attack) ?? [];
  return Number(logins) >= 50_000 && Number(floodSeconds) <= 61 && Number(notOk) === 0 && flood.p99 < 9;
};
const kills = faults[0]!;
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
const bar = [
  '## Against the bar', '',
  '| the bar (an independent run, issue 17) | this run | met |', '|---|---|---|',
  ...fuzzed.map((r, i) => `| 12,000 hostile requests on ${i ? 'Redis' : 'Memory'}: 0 crashes, 0 leaks, 0 adopted ids | ${int(r.requests)} requests: ${r.crashes} crashes, ${r.leaks} leaks, ${r.adoptedIds} adopted ids, ${r.serverErrors} 5xx | ${yes(r.requests >= 12_000 && r.crashes + r.leaks + r.adoptedIds === 0)} |`),
  `| 183,255 requests over three Redis kills on two instances with AOF: 0 acknowledged writes lost | ${int(kills.requests)} requests, ${int(kills.acked)} acknowledged writes, ${kills.lost} lost | ${yes(kills.requests >= 183_255 && kills.lost === 0)} |`,
  `| every fault (issue 17's list): 0 acknowledged writes lost, 0 over command_timeout, 0 non-2xx other than 503 | ${faults.map(f => `${f.name}: ${f.lost} / ${f.overTimeout} / ${f.non2xxNot503}`).join('; ')} | ${yes(faults.every(f => f.lost + f.sessionsLost + f.overTimeout + f.non2xxNot503 === 0))} |`,
  ...floods.map(flood => `| 50,000 logins in a minute, a neighbour's p99 under 9 ms (${flood.name.split(', ').pop()}) | ${flood.attack}${warmNote(flood)}; p99 ${flood.p99.toFixed(2)} ms | ${yes(floodMet(flood))} |`),
  `| 4,000,000 ids: no duplicate, uniform positions | ${int(ids.count)} ids: ${ids.duplicates} duplicates, ${ids.outside} of 32 positions outside the band, p = ${ids.totalP.toFixed(3)} overall | ${yes(ids.count >= 4_000_000 && ids.duplicates === 0 && ids.totalP > 0.001 && ids.totalP < 0.999)} |`,
  '',
];
lines.splice(barAt, 0, ...bar);
writeFileSync(join(ROOT, 'RELIABILITY.md'), lines.join('\n') + '\n');
console.log(`RELIABILITY.md written; run time ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
process.exit(0);
