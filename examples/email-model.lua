-- email-model.lua: a scripted stand-in for a model, for examples/email.lua.
-- It sends one mail with a non-ASCII subject and body, tries a second one to
-- a domain the task does not allow, and answers from the tool results.
local function tool_results(ctx)
  local out = {}
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" then out[#out + 1] = m end
  end
  return out
end

return function(ctx)
  local results = tool_results(ctx)
  if #results == 0 then
    return {
      text = "I will write to Zoë.",
      tool_calls = { { name = "email", arguments = {
        to = { "Zoë Ünal <zoe@example.org>" },
        subject = "Lancement lundi à 10 h 🚀",
        body = "Bonjour Zoë,\n\n"
          .. "Le lancement aura lieu lundi à 10 h. Je te tiens au courant "
          .. "s'il y a le moindre changement d'ici là.\n\n"
          .. "Bonne journée,\nl'agent\n",
      } } },
    }
  end
  if #results == 1 then
    if results[1].is_error then
      return "I could not send the email to Zoë: " .. results[1].content
    end
    return {
      text = "Now the partner.",
      tool_calls = { { name = "email", arguments = {
        to = { "partner@other.example" },
        subject = "Launch on Monday",
        body = "Hello,\n\nThe launch is on Monday at 10:00.\n",
      } } },
    }
  end
  local sent = json.decode(results[1].content)
  local partner = results[2].is_error
      and ("I could not write to the partner (" .. results[2].content .. ")")
      or "the partner was told as well"
  return string.format("I emailed Zoë (message %s); %s.", sent.message_id,
                       partner)
end
