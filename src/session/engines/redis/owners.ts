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
 * finds more than PRUNE_ABOVE members in the index prunes it (two more round trips, only then).
 */
import type { OwnedSession, OwnerChange } from '../../engine.ts';
import { ownerOf } from '../../session-meta.ts';
import type { Client } from './client.ts';
import { PRUNE_ABOVE, type FlushAnswer } from './scripts.ts';

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
  const texts = await Promise.all(members.map(m => client.get(m.key).catch(error => {
    if (isReplyError(error)) return null;
    throw error;
  })));
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
 * the commands of each sent together; on a Cluster each goes to the master of its key.
 */
export async function destroyOwned(client: Client, prefix: string, owner: string, except: string | undefined, isReplyError: (error: unknown) => boolean): Promise<number> {
  const members = await readMembers(client, prefix, owner, isReplyError);
  const ending = members.filter(m => m.owned !== undefined && m.owned.id !== except);
  const deleted = await Promise.all(ending.map(m => client.del(m.key)));
  const index = ownerIndexKey(prefix, owner);
  await Promise.all([ending.length > 0 ? client.zrem(index, ...ending.map(m => m.key)) : undefined, pruneStale(client, index, members)]);
  return deleted.reduce((sum, n) => sum + n, 0);
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
   * After the last try (its `answer`): the Cluster's second step, and a prune of an index
   * past PRUNE_ABOVE members (housekeeping: its failure does not fail the stored login). The
   * answer as the engine reads it (2 becomes 1).
   */
  async finish(answer: FlushAnswer, isReplyError: (error: unknown) => boolean): Promise<FlushAnswer> {
    if (answer === 2 || (answer === 1 && this.#members > PRUNE_ABOVE)) {
      answer = 1;
      await ownedSessions(this.#client, this.#prefix, this.#owner, isReplyError).catch(() => undefined);
    }
    if (answer === 1 && this.#leave !== undefined && this.#isCluster) await this.#client.zrem(this.#leave, this.#key);
    return answer;
  }
}
