-- email.lua: the email tool with a scripted stand-in model (offline,
-- deterministic). The model writes to Zoë in French, with an accented
-- subject and an emoji, through a local SMTP relay; then it tries to copy a
-- partner at a domain the task does not allow, which the broker refuses
-- before anything is sent; then it answers. The relay, the sender and the
-- credentials are the task's: the tool's code and the model never see them.
--
-- A local SMTP server that prints what it receives (Debian: apt install
-- python3-aiosmtpd), in another terminal:
--
--   python3 -m aiosmtpd -n -l 127.0.0.1:2525
--
-- then:
--
--   agent run examples/email.lua
--
-- Without a server the mail fails ("cannot reach the relay: ...") and the
-- model says so. AGENT_SMTP_RELAY points the task at another relay
-- ("smtps://mail.example.org:465"); with a real one, also give the
-- credentials (kept in the agent process, never shown to the tool or the
-- model): username = os.getenv("SMTP_USER"), password =
-- os.getenv("SMTP_PASSWORD"). Past loopback, credentials are only sent
-- over TLS (smtps://, or smtp:// with STARTTLS).
--
-- To use a real model instead: agent run examples/email.lua --model openai:gpt-4o-mini
return {
  name = "email",
  model = { provider = "script", file = "email-model.lua" },
  system = "You are an assistant that writes short, friendly emails. "
        .. "Use the email tool to send them; answer in one sentence.",
  goal = "Tell Zoë Ünal (zoe@example.org) in French that the launch is on "
      .. "Monday at 10:00, and copy our partner at partner@other.example.",
  tools = {
    email = {
      relay = os.getenv("AGENT_SMTP_RELAY") or "smtp://127.0.0.1:2525",
      from = "Agent <agent@example.org>",
      allow_domains = { "example.org" },
      max_recipients = 5,
    },
  },
  limits = { steps = 5, seconds = 60 },
}
