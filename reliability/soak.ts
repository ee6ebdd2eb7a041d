/**
 * The soak: hours of uptime in minutes, looking for what only shows slowly (memory, sockets,
 * timers, listeners that pile up). Two app servers (processes of their own, server.ts) share one
 * Redis with AOF (`appendfsync always`); `clients` virtual users cycle through logging in, reads,
 * writes, new anonymous sessions, requests with bad cookies and logging out, over both servers;
 * at 40% of the run Redis is killed (SIGKILL) and started again on its files.
 *
 * Every SAMPLE_MS each server's RSS (/proc), open file descriptors (/proc/<pid>/fd), V8 heap used
 * after a full GC and active resources (process.getActiveResourcesInfo(), which the server reports over the IPC
 * channel the soak opens: no HTTP endpoint) are sampled. Each series is fitted by least squares
 * over the second half of the run (after warm-up and after the restart) and called flat by the
 * rule in `flat` below. Acknowledged writes are checked as they come: every /counter answer must
 * count at least the increments that user was acknowledged.
 */
import { randomBytes } from 'node:crypto';
import { stealBetween } from '../bench/lib/cpu.ts';
import { startRedis } from '../test/support/redis-server.ts';
import { login, send, type Reply } from './http-client.ts';
import { machineCpu, openFds, startAppServer, type AppServer } from './processes.ts';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];

/** How often each server is sampled. */
export const SAMPLE_MS = 10_000;
/** Where in the run Redis restarts, and where the fitted window starts (fractions of the run). */
export const RESTART_AT = 0.4, FIT_FROM = 0.5;
/**
 * The flatness rule: a series is flat when the growth its slope projects over the whole run is at
 * most the larger of FLAT_SHARE of its mean and the noise (twice the standard deviation of the
 * samples around the fitted line), or when the slope is within two standard errors of zero (the
 * samples cannot tell it from no trend at all: only in short runs, where a few samples that
 * happen to fall high at the end would otherwise count as growth; over 30 minutes, 90 samples
 * make the standard error small).
 */
export const FLAT_SHARE = 0.05;

export type Metric = 'rss' | 'heapUsed' | 'fds' | 'handles';
export const METRICS: { key: Metric; label: string; unit: string; scale: number }[] = [
  { key: 'rss', label: 'RSS', unit: 'MB', scale: 2 ** 20 },
  { key: 'heapUsed', label: 'V8 heap used after a full GC', unit: 'MB', scale: 2 ** 20 },
  { key: 'fds', label: 'open file descriptors', unit: '', scale: 1 },
  { key: 'handles', label: 'active handles and requests', unit: '', scale: 1 },
];

export interface Sample { t: number; servers: Record<Metric, number>[] }

export interface Verdict {
  metric: Metric; server: number; mean: number; slopePerMinute: number; slopeSe: number; projected: number; noise: number; flat: boolean;
}

export interface SoakResult {
  minutes: number; clients: number; requests: number; statuses: Record<string, Record<number, number>>;
  sessions: number; logins: number; logouts: number; logoutsThatKeptTheUser: number; badCookies: number; badCookiesAccepted: number;
  acked: number; lost: number; lostDetail: string[]; fiveHundreds: number; unanswered: number;
  restartAtSeconds: number; recoveryMs: number; samples: Sample[]; verdicts: Verdict[]; steal: string;
}

/** Least squares y = a + b t over the points: b per unit of t, the residuals' standard deviation and b's standard error. */
export function fit(ts: number[], ys: number[]): { slope: number; intercept: number; residualSd: number; slopeSe: number } {
  const n = ts.length;
  const mt = ts.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (ts[i]! - mt) * (ys[i]! - my); sxx += (ts[i]! - mt) ** 2; }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mt;
  const residualSd = n > 2 ? Math.sqrt(ys.reduce((sum, y, i) => sum + (y - intercept - slope * ts[i]!) ** 2, 0) / (n - 2)) : 0;
  return { slope, intercept, residualSd, slopeSe: sxx > 0 ? residualSd / Math.sqrt(sxx) : 0 };
}

