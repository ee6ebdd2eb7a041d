/**
 * The revocation store in Redis (single node, Sentinel or Cluster), through the Redis engine's
 * connection (redis/connection.ts: opened on first use, the outage state, command_timeout).
 * Keys, under `key_prefix` (default `quickstep.revoked:`), `{u}` a hash of the user id (so all of
 * one user's keys share a Cluster slot and each call is one script on one node):
 *
 *   <prefix>deny:<handle>          an anonymous session's denial: "from" ms, PX until its cookies expire
 *   <prefix>{u}:deny:<handle>      an owned session's denial
 *   <prefix>{u}:nb                 the user's not-before: "<at ms>:<kept handle>"
 *   <prefix>{u}:live               sorted set: listed handle -> until when it can live (ms)
 *   <prefix>{u}:list               hash: listed handle -> JSON entry (revocation-store.ts ListedSeal)
 *
 * A check is one command: GET for an anonymous cookie, one script (deny, not-before, and the list
 * slid on a reseal) for an owned one. Denial, listing and revoking are one script each, and with
 * `wait_replicas` (Sentinel's default 1, as for the engine) acknowledged only once replicas have
 * them: a denial a failover dropped would reopen a logged-out cookie.
 */
import { createHash } from 'node:crypto';
import type { EngineContext } from '../engine.ts';
import { RedisConnection } from '../engines/redis/connection.ts';
import type { Client } from '../engines/redis/client.ts';
import type { RedisEngineOptions } from '../engines/redis/options.ts';
import { replicaAck } from '../engines/redis/replica-ack.ts';
import { redisTimeouts } from '../engines/redis/timeouts.ts';
import type { ListedSeal, RevocationStore, SealCheck } from './revocation-store.ts';

// KEYS: deny, nb, live, list. ARGV: now, handle, issuedAt, until (0: none). 1 when revoked.
const CHECK = `
local d = redis.call('GET', KEYS[1])
if d and tonumber(d) <= tonumber(ARGV[1]) then return 1 end
local nb = redis.call('GET', KEYS[2])
if nb then
  local sep = string.find(nb, ':', 1, true)
  if tonumber(ARGV[3]) <= tonumber(string.sub(nb, 1, sep - 1)) and string.sub(nb, sep + 1) ~= ARGV[2] then return 1 end
end
if ARGV[4] ~= '0' and redis.call('ZADD', KEYS[3], 'XX', 'GT', 'CH', ARGV[4], ARGV[2]) == 1 then
  local ttl = tonumber(ARGV[4]) - tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[3], ttl, 'GT')
  redis.call('PEXPIRE', KEYS[4], ttl, 'GT')
end
return 0`;

// KEYS: deny [, live, list]. ARGV: from, ttl ms, handle, next handle ('' for none). The earliest from stays.
const DENY = `
local d = redis.call('GET', KEYS[1])
if (not d) or tonumber(d) > tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) else redis.call('PEXPIRE', KEYS[1], ARGV[2], 'GT') end
if KEYS[2] then
  local score = redis.call('ZSCORE', KEYS[2], ARGV[3])
  local entry = redis.call('HGET', KEYS[3], ARGV[3])
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('HDEL', KEYS[3], ARGV[3])
  if ARGV[4] ~= '' and score and entry then
    redis.call('ZADD', KEYS[2], score, ARGV[4])
    redis.call('HSET', KEYS[3], ARGV[4], entry)
  end
end
return 0`;

// KEYS: live, list. ARGV: handle, until, entry JSON, now. Expired members pruned.
const RECORD = `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
  redis.call('HDEL', KEYS[2], unpack(gone))
end
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not known) or tonumber(known) < tonumber(ARGV[2]) then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
local ttl = tonumber(ARGV[2]) - tonumber(ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl, 'GT')
redis.call('PEXPIRE', KEYS[1], ttl, 'NX')
redis.call('PEXPIRE', KEYS[2], ttl, 'GT')
redis.call('PEXPIRE', KEYS[2], ttl, 'NX')
return 0`;

// KEYS: live, list. ARGV: now. Flat list: handle, entry, handle, entry...
const LIST = `
local handles = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
if #handles == 0 then return {} end
local entries = redis.call('HMGET', KEYS[2], unpack(handles))
local out = {}
for i, handle in ipairs(handles) do
  if entries[i] then
    out[#out + 1] = handle
    out[#out + 1] = entries[i]
  end
end
return out`;

// KEYS: nb, live, list. ARGV: at, keep ('' for none), ttl ms. How many listed (live at `at`) it ended.
const REVOKE = `
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
local ended = redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf')
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
local entry = redis.call('HGET', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[2], KEYS[3])
if score and entry then
  if tonumber(score) > tonumber(ARGV[1]) then ended = ended - 1 end
  redis.call('ZADD', KEYS[2], score, ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[2], entry)
  redis.call('PEXPIREAT', KEYS[2], score)
  redis.call('PEXPIREAT', KEYS[3], score)
end
return ended`;

const COMMANDS = { qsRevCheck: [4, CHECK], qsRevDeny: [-1, DENY], qsRevRecord: [2, RECORD], qsRevList: [2, LIST], qsRevRevoke: [3, REVOKE] } as const;

