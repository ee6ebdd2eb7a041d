/**
 * The Lua scripts the Redis engine runs, each one atomic and one round trip.
 *
 * A session is one JSON object in one string key. The flush script applies a SessionChange to
 * what is stored *now*, so concurrent requests on one session keep each other's writes, without a
 * compare-and-set retry loop (which collapses under contention on one session).
 *
 * Values are never decoded in Lua: Redis's bundled cjson prints numbers with 14 significant
 * digits and turns `[]` into `{}`. The script splits the stored top-level object into
 * key -> raw value text, replaces raw texts with the JSON texts the session already serialized,
 * and joins the object again. Keys are compared as JSON text (JSON.stringify's form, which is
 * the only form this engine ever writes).
 *
 * This module is the one place a script is defined: its Lua text here, and its row in SCRIPTS
 * (the command's name, its number of keys, its arguments and reply). ioredis registers SCRIPTS
 * as they are (redis/options.ts), and the client's types are made from it (SessionScripts), so
 * adding a script is an edit of this file only.
 */
import type { SessionChange } from '../../engine.ts';
import { JSON_TEXT } from './json-text.ts';

/** Past this many members a login prunes its owner's index (the expired sessions of a user who never lists). */
export const PRUNE_ABOVE = 32;

/**
 * Whether a login that leaves its owner's index at `members` prunes it: past PRUNE_ABOVE, each
 * time the size reaches a power of two. A prune reads every member, so pruning at every login
 * past PRUNE_ABOVE made a login cost grow with the user's sessions (14 ms at 1,000); at powers of
 * two it is a constant per login on average, and the index holds at most twice its live sessions.
 */
export const pruneDue = (members: number): boolean => members > PRUNE_ABOVE && (members & (members - 1)) === 0;

/** Lua: the server's clock in ms, the score of an owner index member (when it was added). */
const NOW_MS = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS[1]: the session key; ARGV[1]: session_duration in seconds; ARGV[2] (optional): the app's
 * clock in ms, to follow a renewal's pointer (RENAME_SCRIPT's grace_until). The stored JSON, with its TTL
 * slid to at least session_duration (EXPIRE GT: never shortened, so a remembered session's longer
 * lifetime survives its reads, which GETEX EX would cut). False for an unknown id, and for a key
 * that is not a string (the moved-to pointer changeId leaves): the old id reads as unknown, but
 * for a renewal's old id within its grace window, which answers {new key, forward}.
 */
const READ_SCRIPT = `
local stored = redis.pcall('GET', KEYS[1])
if type(stored) ~= 'string' then
  if type(stored) == 'table' and ARGV[2] then
    -- A renewal's pointer (RENAME_SCRIPT) within its grace window: {new key, forward}, or {-2} while a Cluster move is pending.
    local pointer = redis.pcall('HMGET', KEYS[1], 'moved_to', 'pending', 'grace_until', 'forward')
    if type(pointer) == 'table' and pointer[3] and tonumber(pointer[3]) > tonumber(ARGV[2]) then
      if pointer[2] then return { -2 } end
      return { pointer[1], pointer[4] }
    end
  end
  return false
end
redis.call('EXPIRE', KEYS[1], ARGV[1], 'GT')
return stored
`;

/**
 * The moved-to pointer: what changeId leaves at the old key, a hash `moved_to` -> the new key
 * (with `moved_at`, and `pending` while a Cluster move is under way), for MOVED_TO_SECONDS.
 * Only the flush script follows it, for a request that read the session before its id changed
 * and writes after: its write lands where the session now lives. A read of the old id (GETEX) hits
 * a hash, not a string, and answers unknown, so the old id gives nobody the session (fixation
 * stays defeated); SCAN ... TYPE string leaves the pointers out of the listing.
 */
export const MOVED_TO_SECONDS = 10;

/**
 * The body both flush scripts share: applies the change in ARGV (from ARGV[4], as FLUSH_SCRIPT
 * says) to `order` / `values` (the stored object, split), then, unless the result passes
 * `max_size` (answered {-2, size}, nothing stored), SETs it under `key` with `ttl` seconds.
 */
