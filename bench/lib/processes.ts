/**
 * Child processes pinned to one core with `taskset`, and the guarantee that none outlives the
 * run: every child is registered and SIGKILLed on exit, Ctrl-C or a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const child of children) child.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** The bench's two cores: the server under test on one, the load (wrk) and Redis on the other. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

/** A running child with the tail of its output, for error messages. */
export interface Pinned {
  child: ChildProcess;
  output(): string;
}

/** Starts `command` on `core` (taskset execs it, so the pid is the command's own). */
export function spawnPinned(core: number, command: string, args: string[], env: NodeJS.ProcessEnv = {}): Pinned {
  const child = spawn('taskset', ['-c', String(core), command, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let tail = '';
  // Always drain both pipes: a child blocked on a full pipe would look like a slow server.
  const keep = (chunk: Buffer): void => { tail = (tail + chunk.toString()).slice(-4000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => tail };
}

/** Resolves with the first match of `pattern` in the child's output (stdout or stderr); rejects if it exits or times out. */
export function waitFor(pinned: Pinned, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = pinned.output().match(pattern);
      if (match) finish(() => resolve(match));
    };
    const fail = (why: string) => (): void => finish(() => reject(new Error(`${why}: ${reason(pinned.output())}`)));
    const onExit = fail('exited before it was ready');
    const timer = setTimeout(fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      pinned.child.stdout?.off('data', check);
      pinned.child.stderr?.off('data', check);
      pinned.child.off('exit', onExit);
      settle();
    };
    pinned.child.stdout?.on('data', check);
    pinned.child.stderr?.on('data', check);
    pinned.child.once('exit', onExit);
    check();
  });
}

/** The line of a failed child's output that says why: its first error line, else its last line. */
function reason(output: string): string {
  const lines = output.split('\n').map(line => line.trim()).filter(Boolean);
  return lines.find(line => /error/i.test(line)) ?? lines.at(-1) ?? '(no output)';
}

/** SIGTERM, then SIGKILL if the child is still there after a second. */
export async function stop(pinned: Pinned): Promise<void> {
  const { child } = pinned;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
  await exited;
  clearTimeout(timer);
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Resolves once 127.0.0.1:`port` accepts a connection (polled); rejects if the child exits or after `timeoutMs`. */
export async function waitForPort(pinned: Pinned, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>(resolve => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (pinned.child.exitCode !== null || pinned.child.signalCode !== null) throw new Error(`exited before it was ready: ${reason(pinned.output())}`);
    if (Date.now() > deadline) throw new Error(`not listening after ${timeoutMs} ms: ${reason(pinned.output())}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}
