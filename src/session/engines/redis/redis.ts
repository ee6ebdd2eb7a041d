/**
 * The Redis session engine (ioredis), for sessions shared by several app servers.
 *
 * One JSON string per session at `key_prefix + id`, with the TTL `session_duration`: readable
 * with `redis-cli GET`. A read is one round trip (a script: GET, and the TTL slid to at least
 * session_duration); a flush is one more, a script that applies the change to what is stored now
 * (redis/scripts.ts). A request that only writes keys skips the read: flushUnread is one script
 * that also applies the expiry rules from the stored meta.
 * changeId leaves a moved-to pointer at the old key for a few seconds, which only flushes follow: a
 * request that read the session before its id changed stores its write under the new id.
 *
 * The connection opens on the first session use, so an app whose Redis is down still starts and
 * answers every route that does not touch the session. While Redis is down, a request that needs
 * the session fails with SessionStoreError (503) within `command_timeout`, nothing is queued for
 * later, one line is logged per outage, and sessions work again as soon as Redis is back.
 * Every operation goes to Redis through one run path (#run); which timer bounds what, on a single
 * Redis, with Sentinel and on a Cluster, is written in redis/timeouts.ts.
 * The owner index behind login / userSessions is in redis/owners.ts.
 */
import { SessionStoreError, SessionTooLargeError } from '../../../base/errors.ts';
import { type AtomicTake, type EngineContext, type IdChange, type IdRenewal, type OwnedSession, type OwnerIndex, type RenewalGrace, type SessionChange, type SessionRecord, type SessionStore, type UnreadExpiry, type UnreadFlush, type UnreadFlushed } from '../../engine.ts';
import { withinDeadline } from '../../deadline.ts';
import type { Cluster, Redis } from 'ioredis';
import type { Client } from './client.ts';
import { RedisConnection } from './connection.ts';
import { describeTarget, type RedisEngineOptions } from './options.ts';
import { destroyOwned, LoginFlush, ownedSessions, ownerIndexKey } from './owners.ts';
import { replicaAck } from './replica-ack.ts';
import { WriteBatch } from './write-batch.ts';
import { changeArgs, isMoving, MOVED_TO_SECONDS, type FlushAnswer } from './scripts.ts';
import { redisTimeouts } from './timeouts.ts';

/** How many moved-to pointers one flush follows: a session whose id changed this often meanwhile is odd. */
const MAX_MOVES = 8;
/** The pause before a flush tries again while a Cluster move is under way (two commands long). */
const PENDING_RETRY_MS = 2;

/** What an operation was doing, as its SessionStoreError says: "could not <action> the session". */
type Action = 'read' | 'save' | 'delete' | 'list' | 'rename';

/**
 * One operation's commands on the connected client. `until` is the operation's deadline
 * (performance.now() time) on a Cluster or with Sentinel, else undefined (redis/timeouts.ts).
 */
type Command<T> = (client: Client, until: number | undefined) => Promise<T>;

export class RedisEngine implements SessionStore, IdChange, IdRenewal, AtomicTake, UnreadFlush, OwnerIndex {
  readonly #context: EngineContext;
  readonly #prefix: string;
  /** The one connection, opened on the first session use (redis/connection.ts). */
  readonly #redis: RedisConnection;
  readonly #isCluster: boolean;
  /** wait_replicas (redis/replica-ack.ts): replicas a write must reach before it is acknowledged. */
  readonly #waitReplicas: number;
  /** How long WAIT waits for them (redis/timeouts.ts). */
  readonly #replicaWaitMs: number;
  /** The operation timer: on a Cluster or with Sentinel, else none (redis/timeouts.ts). */
  readonly #operationMs: number | undefined;
  /** The message of a SessionStoreError for an operation past #operationMs. */
  readonly #late: string;
  /** The request timer: command_timeout on a Cluster or with Sentinel, else none (redis/timeouts.ts). */
  readonly requestDeadlineMs: number | undefined;
  /** One socket write per event-loop turn (redis/write-batch.ts); none on a Cluster. */
  readonly #batch: WriteBatch | undefined;

