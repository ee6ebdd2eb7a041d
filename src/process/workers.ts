/**
 * `workers: N`: dance() as a node:cluster primary that forks N workers sharing the port, as
 * Dancer2 users run Starman with workers. The primary runs the user's script up to dance() like
 * every worker (node:cluster starts each worker from the same entry point), never serves, and
 * closes its own app's session engine at once: only the workers use theirs (Redis connects on
 * first use, so the primary's engine never opens a connection).
 *
 * The contract, between the primary and its workers:
 * - A worker that dies unasked is replaced, one log line each time, after a delay that doubles
 *   with the deaths of the last minute (100 ms up to 10 s). Five workers in a row that die
 *   before they listen mean the app cannot start: the primary stops the rest and exits 1.
 * - A worker that cannot listen (busy port) sends its one start-up line here: it is printed once,
 *   and the primary stops the rest and exits 1.
 * - The start line is printed once, when all N workers have listened.
 * - SIGINT / SIGTERM to the primary is sent on to every worker as SIGTERM; each stops accepting,
 *   finishes its requests in flight, closes its engines and exits; the primary exits 0 when all
 *   did. A worker still running 30 s after the signal (a route that never ends), or a second
 *   signal to the primary, gets SIGKILL, and the primary exits 1.
 * If the primary itself is killed, node:cluster ends each worker when its IPC channel closes.
 */
import cluster, { type Worker } from 'node:cluster';
import type { App } from '../server/app.ts';

const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
const CRASH_WINDOW_MS = 60_000;
const FAILED_STARTS_BEFORE_GIVING_UP = 5;
const STOP_TIMEOUT_MS = 30_000;

/** What a worker tells its primary. */
type WorkerMessage = { quickstep: 'listening'; url: string } | { quickstep: 'startup-error'; line: string };

// startup.ts loads this module only when `workers` is above 1.

/** Whether this process is a worker a dance() primary forked. */
export const isDanceWorker = (): boolean => cluster.isWorker;

/** Whether dance() should supervise workers here instead of serving. */
export const isDancePrimary = (): boolean => cluster.isPrimary;

/** In a worker: tells the primary it is serving on `url`. */
export function reportListening(url: string): void {
  send({ quickstep: 'listening', url });
}

/** In a worker: hands the primary the one line of a start-up failure to print, and exits 1. */
export function reportStartupError(line: string): Promise<never> {
  send({ quickstep: 'startup-error', line }, () => process.exit(1));
  // Never settles: nothing else of this worker may run; the exit comes once the message is sent.
  return new Promise<never>(() => {});
}

const send = (message: WorkerMessage, then?: () => void) => process.send!(message, undefined, {}, then);

/**
 * In the primary: forks `app.settings.workers` workers and keeps them running until a signal.
 * `started(url)` prints the start line. Never resolves: the primary ends the process itself.
 */
export function superviseWorkers(app: App, started: (url: string) => void): Promise<never> {
  const count = app.settings.workers;
  const log = (level: 'info' | 'warning' | 'error', message: string) => app.log(level, message);
  const live = new Set<Worker>();
  const listened = new WeakSet<Worker>();
  const restarts = new Set<NodeJS.Timeout>();
  const crashes: number[] = [];
  let announced = false;
  let failedStarts = 0;
  let stopping = false;
  let exitCode = 0;

  const fork = (replacing?: number) => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (message: WorkerMessage) => {
      if (message?.quickstep === 'startup-error') return fail(message.line);
      if (message?.quickstep !== 'listening' || stopping) return;
      listened.add(worker);
      failedStarts = 0;
      if (replacing !== undefined) log('info', `worker ${worker.process.pid} started, replacing worker ${replacing}`);
      if (!announced && [...live].every(w => listened.has(w)) && live.size === count) {
        announced = true;
        started(message.url);
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (stopping) return stopped(code, signal);
      const pid = worker.process.pid;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!listened.has(worker) && ++failedStarts >= FAILED_STARTS_BEFORE_GIVING_UP) {
        log('error', `worker ${pid} ${how} before listening, the ${failedStarts}th in a row: the app cannot start; stopping`);
        return shutDown(1);
      }
      const now = Date.now();
      crashes.push(now);
      while (crashes[0]! <= now - CRASH_WINDOW_MS) crashes.shift();
      const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** (crashes.length - 1), MAX_RESTART_DELAY_MS);
      log('warning', `worker ${pid} ${how}; starting a new one in ${delay} ms (${crashes.length} in the last minute)`);
      const timer = setTimeout(() => (restarts.delete(timer), fork(pid)), delay);
      restarts.add(timer);
    });
  };

  /** A worker ended while stopping; the primary ends with the last one. */
  const stopped = (code: number | null, signal: string | null) => {
    // SIGTERM ends a worker that had not yet listened (no requests, no handler yet): a clean stop.
    if (code !== 0 && signal !== 'SIGTERM') exitCode = 1;
    if (live.size === 0) process.exit(exitCode);
  };

  const shutDown = (code: number) => {
    stopping = true;
    exitCode = Math.max(exitCode, code);
    for (const timer of restarts) clearTimeout(timer);
    if (live.size === 0) process.exit(exitCode);
    for (const worker of live) worker.process.kill('SIGTERM');
    setTimeout(() => kill(`${live.size} worker(s) still running ${STOP_TIMEOUT_MS / 1000} s after the signal`), STOP_TIMEOUT_MS);
  };

  const kill = (why: string) => {
    log('error', `${why}: killing them (requests still in flight are lost)`);
    for (const worker of live) worker.process.kill('SIGKILL');
    process.exit(1);
  };

  const fail = (line: string) => {
    if (stopping) return;
    process.stderr.write(`${line}\n`);
    shutDown(1);
  };

  const onSignal = () => (stopping ? kill('a second signal') : shutDown(0));
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  // The primary never serves: its engine is closed unused (Redis never connected).
  app.close().catch(error => log('warning', `closing the primary's unused session engine failed: ${String(error)}`));
  for (let i = 0; i < count; i++) fork();
  return new Promise<never>(() => {});
}
