/**
 * Fault injection under load: two app servers (processes of their own) on one session store,
 * `clients` concurrent clients alternating a write (GET /counter, an increment) and a read
 * (GET /whoami) over both, and one fault in the middle. Measures acknowledged writes lost (each
 * client's stored count must cover every increment it got a 2xx for), requests over
 * command_timeout, non-2xx other than 503, the time from "the store is back" to the first
 * acknowledged write, the longest stretch without one, and the servers' RSS before and after.
 * A client whose session becomes unknown follows the new cookie (as a browser does); its count
 * starts again, so every increment it had is lost, and the session counts as lost too.
 */
import { replicationInfo, startCluster, startFailoverGroup, startRedis, waitUntil } from '../test/support/redis-server.ts';
import { startAppServer, type AppServer } from './processes.ts';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const AOF = ['--appendonly', 'yes', '--appendfsync', 'always'];
/** The engine's default command_timeout, set explicitly so the threshold below is the one in force. */
export const COMMAND_TIMEOUT_MS = 1000;
/**
 * Times are taken by the client, so a 503 given right at command_timeout arrives a little after
 * it (HTTP, two processes' scheduling): "over command_timeout" counts what took longer than
 * command_timeout + this; what took longer than command_timeout alone is listed as well.
 */
export const GRACE_MS = 100;

/** A session store that can fail: the Redis options the apps get, the fault, and clean-up. */
export interface Store {
  redisOptions: Record<string, unknown>;
  /** Injects the fault and resolves with the time the store is back (serving writes again). */
  inject(): Promise<number>;
  stop(): Promise<void>;
}

export interface FaultResult {
  name: string; requests: number; acked: number; lost: number; sessionsLost: number; lostDetail: string[]; overTimeout: number; overStrict: number; maxMs: number; slow: string[];
  non2xx: number; non2xxNot503: number; recoveryMs: number; longestGapMs: number; rssBefore: number[]; rssAfter: number[];
  /** Writes answered 503, and reads answered anything but 2xx. */
  write503: number; readNon2xx: number;
  /** Each server's `session store:` log lines (with `logLevel`; empty without). */
  logs: string[][];
}

/** How a fault run watches its servers: `logLevel` keeps their log at that level for the report. */
export interface FaultOptions { times?: number; logLevel?: 'info' | 'warning' }

/**
 * Runs the load for `seconds` with the fault injected `times` times at even intervals (each one
 * after the store has been back for a while); the recovery reported is the longest of them.
 */
