-- email: sends a plain-text message through the broker's smtp.send (DESIGN
-- §5.5). The tool chooses only the recipients, the subject and the body: the
-- sender, the relay and its credentials are the task's (its email options)
-- and stay in the agent process, which also checks every recipient against
-- the task's allow_domains and counts them against max_recipients. The
-- message is built there too, with MIME and RFC 2047 encodings, so any
-- UTF-8 text is fine here.
--
-- A task enables it with:
--
--   tools = { email = { relay = "smtp://127.0.0.1:2525",
--                       from = "Agent <agent@example.org>",
--                       username = "...", password = "...",   -- optional
--                       allow_domains = { "example.org" } } }

local MAX_ADDRESS = 320

-- Checks a list of addresses lightly (the broker checks them for real).
local function addresses(list, field)
  if list == nil then return {} end
  if type(list) ~= "table" then
    return nil, field .. " must be a list of addresses"
  end
  local out = {}
  for i, a in ipairs(list) do
    if type(a) ~= "string" or a == "" then
      return nil, string.format("%s[%d] must be a non-empty string", field, i)
    end
    if #a > MAX_ADDRESS then
      return nil, string.format("%s[%d] is too long", field, i)
    end
    if a:find("[\r\n]") then
      return nil, string.format("%s[%d] must not contain line breaks", field, i)
    end
    if not a:find("@", 1, true) then
      return nil, string.format("%s[%d] is not an address: %s", field, i, a)
    end
    out[#out + 1] = a
  end
  return out
end

return {
  name = "email",
  description = "Send a plain-text email. The sender address is fixed by the "
    .. "task; recipients must be in the domains the task allows. Any language "
    .. "and characters are fine in the subject and body. Returns the message "
    .. "id and the accepted recipients.",
  parameters = {
    type = "object",
    properties = {
      to = {
        type = "array", minItems = 1, maxItems = 50,
        items = { type = "string", minLength = 3, maxLength = MAX_ADDRESS },
        description = "Recipients: \"name@example.org\" or "
          .. "\"Display Name <name@example.org>\"",
      },
      cc = {
        type = "array", maxItems = 50,
        items = { type = "string", minLength = 3, maxLength = MAX_ADDRESS },
        description = "Copy recipients, same form as to",
      },
      subject = { type = "string", maxLength = 500,
                  description = "One line, no line breaks" },
      body = { type = "string", maxLength = 100000,
               description = "The message text" },
    },
    required = { "to", "subject", "body" },
    additionalProperties = false,
  },
  policy = {
    timeout = 30,
    memory = 16 * 1024 * 1024,
    output = 16384,
    smtp = { max_recipients = 10, max_bytes = 1024 * 1024 },
  },
  run = function(args)
    local to, err = addresses(args.to, "to")
    if not to then return nil, err end
    if #to == 0 then return nil, "to must list at least one address" end
    local cc
    cc, err = addresses(args.cc, "cc")
    if not cc then return nil, err end
    local subject = args.subject or ""
    if type(subject) ~= "string" then return nil, "subject must be a string" end
    if subject:find("[\r\n]") then
      return nil, "subject must be one line (no line breaks)"
    end
    local body = args.body or ""
    if type(body) ~= "string" then return nil, "body must be a string" end
    if not utf8.len(subject) then return nil, "subject is not valid UTF-8" end
    if not utf8.len(body) then return nil, "body is not valid UTF-8" end

    local req = { to = to, subject = subject, body = body }
    if #cc > 0 then req.cc = cc end -- an empty table would not be a list
    local res
    res, err = smtp.send(req)
    if not res then return nil, err end
    return { sent = true, message_id = res.message_id, accepted = res.accepted }
  end,
}
