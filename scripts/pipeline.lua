-- pipeline.lua: make wrk pipeline HTTP/1.1 requests, DEPTH per write
-- (TechEmpower's plaintext test uses 16). wrk still counts every response.
--
--   wrk -t1 -c64 -d10s -s scripts/pipeline.lua http://127.0.0.1:8080/plaintext -- 16
local depth = 16

init = function(args)
  depth = tonumber(args[1]) or depth
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format(nil)
  end
  req = table.concat(r)
end

request = function()
  return req
end