export async function fault(name: string, clients: number, seconds: number, makeStore: () => Promise<Store>, options: FaultOptions = {}): Promise<FaultResult> {
  const times = options.times ?? 1;
  const store = await makeStore();
  const env = {
    SESSION_ENGINE: 'Redis', RELIABILITY_REDIS_OPTIONS: JSON.stringify({ command_timeout: COMMAND_TIMEOUT_MS, ...store.redisOptions }),
    ...(options.logLevel ? { RELIABILITY_LOG_LEVEL: options.logLevel } : {}),
  };
  const watch = { captureLog: options.logLevel !== undefined };
  const servers: AppServer[] = await Promise.all([startAppServer(env, undefined, watch), startAppServer(env, undefined, watch)]);
  const urls = servers.map(s => s.url);
  const rssBefore = servers.map(s => s.memory().rss);
  let sessionsLost = 0, maxMs = 0, requests = 0, acked = 0, overTimeout = 0, overStrict = 0, non2xx = 0, non2xxNot503 = 0, lost = 0, write503 = 0, readNon2xx = 0;
  const slow: string[] = [];
  const unacked: string[] = [];
  let stopped = false, backAt = 0, recoveredAt = 0, lastAck = 0, longestGapMs = 0, recoveryMs = 0;
  const ack = () => {
    const now = Date.now();
    if (lastAck) longestGapMs = Math.max(longestGapMs, now - lastAck);
    lastAck = now;
    if (backAt && !recoveredAt && now >= backAt) { recoveredAt = now; recoveryMs = Math.max(recoveryMs, now - backAt); }
  };
  const worker = async (w: number) => {
    let cookie = '';
    let myAcked = 0;
    for (let i = 0; !stopped && i < 1_000_000; i++) {
      const url = urls[(w + i) % 2]!;
      const write = i % 2 === 0;
      const started = Date.now();
      try {
        const res = await fetch(url + (write ? '/counter' : '/whoami'), { headers: cookie ? { cookie } : {}, signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        requests++;
        const took = Date.now() - started;
        if (took > maxMs) maxMs = took;
        if (took > COMMAND_TIMEOUT_MS) { overStrict++; slow.push(`${write ? 'write' : 'read'} ${res.status} ${took} ms`); }
        if (took > COMMAND_TIMEOUT_MS + GRACE_MS) overTimeout++;
        const set = res.headers.get('set-cookie');
        if (set && write && res.status === 200) {
          const next = set.split(';')[0]!;
          // A new id for a client that had one: its session was unknown to the store.
          if (cookie && next !== cookie) { sessionsLost++; unacked.push(`client ${w}: session unknown after ${myAcked} acknowledged writes`); }
          cookie = next;
        }
        if (res.status >= 200 && res.status < 300) {
          if (write) { acked++; myAcked++; ack(); }
        } else {
          non2xx++;
          if (res.status !== 503) non2xxNot503++;
          if (!write) readNon2xx++; else if (res.status === 503) write503++;
        }
      } catch {
        requests++; non2xx++; non2xxNot503++;
        if (!write) readNon2xx++;
      }
    }
    if (!cookie) return;
    // The stored count must be at least every acknowledged increment (more is a 503 whose write happened).
    let status = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await fetch(urls[0] + '/counter', { headers: { cookie } });
      status = res.status;
      if (res.status === 200) {
        const { count } = await res.json() as { count: number };
        if (myAcked + 1 > count) { lost += myAcked + 1 - count; unacked.push(`client ${w}: ${myAcked} acknowledged, count ${count}`); }
        return;
      }
      await sleep(250);
    }
    lost += myAcked;
    unacked.push(`client ${w}: ${myAcked} acknowledged, its counter answered ${status} for 5 s`);
  };
  try {
    const running = Array.from({ length: clients }, (_, w) => worker(w));
    const step = (seconds * 1000) / (times + 2);
    await sleep(step);
    for (let i = 0; i < times; i++) {
      const faultAt = Date.now();
      if (i > 0 && !recoveredAt) break; // not back from the last one: report that, do not pile on
      backAt = 0;
      recoveredAt = 0;
      backAt = await store.inject();
      // At least 3 s of load after the store is back, however long the fault took.
      await sleep(Math.max(faultAt + (i === times - 1 ? 2 : 1) * step, backAt + 3000) - Date.now());
    }
    stopped = true;
    await Promise.all(running);
    const rssAfter = servers.map(s => s.memory().rss);
    if (slow.length) console.log(`${name}: over command_timeout: ${slow.slice(0, 40).join(', ')}`);
    if (unacked.length) console.log(`${name}: lost: ${unacked.slice(0, 20).join('; ')}`);
    const logs = servers.map(s => s.log().split('\n').filter(line => line.includes('session store:')));
    // Everything a server wrote is shown (a crash's stack too); the store's lines are also kept for the report.
    if (options.logLevel) for (const [i, server] of servers.entries()) console.log(`${name}: server ${i + 1} logged:\n  ${server.log().trim().split('\n').join('\n  ')}`);
    return { name, requests, acked, lost, sessionsLost, lostDetail: unacked, overTimeout, overStrict, maxMs, slow, non2xx, non2xxNot503, recoveryMs: recoveredAt ? recoveryMs : -1, longestGapMs, rssBefore, rssAfter, write503, readNon2xx, logs };
  } finally {
    await Promise.all(servers.map(s => s.stop()));
    await store.stop();
  }
}

/** One Redis with AOF (appendfsync always): SIGKILL, then a restart on the same files. */
export async function redisKilled(): Promise<Store> {
  const redis = await startRedis({ args: AOF });
  return { redisOptions: { url: redis.url }, inject: async () => { await redis.restart(); return Date.now(); }, stop: () => redis.stop() };
}

/** One Redis with AOF, frozen for 3 s (SIGSTOP, then SIGCONT): a hung server. */
export async function redisHung(): Promise<Store> {
  const redis = await startRedis({ args: AOF });
  return { redisOptions: { url: redis.url }, inject: async () => { redis.pause(); await sleep(3000); redis.resume(); return Date.now(); }, stop: () => redis.stop() };
}

/**
 * A master and a replica (both AOF) behind a Sentinel (down-after-milliseconds 500,
 * failover-timeout 2000). `hang` false: the master is killed, and restarted once the replica is
 * promoted (it comes back as a replica); true: it is frozen until then, and resumed after.
 * The store is back when the Sentinel names the replica as master.
 */
export async function sentinelFailover(hang: boolean): Promise<Store> {
  const group = await startFailoverGroup('reliability', 500, AOF);
  return {
    redisOptions: { sentinels: [`127.0.0.1:${group.sentinel.port}`], name: 'reliability' },
    inject: async () => {
      if (hang) group.master.pause(); else await group.master.stop();
      await waitUntil('Sentinel promotes the replica', async () => (await group.masterPort()) === group.replica.port, undefined, 30_000);
      const back = Date.now();
      if (hang) group.master.resume(); else await group.master.restart();
      return back;
    },
    stop: () => group.stop(),
  };
}

/**
 * A Redis Cluster of 3 masters and 3 replicas (all AOF, cluster-node-timeout 1000): one master
 * is killed (SIGKILL) and its replica promoted. The store is back when a replica has become
 * master and the surviving masters report cluster_state:ok.
 */
export async function clusterFailover(): Promise<Store> {
  const cluster = await startCluster({ replicas: 1, nodeTimeoutMs: 1000, args: AOF });
  const [victim, ...others] = cluster.ports;
  return {
    redisOptions: { cluster: cluster.nodes },
    inject: async () => {
      cluster.signal(victim!, 'SIGKILL');
      await waitUntil('a replica is promoted', async () => {
        for (const port of cluster.replicaPorts) if ((await replicationInfo(port)).get('role') === 'master') return true;
        return false;
      }, undefined, 30_000);
      await waitUntil('cluster_state:ok', async () => (await cluster.cli(others[0]!, 'CLUSTER', 'INFO')).includes('cluster_state:ok'), undefined, 30_000);
      return Date.now();
    },
    stop: () => cluster.stop(),
  };
}
