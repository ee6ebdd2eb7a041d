/**
 * The Redis engine's settings under `engines.session.Redis`, their cross-key rules, and the
 * ioredis options they describe (the client itself is made in redis/client.ts, which alone loads
 * ioredis). Nothing here loads ioredis: config.yml's Redis block is checked on every start.
 */
import { readFileSync } from 'node:fs';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../../base/errors.ts';
import { integer, list, mapping, matching, readOptions, string, type Specs } from '../../../base/schema.ts';
import { withoutUrlPassword } from '../../../base/secret-names.ts';
import { SCRIPTS } from './scripts.ts';
import { redisTimeouts } from './timeouts.ts';

export interface RedisEngineOptions {
  /** `host:port` of a single Redis; the default when no url, sentinels or cluster is given. */
  server: string | undefined;
  /** `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. */
  url: string | undefined;
  password: string | undefined;
  /** 0 to 15; not with `cluster` (Redis Cluster has database 0 only). */
  database: number | undefined;
  key_prefix: string;
  /** Milliseconds allowed to open a connection. */
  connect_timeout: number;
  /** Milliseconds a request waits for Redis before it answers 503. */
  command_timeout: number;
  /** `host:port` of each sentinel; `name` is the master they watch. */
  sentinels: string[] | undefined;
  name: string | undefined;
  /** `host:port` of some cluster nodes (the rest are discovered). */
  cluster: string[] | undefined;
  /**
   * Replicas that must have a write before it is acknowledged (WAIT, within half of
   * command_timeout; else 503). Default: 1 with sentinels, 0 otherwise; not with cluster.
   */
  wait_replicas: number | undefined;
  /**
   * TLS to Redis beyond what a rediss:// url gives (RedisTls): a private CA, a client certificate,
   * a server name. Given with `server` or `cluster` it turns TLS on; with a url it must be rediss://.
   */
  tls: RedisTls | undefined;
  /**
   * What to do when Redis may evict sessions (redis/eviction.ts): `warn` (default) logs a
   * warning when the engine connects, `refuse` answers 503 until maxmemory-policy is noeviction,
   * `ignore` does not check (a Redis that forbids INFO).
   */
  eviction: EvictionCheck;
}

/**
 * The `tls:` block. Each of ca, cert and key is a file's path (relative to the working
 * directory) or the PEM text itself (from the environment: `ca: "${REDIS_CA}"`).
 */
export interface RedisTls {
  /** The CA (or the self-signed certificate) that signs the server's certificate. */
  ca: string | undefined;
  /** A client certificate, for a Redis with tls-auth-clients; with `key`. */
  cert: string | undefined;
  key: string | undefined;
  /** The name the server's certificate must carry, when it is not the host connected to. */
  server_name: string | undefined;
}

const tlsSpecs: Specs<RedisTls> = { ca: string(undefined), cert: string(undefined), key: string(undefined), server_name: string(undefined) };

/** How `eviction` reads in config.yml: warn (default), refuse to serve, or not check (redis/eviction.ts). */
export type EvictionCheck = 'warn' | 'refuse' | 'ignore';

export const DEFAULT_SERVER = '127.0.0.1:6379';

// address := host ":" port ; host := name | IPv4 | "[" IPv6 "]" ; port := 1..65535
const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/;
const ADDRESS_EXPECTED = 'a "host:port" address such as "127.0.0.1:6379"';
// url := ("redis" | "rediss") "://" [userinfo "@"] host [":" port] ["/" db] ; no spaces
const URL_PATTERN = /^rediss?:\/\/\S+$/i;

export const redisOptionSpecs: Specs<RedisEngineOptions> = {
  server: matching(undefined, ADDRESS, ADDRESS_EXPECTED),
  url: matching(undefined, URL_PATTERN, 'a URL starting with redis:// or rediss:// (TLS)'),
  password: string(undefined),
  database: integer(undefined, 0, 15),
  key_prefix: string('dancer.session:'),
  connect_timeout: integer(2000, 1),
  command_timeout: integer(1000, 1),
  sentinels: list(matching(undefined, ADDRESS, ADDRESS_EXPECTED), undefined) as Specs<RedisEngineOptions>['sentinels'],
  name: string(undefined),
  cluster: list(matching(undefined, ADDRESS, ADDRESS_EXPECTED), undefined) as Specs<RedisEngineOptions>['cluster'],
  wait_replicas: integer(undefined, 0, 16),
  // Read as a mapping here, checked key by key in validateRedisOptions (which knows its path).
  tls: { ...mapping({}), fallback: undefined } as unknown as Specs<RedisEngineOptions>['tls'],
  eviction: string('warn', ['warn', 'refuse', 'ignore']) as Specs<RedisEngineOptions>['eviction'],
};

