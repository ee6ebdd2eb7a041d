/**
 * The Redis engine's owner index (login / userSessions / destroyUserSessions): one sorted set per
 * owner at `key_prefix + "owner:" + userId`, member = a session's Redis key, score = when it was
 * added (ms). The set has no TTL: a session's TTL slides on every read, which never touches the
 * index (no extra round trip), so no TTL on the set could be sure to outlive its sessions.
 * Members whose session is gone are pruned here, when the list is read or ended.
 *
 * On a single node the index changes in the same script as the session's write (redis/scripts.ts).
 * On a Cluster the set is in another slot, so it is a second command: a member is added before
 * the session is written or renamed to its key, and removed after the session is gone. A crash
 * between the two leaves at worst a stale member (its session missing, or owned by someone else),
 * which the list skips and prunes; never a live session missing from its owner's list. A member
 * is pruned only once older than STALE_AFTER_MS, so a login whose session write is still on its
 * way is not pruned before it lands, and only if its score is still the one read (PRUNE_SCRIPT).
 * Scores and ages both come from the clock of the Redis server that holds the index.
 *
 * A user who never opens the list would keep the members of expired sessions; so a login that
 * leaves more than PRUNE_ABOVE members in the index, at each power of two (scripts.ts pruneDue),
 * prunes it (two more round trips, only then: a constant per login on average).
 */
import type { OwnedSession, OwnerChange } from '../../engine.ts';
import { ownerOf } from '../../session-meta.ts';
import type { Client } from './client.ts';
import { pruneDue, type FlushAnswer } from './scripts.ts';

/** How old a member must be before a missing or foreign session prunes it (see above). */
export const STALE_AFTER_MS = 60_000;

/** The owner index's key. Never a session key: those are base64url, which has no ':'. */
export const ownerIndexKey = (prefix: string, owner: string): string => `${prefix}owner:${owner}`;

interface Member {
  key: string;
  score: string;
  /** The stored session if it is live and still names the owner. */
  owned: OwnedSession | undefined;
}

/**
 * Reads the index and each member's session (plain GETs, sent together: no expiry slides). A
 * member holding something else (a moved-to pointer, a hash) reads as gone; any other failure throws, so an
 * outage never prunes a live session.
 */
async function readMembers(client: Client, prefix: string, owner: string, isReplyError: (error: unknown) => boolean): Promise<Member[]> {
  const flat = await client.zrange(ownerIndexKey(prefix, owner), '0', '-1', 'WITHSCORES');
  const members: Member[] = [];
  for (let i = 0; i < flat.length; i += 2) members.push({ key: flat[i]!, score: flat[i + 1]!, owned: undefined });
  const texts = await readTexts(client, members.map(m => m.key), isReplyError);
  texts.forEach((text, i) => {
    const member = members[i]!;
    if (text === null) return;
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(text);
    } catch {
      return;
    }
    if (ownerOf(data) === owner) member.owned = { id: member.key.slice(prefix.length), record: { data, size: text.length } };
  });
  return members;
}

/**
 * Keys per MGET / DEL on a single node: one command per this many members, all sent together,
 * so a user with 1,000 sessions costs a few commands instead of 1,000 (each with its own
 * promise and reply) and the cost per session stays flat (docs/design.md#owners).
 */
export const KEYS_PER_COMMAND = 250;

const chunks = <T>(list: T[]): T[][] => Array.from({ length: Math.ceil(list.length / KEYS_PER_COMMAND) }, (_, i) => list.slice(i * KEYS_PER_COMMAND, (i + 1) * KEYS_PER_COMMAND));

/**
 * The text at each key, null where none. Single node: MGET (a key holding something other than a
 * string reads as null). Cluster: the keys are in other slots, so one GET each, sent together.
 */
async function readTexts(client: Client, keys: string[], isReplyError: (error: unknown) => boolean): Promise<(string | null)[]> {
  if (!client.isCluster) return (await Promise.all(chunks(keys).map(part => client.mget(part)))).flat();
  return Promise.all(keys.map(key => client.get(key).catch(error => {
    if (isReplyError(error)) return null;
    throw error;
  })));
}

/** Deletes `keys`; how many existed. Single node: multi-key DELs; Cluster: one DEL each, sent together. */
async function deleteKeys(client: Client, keys: string[]): Promise<number> {
  const parts = client.isCluster ? keys.map(key => [key]) : chunks(keys);
  const deleted = await Promise.all(parts.map(part => client.del(...part)));
  return deleted.reduce((sum, n) => sum + n, 0);
}

