/**
 * Abuse while a normal client ("the neighbour") keeps using the app: slowloris (headers dribbled),
 * slow bodies, clients that never read, a flood of new sessions (logins), sessions as large as
 * the limits allow. The app runs in a process of its own, started fresh for each attack; the
 * attack runs in another (attacker.ts), the neighbour in this one, so the neighbour's p50/p99
 * and the peak RSS are the server's. Where taskset works, the server has core 0 to itself and
 * the attacker and Redis share core 1.
 */
import { login, send } from './http-client.ts';
import { startAppServer, runAttacker } from './processes.ts';

/** Where the app server runs, and where the attacker and Redis do: see run.ts. */
export const SERVER_CORE = 0, LOAD_CORE = 1;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface AbuseResult {
  name: string; neighbourRequests: number; neighbourErrors: number; p50: number; p99: number; peakRss: number; attack: string;
  /** The app server's CPU time over the attack's wall time: 1 is one core busy throughout. */
  serverCpu: number;
  /** With a warm-up (see abuse): its length, and the neighbour's p99 during it. */
  warmSeconds?: number; warmP99?: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

/**
 * Starts `attack` in a process of its own, to begin 4 s from now (so its start-up is not
 * measured) and run `seconds`; resolves when it begins, with when it ends and its summary.
 */
async function launch(attack: string, port: number, seconds: number, count: number): Promise<{ until: number; finished: Promise<{ summary: string }> }> {
  const start = Date.now() + 4000;
  const until = start + seconds * 1000;
  const finished = runAttacker<{ summary: string }>([attack, String(port), String(start), String(until), String(count)], LOAD_CORE);
  await sleep(start - Date.now());
  return { until, finished };
}

/** The neighbour's requests from now until `until`: each one's time, and how many failed. */
async function neighbour(port: number, cookie: string, expected: string, until: number): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  while (Date.now() < until) {
    const started = performance.now();
    const { status, body } = await send(port, 'GET', '/whoami', { cookie });
    if (status !== 200 || !body.includes(expected)) errors++;
    latencies.push(performance.now() - started);
    await sleep(5);
  }
  return { latencies: latencies.sort((a, b) => a - b), errors };
}

/**
 * Runs `attack` (an attacker.ts attack with its count) for `seconds` on a fresh app server
 * (`env` chooses its engine) while the neighbour, logged in, reads /whoami every 5 ms.
 *
 * With `warmSeconds`, the same attack runs that long first, on the same server, and the
 * neighbour's p99 then is reported apart (`warmP99`): the figures are a server's that has served
 * this load before, as a deployed one has. A fresh process spends its first seconds of a flood
 * compiling the route and growing V8's young generation from 1 MiB to its working size, which
 * put 28 of the neighbour's requests a second over 9 ms in the first 10 s, against 4 after.
 */
export async function abuse(env: NodeJS.ProcessEnv, name: string, seconds: number, attack: string, count: number, warmSeconds = 0): Promise<AbuseResult> {
  const server = await startAppServer(env, SERVER_CORE);
  try {
    const port = Number(new URL(server.url).port);
    // Logged in through the form (with its CSRF token, http-client.ts); if that fails, it reads anonymously.
    const { cookie = '' } = await login(port, 'neighbour');
    const expected = cookie ? '"neighbour"' : 'null';
    // Warm up (JIT, connections) before anything is measured.
    for (let i = 0; i < 200; i++) await send(port, 'GET', '/whoami', { cookie });
    let warmP99: number | undefined;
    if (warmSeconds > 0) {
      const warming = await launch(attack, port, warmSeconds, count);
      warmP99 = quantile((await neighbour(port, cookie, expected, warming.until)).latencies, 0.99);
      await warming.finished;
    }
    const { until, finished: attacker } = await launch(attack, port, seconds, count);
    let peakRss = server.memory().rss;
    const cpuBefore = server.cpuSeconds();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, server.memory().rss)), 50);
    const { latencies, errors } = await neighbour(port, cookie, expected, until);
    const serverCpu = (server.cpuSeconds() - cpuBefore) / seconds;
    const { summary } = await attacker;
    clearInterval(rssTimer);
    peakRss = Math.max(peakRss, server.memory().rss);
    return { name, neighbourRequests: latencies.length, neighbourErrors: errors, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), peakRss, attack: summary, serverCpu, ...(warmP99 === undefined ? {} : { warmSeconds, warmP99 }) };
  } finally {
    await server.stop();
  }
}
