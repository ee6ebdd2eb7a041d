/**
 * The Redis engine's owner index (login / userSessions / destroyUserSessions): one sorted set per
 * owner at `key_prefix + "owner:" + userId`, member = a session's Redis key, score = when it was
 * added (ms). The set has no TTL: a session's TTL slides on every read, which never touches the
 * index (no extra round trip), so no TTL on the set could be sure to outlive its sessions.
 * Members whose session is gone are pruned here, when the list is read or ended.
 *
 * On a single node the index changes in the same script as the session's write (redis-scripts.ts).
 * On a Cluster the set is in another slot, so it is a second command: a member is added before
 * the session is written or renamed to its key, and removed after the session is gone. A crash
 * between the two leaves at worst a stale member (its session missing, or owned by someone else),
 * which the list skips and prunes; never a live session missing from its owner's list. A member
 * is pruned only once older than STALE_AFTER_MS, so a login whose session write is still on its
 * way is not pruned before it lands, and only if its score is still the one read (PRUNE_SCRIPT).
 */
import type { OwnedSession } from '../engine.ts';
import { ownerOf } from '../session-meta.ts';
import type { Client } from './redis-client.ts';

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
 * member holding something else (a forward hash) reads as gone; any other failure throws, so an
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

/** Removes `members` from the index where their score is unchanged (PRUNE_SCRIPT). */
async function prune(client: Client, index: string, members: Member[]): Promise<void> {
  if (members.length === 0) return;
  await client.ownerPrune(index, ...members.flatMap(m => [m.key, m.score]));
}

const stale = (m: Member, now: number) => m.owned === undefined && Number(m.score) < now - STALE_AFTER_MS;

/** engine.ownedSessions: the live sessions of `owner`; stale members pruned on the way. */
export async function ownedSessions(client: Client, prefix: string, owner: string, isReplyError: (error: unknown) => boolean): Promise<OwnedSession[]> {
  const members = await readMembers(client, prefix, owner, isReplyError);
  const now = Date.now();
  await prune(client, ownerIndexKey(prefix, owner), members.filter(m => stale(m, now)));
  return members.flatMap(m => (m.owned ? [m.owned] : []));
}

/**
 * engine.destroyOwned: deletes every live session of `owner` but `except` (an id, i.e. a store
 * key without the prefix), then their members and the stale ones; returns how many it deleted.
 * Three round trips whatever the count (the index, the sessions, the deletes), the deletes sent
 * together; on a Cluster each goes to the master of its key.
 */
export async function destroyOwned(client: Client, prefix: string, owner: string, except: string | undefined, isReplyError: (error: unknown) => boolean): Promise<number> {
  const members = await readMembers(client, prefix, owner, isReplyError);
  const ending = members.filter(m => m.owned !== undefined && m.owned.id !== except);
  const deleted = await Promise.all(ending.map(m => client.del(m.key)));
  const now = Date.now();
  await prune(client, ownerIndexKey(prefix, owner), [...ending, ...members.filter(m => stale(m, now))]);
  return deleted.reduce((sum, n) => sum + n, 0);
}
