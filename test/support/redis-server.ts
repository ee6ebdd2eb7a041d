/**
 * Real Redis processes for the engine tests (no fakes): a single server, a 3-master cluster, a
 * sentinel, and a master + replica + sentinel group for failovers, each on free 127.0.0.1 ports
 * with its own temporary directory, killed and cleaned up when the test stops them and,
 * whatever happens, when the test process exits.
 *
 * Without `redis-server` on PATH the Redis suites report their tests as skipped, except under
 * `CI=true`, where a missing redis-server fails a test: CI must not silently skip Redis.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, type Test } from 'uvu';

const HOST = '127.0.0.1';
const running = new Set<ChildProcess>();
const directories = new Set<string>();

function cleanUp(): void {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp();
    process.kill(process.pid, signal);
  });
}

let available: boolean | undefined;
/** Whether `redis-server` is on PATH. */
export function redisAvailable(): boolean {
  return (available ??= spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0);
}

/**
 * A uvu suite for tests that need redis-server. When it is missing, every test is reported as
 * skipped and no hook runs; under CI=true one more test fails and says what to install.
 */
export function redisSuite<T = Record<string, unknown>>(name: string, context?: T): Test<T> {
  const real = suite<T>(name, context);
  if (redisAvailable()) return real;
  if (process.env.CI === 'true') {
    real('redis-server is installed', () => {
      throw new Error('redis-server is not on PATH, and CI=true forbids skipping the Redis tests: install the Debian package redis-server (.ci/run should)');
    });
  }
  const skipped = ((title: string, fn: Parameters<Test<T>>[1]) => real.skip(title, fn)) as Test<T>;
  const noHook = Object.assign(() => {}, { each: () => {} });
  return Object.assign(skipped, { only: real.skip, skip: real.skip, before: noHook, after: noHook, run: real.run });
}

/** A free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** Sends one inline command and resolves with the raw reply, or rejects (refused, timeout). */
function ask(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timeout')));
    socket.on('error', reject);
    socket.on('data', chunk => {
      reply += chunk.toString();
      if (reply.endsWith('\r\n')) {
        socket.end();
        resolve(reply);
      }
    });
    socket.write(`${command}\r\n`);
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, child?: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with code ${child.exitCode}`);
    if (await check().catch(() => false)) return;
    await sleep(25);
  }
  throw new Error(`${what}: not ready within ${timeoutMs} ms`);
}

/** Runs redis-cli against `port` and resolves with its trimmed output. */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', HOST, '-p', String(port), ...args], (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

function spawnRedis(args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'quickstep-redis-'));
  directories.add(dir);
  return dir;
}

export interface RedisServer {
  port: number;
  url: string;
  /** Kills the server (like a crash) and waits for it to exit. The port is kept for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers, as a hung Redis. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** redis-cli against this server: `await redis.cli('GET', key)`. */
  cli(...args: string[]): Promise<string>;
  /** The `calls` of each command since the last `CONFIG RESETSTAT`, from INFO commandstats. */
  commandCalls(): Promise<Map<string, number>>;
}

/** Starts a redis-server on a free loopback port, with nothing saved to disk. */
export async function startRedis(options: { args?: string[] } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawnRedis(['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, ...(options.args ?? [])]);
    // Any answer will do: with requirepass, PING is refused with NOAUTH, but the server is up.
    await waitUntil(`redis-server on port ${port}`, async () => /^(\+PONG|-NOAUTH)/.test(await ask(port, 'PING')), child);
  };
  await start();
  const stop = () => kill(child);
  return {
    port,
    url: `redis://${HOST}:${port}`,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    cli: (...args) => redisCli(port, ...args),
    commandCalls: () => commandCalls(port),
  };
}

