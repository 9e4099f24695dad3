-- W3: case-insensitive "name contains" search over the large tenant, first
-- page of 20 with the exact total, for terms that match many users.
local key_id, key_secret = os.getenv("KEY_ID"), os.getenv("KEY_SECRET")
local terms = { "smith", "anna", "lee", "garc", "müll", "nguy", "ivan", "olsen", "kowal", "rossi" }
local headers = { ["Content-Type"] = "application/json" }
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local body = string.format('{"keyId":"%s","keySecret":"%s","name":"%s"}',
    key_id, key_secret, terms[math.random(1, #terms)])
  return wrk.format("GET", "/rest/v1/customer-users?page=1&limit=20", headers, body)
end