const APPLY_CHANGE = `
local a = 8
for _ = 1, tonumber(ARGV[4]) do
  values[ARGV[a]] = nil
  a = a + 1
end
for _ = 1, tonumber(ARGV[5]) do
  local k = ARGV[a]
  if values[k] == nil then order[#order + 1] = k end
  values[k] = ARGV[a + 1]
  a = a + 2
end
for _ = 1, tonumber(ARGV[6]) do
  local k = ARGV[a]
  if values[k] == nil then order[#order + 1] = k end
  values[k] = number_text((tonumber(values[k] or '') or 0) + tonumber(ARGV[a + 1]))
  a = a + 2
end
for _ = 1, tonumber(ARGV[7]) do
  local k, max, n = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local v = values[k]
  local items = (v and byte(v, 1) == 91) and array_items(v) or {}
  for _ = 1, n do
    items[#items + 1] = ARGV[a]
    a = a + 1
  end
  if max > 0 and #items > max then
    local kept = {}
    for j = #items - max + 1, #items do kept[#kept + 1] = items[j] end
    items = kept
  end
  if v == nil then order[#order + 1] = k end
  values[k] = '[' .. table.concat(items, ',') .. ']'
end

local json = join(order, values)
if max_size > 0 and #json > max_size then return { -2, #json } end
redis.call('SET', key, json, 'EX', ttl)
`;

/**
 * FLUSH_SCRIPT from its keys on: the write of `key`, and a login's owner indexes (`join_index`,
 * `leave_index`: nil when the flush is not a login), as FLUSH_SCRIPT and MOVED_FLUSH_SCRIPT set
 * them (`join` is JSON_TEXT's).
 */
const FLUSH_BODY = `
local stored = redis.pcall('GET', key)
if type(stored) == 'table' then
  -- Not a string: the moved-to pointer changeId left here, or a key this engine did not write.
  local pointer = redis.call('HMGET', key, 'moved_to', 'pending')
  if ARGV[2] == '1' then return -1 end
  if pointer[2] then return -2 end
  if pointer[1] then return pointer[1] end
  return redis.error_reply(stored.err)
end
if ARGV[2] == '1' then
  if stored then return -1 end
elseif not stored then
  return 0
end

local order, values = {}, {}
if stored and ARGV[3] ~= '1' then order, values = split(stored) end
local ttl = ARGV[1]
local max_size = tonumber(ARGV[#ARGV])

` + APPLY_CHANGE + `
if join_index then
  local added = redis.call('ZADD', join_index, now_ms(), key)
  if leave_index ~= join_index then redis.call('ZREM', leave_index, key) end
  if added == 1 then
    -- pruneDue: past PRUNE_ABOVE members, at each power of two.
    local members = redis.call('ZCARD', join_index)
    if members > ${PRUNE_ABOVE} and bit.band(members, members - 1) == 0 then return 2 end
  end
end
return 1
`;

/**
 * KEYS[1]: the session key.
 * ARGV: ttl seconds, isNew ("1"/"0"), cleared ("1"/"0"), #deleted, #set, #incremented, #pushed,
 * then the deleted keys, the set key/JSON pairs, the incremented key/amount pairs and, per pushed
 * key, key, max (0: all), item count and the items' JSON texts (keys as JSON text), and last
 * max_session_size in bytes (0: none).
 * Returns 1 when stored, 0 when the session is gone and was left gone, -1 when a new session's
 * id is already taken, {-2, size} when the result would pass max_session_size (nothing stored);
 * for a key that changeId turned into a moved-to pointer (MOVED_TO_SECONDS), the key the session moved to
 * (the engine flushes the same change there), or -2 while a Cluster move is still under way (the
 * engine tries again).
 * A login on a single node passes two more keys (the same text, registered with 3 keys): KEYS[2]
 * the owner index the session joins, KEYS[3] the one it leaves (KEYS[2] again for none: every key
 * a script gets is under key_prefix, so an ACL limited to it allows them all); both change in the
 * same step as the write, and only when the session is stored. Then 2 instead of 1 says the
 * index is due for a prune (pruneDue): the engine prunes it.
 */
const FLUSH_SCRIPT = JSON_TEXT + NOW_MS + `
local key, join_index, leave_index = KEYS[1], KEYS[2], KEYS[3]
` + FLUSH_BODY;

