-- Cycles through one prebuilt request per session cookie (BENCH_COOKIES, one per line), so load
-- spreads over many sessions. Requests are built once in init() to keep wrk's per-request cost flat.
local requests, i = {}, 0

function init(args)
  for cookie in string.gmatch(os.getenv("BENCH_COOKIES") or "", "[^\n]+") do
    requests[#requests + 1] = wrk.format(nil, nil, { Cookie = cookie })
  end
end

function request()
  if #requests == 0 then return wrk.request() end
  i = i % #requests + 1
  return requests[i]
end