/** Each series' verdict over the samples from FIT_FROM of the run on. */
export function verdicts(samples: Sample[], runSeconds: number): Verdict[] {
  const window = samples.filter(s => s.t >= FIT_FROM * runSeconds);
  const out: Verdict[] = [];
  for (const { key } of METRICS) {
    for (let server = 0; server < (window[0]?.servers.length ?? 0); server++) {
      const points = window.filter(s => Number.isFinite(s.servers[server]![key]));
      const ts = points.map(s => s.t / 60), ys = points.map(s => s.servers[server]![key]);
      const { slope, residualSd, slopeSe } = fit(ts, ys);
      const mean = ys.reduce((a, b) => a + b, 0) / (ys.length || 1);
      const projected = slope * (runSeconds / 60);
      const noise = 2 * residualSd;
      const small = Math.abs(projected) <= Math.max(FLAT_SHARE * mean, noise);
      out.push({ metric: key, server, mean, slopePerMinute: slope, slopeSe, projected, noise, flat: points.length >= 3 && (small || Math.abs(slope) <= 2 * slopeSe) });
    }
  }
  return out;
}

const CSRF = /name="_csrf" value="([A-Za-z0-9_-]+)"/;

/** Runs the soak for `minutes` with `clients` virtual users; `progress` gets a line per sample. */
export async function soak(minutes: number, clients: number, progress: (line: string) => void = console.log): Promise<SoakResult> {
  const runMs = minutes * 60_000;
  const redis = await startRedis({ args: AOF });
  const env = { SESSION_ENGINE: 'Redis', REDIS_URL: redis.url };
  const servers: AppServer[] = await Promise.all([startAppServer(env, undefined, { ipc: true }), startAppServer(env, undefined, { ipc: true })]);
  const ports = servers.map(s => Number(new URL(s.url).port));
  const statuses: Record<string, Record<number, number>> = {};
  let requests = 0, sessions = 0, logins = 0, logouts = 0, logoutsThatKeptTheUser = 0, badCookies = 0, badCookiesAccepted = 0, acked = 0, lost = 0, fiveHundreds = 0, unanswered = 0;
  const lostDetail: string[] = [];
  let stopped = false, restartedAt = 0, recoveredAt = 0;
  const cpuBefore = machineCpu();
  const t0 = Date.now();

  const count = (kind: string, status: number) => {
    const byStatus = (statuses[kind] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    if (status === 0) unanswered++;
    else if (status >= 500 && status !== 503) fiveHundreds++;
  };
  /** One request on server `i % 2`, counted under `kind`. */
  const call = async (kind: string, i: number, method: string, path: string, options: Parameters<typeof send>[3] = {}): Promise<Reply> => {
    const reply = await send(ports[i % 2]!, method, path, options);
    requests++;
    count(kind, reply.status);
    return reply;
  };

  const user = async (w: number) => {
    let i = w;
    while (!stopped) {
      const name = `soak${w}-${sessions}`;
      const logged = await login(ports[i++ % 2]!, name);
      requests += 2; // the form, then the post
      count('login: GET / + POST /login', logged.status);
      if (logged.status !== 303 || !logged.cookie) { await sleep(200); continue; }
      logins++;
      sessions++;
      let cookie = logged.cookie;
      let mine = 0;
      const steps = 10 + Math.floor(Math.random() * 30);
      for (let step = 0; step < steps && !stopped; step++) {
        const dice = Math.random();
        let reply: Reply;
        if (dice < 0.35) {
          reply = await call('write: GET /counter', i++, 'GET', '/counter', { cookie });
          if (reply.status === 200) {
            mine++; acked++;
            if (restartedAt && !recoveredAt) recoveredAt = Date.now();
            const { count } = JSON.parse(reply.body) as { count: number };
            if (count < mine) { lost += mine - count; lostDetail.push(`${name}: ${mine} acknowledged, count ${count}`); mine = count; }
          }
        } else if (dice < 0.65) {
          reply = await call('read: GET /whoami', i++, 'GET', '/whoami', { cookie });
        } else if (dice < 0.75) {
          reply = await call('write: PUT /prefs/theme', i++, 'PUT', '/prefs/theme', { cookie, type: 'application/json', body: JSON.stringify({ value: step % 2 ? 'dark' : 'light' }) });
        } else if (dice < 0.85) {
          reply = await call('write: GET / (visits)', i++, 'GET', '/', { cookie });
        } else if (dice < 0.95) {
          // A bad cookie: unknown, tampered (one character of the real one changed), or junk.
          const real = cookie.slice(cookie.indexOf('=') + 1);
          const bad = [randomBytes(24).toString('base64url'), real.slice(0, -1) + (real.endsWith('A') ? 'B' : 'A'), '%00../x', 'x'.repeat(300)][step % 4]!;
          const answer = await call('bad cookie: GET /whoami', i++, 'GET', '/whoami', { cookie: `sid=${bad}` });
          badCookies++;
          if (answer.status === 200 && !answer.body.includes('"user":null')) badCookiesAccepted++;
          continue;
        } else {
          // A new anonymous session (a preference saved before any login).
          const fresh = await call('new session: PUT /prefs/lang', i++, 'PUT', '/prefs/lang', { type: 'application/json', body: '{"value":"en"}' });
          if (fresh.status === 204) sessions++;
          continue;
        }
        if (reply.cookie) cookie = reply.cookie; // a browser follows a new id
      }
      // Log out through the form (its CSRF token is on the home page); the old cookie must then be nobody's.
      const home = await call('write: GET / (visits)', i++, 'GET', '/', { cookie });
      const token = CSRF.exec(home.body)?.[1];
      if (!token) continue;
      const out = await call('logout: POST /logout', i++, 'POST', '/logout', { cookie, type: 'application/x-www-form-urlencoded', body: `_csrf=${token}` });
      if (out.status !== 303) continue;
      logouts++;
      const after = await call('read: GET /whoami', i++, 'GET', '/whoami', { cookie });
      if (after.status === 200 && !after.body.includes('"user":null')) logoutsThatKeptTheUser++;
    }
  };

  const samples: Sample[] = [];
  const sampleAll = async () => {
    const reports = await Promise.all(servers.map(s => s.sample().catch(() => ({ heapUsed: NaN, handles: NaN }))));
    const sample: Sample = { t: (Date.now() - t0) / 1000, servers: servers.map((s, i) => ({ rss: s.memory().rss, fds: openFds(s.pid), ...reports[i]! })) };
    samples.push(sample);
    const mb = (x: number) => (x / 2 ** 20).toFixed(1);
    progress(`soak ${sample.t.toFixed(0)} s: ${requests} requests, ${acked} acknowledged writes, ${lost} lost; ${sample.servers.map((m, k) => `server ${k + 1}: RSS ${mb(m.rss)} MB, heap ${mb(m.heapUsed)} MB, ${m.fds} fds, ${m.handles} handles`).join('; ')}`);
  };

  try {
    const running = Array.from({ length: clients }, (_, w) => user(w));
    await sampleAll();
    const sampler = setInterval(() => void sampleAll(), SAMPLE_MS);
    await sleep(RESTART_AT * runMs);
    progress('soak: Redis SIGKILL, then started again on its AOF files');
    await redis.restart();
    restartedAt = Date.now();
    await sleep(Math.max(0, t0 + runMs - Date.now()));
    clearInterval(sampler);
    await sampleAll();
    stopped = true;
    await Promise.all(running);
    return {
      minutes, clients, requests, statuses, sessions, logins, logouts, logoutsThatKeptTheUser, badCookies, badCookiesAccepted, acked, lost, lostDetail, fiveHundreds, unanswered,
      restartAtSeconds: (restartedAt - t0) / 1000, recoveryMs: recoveredAt ? recoveredAt - restartedAt : -1, samples, verdicts: verdicts(samples, runMs / 1000),
      steal: stealBetween(cpuBefore, machineCpu()),
    };
  } finally {
    await Promise.all(servers.map(s => s.stop()));
    await redis.stop();
  }
}
