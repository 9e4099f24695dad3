-- W1: a chat token for a random existing user: find-or-create by external
-- id, a last_seen_at write, and an HS256 signature per request.
local key_id, key_secret = os.getenv("KEY_ID"), os.getenv("KEY_SECRET")
local prefix, users, agent = os.getenv("PREFIX"), tonumber(os.getenv("N")), os.getenv("AGENT_ID")
local headers = { ["Content-Type"] = "application/json" }
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local body = string.format('{"keyId":"%s","keySecret":"%s","userId":"%s-%d","agentId":"%s"}',
    key_id, key_secret, prefix, math.random(0, users - 1), agent)
  return wrk.format("POST", "/rest/v1/auth/token", headers, body)
end
