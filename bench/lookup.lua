-- W2: one random existing user by external_id, sent the way the hosted
-- product's example client sends it (GET with a JSON body, page of one).
local key_id, key_secret = os.getenv("KEY_ID"), os.getenv("KEY_SECRET")
local prefix, users = os.getenv("PREFIX"), tonumber(os.getenv("N"))
local headers = { ["Content-Type"] = "application/json" }
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local body = string.format('{"keyId":"%s","keySecret":"%s","external_id":"%s-%d"}',
    key_id, key_secret, prefix, math.random(0, users - 1))
  return wrk.format("GET", "/rest/v1/customer-users?page=1&limit=1", headers, body)
end
