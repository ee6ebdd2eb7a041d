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
 * The owner index behind login / userSessions is in redis/owners.ts.
 */
import { SessionStoreError, SessionTooLargeError } from '../../../base/errors.ts';
import { type EngineContext, type OwnedSession, type SessionChange, type SessionEngine, type SessionRecord, type UnreadExpiry, type UnreadFlushed } from '../../engine.ts';
import { withinDeadline } from '../../deadline.ts';
import type { Cluster } from 'ioredis';
import type { Client } from './client.ts';
import { RedisConnection } from './connection.ts';
import { describeTarget, type RedisEngineOptions } from './options.ts';
import { destroyOwned, LoginFlush, ownedSessions, ownerIndexKey } from './owners.ts';
import { replicaAck, wrapOperations } from './safety.ts';
import { changeArgs, isMoving, MOVED_TO_SECONDS, type FlushAnswer } from './scripts.ts';

/** The engine's operations (the Cluster's deadline is put around each: redis/safety.ts). */
const OPERATIONS = ['retrieve', 'flush', 'flushUnread', 'take', 'destroy', 'changeId', 'ownedSessions', 'destroyOwned'] as const;

/** How many moved-to pointers one flush follows: a session whose id changed this often meanwhile is odd. */
const MAX_MOVES = 8;
/** The pause before a flush tries again while a Cluster move is under way (two commands long). */
const PENDING_RETRY_MS = 2;

export class RedisEngine implements SessionEngine {
  readonly #options: RedisEngineOptions;
  readonly #context: EngineContext;
  readonly #prefix: string;
  /** The one connection, opened on the first session use (redis/connection.ts). */
  readonly #redis: RedisConnection;
  readonly #isCluster: boolean;
  /** wait_replicas (redis/safety.ts): replicas a write must reach before it is acknowledged. */
  readonly #waitReplicas: number;
  /** command_timeout on a Cluster or with Sentinel (SessionEngine.requestDeadlineMs); else none. */
  readonly requestDeadlineMs: number | undefined;

  /** Opens no connection: that happens on the first session use. */
  constructor(options: RedisEngineOptions, context: EngineContext) {
    this.#options = options;
    this.#context = context;
    this.#prefix = options.key_prefix;
    this.#redis = new RedisConnection(options, context);
    this.#isCluster = options.cluster !== undefined;
    this.#waitReplicas = options.wait_replicas ?? (options.sentinels ? 1 : 0);
    if (this.#isCluster || options.sentinels) {
      // redis/safety.ts: on a Cluster, and through a Sentinel failover (a wait for the new
      // master, then a command on it), ioredis alone does not keep an operation within command_timeout.
      const late = `${describeTarget(options)} did not answer within command_timeout (${options.command_timeout} ms)`;
      wrapOperations(this, OPERATIONS, operation => withinDeadline(operation(), options.command_timeout, late));
      this.requestDeadlineMs = options.command_timeout;
    }
  }