  /** Opens no connection: that happens on the first session use. */
  constructor(options: RedisEngineOptions, context: EngineContext) {
    this.#context = context;
    this.#prefix = options.key_prefix;
    this.#redis = new RedisConnection(options, context);
    this.#isCluster = options.cluster !== undefined;
    this.#batch = this.#isCluster ? undefined : new WriteBatch();
    this.#waitReplicas = options.wait_replicas ?? (options.sentinels ? 1 : 0);
    const timeouts = redisTimeouts(options);
    this.#replicaWaitMs = timeouts.replicaWaitMs;
    this.#operationMs = timeouts.operationMs;
    this.#late = `${describeTarget(options)} did not answer within command_timeout (${options.command_timeout} ms)`;
    this.requestDeadlineMs = timeouts.requestMs;
  }

  /** Not a Cluster: one script reaches both keys of a move (flushMoved). */
  get singleNode(): boolean {
    return !this.#isCluster;
  }

  /**
   * The one way every operation goes to Redis: the client (at once while connected, else the
   * connection's wait for it), `command` on it, a failure made a SessionStoreError with its cause
   * (an outage logged once), an answer ending an outage ("reachable again"); on a Cluster or
   * with Sentinel, all of it within the operation's deadline.
   */
  #run<T>(action: Action, command: Command<T>): Promise<T> {
    if (this.#operationMs === undefined) return this.#attempt(action, command, undefined);
    const until = performance.now() + this.#operationMs;
    return withinDeadline(this.#attempt(action, command, until), this.#operationMs, this.#late);
  }

  async #attempt<T>(action: Action, command: Command<T>, until: number | undefined): Promise<T> {
    // A failure to connect is already a SessionStoreError, its outage already noted.
    const client = this.#redis.ready ?? await this.#redis.client();
    this.#batch?.join((client as Redis).stream);
    let answer: T;
    try {
      answer = await command(client, until);
    } catch (error) {
      throw this.#redis.failure(action, error);
    }
    this.#redis.answered(action);
    return answer;
  }

