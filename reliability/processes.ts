/**
 * Child processes for `npm run reliability`: app servers (reliability/server.ts) and load
 * generators (reliability/attacker.ts), so the server's latency and memory are measured apart
 * from the clients that load it, optionally each on a core of its own (taskset), as the bench
 * does. RSS and CPU time come from /proc (Linux).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { processCpuSeconds, snapshot, type CpuSnapshot } from '../bench/lib/cpu.ts';
import { ROOT } from '../test/example-app/harness.ts';

const NODE_ARGS = ['--conditions=quickstep-source', '--import', 'tsx'];
const children = new Set<ChildProcess>();
process.on('exit', () => { for (const child of children) child.kill('SIGKILL'); });

/** Whether processes can be pinned to cores: taskset is there and the machine has two cores or more. */
export const canPin = cpus().length >= 2 && spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/** Pins a running process (all its threads) to `cores` ("1", "0-3"); does nothing when it cannot. */
export function pin(pid: number, cores: string): void {
  if (canPin) spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
}

/** A node process for `script`; on `core` when given and pinning works (taskset execs, so the pid is node's). */
function node(script: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = [], core?: number, watch: Watch = {}): ChildProcess {
  const command = [process.execPath, ...nodeArgs, ...NODE_ARGS, script, ...args];
  const pinned = core !== undefined && canPin ? ['taskset', '-c', String(core), ...command] : command;
  const stdio = ['ignore', 'pipe', watch.captureLog ? 'pipe' : 'inherit', ...(watch.ipc ? ['ipc' as const] : [])] as const;
  const child = spawn(pinned[0]!, pinned.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: [...stdio] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Bytes of a process's resident memory: now (VmRSS) and its peak so far (VmHWM). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  let status = '';
  try { status = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return { rss: NaN, peak: NaN }; }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd); NaN once it is gone. */
export function openFds(pid: number): number {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return NaN; }
}

/** What a server reports of itself (server.ts, RELIABILITY_SAMPLE=1): V8 heap used after a full GC, active resources. */
export interface SelfReport { heapUsed: number; handles: number }

/**
 * How the parent watches an app server. `captureLog`: its stderr (the log) is kept for log()
 * instead of shown; `ipc`: an IPC channel on which the server answers sample() (server.ts).
 */
export interface Watch { captureLog?: boolean; ipc?: boolean }

export interface AppServer {
  url: string;
  pid: number;
  memory(): { rss: number; peak: number };
  cpuSeconds(): number;
  /** Its stderr so far (with `captureLog`; '' without). */
  log(): string;
  /** Asks the server for its heap and active resources (with `ipc`); rejects after 5 s without an answer. */
  sample(): Promise<SelfReport>;
  /** SIGTERM (requests finish) and wait for the exit; SIGKILL after 10 s. */
  stop(): Promise<void>;
}

/**
 * Starts the example app in its own process; `env` chooses the engine (see server.ts). With
 * RELIABILITY_PROFILE_DIR set, each server writes a V8 CPU profile there when it stops.
 */
export function startAppServer(env: NodeJS.ProcessEnv, core?: number, watch: Watch = {}): Promise<AppServer> {
  const profile = process.env.RELIABILITY_PROFILE_DIR;
  // A watched server may collect garbage on request, so its heap is measured after a full GC.
  const nodeArgs = [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), ...(watch.ipc ? ['--expose-gc'] : [])];
  const child = node('reliability/server.ts', [], { ...env, ...(watch.ipc ? { RELIABILITY_SAMPLE: '1' } : {}) }, nodeArgs, core, watch);
  let log = '';
  child.stderr?.on('data', chunk => (log += String(chunk)));
  const sample = () => new Promise<SelfReport>((resolve, reject) => {
    if (!child.connected) return reject(new Error('the app server has no IPC channel (start it with ipc: true)'));
    const timer = setTimeout(() => { child.off('message', answer); reject(new Error('the app server did not report within 5 s')); }, 5000);
    const answer = (message: unknown) => {
      if ((message as { heapUsed?: unknown }).heapUsed === undefined) return;
      clearTimeout(timer);
      child.off('message', answer);
      resolve(message as SelfReport);
    };
    child.on('message', answer);
    child.send('sample');
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`app server printed no URL within 30 s: ${output}`)), 30_000);
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`app server exited (${code}) before listening: ${output}`)); });
    child.stdout!.on('data', chunk => {
      output += String(chunk);
      const url = /listening (http:\S+)\n/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        pid: child.pid!,
        memory: () => memoryOf(child.pid!),
        cpuSeconds: () => processCpuSeconds(child.pid!),
        log: () => log,
        sample,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise(done => child.once('exit', done));
          child.kill('SIGTERM');
          const hard = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(hard);
        },
      });
    });
  });
}

/** Runs reliability/attacker.ts with `args` and resolves with the JSON it prints last. */
export function runAttacker<T>(args: string[], core?: number): Promise<T> {
  const child = node('reliability/attacker.ts', args, {}, [], core);
  let output = '';
  child.stdout!.on('data', chunk => (output += String(chunk)));
  return new Promise((resolve, reject) => {
    child.once('exit', code => {
      const last = output.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(last) as T);
      } catch (error) {
        reject(new Error(`attacker ${args.join(' ')}: ${(error as Error).message}; output: ${output.slice(-500)}`));
      }
    });
  });
}

/** The machine's per-core CPU time so far (bench/lib/cpu.ts), for stealBetween; undefined without /proc/stat. */
export function machineCpu(): CpuSnapshot | undefined {
  try {
    return snapshot();
  } catch {
    return undefined;
  }
}