/**
 * The rules that span keys, which the per-key specs cannot express. `path` is where the options
 * sit in `file` (`engines.session.Redis`). Throws a ConfigError that says how to fix it.
 */
export function validateRedisOptions(options: RedisEngineOptions, where: { file: string; path: string }): void {
  const at = (key: string) => (where.path ? `${where.path}.${key}` : key);
  const modes = [
    options.url !== undefined && 'url',
    options.server !== undefined && 'server',
    options.sentinels !== undefined && 'sentinels',
    options.cluster !== undefined && 'cluster',
  ].filter((mode): mode is string => mode !== false);
  if (modes.length > 1) {
    throw new ConfigError(where.file, at(modes[1]!), `only one of url, server, sentinels (with name) or cluster; ${modes.join(' and ')} are both set`);
  }
  if (options.url !== undefined) {
    const db = URL.canParse(options.url) ? new URL(options.url).pathname.replace(/^\//, '') : undefined;
    if (db === undefined || !/^(?:[0-9]|1[0-5])?$/.test(db)) {
      throw new ConfigError(where.file, at('url'), 'a URL like redis://[:password@]host[:port][/database 0-15]', withoutUrlPassword(options.url));
    }
  }
  if (options.sentinels !== undefined && options.sentinels.length === 0) {
    throw new ConfigError(where.file, at('sentinels'), 'at least one sentinel "host:port"', options.sentinels);
  }
  if (options.sentinels !== undefined && options.name === undefined) {
    throw new ConfigError(where.file, at('name'), 'the master name the sentinels monitor (required with sentinels)');
  }
  if (options.name !== undefined && options.sentinels === undefined) {
    throw new ConfigError(where.file, at('name'), 'name only together with sentinels (it names their master)', options.name);
  }
  if (options.cluster !== undefined && options.cluster.length === 0) {
    throw new ConfigError(where.file, at('cluster'), 'at least one cluster node "host:port"', options.cluster);
  }
  if (options.cluster !== undefined && (options.wait_replicas ?? 0) > 0) {
    // ioredis sends a keyless WAIT to any node, not to the one that took the write.
    throw new ConfigError(where.file, at('wait_replicas'), '0 with cluster (the client cannot send WAIT to the node that took the write)', options.wait_replicas);
  }
  if (options.cluster !== undefined && options.database !== undefined && options.database !== 0) {
    throw new ConfigError(where.file, at('database'), 'no database with cluster (Redis Cluster has database 0 only)', options.database);
  }
  if (options.tls !== undefined) validateTls(options, where.file, at);
}

/** The tls block: known keys, readable PEM files, cert and key together, a url that says TLS. */
function validateTls(options: RedisEngineOptions, file: string, parent: (key: string) => string): void {
  const tls = readOptions(tlsSpecs, options.tls, { file, path: parent('tls') });
  const where = { file };
  const at = (key: string) => parent(`tls.${key}`);
  if (options.url !== undefined && !options.url.startsWith('rediss://')) {
    throw new ConfigError(file, parent('url'), 'a rediss:// url with a tls block (redis:// is plain text)', withoutUrlPassword(options.url));
  }
  if (options.sentinels !== undefined) {
    throw new ConfigError(file, parent('tls'), 'no tls block with sentinels (not supported yet: keep Redis and its sentinels on a private network, or use url or cluster)');
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(where.file, at(tls.cert === undefined ? 'cert' : 'key'), 'cert and key together (the client certificate and its private key)');
  }
  for (const key of ['ca', 'cert', 'key'] as const) {
    const value = tls[key];
    if (value === undefined) continue;
    let pem: string;
    try {
      pem = pemOf(value);
    } catch (error) {
      throw new ConfigError(where.file, at(key), `a readable PEM file or the PEM text (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, value);
    }
    if (!pem.includes('-----BEGIN')) throw new ConfigError(where.file, at(key), 'a PEM file (-----BEGIN ...) or the PEM text', value);
  }
}

/** A tls value as PEM: the text itself when it is PEM, else the file it names. */
function pemOf(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

/** The node:tls options for the connection, or undefined for plain text (a rediss:// url alone uses the default CAs). */
export function tlsConnectionOptions(options: RedisEngineOptions): ConnectionOptions | undefined {
  const tls = options.tls as RedisTls | undefined;
  if (tls === undefined) return undefined;
  return {
    ...(tls.ca === undefined ? {} : { ca: pemOf(tls.ca) }),
    ...(tls.cert === undefined ? {} : { cert: pemOf(tls.cert) }),
    ...(tls.key === undefined ? {} : { key: pemOf(tls.key) }),
    ...(tls.server_name === undefined ? {} : { servername: tls.server_name }),
  };
}

/** A host:port address (already checked by the spec) as ioredis wants it. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}

/** Where the engine stores, for log lines; never includes a password. */
export function describeTarget(options: RedisEngineOptions): string {
  if (options.cluster) return `Redis Cluster ${options.cluster.join(',')}`;
  if (options.sentinels) return `Redis master "${options.name}" via sentinels ${options.sentinels.join(',')}`;
  if (options.url) return `Redis ${withoutUrlPassword(options.url)}`;
  return `Redis ${options.server ?? DEFAULT_SERVER}`;
}

/** Reconnects quickly at first, then every second at most, for as long as it takes. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.max(0, attempt - 1), 1000);
}

/** What every connection gets: timeouts (redis/timeouts.ts), credentials, and no re-sending after a lost connection. */
function connectionOptions(options: RedisEngineOptions) {
  const timeouts = redisTimeouts(options);
  return {
    connectTimeout: timeouts.connectMs,
    commandTimeout: timeouts.commandMs,
    socketTimeout: timeouts.silentSocketMs,
    // On a lost connection, fail what was in flight at once instead of re-sending it later.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectionName: 'quickstep.session',
    ...(options.password === undefined ? {} : { password: options.password }),
    ...tlsOption(options),
  };
}

/** ioredis's `tls` option from the tls block; with a rediss:// url ioredis merges it with its own. */
function tlsOption(options: RedisEngineOptions): { tls?: ConnectionOptions } {
  const tls = tlsConnectionOptions(options);
  return tls === undefined ? {} : { tls };
}

/**
 * The ioredis options for a single node or a sentinel-watched master: lazy, bounded, and never
 * queueing while disconnected (a queued command would be sent when Redis returns, after its
 * request already answered 503). The engine waits for 'ready' itself (redis/connection.ts).
 */
export function redisClientOptions(options: RedisEngineOptions): RedisOptions & { replyMapping?: 'legacy' } {
  const base: RedisOptions & { replyMapping?: 'legacy' } = {
    ...connectionOptions(options),
    lazyConnect: true,
    enableOfflineQueue: false,
    // Off: auto-pipelining builds an ioredis Pipeline per batch, which copies every defined
    // script onto itself; measured (bench, Node 24, CPU per request) it cost more than the writes
    // it saves: read 0.76x -> 0.80x, write 0.65x -> 0.71x, and the login flood's app server
    // 0.65 -> 0.55 cores. The engine batches the socket writes itself instead (redis/write-batch.ts).
    enableAutoPipelining: false,
    retryStrategy: reconnectDelay,
    scripts: SCRIPTS,
    ...(options.database === undefined ? {} : { db: options.database }),
  };
  if (options.sentinels) {
    return {
      ...base,
      sentinels: options.sentinels.map(parseAddress),
      name: options.name!,
      // A master that hangs keeps its connection open: without this the client stays on it, and
      // when it resumes it takes writes, as master, until Sentinel demotes it and the resync
      // discards them. The sentinels' +switch-master closes the connection at once;
      // the reconnect asks them for the new master.
      failoverDetector: true,
      // The old master may be frozen and never answer the close: give up on it quickly.
      disconnectTimeout: redisTimeouts(options).oldMasterCloseMs,
      // A master demoted while this client stayed on it refuses writes with READONLY: reconnect
      // (to the master the sentinels name) rather than fail every write until a restart.
      reconnectOnError: isReadOnlyError,
    };
  }
  if (options.url) return base;
  return { ...base, ...parseAddress(options.server ?? DEFAULT_SERVER) };
}

/**
 * The ioredis options for a cluster. Its node connections keep ioredis's offline queue (the
 * cluster opens them lazily and would refuse commands while one connects): the engine's
 * operation timer bounds what waits there (redis/timeouts.ts). The engine waits for the
 * cluster's own 'ready'.
 */
export function clusterClientOptions(options: RedisEngineOptions): ClusterOptions & { redisOptions: { replyMapping?: 'legacy' } } {
  return {
    lazyConnect: true,
    // Off on a Cluster too: with it on, a command that met a slot being moved came back as a
    // MOVED error instead of being redirected (ioredis's auto-pipelined batches), so a routine
    // resharding answered 4-5% of requests with 503; off, none (reshard.test.ts).
    enableAutoPipelining: false,
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: redisTimeouts(options).connectMs,
    scripts: SCRIPTS,
    redisOptions: connectionOptions(options),
  };
}

/** A write refused by a replica (Redis's error code READONLY, the reply's first word). */
function isReadOnlyError(error: Error): boolean {
  return error.message.startsWith('READONLY');
}