type Arg = string | number;
interface RevocationCommands {
  qsRevCheck(...args: Arg[]): Promise<number>;
  qsRevDeny(keys: number, ...args: Arg[]): Promise<number>;
  qsRevRecord(...args: Arg[]): Promise<number>;
  qsRevList(...args: Arg[]): Promise<string[]>;
  qsRevRevoke(...args: Arg[]): Promise<number>;
}
type RevocationClient = Client & RevocationCommands;

/** The user's hash tag: 22 base64url characters of SHA-256, with no `{` or `}` a user id might hold. */
function userTag(owner: string): string {
  return '{' + createHash('sha256').update('quickstep.revocation:' + owner).digest('base64url').slice(0, 22) + '}';
}

export class RedisRevocations implements RevocationStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #defined = new WeakSet<object>();
  readonly #waitReplicas: number;
  readonly #replicaWaitMs: number;

  constructor(options: RedisEngineOptions, context: EngineContext) {
    this.#connection = new RedisConnection(options, context);
    this.#prefix = options.key_prefix;
    this.#waitReplicas = options.wait_replicas ?? (options.sentinels ? 1 : 0);
    this.#replicaWaitMs = redisTimeouts(options).replicaWaitMs;
  }

  isRevoked(check: SealCheck, now: number): Promise<boolean> {
    if (check.owner === undefined) {
      const key = `${this.#prefix}deny:${check.handle}`;
      return this.#run('check the revocation of', client => client.get(key)).then(from => from !== null && Number(from) <= now);
    }
    const user = this.#prefix + userTag(check.owner);
    return this.#run('check the revocation of', client =>
      client.qsRevCheck(`${user}:deny:${check.handle}`, `${user}:nb`, `${user}:live`, `${user}:list`, now, check.handle, check.issuedAt, check.until ?? 0),
    ).then(revoked => revoked === 1);
  }

  async deny(handle: string, owner: string | undefined, from: number, until: number, next?: string): Promise<void> {
    const ttl = Math.max(1, Math.ceil(until - Date.now()));
    if (owner === undefined) {
      await this.#write('revoke', client => client.qsRevDeny(1, `${this.#prefix}deny:${handle}`, from, ttl, handle, ''));
      return;
    }
    const user = this.#prefix + userTag(owner);
    await this.#write('revoke', client => client.qsRevDeny(3, `${user}:deny:${handle}`, `${user}:live`, `${user}:list`, from, ttl, handle, next ?? ''));
  }

  async record(owner: string, handle: string, entry: ListedSeal, until: number): Promise<void> {
    const user = this.#prefix + userTag(owner);
    await this.#write('list', client => client.qsRevRecord(`${user}:live`, `${user}:list`, handle, until, JSON.stringify(entry), Date.now()));
  }

  async unlist(owner: string, handle: string): Promise<void> {
    const user = this.#prefix + userTag(owner);
    await this.#write('list', client => Promise.all([client.zrem(`${user}:live`, handle), client.hdel(`${user}:list`, handle)]));
  }

  async list(owner: string, now: number): Promise<{ handle: string; entry: ListedSeal }[]> {
    const user = this.#prefix + userTag(owner);
    const flat = await this.#run('list', client => client.qsRevList(`${user}:live`, `${user}:list`, now));
    const listed: { handle: string; entry: ListedSeal }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      try {
        listed.push({ handle: flat[i]!, entry: JSON.parse(flat[i + 1]!) as ListedSeal });
      } catch {
        // Only this module writes these entries: an unreadable one is skipped, not a failure.
      }
    }
    return listed;
  }

  async revokeOwner(owner: string, at: number, keep: string | undefined, keepMs: number): Promise<number> {
    const user = this.#prefix + userTag(owner);
    return this.#write('revoke', client => client.qsRevRevoke(`${user}:nb`, `${user}:live`, `${user}:list`, at, keep ?? '', keepMs));
  }

  close(): Promise<void> {
    return this.#connection.close();
  }

  /** A write: as #run, then with wait_replicas the WAIT confirming it, sent right behind it. */
  #write<T>(action: string, command: (client: RevocationClient) => Promise<T>): Promise<T> {
    return this.#run(action, command, this.#waitReplicas > 0);
  }

  /** One command on the ready client; a failure is a SessionStoreError (503), as the engine's are. */
  async #run<T>(action: string, command: (client: RevocationClient) => Promise<T>, replicated = false): Promise<T> {
    const connection = this.#connection;
    try {
      const client = connection.ready ?? (await connection.client());
      if (!this.#defined.has(client)) {
        for (const [name, [keys, lua]] of Object.entries(COMMANDS)) client.defineCommand(name, keys < 0 ? { lua } : { numberOfKeys: keys, lua });
        this.#defined.add(client);
      }
      const sent = command(client as RevocationClient);
      // In the same tick as the write, so it goes right behind it on the one connection.
      const acknowledged = replicated ? replicaAck(client, this.#waitReplicas, this.#replicaWaitMs) : undefined;
      const answer = await sent;
      await acknowledged;
      connection.answered(action);
      return answer;
    } catch (error) {
      throw connection.failure(action, error);
    }
  }
}
