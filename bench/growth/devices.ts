/**
 * The devices curve: what `userSessions(userId)`, `destroyUserSessions(userId)` and a `login`
 * cost for a user who already has N live sessions (N = 1, 10, 100, 1,000), on one engine (the
 * Cookie engine with its revocation store on Memory, or on Redis: `cookie-redis`).
 *
 *   tsx bench/growth/devices.ts <memory|redis|cookie|cookie-redis> [--counts 1,10,100,1000] [--calls C]
 *
 * In-process, over HTTP on 127.0.0.1: the app serves /login, /devices and /everywhere; this same
 * process is the client. Each call is timed inside its route handler (wall time with
 * process.hrtime, and this process's CPU time with process.cpuUsage around the one awaited
 * call), so the client's own work and Node's HTTP cost are left out and what is left is the
 * keyword's cost as the app pays it. Requests are sequential, so nothing else runs in between.
 * For Redis the wall time includes Redis doing the work (its own core); the CPU column is the
 * app's share. A login is timed as its whole request (client included), as its store work is
 * the flush after the handler. Redis commands per call come from INFO commandstats.
 *
 * Prints one JSON line: { engine, points: [{ sessions, list: {...}, destroy: {...}, login: {...} }] }.
 */
import { parseArgs } from 'node:util';
import { createApp } from 'quickstep';
import { startRedis, type BenchRedis } from '../lib/redis.ts';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { counts: { type: 'string', default: '1,10,100,1000' }, calls: { type: 'string', default: '' }, core: { type: 'string', default: '1' } },
});
const engine = positionals[0] ?? 'memory';
if (!['memory', 'redis', 'cookie', 'cookie-redis'].includes(engine)) throw new Error(`engine ${engine}: use memory, redis, cookie or cookie-redis`);
const counts = args.counts.split(',').map(Number);
const USER = 'growth-user';

/** One timed call: wall µs, app CPU µs. */
interface Timing { wall: number; cpu: number }
let last: Timing = { wall: 0, cpu: 0 };
async function timed<T>(call: () => Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const result = await call();
  const wall = Number(process.hrtime.bigint() - start) / 1000;
  const used = process.cpuUsage(cpu);
  last = { wall, cpu: used.user + used.system };
  return result;
}

let redis: BenchRedis | undefined;
if (engine === 'redis' || engine === 'cookie-redis') redis = await startRedis(Number(args.core));
const app = engine === 'redis'
  ? createApp({ log: 'error', environment: 'production', session: 'Redis', engines: { session: { Redis: { server: `127.0.0.1:${redis!.port}` } } } })
  : engine.startsWith('cookie')
  ? createApp({ log: 'error', environment: 'production', session: 'Cookie', engines: { session: { Cookie: {
    secret_key: 'bench-only-secret-of-at-least-32-bytes',
    revocation: redis ? { store: 'Redis', url: `redis://127.0.0.1:${redis.port}` } : { store: 'Memory' },
  } } } })
  : createApp({ log: 'error', environment: 'production', session: 'Memory' });

app.get('/login', async ctx => { await timed(() => ctx.login(USER)); return 'ok'; });
app.get('/devices', async ctx => String((await timed(() => ctx.userSessions(USER))).length));
app.get('/everywhere', async ctx => String(await timed(() => ctx.destroyUserSessions(USER))));
app.get('/timing', () => JSON.stringify(last));

const { port } = await app.listen(0, '127.0.0.1');
const url = `http://127.0.0.1:${port}`;
const get = async (path: string): Promise<string> => {
  const response = await fetch(url + path);
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${body.slice(0, 120)}`);
  return body;
};
const timing = async (): Promise<Timing> => JSON.parse(await get('/timing')) as Timing;
const commands = async (): Promise<number> => (redis ? (await redis.commands()).total : 0);

interface Cost { wallMicros: number; cpuMicros: number; commands?: number }
/** The median of the timings of `calls` calls of `path`, and Redis commands per call. */
async function cost(path: string, calls: number, before?: () => Promise<void>, whole = false): Promise<Cost> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let commandCount = 0;
  for (let i = 0; i < calls; i++) {
    await before?.();
    const c0 = await commands();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await get(path);
    const used = process.cpuUsage(cpu);
    const t = whole ? { wall: Number(process.hrtime.bigint() - start) / 1000, cpu: used.user + used.system } : await timing();
    commandCount += (await commands()) - c0;
    walls.push(t.wall);
    cpus.push(t.cpu);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // The counter's own INFO is not counted (lib/redis.ts); the /timing GET touches no session.
  return { wallMicros: median(walls), cpuMicros: median(cpus), ...(redis ? { commands: commandCount / calls } : {}) };
}

/** Logs USER in on `n` new sessions (each request without a cookie starts one). */
async function fill(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await get('/login');
}

const points = [];
try {
  // A warm-up pass at the first count, not reported: the first point would otherwise pay for the JIT.
  for (const [i, sessions] of [counts[0]!, ...counts].entries()) {
    const calls = Number(args.calls || Math.max(5, Math.min(200, Math.round(20_000 / sessions))));
    await get('/everywhere');
    await fill(sessions);
    const listed = Number(await get('/devices'));
    if (listed !== sessions) throw new Error(`userSessions listed ${listed} sessions, expected ${sessions}`);
    const list = await cost('/devices', calls);
    // A login by one more device, then log-out-everywhere of those, to measure the login at N.
    // Timed as the whole request (client included: a constant), since a login's store work is
    // its flush, after the handler: what grows with N is the owner index's upkeep.
    const login = await cost('/login', Math.min(calls, 20), async () => { await get('/everywhere'); await fill(sessions); }, true);
    // At least 7 calls: each follows a fill of N logins, whose garbage a call may collect, so a
    // median of 3 at 1,000 sessions once read a 3x outlier as the curve (2026-12-07).
    const destroyCalls = Math.max(7, Math.min(20, Math.round(2_000 / sessions)));
    const destroy = await cost('/everywhere', destroyCalls, () => fill(sessions));
    if (i === 0) continue;
    points.push({ sessions, list, destroy, login });
    process.stderr.write(`${engine} ${sessions} sessions: list ${list.cpuMicros.toFixed(0)} µs CPU, destroy ${destroy.cpuMicros.toFixed(0)} µs CPU, login ${login.cpuMicros.toFixed(0)} µs CPU\n`);
  }
} finally {
  await app.close?.();
  await redis?.stop();
}
process.stdout.write(`${JSON.stringify({ engine, points })}\n`);
process.exit(0);
