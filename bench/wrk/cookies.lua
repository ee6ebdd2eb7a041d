-- Cycles through one prebuilt request per session cookie (BENCH_COOKIES, one per line), so load
-- spreads over many sessions. Requests are built once in init() to keep wrk's per-request cost flat.
-- BENCH_HEADERS (one "Name: value" a line) adds headers to every request (X-Forwarded-Proto, ...).
local requests, i = {}, 0

function init(args)
  local extra = {}
  for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then extra[name] = value end
  end
  for cookie in string.gmatch(os.getenv("BENCH_COOKIES") or "", "[^\n]+") do
    local headers = { Cookie = cookie }
    for name, value in pairs(extra) do headers[name] = value end
    requests[#requests + 1] = wrk.format(nil, nil, headers)
  end
end

function request()
  if #requests == 0 then return wrk.request() end
  i = i % #requests + 1
  return requests[i]
end
