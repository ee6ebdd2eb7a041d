/**
 * Which timer bounds what in the Redis engine. The promise: a request that needs the session
 * answers within command_timeout, with a 503 at the latest. Every timer is set here, from
 * connect_timeout and command_timeout, and only here:
 *
 * | timer | length | bounds |
 * |---|---|---|
 * | connect (ioredis connectTimeout; a Cluster's slotsRefreshTimeout) | connect_timeout | one attempt to open a connection (or to read a Cluster's slots); never a request, which waits through the connection wait |
 * | command (ioredis commandTimeout) | command_timeout | one command, from when ioredis writes it to the socket |
 * | silent socket (ioredis socketTimeout) | command_timeout | no request on its own (the command or operation timer ends it first): a connection silent this long with commands pending is destroyed, which fails them all and reconnects. A hung Redis so becomes an outage (requests fail at once, one log line), and through Sentinel the reconnect finds the new master |
 * | connection wait (redis/connection.ts) | command_timeout | a request that finds no ready connection, all of them sharing one wait; when it expires, the outage begins |
 * | replica wait (WAIT, redis/replica-ack.ts) | command_timeout / 2 | in Redis, how long a write waits for `wait_replicas` replicas; sent right behind the write, so within the write's command timer |
 * | old master close (ioredis disconnectTimeout, Sentinel) | command_timeout | closing the connection to a master Sentinel replaced, which may be frozen |
 * | operation (Cluster, Sentinel; redis/redis.ts's run path) | command_timeout | one whole operation: the connection wait, ioredis's queues, its commands, the WAIT, the retries while a Cluster move is pending |
 * | request (Cluster, Sentinel; `requestDeadlineMs`, deadline.ts's StoreTimeBudget) | command_timeout | all the operations of one request together (a read, then a flush) |
 *
 * Single Redis: no offline queue and no auto-pipelining, so a command is sent when it is
 * called (and leaves the socket by the end of its event-loop turn: redis/write-batch.ts) and its
 * command timer starts with the operation; a request either waits for the
 * connection (and then talks to a Redis that has just answered) or finds it ready, and a hung
 * Redis fails the first command that meets it. No timer of the engine's own. (An operation of
 * several round trips, such as destroyOwned's four, is bounded per round trip.)
 * Sentinel: a failover can hold one operation in the connection wait (for the new master) and
 * then in a command, each up to command_timeout: the operation timer keeps the two within it.
 * Cluster: the node connections keep ioredis's offline queue and auto-pipeline, where a
 * command's timer starts only once it is written, so a command queued for a dead master waited
 * until the Cluster dropped the node (seconds): the operation timer.
 * On both, a request makes two operations: the request timer keeps them together within it.
 *
 * Not here on purpose: a deadline of the pending Cluster move's own (the operation's ends its
 * retries; a single Redis never has a pending move). Known overlap: inside a request the
 * operation timer is implied by the request timer; it stays for operations outside a request
 * (the engine used directly: the contract suite, test/session/engines/redis/cluster-failover.test.ts).
 */

/** The timers of one Redis engine, in milliseconds (see the table above). */
export interface RedisTimeouts {
  /** ioredis connectTimeout, and a Cluster's slotsRefreshTimeout. */
  readonly connectMs: number;
  /** ioredis commandTimeout. */
  readonly commandMs: number;
  /** ioredis socketTimeout: the hang detector. */
  readonly silentSocketMs: number;
  /** How long a request waits for a connection that is not ready (redis/connection.ts). */
  readonly connectionWaitMs: number;
  /** WAIT's timeout for wait_replicas (redis/replica-ack.ts). */
  readonly replicaWaitMs: number;
  /** ioredis disconnectTimeout, Sentinel only. */
  readonly oldMasterCloseMs: number;
  /** One operation, on a Cluster or with Sentinel; undefined on a single Redis. */
  readonly operationMs: number | undefined;
  /** All of one request's operations (StoredEngine.requestDeadlineMs): as operationMs. */
  readonly requestMs: number | undefined;
}

/**
 * The options the timers are made from: the Redis options' own keys (options.ts), named here so
 * that the options, which apply the timers to ioredis, and this file do not import each other.
 */
export interface TimeoutOptions {
  command_timeout: number;
  connect_timeout: number;
  cluster: readonly string[] | undefined;
  sentinels: readonly string[] | undefined;
}

export function redisTimeouts(options: TimeoutOptions): RedisTimeouts {
  const command = options.command_timeout;
  const bounded = options.cluster !== undefined || options.sentinels !== undefined ? command : undefined;
  return {
    connectMs: options.connect_timeout,
    commandMs: command,
    silentSocketMs: command,
    connectionWaitMs: command,
    replicaWaitMs: Math.max(1, Math.floor(command / 2)),
    oldMasterCloseMs: command,
    operationMs: bounded,
    requestMs: bounded,
  };
}