/** Removes the stale members (no live session of the owner) that are old enough (PRUNE_SCRIPT). */
async function pruneStale(client: Client, index: string, members: Member[]): Promise<void> {
  const stale = members.filter(m => m.owned === undefined);
  if (stale.length > 0) await client.ownerPrune(index, STALE_AFTER_MS, ...stale.flatMap(m => [m.key, m.score]));
}

/** engine.ownedSessions: the live sessions of `owner`; stale members pruned on the way. */
export async function ownedSessions(client: Client, prefix: string, owner: string, isReplyError: (error: unknown) => boolean): Promise<OwnedSession[]> {
  const members = await readMembers(client, prefix, owner, isReplyError);
  await pruneStale(client, ownerIndexKey(prefix, owner), members);
  return members.flatMap(m => (m.owned ? [m.owned] : []));
}

/**
 * engine.destroyOwned: deletes every live session of `owner` but `except` (an id, i.e. a store
 * key without the prefix), then their members and the stale ones; returns how many it deleted.
 * Four round trips whatever the count (the index, the sessions, the deletes, the index again),
 * the commands of each sent together: on a single node one MGET and one DEL per KEYS_PER_COMMAND
 * sessions; on a Cluster one GET and one DEL per session, each to the master of its key.
 */
export async function destroyOwned(client: Client, prefix: string, owner: string, except: string | undefined, isReplyError: (error: unknown) => boolean): Promise<number> {
  const members = await readMembers(client, prefix, owner, isReplyError);
  const ending = members.filter(m => m.owned !== undefined && m.owned.id !== except);
  const deleted = await deleteKeys(client, ending.map(m => m.key));
  const index = ownerIndexKey(prefix, owner);
  await Promise.all([ending.length > 0 ? client.zrem(index, ...ending.map(m => m.key)) : undefined, pruneStale(client, index, members)]);
  return deleted;
}

/**
 * The flush of a login (a SessionChange with `owner`): the session joins `owner.next`'s index and
 * leaves `owner.previous`'s. Single node: in the flush script itself. Cluster: the member is
 * added before each try of the flush script and removed from the previous index after it stored.
 */
export class LoginFlush {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #join: string;
  readonly #leave: string | undefined;
  readonly #isCluster: boolean;
  /** The index's size after the Cluster's ZADD (the single node's script answers 2 instead). */
  #members = 0;
  /** The key of the last try: where the session is (a moved-to pointer may have led elsewhere). */
  #key = '';

  constructor(client: Client, prefix: string, owner: OwnerChange, isCluster: boolean) {
    this.#client = client;
    this.#prefix = prefix;
    this.#owner = owner.next;
    this.#join = ownerIndexKey(prefix, owner.next);
    this.#leave = owner.previous !== undefined && owner.previous !== owner.next ? ownerIndexKey(prefix, owner.previous) : undefined;
    this.#isCluster = isCluster;
  }

  /** One try of the flush script at `key`, with `args` as the engine built them. */
  send(key: string, args: (string | number)[]): Promise<FlushAnswer> {
    const client = this.#client;
    this.#key = key;
    if (!this.#isCluster) return client.sessionFlushOwned(key, this.#join, this.#leave ?? this.#join, ...args);
    return client.ownerIndexAdd(this.#join, key).then(count => {
      this.#members = count;
      return client.sessionFlush(key, ...args);
    });
  }

  /**
   * The flush that also moves the session from `oldKey` (MOVED_FLUSH_SCRIPT, single node only),
   * `index` the owner index it is in before the login (`key` for none).
   */
  sendMoved(key: string, oldKey: string, index: string, args: (string | number)[]): Promise<FlushAnswer> {
    this.#key = key;
    return this.#client.sessionFlushMoved(key, oldKey, index, this.#join, this.#leave ?? this.#join, ...args);
  }

  /**
   * After the last try (its `answer`): the Cluster's second step, and a prune of an index
   * due for one (pruneDue) (housekeeping: its failure does not fail the stored login). The
   * answer as the engine reads it (2 becomes 1).
   */
  async finish(answer: FlushAnswer, isReplyError: (error: unknown) => boolean): Promise<FlushAnswer> {
    if (answer === 2 || (answer === 1 && pruneDue(this.#members))) {
      answer = 1;
      await ownedSessions(this.#client, this.#prefix, this.#owner, isReplyError).catch(() => undefined);
    }
    if (answer === 1 && this.#leave !== undefined && this.#isCluster) await this.#client.zrem(this.#leave, this.#key);
    return answer;
  }
}
