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
 * KEYS[1]: the session key.
 * ARGV: ttl seconds, isNew ("1"/"0"), cleared ("1"/"0"), #deleted, #set, #incremented, then the
 * deleted keys, the set key/JSON pairs and the incremented key/amount pairs (keys as JSON text),
 * and last max_session_size in bytes (0: none).
 * Returns 1 when stored, 0 when the session is gone and was left gone, -1 when a new session's
 * id is already taken, {-2, size} when the result would pass max_session_size (nothing stored).
 */
export const FLUSH_SCRIPT = `
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
  return (find(s, '[,}%s]', i) or (#s + 1)) - 1
end

local function skip_space(s, i)
  return find(s, '[^ \\t\\r\\n]', i) or error('stored session: truncated JSON')
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

local key = KEYS[1]
local stored = redis.call('GET', key)
if ARGV[2] == '1' then
  if stored then return -1 end
elseif not stored then
  return 0
end

local order, values = {}, {}
if stored and ARGV[3] ~= '1' then order, values = split(stored) end

local a = 7
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

local parts, seen = {}, {}
for _, k in ipairs(order) do
  local v = values[k]
  if v and not seen[k] then
    seen[k] = true
    parts[#parts + 1] = k .. ':' .. v
  end
end
local json = '{' .. table.concat(parts, ',') .. '}'

-- max_session_size, the last argument: a merged result over it is not stored.
local max_size = tonumber(ARGV[#ARGV])
if max_size > 0 and #json > max_size then return { -2, #json } end

redis.call('SET', key, json, 'EX', ARGV[1])
return 1
`;

/**
 * KEYS[1]: the old key, KEYS[2]: the new key (same node: not for a cluster). RENAMENX keeps the
 * TTL. Returns 1 when moved, 0 when the old session is unknown, -1 when the new id is taken.
 */
export const RENAME_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('RENAMENX', KEYS[1], KEYS[2]) == 0 then return -1 end
return 1
`;
