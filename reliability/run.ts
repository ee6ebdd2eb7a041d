/**
 * `npm run reliability`: runs the fuzzer, the ids check and fault injection for real and writes
 * RELIABILITY.md from what they measured. Not part of `npm test`. Sizes come from the
 * environment so a short check run is possible: RELIABILITY_SCALE=0.1 (default 1).
 * Every loop is bounded in count and time; everything listens on 127.0.0.1.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleApp, ROOT, type Engine } from '../test/example-app/harness.ts';
import { startRedis, type RedisServer } from '../test/support/redis-server.ts';
import { SessionFactory } from '../src/session/factory.ts';
import { fuzz, type FuzzResult } from './fuzz.ts';
import { abuse, loginFlood, neverReads, slowBodies, slowloris, type AbuseResult } from './abuse.ts';

const scale = Number(process.env.RELIABILITY_SCALE ?? '1');
const n = (full: number) => Math.max(1, Math.round(full * scale));
const lines: string[] = [];
const out = (s = '') => { lines.push(s); console.log(s); };
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

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
        const path = ['/', '/whoami', '/prefs', '/health'][i % 4]!;
        await fetch(url + path, { headers: { cookie: `dancer.session=${cookies[i % cookies.length]}` } }).then(r => r.arrayBuffer());
      }
      readOnlyWrites = writeCalls(await redis.commandCalls());
    }
    return { ...result, readOnlyWrites };
  } finally {
    await app.close();
    await redis?.stop();
  }
}

function idsCheck(count: number) {
  const factory = Object.create(SessionFactory.prototype) as SessionFactory;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const seen = new Set<string>();
  const counts = Array.from({ length: 32 }, () => new Array<number>(64).fill(0));
  let ones = 0;
  for (let i = 0; i < count; i++) {
    const id = factory.generateId();
    seen.add(id);
    for (let p = 0; p < 32; p++) counts[p]![alphabet.indexOf(id[p]!)]!++;
    for (const byte of Buffer.from(id, 'base64url')) { let b = byte; while (b) { ones += b & 1; b >>= 1; } }
  }
  const expected = count / 64;
  const chi = counts.map(row => row.reduce((s, c) => s + (c - expected) ** 2 / expected, 0));
  // 63 degrees of freedom: the 0.1% and 99.9% points are about 32.1 and 103.4.
  return { count, duplicates: count - seen.size, chiMin: Math.min(...chi), chiMax: Math.max(...chi), outside: chi.filter(x => x < 32.1 || x > 103.4).length, onesFraction: ones / (count * 192) };
}

interface FaultResult { name: string; requests: number; acked: number; lost: number; overTimeout: number; non2xx: number; non2xxNot503: number; recoveryMs: number; maxMs: number; slow: string[]; rssBefore: number; rssAfter: number }

/** Two app instances on one Redis with AOF (appendfsync always), `clients` workers of mixed reads and writes, one fault. */
async function fault(name: string, clients: number, seconds: number, inject: (redis: RedisServer) => Promise<void>): Promise<FaultResult> {
  const redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const apps = [exampleApp('Redis', redis.url), exampleApp('Redis', redis.url)];
  const urls = await Promise.all(apps.map(async app => (await app.listen(0, '127.0.0.1')).url));
  const rssBefore = process.memoryUsage().rss;
  let maxMs = 0;
  const slow: string[] = [];
  let requests = 0, acked = 0, overTimeout = 0, non2xx = 0, non2xxNot503 = 0, lost = 0;
  let stopped = false;
  let faultEnd = 0, recoveredAt = 0;
  const worker = async (w: number) => {
    let cookie = '';
    let myAcked = 0;
    for (let i = 0; !stopped && i < 100_000; i++) {
      const url = urls[(w + i) % 2]!;
      const write = i % 2 === 0;
      const started = Date.now();
      try {
        const res = await fetch(url + (write ? '/counter' : '/whoami'), { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        requests++;
        const took = Date.now() - started;
        if (took > maxMs) maxMs = took;
        if (took > 1000) { overTimeout++; slow.push(`${write ? 'write' : 'read'} ${res.status} ${took} ms`); }
        const set = res.headers.get('set-cookie');
        if (set && write && res.status === 200) cookie = set.split(';')[0]!;
        if (res.status >= 200 && res.status < 300) {
          if (write) { acked++; myAcked++; if (faultEnd && !recoveredAt) recoveredAt = Date.now(); }
        } else { non2xx++; if (res.status !== 503) non2xxNot503++; }
      } catch {
        requests++; non2xx++; non2xxNot503++;
      }
    }
    if (!cookie) return;
    // The stored count must be at least every acknowledged increment (more is a 503 whose write happened).
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await fetch(urls[0] + '/counter', { headers: { cookie } });
      if (res.status === 200) { const { count } = await res.json() as { count: number }; lost += Math.max(0, myAcked + 1 - count); return; }
      await sleep(250);
    }
    lost += myAcked;
  };
  const running = Array.from({ length: clients }, (_, w) => worker(w));
  await sleep((seconds * 1000) / 3);
  await inject(redis);
  faultEnd = Date.now();
  await sleep((seconds * 2000) / 3);
  stopped = true;
  await Promise.all(running);
  if (slow.length) console.log(`${name}: over command_timeout: ${slow.join(', ')}`);
  const rssAfter = process.memoryUsage().rss;
  await Promise.all(apps.map(app => app.close()));
  await redis.stop();
  return { name, requests, acked, lost, overTimeout, non2xx, non2xxNot503, recoveryMs: recoveredAt ? recoveredAt - faultEnd : -1, maxMs, slow, rssBefore, rssAfter };
}

function scaleOnPaper(): string[] {
  const file = join(ROOT, 'bench', 'results.md');
  if (!existsSync(file)) return ['No bench/results.md (run `npm run bench`): no measured CPU per request, so no figure here.'];
  const text = readFileSync(file, 'utf8');
  const row = (name: string) => {
    const m = new RegExp(`^\\| ${name} \\| ([\\d,]+) \\|.*\\| ([\\d.]+)(?: \\(incl[^|]*)? \\| (\\d+)% /`, 'm').exec(text);
    return m ? { rps: Number(m[1]!.replace(/,/g, '')), cmds: Number(m[2]), busy: Number(m[3]) / 100 } : undefined;
  };
  const read = row('Quickstep Redis read');
  const write = row('Quickstep Redis write');
  const header = /^- date: .*$/m.exec(text)?.[0] ?? '';
  if (!read || !write) return [`bench/results.md (${header}) has no "Quickstep Redis read/write" rows in the expected form: no figure.`];
  // Assumption, not measured here: one Redis core serves ~100,000 simple commands/s (GETEX, a short EVALSHA).
  const SHARD = 100_000;
  const perCore = (r: { rps: number; busy: number }) => r.rps / r.busy;
  const rCore = perCore(read), wCore = perCore(write);
  const rShard = SHARD / read.cmds, wShard = SHARD / write.cmds;
  const out = [
    `From \`bench/results.md\` (${header.replace(/^- /, '')}): Quickstep Redis read ${read.rps} req/s at ${Math.round(read.busy * 100)}% of the server core, ${read.cmds} Redis commands per request; write ${write.rps} req/s at ${Math.round(write.busy * 100)}%, ${write.cmds} commands.`,
    '',
    `- per app core: ${Math.round(rCore)} session reads/s (${(1e6 / rCore).toFixed(0)} µs CPU each), ${Math.round(wCore)} session writes/s (${(1e6 / wCore).toFixed(0)} µs).`,
    `- per Redis shard (assumed ${SHARD.toLocaleString('en')} commands/s on one core, not measured by the bench): ${Math.round(rShard)} reads/s or ${Math.round(wShard)} writes/s.`,
    '',
    'N app servers of 2 cores on a Cluster of M masters, for a 50/50 read/write mix: min(N × 2 × app rate, M × shard rate). Assumes ids spread evenly over slots (random ids do), no replica reads, one process per core, and that the network is not the limit.',
    '',
    '| N app servers | M = 1 | M = 3 | M = 6 |',
    '|---|---|---|---|',
  ];
  const mixCore = 2 / (1 / rCore + 1 / wCore), mixShard = 2 / (1 / rShard + 1 / wShard);
  for (const N of [1, 2, 4, 8, 16]) out.push(`| ${N} | ${[1, 3, 6].map(M => Math.round(Math.min(N * 2 * mixCore, M * mixShard)).toLocaleString('en')).join(' | ')} |`);
  out.push('', 'The bench file in the tree is a quick run on a noisy 2-core machine (its spreads are wide); rerun `npm run bench` before quoting these.');
  return out;
}

const started = new Date();
const t0 = Date.now();
out('# Quickstep reliability');
out();
out(`Written by \`npm run reliability\` (reliability/run.ts) on ${started.toISOString()}, RELIABILITY_SCALE=${scale}${scale < 1 ? ' — **a small check run, not the full figures**' : ''}.`);
out(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${mb(totalmem())} RAM, Node ${process.version}, ${process.platform}. Apps in this process; Redis from the Debian package.`);
out();
out('## Hostile HTTP (fuzzer, reliability/fuzz.ts)');
out();
out('| engine | requests | answered | closed without answer | crashes | 5xx | leaks (stack/path) | XSS / header injection | adopted ids | Redis writes by read-only requests |');
out('|---|---|---|---|---|---|---|---|---|---|');
const examples: string[] = [];
for (const engine of ['Memory', 'Redis'] as const) {
  const r = await fuzzEngine(engine);
  out(`| ${engine} | ${r.requests} | ${r.answered} | ${r.closedWithoutAnswer} | ${r.crashes} | ${r.serverErrors} | ${r.leaks} | ${r.xss} | ${r.adoptedIds} | ${r.readOnlyWrites} |`);
  examples.push(...r.examples.map(e => `${engine}: ${e}`), `${engine} statuses: ${JSON.stringify(r.statuses)}`);
}
out();
for (const e of examples) out(`    ${e}`);
out();
out('## Session ids');
const ids = idsCheck(n(1_000_000));
out();
out(`${ids.count} ids from \`generateId\`: ${ids.duplicates} duplicates; per-position chi-square over 64 symbols (63 dof) from ${ids.chiMin.toFixed(1)} to ${ids.chiMax.toFixed(1)}, ${ids.outside} of 32 positions outside the 0.1%–99.9% band (32.1–103.4); fraction of 1 bits ${ids.onesFraction.toFixed(5)} (192 random bits per id).`);
out();
out('## Fault injection (two app instances, one Redis with AOF `appendfsync always`)');
out();
const clients = n(100) < 10 ? 10 : n(100);
const seconds = Math.max(6, Math.round(30 * scale));
const faults: FaultResult[] = [];
faults.push(await fault('SIGKILL + restart', clients, seconds, async redis => { await redis.restart(); }));
faults.push(await fault('SIGSTOP 3 s + SIGCONT', clients, seconds, async redis => { redis.pause(); await sleep(3000); redis.resume(); }));
out(`${clients} concurrent clients, alternating a write (GET /counter, an increment) and a read (GET /whoami), spread over both instances; ${seconds} s per scenario.`);
out();
out('| fault | requests | acknowledged writes | acknowledged writes lost | over command_timeout (1 s) | slowest | non-2xx | non-2xx other than 503 | recovery after the store is back | RSS before / after |');
out('|---|---|---|---|---|---|---|---|---|---|');
for (const f of faults) out(`| ${f.name} | ${f.requests} | ${f.acked} | ${f.lost} | ${f.overTimeout} | ${f.maxMs} ms | ${f.non2xx} | ${f.non2xxNot503} | ${f.recoveryMs < 0 ? 'did not recover' : `${f.recoveryMs} ms`} | ${mb(f.rssBefore)} / ${mb(f.rssAfter)} |`);
for (const f of faults) if (f.slow.length) out(`\n${f.name}, the requests over command_timeout: ${f.slow.slice(0, 40).join(', ')}.`);
out();
out('Not yet measured by this script: Sentinel (master killed, master hung) and a Cluster node failover.');
out();
out('## Abuse (Redis engine), with a neighbour reading its session every 5 ms');
out();
{
  const redis = await startRedis();
  const app = exampleApp('Redis', redis.url);
  const { url } = await app.listen(0, '127.0.0.1');
  const secs = Math.max(5, Math.round(60 * scale));
  const results: AbuseResult[] = [];
  results.push(await abuse(app, url, 'none (baseline)', Math.max(3, Math.round(10 * scale)), async (_p, until) => { while (Date.now() < until) await sleep(100); return '-'; }));
  results.push(await abuse(app, url, 'slowloris', Math.max(5, Math.round(20 * scale)), slowloris(n(500))));
  results.push(await abuse(app, url, 'slow bodies', Math.max(5, Math.round(20 * scale)), slowBodies(n(200))));
  results.push(await abuse(app, url, 'clients that never read', Math.max(5, Math.round(20 * scale)), neverReads(n(100))));
  results.push(await abuse(app, url, '50,000 new sessions a minute', secs, loginFlood(50_000)));
  out('| attack | what was sent | neighbour requests | neighbour errors | neighbour p50 | neighbour p99 | peak RSS |');
  out('|---|---|---|---|---|---|---|');
  for (const r of results) out(`| ${r.name} | ${r.attack} | ${r.neighbourRequests} | ${r.neighbourErrors} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${mb(r.peakRss)} |`);
  out();
  out('The attackers, the neighbour and the app share this one Node process (and the machine\'s cores with Redis), so the');
  out('neighbour\'s latency includes the attackers\' own CPU: a pessimistic setup. Slow connections run for the scenario only (Node\'s headersTimeout is longer).');
  out('Not yet measured: the largest sessions the limits allow.');
  await app.close();
  await redis.stop();
}
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
for (const l of scaleOnPaper()) out(l);
out();
out(`Run time: ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
writeFileSync(join(ROOT, 'RELIABILITY.md'), lines.join('\n') + '\n');
process.exit(0);
