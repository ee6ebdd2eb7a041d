/**
 * One wrk run: keep-alive, one thread, 50 connections, pinned to the load core, with latency
 * percentiles (`--latency`). With cookies,
 * bench/wrk/cookies.lua cycles through one prebuilt request per session, so every session is
 * used and a server cannot win by caching a single one.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../wrk/cookies.lua', import.meta.url));

/** What one run measured. */
export interface WrkResult {
  requests: number;
  rps: number;
  /** Non-2xx responses plus socket errors: any is a broken scenario, not a slow one. */
  failures: number;
  /** Latency percentiles from `--latency`, in milliseconds (NaN if wrk printed none). */
  p50: number;
  p99: number;
}

/** wrk prints durations as 850.00us, 1.23ms, 2.01s or 1.00m. */
function milliseconds(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  if (!match) return Number.NaN;
  const scale = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

/** wrk's connections and its per-request timeout (a server under valgrind needs a longer one). */
export interface WrkOptions { connections: number; timeoutSeconds: number }

/** Runs wrk against `url` for `seconds` on `core`, sending one of `cookies` and all of `headers` with each request. */
export async function wrk(url: string, seconds: number, core: number, cookies: string[], headers: Record<string, string> = {},
  { connections, timeoutSeconds }: WrkOptions = { connections: 50, timeoutSeconds: 2 }): Promise<WrkResult> {
  const { stdout } = await run('taskset', [
    '-c', String(core), 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, `--timeout`, `${timeoutSeconds}s`, '--latency', '-s', script, url,
  ], { env: { ...process.env, BENCH_COOKIES: cookies.join('\n'), BENCH_HEADERS: Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n') }, timeout: (seconds + 30) * 1000 });
  const number = (pattern: RegExp): number => Number(pattern.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requests: number(/(\d+) requests in/),
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    failures: number(/Non-2xx or 3xx responses: (\d+)/) + socketErrors,
    p50: milliseconds(/^\s+50%\s+(\S+)$/m.exec(stdout)?.[1]),
    p99: milliseconds(/^\s+99%\s+(\S+)$/m.exec(stdout)?.[1]),
  };
}

/** The installed wrk's version, for the results header. */
export async function wrkVersion(): Promise<string> {
  // `wrk -v` prints its banner and exits 1; the banner is what we want.
  const result = await run('wrk', ['-v']).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return /wrk (\S+)/.exec(result.stdout)?.[1] ?? '?';
}
