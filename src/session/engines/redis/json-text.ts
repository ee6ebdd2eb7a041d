/**
 * Lua functions that read and write a session's JSON object as text, for the scripts in
 * redis/scripts.ts: split the top-level object into key -> raw value text, find where a value
 * ends, list an array's items, print a number exactly, join the object again. Values are never
 * decoded with Redis's cjson, which prints 14 significant digits and turns [] into {}.
 */
/** Lua helpers for session JSON text, shared by the scripts below (never decoded by cjson). */
export const JSON_TEXT = `
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