/**
 * RENAME_SCRIPT's move and FLUSH_SCRIPT's write in one step (IdChangeAtFlush on a single node):
 * a login is then the read and this script. KEYS[1]: the new key, KEYS[2]: the old key (the
 * session as this request read it), KEYS[3]: the owner index the session is in (KEYS[1]: none),
 * KEYS[4] and KEYS[5]: a login's indexes to join and leave, as FLUSH_SCRIPT's KEYS[2] and
 * KEYS[3] (KEYS[1] twice: not a login). Every key is under key_prefix (least privilege).
 * ARGV: FLUSH_SCRIPT's, with the app's clock in ms (the pointer's `moved_at`) before the last.
 * The move leaves the moved-to pointer RENAME_SCRIPT leaves; an old key that is no longer a
 * session moves nothing, and the write then finds no session and stores nothing (0). Answers as
 * FLUSH_SCRIPT; -1 also when the new key is taken.
 */
const MOVED_FLUSH_SCRIPT = JSON_TEXT + NOW_MS + `
local key, old = KEYS[1], KEYS[2]
if redis.call('TYPE', old).ok == 'string' then
  if redis.call('RENAMENX', old, key) == 0 then return -1 end
  redis.call('HSET', old, 'moved_to', key, 'moved_at', ARGV[#ARGV - 1])
  redis.call('EXPIRE', old, ${MOVED_TO_SECONDS})
  if KEYS[3] ~= key then
    redis.call('ZREM', KEYS[3], old)
    redis.call('ZADD', KEYS[3], now_ms(), key)
  end
end
local join_index, leave_index
if KEYS[4] ~= key then join_index, leave_index = KEYS[4], KEYS[5] end
` + FLUSH_BODY;

/**
 * The flush of a request that wrote without reading (engine.flushUnread). KEYS and ARGV as
 * FLUSH_SCRIPT's (ARGV[1]: session_duration, ARGV[2]: "0"), then absolute_duration in seconds
 * (0: none), the app's clock in ms, and when the request first wrote (ms): a moved-to pointer is followed
 * only when its `moved_at` is later (the writer held the id before it changed). The ttl comes from the stored `__quickstep` meta
 * (session-meta.ts): its own `remember` lifetime or session_duration, cut to what is left of
 * absolute_duration since `created`, as SessionFactory.ttlSeconds does.
 * Returns {1, remember or 0} when stored; 0 when the session is unknown or past
 * absolute_duration (nothing stored: the factory starts a new session); {-2, size}, a pointer's
 * key or -2 as FLUSH_SCRIPT does.
 */
const UNREAD_FLUSH_SCRIPT = JSON_TEXT + `
local key = KEYS[1]
local stored = redis.pcall('GET', key)
if type(stored) == 'table' then
  -- A moved-to pointer is followed only by a write made before the id changed (see UnreadExpiry).
  local pointer = redis.call('HMGET', key, 'moved_to', 'pending', 'moved_at', 'grace_until')
  if pointer[2] then return -2 end
  if pointer[1] and tonumber(pointer[3] or '') and tonumber(pointer[3]) > tonumber(ARGV[#ARGV]) then return pointer[1] end
  -- A renewal's old id is still its holder's within the grace window, whenever it wrote.
  if pointer[1] and tonumber(pointer[4] or '') and tonumber(pointer[4]) > tonumber(ARGV[#ARGV - 1]) then return pointer[1] end
  if pointer[1] then return 0 end
  return redis.error_reply(stored.err)
end
if not stored then return 0 end

local order, values = split(stored)
local meta = values['"__quickstep"']
local created = meta and tonumber(string.match(meta, '"created":(%d+)'))
local remember = meta and tonumber(string.match(meta, '"remember":(%d+)'))
local ttl = remember or tonumber(ARGV[1])
local absolute, now = tonumber(ARGV[#ARGV - 2]), tonumber(ARGV[#ARGV - 1])
if absolute > 0 and created then
  local left = math.ceil((created + absolute * 1000 - now) / 1000)
  if left <= 0 then return 0 end
  if left < ttl then ttl = left end
end
local max_size = tonumber(ARGV[#ARGV - 3])
` + APPLY_CHANGE + `
return { 1, remember or 0 }
`;