  async retrieve(id: string): Promise<SessionRecord | undefined> {
    // One script (redis/scripts.ts): GET, and the TTL slid to at least session_duration.
    const key = this.#prefix + id;
    const duration = this.#context.sessionDuration;
    let forward: string | undefined;
    const text = await this.#run('read', async (client, until) => {
      let answer = await client.sessionRead(key, duration, Date.now());
      // A renewal's old key in its grace window (rare): a second read, at the key it names.
      for (let tries = 0; Array.isArray(answer); tries++) {
        if (answer[0] !== -2) {
          forward = answer[1];
          return client.sessionRead(answer[0], duration);
        }
        if (until === undefined || performance.now() > until || tries > 1000) throw new SessionStoreError('The session is still moving to its new id (a renewal did not finish)');
        await new Promise(resolve => setTimeout(resolve, PENDING_RETRY_MS));
        answer = await client.sessionRead(key, duration, Date.now());
      }
      return answer;
    });
    if (text === null || Array.isArray(text)) {
      this.#redis.missed();
      return undefined;
    }
    try {
      return forward === undefined ? { data: JSON.parse(text), size: text.length } : { data: JSON.parse(text), size: text.length, renewedTo: forward };
    } catch {
      // Not written by this engine; reading it as unknown lets the user go on with a new session.
      this.#context.log('warning', `session store: ${this.#prefix}<id> does not hold JSON; treated as unknown`);
      return undefined;
    }
  }

  async flush(id: string, change: SessionChange, ttlSeconds = this.#context.sessionDuration, maxSize = Infinity): Promise<void> {
    const args = changeArgs(ttlSeconds, change, maxSize);
    const key = this.#prefix + id;
    const result = await this.#run('save', async (client, until) => {
      const login = change.owner && new LoginFlush(client, this.#prefix, change.owner, this.#isCluster);
      const sent = login ? login.send(key, args) : client.sessionFlush(key, ...args);
      const replicated = this.#replicated(client);
      let answer = await sent;
      if (isMoving(answer)) answer = await this.#followMovedTo(client, until, 'sessionFlush', key, answer, args, login);
      if (login) answer = await login.finish(answer, this.#redis.isReplyError);
      await replicated;
      return answer;
    });
    if (Array.isArray(result)) throw new SessionTooLargeError(result[1], maxSize);
    // 192-bit random ids make this a broken id generator, not bad luck.
    if (result === -1) throw new SessionStoreError('A new session was given an id that is already stored');
  }

  /**
   * changeId's move and the flush in one script (IdChangeAtFlush; MOVED_FLUSH_SCRIPT), on a
   * single node only: on a Cluster the two keys are in different slots (the definition offers
   * the capability without `cluster`).
   */
  async flushMoved(oldId: string, id: string, change: SessionChange, ttlSeconds: number, maxSize: number, owner?: string): Promise<void> {
    const args = changeArgs(ttlSeconds, change, maxSize);
    args.splice(args.length - 1, 0, Date.now());
    const prefix = this.#prefix;
    const key = prefix + id;
    const index = owner === undefined ? key : ownerIndexKey(prefix, owner);
    const result = await this.#run('save', async client => {
      // A login's indexes as LoginFlush names them; none (the new key twice) otherwise.
      const login = change.owner && new LoginFlush(client, prefix, change.owner, false);
      const sent = login ? login.sendMoved(key, prefix + oldId, index, args) : client.sessionFlushMoved(key, prefix + oldId, index, key, key, ...args);
      const replicated = this.#replicated(client);
      let answer = await sent;
      if (login) answer = await login.finish(answer, this.#redis.isReplyError);
      await replicated;
      return answer;
    });
    if (Array.isArray(result)) throw new SessionTooLargeError(result[1], maxSize);
    if (result === -1) throw new SessionStoreError('The new session id is already stored');
    if (isMoving(result)) throw new SessionStoreError('The session moved while it was given a new id');
  }

  /** One script (UNREAD_FLUSH_SCRIPT): the expiry rules are applied in Redis from the stored meta. */
  async flushUnread(id: string, change: SessionChange, expiry: UnreadExpiry): Promise<UnreadFlushed | undefined> {
    const args = changeArgs(expiry.idle, change, expiry.maxSize);
    args.push(expiry.absolute ?? 0, Date.now(), expiry.writtenAt);
    const key = this.#prefix + id;
    const result = await this.#run('save', async (client, until) => {
      const sent = client.sessionFlushUnread(key, ...args);
      const replicated = this.#replicated(client);
      let answer = await sent;
      if (isMoving(answer)) answer = await this.#followMovedTo(client, until, 'sessionFlushUnread', key, answer, args);
      await replicated;
      return answer;
    });
    if (!Array.isArray(result)) return undefined;
    if (result[0] === -2) throw new SessionTooLargeError(result[1], expiry.maxSize);
    return { lifetime: result[1] > 0 ? result[1] : undefined };
  }

  /**
   * The id changed after this request read the session: the flush script answered with the key
   * the session moved to (its moved-to pointer), or -2 while a Cluster move is under way, which
   * is tried again until the operation's deadline (only a Cluster makes a move pending, and a
   * Cluster's operations have one; without one a pending move fails at once). Flushes the same
   * change there, so the write lands where the session lives now; fails (503) rather than
   * answering 200 for a write stored nowhere.
   */
  async #followMovedTo(client: Client, until: number | undefined, script: 'sessionFlush' | 'sessionFlushUnread', key: string, answer: string | -2, args: (string | number)[], login?: LoginFlush): Promise<FlushAnswer> {
    let moves = 0;
    let next: FlushAnswer = answer;
    while (isMoving(next)) {
      if (typeof next === 'string') {
        if (++moves > MAX_MOVES) throw new SessionStoreError(`The session id changed more than ${MAX_MOVES} times during one request`);
        key = next;
      } else {
        if (until === undefined || performance.now() > until) throw new SessionStoreError('The session is still moving to its new id (a changeId did not finish)');
        await new Promise(resolve => setTimeout(resolve, PENDING_RETRY_MS));
      }
      const sent = login ? login.send(key, args) : client[script](key, ...args);
      const replicated = this.#replicated(client);
      next = await sent;
      await replicated;
    }
    return next;
  }
  /** Removes one key of the session and returns its JSON text, in one script (a flash is shown once). */
  async take(id: string, key: string): Promise<string | undefined> {
    const value = await this.#run('read', async client => {
      const sent = client.sessionTake(this.#prefix + id, JSON.stringify(key));
      const replicated = this.#replicated(client);
      const taken = await sent;
      await replicated;
      return taken;
    });
    return value ?? undefined;
  }

  /** Deletes the session; an owned one leaves its owner's index (after it, on a Cluster). */
  destroy(id: string, owner?: string): Promise<void> {
    const key = this.#prefix + id;
    return this.#run('delete', async client => {
      const sent = owner === undefined ? client.del(key)
        : !this.#isCluster ? client.sessionDestroyOwned(key, ownerIndexKey(this.#prefix, owner))
        : client.del(key).then(() => client.zrem(ownerIndexKey(this.#prefix, owner), key));
      const replicated = this.#replicated(client);
      await sent;
      await replicated;
    });
  }

  /** The owner index: see redis/owners.ts. */
  ownedSessions(owner: string): Promise<OwnedSession[]> {
    return this.#run('list', client => ownedSessions(client, this.#prefix, owner, this.#redis.isReplyError));
  }

  destroyOwned(owner: string, except?: string): Promise<number> {
    return this.#run('delete', async client => {
      const ended = await destroyOwned(client, this.#prefix, owner, except, this.#redis.isReplyError);
      await this.#replicated(client);
      return ended;
    });
  }

  async changeId(oldId: string, newId: string, owner?: string): Promise<void> {
    await this.#rename(oldId, newId, owner, undefined);
  }

  /** changeId with a pointer reads follow for the grace window (IdRenewal; redis/scripts.ts RENAME_SCRIPT). */
  renewId(oldId: string, newId: string, owner: string | undefined, grace: RenewalGrace): Promise<boolean> {
    return this.#rename(oldId, newId, owner, grace);
  }

  /** Moves the session, leaving the moved-to pointer (a renewal's with `grace`); false when the old one is not a session. */
  async #rename(oldId: string, newId: string, owner: string | undefined, grace: RenewalGrace | undefined): Promise<boolean> {
    const oldKey = this.#prefix + oldId;
    const newKey = this.#prefix + newId;
    const index = owner === undefined ? undefined : ownerIndexKey(this.#prefix, owner);
    const now = Date.now();
    const lifetime = grace === undefined ? MOVED_TO_SECONDS : Math.max(MOVED_TO_SECONDS, grace.seconds);
    const graceUntil = grace === undefined ? 0 : now + grace.seconds * 1000;
    const forward = grace?.forward ?? '';
    const result = await this.#run('rename', async (client): Promise<number | string | null> => {
      if (!this.#isCluster) {
        const sent = index === undefined
          ? client.sessionRename(oldKey, newKey, lifetime, now, graceUntil, forward)
          : client.sessionRenameOwned(oldKey, newKey, index, lifetime, now, graceUntil, forward);
        const replicated = this.#replicated(client);
        const renamed = await sent;
        await replicated;
        return renamed;
      }
      // The index first, then the move, then the old member out (redis/owners.ts).
      if (index !== undefined) await client.ownerIndexAdd(index, newKey);
      // The two keys hash to different slots, where no one script can go: see MOVE_OUT_SCRIPT.
      const json = await client.sessionMoveOut(oldKey, newKey, lifetime, now, graceUntil, forward);
      const stored = json === null ? 0 : await client.set(newKey, json, 'EX', this.#context.sessionDuration, 'NX');
      if (stored !== 0) await client.hdel(oldKey, 'pending');
      if (index !== undefined && stored !== null) await client.zrem(index, oldKey);
      return stored;
    });
    if (result === -1 || result === null) throw new SessionStoreError('The new session id is already stored');
    return result === 1 || result === 'OK';
  }

  /** Every stored id, by SCAN over every master (never KEYS, which blocks Redis); each SCAN one operation. */
  async *sessions(): AsyncIterable<string> {
    const pattern = this.#prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    const nodes = await this.#run('list', async client => (this.#isCluster ? (client as Cluster).nodes('master') : [client]));
    for (const node of nodes) {
      let cursor = '0';
      do {
        let keys: string[];
        // TYPE string: the moved-to pointers changeId leaves are hashes, not sessions.
        [cursor, keys] = await this.#run('list', () => node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'string'));
        for (const key of keys) yield key.slice(this.#prefix.length);
      } while (cursor !== '0');
    }
  }

  close(): Promise<void> {
    return this.#redis.close();
  }

  /** With wait_replicas, the WAIT confirming the write just sent on `client` (same tick). */
  #replicated(client: Client): Promise<void> | undefined {
    if (this.#waitReplicas === 0) return undefined;
    return replicaAck(client, this.#waitReplicas, this.#replicaWaitMs);
  }
}