async function commandCalls(port: number): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  for (const [, name, count] of (await redisCli(port, 'INFO', 'commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(name!, Number(count));
  }
  return calls;
}

export interface RedisCluster {
  /** The masters' client ports (as created; a failover changes who is master, not this list). */
  ports: number[];
  /** The replicas' client ports (empty unless started with `replicas: 1`). */
  replicaPorts: number[];
  /** `127.0.0.1:port` of every master, for the engine's `cluster` option. */
  nodes: string[];
  cli(port: number, ...args: string[]): Promise<string>;
  /** Sends `signal` to the node on `port` (SIGKILL: a crash; SIGSTOP / SIGCONT: a hang). */
  signal(port: number, signal: NodeJS.Signals): void;
  stop(): Promise<void>;
}

/**
 * Starts a 3-master Redis Cluster on loopback and waits for cluster_state:ok: no replicas by
 * default; with `replicas: 1`, one replica per master (6 nodes), which Redis promotes when its
 * master stays unreachable for `nodeTimeoutMs` (default 2000). `args` go to every node.
 */
export async function startCluster(options: { replicas?: 0 | 1; nodeTimeoutMs?: number; args?: string[] } = {}): Promise<RedisCluster> {
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  const byPort = new Map<number, ChildProcess>();
  const replicas = options.replicas ?? 0;
  try {
    for (let i = 0; i < 3 * (1 + replicas); i++) {
      const port = await freePort();
      const busPort = await freePort();
      const dir = tempDir();
      const child = spawnRedis([
        '--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
        '--cluster-port', String(busPort), '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000),
        ...(options.args ?? []),
      ]);
      children.push(child);
      byPort.set(port, child);
      ports.push(port);
      await waitUntil(`cluster node on port ${port}`, async () => (await ask(port, 'PING')).startsWith('+PONG'), child);
    }
    const all = ports.map(port => `${HOST}:${port}`);
    await new Promise<void>((resolve, reject) => {
      // With replicas, redis-cli makes the first three nodes masters and the others their replicas.
      execFile('redis-cli', ['--cluster', 'create', ...all, '--cluster-replicas', String(replicas), '--cluster-yes'], (error, stdout, stderr) =>
        error ? reject(new Error(`redis-cli --cluster create: ${stderr || stdout}`)) : resolve(),
      );
    });
    for (const port of ports) {
      await waitUntil(`cluster_state:ok on ${port}`, async () => (await redisCli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    }
    const masterPorts: number[] = [];
    const replicaPorts: number[] = [];
    for (const port of ports) ((await replicationInfo(port)).get('role') === 'master' ? masterPorts : replicaPorts).push(port);
    for (const port of replicaPorts) {
      await waitUntil(`replica ${port} in sync`, async () => (await replicationInfo(port)).get('master_link_status') === 'up');
    }
    return {
      ports: masterPorts,
      replicaPorts,
      nodes: masterPorts.map(port => `${HOST}:${port}`),
      cli: redisCli,
      signal: (port, signal) => void byPort.get(port)?.kill(signal),
      stop: async () => {
        for (const child of children) child.kill('SIGCONT');
        await Promise.all(children.map(kill));
      },
    };
  } catch (error) {
    await Promise.all(children.map(kill));
    throw error;
  }
}

export interface RedisSentinel {
  port: number;
  /** The master name it monitors. */
  name: string;
  stop(): Promise<void>;
}

/**
 * Starts one sentinel (redis-server --sentinel) monitoring the master on `masterPort`, with
 * quorum 1. `downAfterMs` and `failoverTimeoutMs` are Sentinel's down-after-milliseconds and
 * failover-timeout: small values make a failover take about a second.
 */
export async function startSentinel(masterPort: number, name = 'quickstep', timing: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<RedisSentinel> {
  const port = await freePort();
  const dir = tempDir();
  const config = join(dir, 'sentinel.conf');
  // Sentinel rewrites its config file, so it lives in the temporary directory.
  writeFileSync(config, [
    `port ${port}`, `bind ${HOST}`, `dir ${dir}`,
    `sentinel monitor ${name} ${HOST} ${masterPort} 1`,
    `sentinel down-after-milliseconds ${name} ${timing.downAfterMs ?? 5000}`,
    `sentinel failover-timeout ${name} ${timing.failoverTimeoutMs ?? 180_000}`,
    '',
  ].join('\n'));
  const child = spawnRedis([config, '--sentinel']);
  await waitUntil(`sentinel on port ${port}`, async () => (await ask(port, `SENTINEL get-master-addr-by-name ${name}`)).startsWith('*2'), child);
  return { port, name, stop: () => kill(child) };
}

/** The replication section of INFO as key -> value (`role`, `master_link_status`, ...). */
export async function replicationInfo(port: number): Promise<Map<string, string>> {
  const info = await redisCli(port, 'INFO', 'replication');
  return new Map(info.split(/\r?\n/).filter(line => line.includes(':')).map(line => line.split(':', 2) as [string, string]));
}

export interface RedisFailoverGroup {
  master: RedisServer;
  replica: RedisServer;
  sentinel: RedisSentinel;
  /** The port the sentinel currently names as master. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A master, one replica of it and a sentinel watching both, for failover tests: the sentinel
 * calls the master down after `downAfterMs` (default 500) without an answer, promotes the
 * replica, and turns the old master into a replica when it answers again. `args` go to both
 * servers (e.g. AOF).
 */
export async function startFailoverGroup(name = 'quickstep', downAfterMs = 500, args: string[] = []): Promise<RedisFailoverGroup> {
  const master = await startRedis({ args });
  const replica = await startRedis({ args: [...args, '--replicaof', HOST, String(master.port)] });
  const stopAll = () => Promise.all([replica.stop(), master.stop()]);
  try {
    await waitUntil('replica in sync', async () => (await replicationInfo(replica.port)).get('master_link_status') === 'up');
    const sentinel = await startSentinel(master.port, name, { downAfterMs, failoverTimeoutMs: 2000 });
    // Sentinel learns of replicas from the master's INFO; a failover needs one it knows.
    await waitUntil('sentinel knows the replica', async () => (await redisCli(sentinel.port, 'SENTINEL', 'REPLICAS', name)).includes(String(replica.port)));
    return {
      master,
      replica,
      sentinel,
      masterPort: async () => Number((await redisCli(sentinel.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n')[1]),
      stop: async () => {
        master.resume();
        await sentinel.stop();
        await stopAll();
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export { waitUntil };