/**
 * KEYS[1]: the old key, KEYS[2]: the new key (same node: not for a cluster); ARGV[1]: the
 * moved-to pointer's lifetime in seconds, ARGV[2]: the app's clock in ms (its `moved_at`);
 * ARGV[3]: for a renewal, until when (ms) reads follow the pointer ('0': not a renewal), ARGV[4]
 * the forward they answer with (engine.ts IdRenewal). RENAMENX keeps the TTL. Returns 1 when moved, 0 when the old
 * session is unknown, -1 when the new id is taken. An owned session's rename passes KEYS[3], its
 * owner index (the same text, registered with 3 keys): the member moves to the new key with it.
 */
const RENAME_SCRIPT = NOW_MS + `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'moved_to', KEYS[2], 'moved_at', ARGV[2])
if ARGV[3] ~= '0' then redis.call('HSET', KEYS[1], 'grace_until', ARGV[3], 'forward', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if KEYS[3] then
  redis.call('ZREM', KEYS[3], KEYS[1])
  redis.call('ZADD', KEYS[3], now_ms(), KEYS[2])
end
return 1
`;

/** KEYS[1]: an owned session's key, KEYS[2]: its owner index. Deletes it and its member at once (single node). */
const DESTROY_OWNED_SCRIPT = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
return 1
`;

/**
 * KEYS[1]: an owner index; ARGV[1]: the age in ms below which a member is kept (STALE_AFTER_MS),
 * then member, score pairs the engine found stale (session missing or foreign). Removes each one
 * whose score is still the one read (a member a login added again meanwhile stays) and that is
 * old enough, by this server's clock, which also gave the score: no clock of an app server is
 * compared with another. Returns how many it removed.
 */
const PRUNE_SCRIPT = NOW_MS + `
local removed, oldest = 0, now_ms() - tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) and tonumber(score) < oldest then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return removed
`;

/**
 * KEYS[1]: an owner index, ARGV[1]: a session key. Adds it, scored by this server's clock (the
 * Cluster's first step of a login or an owned changeId: redis/owners.ts). Returns the count.
 */
const INDEX_ADD_SCRIPT = NOW_MS + `
redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
return redis.call('ZCARD', KEYS[1])
`;


/**
 * On a Cluster the new key is in another slot, where no script on the old key can write. The
 * move is three commands: this script, on the old key, takes the session out and leaves a
 * moved-to pointer marked `pending`; the engine stores the JSON under the new key (SET NX) and then
 * removes `pending`. A flush meanwhile answers -2 and is tried again, so no write lands in the
 * old key after its data left, and none is sent to a new key that does not exist yet.
 * KEYS[1]: the old key; ARGV[1]: the new key, ARGV[2]: the pointer's lifetime in seconds,
 * ARGV[3]: the app's clock in ms (`moved_at`); ARGV[4], ARGV[5]: a renewal's grace_until and
 * forward, as RENAME_SCRIPT's ARGV[3] and ARGV[4].
 * Returns the session's JSON, or nil when the old session is unknown.
 */
const MOVE_OUT_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
local json = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'moved_to', ARGV[1], 'pending', '1', 'moved_at', ARGV[3])
if ARGV[4] ~= '0' then redis.call('HSET', KEYS[1], 'grace_until', ARGV[4], 'forward', ARGV[5]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return json
`;

/**
 * KEYS[1]: the session key; ARGV[1]: a key of the session as JSON text. Removes that key and
 * returns its raw value text, in one step: of two concurrent takes only one gets the value (a
 * flash is shown once). False when the session or the key is not there (a moved-to pointer, a hash, reads
 * as not there). The TTL is kept.
 */
const TAKE_SCRIPT = JSON_TEXT + `
local stored = redis.pcall('GET', KEYS[1])
if type(stored) ~= 'string' then return false end
local order, values = split(stored)
local value = values[ARGV[1]]
if value == nil then return false end
values[ARGV[1]] = nil
redis.call('SET', KEYS[1], join(order, values), 'KEEPTTL')
return value
`;

/**
 * FLUSH_SCRIPT's ARGV for `change` (redis/scripts.ts): counts, then keys and JSON texts, then
 * max_session_size (0: none).
 */