  async retrieve(id: string): Promise<SessionRecord | undefined> {
    const client = this.#redis.ready ?? await this.#redis.client();
    let text: string | null;
    try {
      // One script (redis/scripts.ts): GET, and the TTL slid to at least session_duration.
      text = await client.sessionRead(this.#prefix + id, this.#context.sessionDuration);
    } catch (error) {
      throw this.#redis.failure('read', error);
    }
    this.#redis.answered();
    if (text === null) return undefined;
    try {
      return { data: JSON.parse(text), size: text.length };
    } catch {
      // Not written by this engine; reading it as unknown lets the user go on with a new session.
      this.#context.log('warning', `session store: ${this.#prefix}<id> does not hold JSON; treated as unknown`);
      return undefined;
    }
  }

  async flush(id: string, change: SessionChange, ttlSeconds = this.#context.sessionDuration, maxSize = Infinity): Promise<void> {
    const args = changeArgs(ttlSeconds, change, maxSize);
    const client = this.#redis.ready ?? await this.#redis.client();
    const key = this.#prefix + id;
    const login = change.owner && new LoginFlush(client, this.#prefix, change.owner, this.#isCluster);
    let result: FlushAnswer;
    try {
      const sent = login ? login.send(key, args) : client.sessionFlush(key, ...args);
      const replicated = this.#replicated(client);
      result = await sent;
      if (isMoving(result)) result = await this.#followMovedTo(client, 'sessionFlush', key, result, args, login);
      if (login) result = await login.finish(result, this.#redis.isReplyError);
      await replicated;
    } catch (error) {
      throw this.#redis.failure('save', error);
    }
    this.#redis.answered();
    if (Array.isArray(result)) throw new SessionTooLargeError(result[1], maxSize);
    // 192-bit random ids make this a broken id generator, not bad luck.
    if (result === -1) throw new SessionStoreError('A new session was given an id that is already stored');
  }

  /** One script (UNREAD_FLUSH_SCRIPT): the expiry rules are applied in Redis from the stored meta. */
  async flushUnread(id: string, change: SessionChange, expiry: UnreadExpiry): Promise<UnreadFlushed | undefined> {
    const args = changeArgs(expiry.idle, change, expiry.maxSize);
    args.push(expiry.absolute ?? 0, Date.now(), expiry.writtenAt);
    const client = this.#redis.ready ?? await this.#redis.client();
    let result: FlushAnswer;
    try {
      const sent = client.sessionFlushUnread(this.#prefix + id, ...args);
      const replicated = this.#replicated(client);
      result = await sent;
      if (isMoving(result)) result = await this.#followMovedTo(client, 'sessionFlushUnread', this.#prefix + id, result, args);
      await replicated;
    } catch (error) {
      throw this.#redis.failure('save', error);
    }
    this.#redis.answered();
    if (!Array.isArray(result)) return undefined;
    if (result[0] === -2) throw new SessionTooLargeError(result[1], expiry.maxSize);
    return { lifetime: result[1] > 0 ? result[1] : undefined };
  }

  /**
   * The id changed after this request read the session (issue 8): the flush script answered
   * with the key the session moved to, or -2 while a Cluster move is under way. Flushes the same
   * change there, so the write lands where the session lives now; fails (503) rather than
   * answering 200 for a write stored nowhere.
   */
  async #followMovedTo(client: Client, script: 'sessionFlush' | 'sessionFlushUnread', key: string, answer: FlushAnswer, args: (string | number)[], login?: LoginFlush): Promise<FlushAnswer> {
    const deadline = performance.now() + this.#options.command_timeout;
    let moves = 0;
    while (isMoving(answer)) {
      if (typeof answer === 'string') {
        if (++moves > MAX_MOVES) throw new SessionStoreError(`The session id changed more than ${MAX_MOVES} times during one request`);
        key = answer;
      } else {
        if (performance.now() > deadline) throw new SessionStoreError('The session is still moving to its new id (a changeId did not finish)');
        await new Promise(resolve => setTimeout(resolve, PENDING_RETRY_MS));
      }
      const sent = login ? login.send(key, args) : client[script](key, ...args);
      const replicated = this.#replicated(client);
      answer = await sent;
      await replicated;
    }
    return answer;
  }

  /** Removes one key of the session and returns its JSON text, in one script (a flash is shown once). */
  async take(id: string, key: string): Promise<string | undefined> {
    const client = this.#redis.ready ?? await this.#redis.client();
    let value: string | null;
    try {
      const sent = client.sessionTake(this.#prefix + id, JSON.stringify(key));
      const replicated = this.#replicated(client);
      value = await sent;
      await replicated;
    } catch (error) {
      throw this.#redis.failure('read', error);
    }
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

  /** `command` on the connected client; its failure a SessionStoreError (an outage if it is one). */
  async #run<T>(action: string, command: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.#redis.client();
    try {
      return await command(client);
    } catch (error) {
      throw this.#redis.failure(action, error);
    }
  }

  async changeId(oldId: string, newId: string, owner?: string): Promise<void> {
    const client = await this.#redis.client();
    const oldKey = this.#prefix + oldId;
    const newKey = this.#prefix + newId;
    const index = owner === undefined ? undefined : ownerIndexKey(this.#prefix, owner);
    let result: number | string | null;
    try {
      if (this.#isCluster) {
        // The index first, then the move, then the old member out (redis/owners.ts).
        if (index !== undefined) await client.ownerIndexAdd(index, newKey);
        // The two keys hash to different slots, where no one script can go: see MOVE_OUT_SCRIPT.
        const json = await client.sessionMoveOut(oldKey, newKey, MOVED_TO_SECONDS, Date.now());
        result = json === null ? 0 : await client.set(newKey, json, 'EX', this.#context.sessionDuration, 'NX');
        if (result !== 0) await client.hdel(oldKey, 'pending');
        if (index !== undefined && result !== null) await client.zrem(index, oldKey);
      } else {
        const sent = index === undefined
          ? client.sessionRename(oldKey, newKey, MOVED_TO_SECONDS, Date.now())
          : client.sessionRenameOwned(oldKey, newKey, index, MOVED_TO_SECONDS, Date.now());
        const replicated = this.#replicated(client);
        result = await sent;
        await replicated;
      }
    } catch (error) {
      throw this.#redis.failure('rename', error);
    }
    if (result === -1 || result === null) throw new SessionStoreError('The new session id is already stored');
  }

  /** Every stored id, by SCAN over every master (never KEYS, which blocks Redis). */
  async *sessions(): AsyncIterable<string> {
    const client = await this.#redis.client();
    const pattern = this.#prefix.replace(/[*?[\]\\]/g, '\\$&') + '*';
    const nodes = this.#isCluster ? (client as Cluster).nodes('master') : [client];
    for (const node of nodes) {
      let cursor = '0';
      do {
        let keys: string[];
        try {
          // TYPE string: the moved-to pointers changeId leaves are hashes, not sessions.
          [cursor, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000, 'TYPE', 'string');
        } catch (error) {
          throw this.#redis.failure('list', error);
        }
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
    return replicaAck(client, this.#waitReplicas, Math.max(1, Math.floor(this.#options.command_timeout / 2)));
  }
}
