-- W7: one end-user message a request, its reply streamed back as SSE
-- (Accept: text/event-stream). CHATS names a file of "TOKEN CONVERSATION" lines;
-- requests take them in turn, so with many more lines than connections no two
-- requests in flight share a conversation (which would answer 409).
local chats = {}
for line in io.lines(os.getenv("CHATS")) do
  local token, conversation = line:match("(%S+) (%S+)")
  chats[#chats + 1] = { token, conversation }
end
local next_chat = 0
request = function()
  next_chat = next_chat % #chats + 1
  local c = chats[next_chat]
  return wrk.format("POST", "/rest/v1/chat/conversations/" .. c[2] .. "/messages",
    { ["Content-Type"] = "application/json", ["Accept"] = "text/event-stream", ["Authorization"] = "Bearer " .. c[1] },
    '{"content":"Where is my order? It should have come yesterday."}')
end
