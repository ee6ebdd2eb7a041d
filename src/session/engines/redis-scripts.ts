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
 */

/**
 * KEYS[1]: the session key; ARGV[1]: session_duration in seconds. The stored JSON, with its TTL
 * slid to at least session_duration (EXPIRE GT: never shortened, so a remembered session's longer
 * lifetime survives its reads, which GETEX EX would cut). False for an unknown id, and for a key
 * that is not a string (the forward changeId leaves): the old id reads as unknown.
 */
export const READ_SCRIPT = `
local stored = redis.pcall('GET', KEYS[1])
if type(stored) ~= 'string' then return false end
redis.call('EXPIRE', KEYS[1], ARGV[1], 'GT')
return stored
`;

/** Lua helpers for session JSON text, shared by the scripts below (never decoded by cjson). */
const JSON_TEXT = `
local byte, find, sub, gsub, format = string.byte, string.find, string.sub, string.gsub, string.format

-- s[i] is '"': the index of the closing quote, the first '"' after an even run of backslashes.
-- A plain find (memchr) jumps over the text; a pattern would test every character.
local function string_end(s, i)
  local k = i
  while true do
    k = find(s, '"', k + 1, true)
    if not k then error('stored session: unterminated string') end
    local b = k - 1
    while byte(s, b) == 92 do b = b - 1 end
    if (k - b) % 2 == 1 then return k end
  end
end

-- s[i] is '{' or '[' (c): the index of its matching bracket, walking token by token.
local function walk_container(s, i)
  local depth, j = 0, i
  while true do
    local k = find(s, '[%[%]{}"]', j)
    if not k then error('stored session: unbalanced brackets') end
    local b = byte(s, k)
    if b == 34 then
      k = string_end(s, k)
    elseif b == 123 or b == 91 then
      depth = depth + 1
    else
      depth = depth - 1
      if depth == 0 then return k end
    end
    j = k + 1
  end
end

local BALANCED = { [123] = '^%b{}', [91] = '^%b[]' }

-- Like walk_container, in a few C calls: %b finds the matching bracket but counts brackets in
-- strings too, so its answer is kept only when the strings inside hold no escapes and, with them
-- removed, the brackets close exactly at its end.
local function container_end(s, i, c)
  local _, e = find(s, BALANCED[c], i)
  if e then
    local text = sub(s, i, e)
    if not find(text, '\\\\', 1, true) then
      local outside = gsub(text, '"[^"]*"', '')
      if not find(outside, '"', 1, true) and find(outside, BALANCED[c] .. '$') then return e end
    end
  end
  return walk_container(s, i)
end

-- The index of the last character of the JSON value that starts at s[i] (c = its first byte).
local function value_end(s, i, c)
  if c == 34 then return string_end(s, i) end
  if c == 123 or c == 91 then return container_end(s, i, c) end
  return (find(s, '[,}%]%s]', i) or (#s + 1)) - 1
end

local function skip_space(s, i)
  return find(s, '[^ \\t\\r\\n]', i) or error('stored session: truncated JSON')
end

-- The raw texts of the items of the JSON array text s.
local function array_items(s)
  local items = {}
  local i = skip_space(s, 2)
  if byte(s, i) == 93 then return items end
  while true do
    local last = value_end(s, i, byte(s, i))
    items[#items + 1] = sub(s, i, last)
    i = last + 1
    local c = byte(s, i)
    if c ~= 44 and c ~= 93 then
      i = skip_space(s, i)
      c = byte(s, i)
    end
    if c ~= 44 then return items end
    i = skip_space(s, i + 1)
  end
end

-- The stored object as its keys in order and key -> raw value text. This engine writes compact
-- JSON, so whitespace is only looked for where the expected byte is not found.
local function split(s)
  local order, values = {}, {}
  local i = skip_space(s, 1)
  if byte(s, i) ~= 123 then error('stored session: not a JSON object') end
  i = skip_space(s, i + 1)
  if byte(s, i) == 125 then return order, values end
  while true do
    local key_end = string_end(s, i)
    local key = sub(s, i, key_end)
    i = key_end + 1
    if byte(s, i) ~= 58 then i = skip_space(s, i) end
    i = i + 1
    local c = byte(s, i)
    if c == 32 or c == 9 or c == 10 or c == 13 then
      i = skip_space(s, i)
      c = byte(s, i)
    end
    local last = value_end(s, i, c)
    if values[key] == nil then order[#order + 1] = key end
    values[key] = sub(s, i, last)
    i = last + 1
    c = byte(s, i)
    if c ~= 44 and c ~= 125 then
      i = skip_space(s, i)
      c = byte(s, i)
    end
    if c ~= 44 then return order, values end
    i = i + 1
    if byte(s, i) ~= 34 then i = skip_space(s, i) end
  end
end

-- A number as JSON text that reads back as exactly the same double.
local function number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return 'null' end
  if n % 1 == 0 and n > -1e21 and n < 1e21 then return format('%.0f', n) end
  for digits = 15, 16 do
    local text = format('%.' .. digits .. 'g', n)
    if tonumber(text) == n then return text end
  end
  return format('%.17g', n)
end

-- The object text of 'order' (keys as JSON text) and key -> raw value text (nil: removed).
local function join(order, values)
  local parts, seen = {}, {}
  for _, k in ipairs(order) do
    local v = values[k]
    if v and not seen[k] then
      seen[k] = true
      parts[#parts + 1] = k .. ':' .. v
    end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

`;