export function changeArgs(ttlSeconds: number, change: SessionChange, maxSize: number): (string | number)[] {
  const args: (string | number)[] = [
    ttlSeconds, change.isNew ? 1 : 0, change.cleared ? 1 : 0,
    change.deleted.size, change.set.size, change.incremented.size, change.pushed.size,
  ];
  for (const key of change.deleted) args.push(JSON.stringify(key));
  for (const [key, json] of change.set) args.push(JSON.stringify(key), json);
  for (const [key, by] of change.incremented) args.push(JSON.stringify(key), by);
  for (const [key, { items, max }] of change.pushed) args.push(JSON.stringify(key), max ?? 0, items.length, ...items);
  args.push(maxSize === Infinity ? 0 : maxSize);
  return args;
}

/**
 * What the flush scripts answer (FLUSH_SCRIPT, UNREAD_FLUSH_SCRIPT): a number (1 stored, 0 left
 * gone, -1 id taken, 2 stored and the owner index wants a prune, -2 a Cluster move under way), the key a
 * moved-to pointer names, or [code, n] ({-2, size} past max_session_size; the unread flush's
 * {1, remember or 0}).
 */
export type FlushAnswer = number | string | [number, number];

/** The answer is a moved-to pointer's key or a Cluster move under way: the engine flushes again where the session is. */
export const isMoving = (answer: FlushAnswer): answer is string | -2 => typeof answer === 'string' || answer === -2;

/**
 * A script as ioredis registers it (`lua`, `numberOfKeys`), typed with the command ioredis
 * defines for it on the client: its arguments (the keys first) and its reply.
 */
export interface Script<Args extends unknown[], Reply> {
  readonly lua: string;
  readonly numberOfKeys: number;
  /** Types only, never set: the command as SessionScripts types it. */
  readonly command?: (...args: Args) => Promise<Reply>;
}

const script = <Args extends unknown[], Reply>(numberOfKeys: number, lua: string): Script<Args, Reply> => ({ lua, numberOfKeys });

/** A change as changeArgs puts it in ARGV. */
type Change = (string | number)[];

/**
 * Every script, by the name of the command ioredis defines for it on the client. The owner
 * index's variants (redis/owners.ts) are the same texts registered with the index keys.
 */
export const SCRIPTS = {
  sessionRead: script<[key: string, sessionDuration: number, now?: number], string | null | [string, string] | [-2]>(1, READ_SCRIPT),
  sessionFlush: script<[key: string, ...change: Change], FlushAnswer>(1, FLUSH_SCRIPT),
  sessionFlushUnread: script<[key: string, ...change: Change], FlushAnswer>(1, UNREAD_FLUSH_SCRIPT),
  sessionRename: script<[oldKey: string, newKey: string, movedToSeconds: number, now: number, graceUntil: number, forward: string], number>(2, RENAME_SCRIPT),
  sessionMoveOut: script<[oldKey: string, newKey: string, movedToSeconds: number, now: number, graceUntil: number, forward: string], string | null>(1, MOVE_OUT_SCRIPT),
  sessionTake: script<[key: string, field: string], string | null>(1, TAKE_SCRIPT),
  sessionFlushOwned: script<[key: string, join: string, leave: string, ...change: Change], FlushAnswer>(3, FLUSH_SCRIPT),
  sessionFlushMoved: script<[key: string, oldKey: string, index: string, join: string, leave: string, ...change: Change], FlushAnswer>(5, MOVED_FLUSH_SCRIPT),
  sessionRenameOwned: script<[oldKey: string, newKey: string, index: string, movedToSeconds: number, now: number, graceUntil: number, forward: string], number>(3, RENAME_SCRIPT),
  sessionDestroyOwned: script<[key: string, index: string], number>(2, DESTROY_OWNED_SCRIPT),
  ownerPrune: script<[index: string, graceMs: number, ...memberScores: string[]], number>(1, PRUNE_SCRIPT),
  ownerIndexAdd: script<[index: string, key: string], number>(1, INDEX_ADD_SCRIPT),
};

/** The commands SCRIPTS defines on the client, as the engine and redis/owners.ts call them. */
export type SessionScripts = { readonly [Name in keyof typeof SCRIPTS]: NonNullable<(typeof SCRIPTS)[Name]['command']> };