/**
 * KEYS[1]: the session key.
 * ARGV: ttl seconds, isNew ("1"/"0"), cleared ("1"/"0"), #deleted, #set, #incremented, #pushed,
 * then the deleted keys, the set key/JSON pairs, the incremented key/amount pairs and, per pushed
 * key, key, max (0: all), item count and the items' JSON texts (keys as JSON text), and last
 * max_session_size in bytes (0: none).
 * Returns 1 when stored, 0 when the session is gone and was left gone, -1 when a new session's
 * id is already taken, {-2, size} when the result would pass max_session_size (nothing stored);
 * for a key that changeId turned into a forward (FORWARD_SECONDS), the key the session moved to
 * (the engine flushes the same change there), or -2 while a Cluster move is still under way (the
 * engine tries again).
 */
export const FLUSH_SCRIPT = JSON_TEXT + `
local key = KEYS[1]
local stored = redis.pcall('GET', key)
if type(stored) == 'table' then
  -- Not a string: the forward changeId left here, or a key this engine did not write.
  local forward = redis.call('HMGET', key, 'moved_to', 'pending')
  if ARGV[2] == '1' then return -1 end
  if forward[2] then return -2 end
  if forward[1] then return forward[1] end
  return redis.error_reply(stored.err)
end
if ARGV[2] == '1' then
  if stored then return -1 end
elseif not stored then
  return 0
end

local order, values = {}, {}
if stored and ARGV[3] ~= '1' then order, values = split(stored) end

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

-- max_session_size, the last argument: a merged result over it is not stored.
local max_size = tonumber(ARGV[#ARGV])
if max_size > 0 and #json > max_size then return { -2, #json } end

redis.call('SET', key, json, 'EX', ARGV[1])
return 1
`;

/**
 * What changeId leaves at the old key: a hash `moved_to` -> the new key, for FORWARD_SECONDS.
 * Only the flush script follows it, for a request that read the session before its id changed
 * and writes after: its write lands where the session now lives. A read of the old id (GETEX) hits
 * a hash, not a string, and answers unknown, so the old id gives nobody the session (fixation
 * stays defeated); SCAN ... TYPE string leaves forwards out of the listing.
 */
export const FORWARD_SECONDS = 10;

/**
 * KEYS[1]: the old key, KEYS[2]: the new key (same node: not for a cluster); ARGV[1]: the
 * forward's lifetime in seconds. RENAMENX keeps the TTL. Returns 1 when moved, 0 when the old
 * session is unknown, -1 when the new id is taken.
 */
export const RENAME_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return 0 end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'moved_to', KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/**
 * On a Cluster the new key is in another slot, where no script on the old key can write. The
 * move is three commands: this script, on the old key, takes the session out and leaves a
 * forward marked `pending`; the engine stores the JSON under the new key (SET NX) and then
 * removes `pending`. A flush meanwhile answers -2 and is tried again, so no write lands in the
 * old key after its data left, and none is sent to a new key that does not exist yet.
 * KEYS[1]: the old key; ARGV[1]: the new key, ARGV[2]: the forward's lifetime in seconds.
 * Returns the session's JSON, or nil when the old session is unknown.
 */
export const MOVE_OUT_SCRIPT = `
if redis.call('TYPE', KEYS[1]).ok ~= 'string' then return false end
local json = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'moved_to', ARGV[1], 'pending', '1')
redis.call('EXPIRE', KEYS[1], ARGV[2])
return json
`;

/**
 * KEYS[1]: the session key; ARGV[1]: a key of the session as JSON text. Removes that key and
 * returns its raw value text, in one step: of two concurrent takes only one gets the value (a
 * flash is shown once). False when the session or the key is not there (a forward, a hash, reads
 * as not there). The TTL is kept.
 */
export const TAKE_SCRIPT = JSON_TEXT + `
local stored = redis.pcall('GET', KEYS[1])
if type(stored) ~= 'string' then return false end
local order, values = split(stored)
local value = values[ARGV[1]]
if value == nil then return false end
values[ARGV[1]] = nil
redis.call('SET', KEYS[1], join(order, values), 'KEEPTTL')
return value
`;
