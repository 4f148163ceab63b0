#!/bin/sh
# e2e-email.sh: the email tool end to end, against a real SMTP server. A
# relay (Debian's aiosmtpd, on 127.0.0.1, a free port) stores every message
# it accepts with its envelope and the AUTH user; the stand-in plays a model
# that sends a mail with a non-ASCII subject and body to an allowed domain,
# then tries a recipient outside allow_domains (refused by the broker, never
# sent), one the relay refuses (its 550 reaches the model), a subject with a
# line break (refused by the tool), and answers. The stored message is
# decoded with Python's own email parser (headers, body, envelope); the
# relay password from the task must appear in no output, in no request the
# model saw, and not in the --audit log.
. "$SRCDIR/tests/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import aiosmtpd' 2>/dev/null ||
    skip_all "no python3-aiosmtpd"

KEY=sk-e2e-ema1l-secret-1a2b3c
PASS=relay-pw-Zq8-never-shown
unset OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL AGENT_MODEL
OPENAI_API_KEY=$KEY
export OPENAI_API_KEY
: >"$T/seen"

# ---- the relay ----
mkdir "$T/mail"
cat >"$T/relay.py" <<'PY'
# An SMTP server storing each message as N.eml, after X-Envelope-From,
# X-Envelope-To and X-Auth-User lines; nobody@ is refused with a 550.
import asyncio, os, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
out, portfile, password = sys.argv[1], sys.argv[2], sys.argv[3].encode()
class Handler:
    n = 0
    async def handle_RCPT(self, server, session, envelope, address, opts):
        if address.lower().startswith('nobody@'):
            return '550 5.1.1 <%s>: no such user here' % address
        envelope.rcpt_tos.append(address)
        return '250 OK'
    async def handle_DATA(self, server, session, envelope):
        Handler.n += 1
        name = os.path.join(out, '%d.eml' % Handler.n)
        with open(name + '.tmp', 'wb') as f:
            f.write(b'X-Envelope-From: %s\r\n' % envelope.mail_from.encode())
            for r in envelope.rcpt_tos:
                f.write(b'X-Envelope-To: %s\r\n' % r.encode())
            if session.authenticated:
                f.write(b'X-Auth-User: %s\r\n' % session.auth_data.login)
            f.write(envelope.original_content)
        os.rename(name + '.tmp', name)
        return '250 2.0.0 stored'
def auth(server, session, envelope, mechanism, data):
    ok = (isinstance(data, LoginPassword) and data.login == b'agent'
          and data.password == password)
    return AuthResult(success=ok, handled=False, auth_data=data)
async def main():
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(Handler(), authenticator=auth,
        auth_require_tls=False, hostname='relay.test'), '127.0.0.1', 0)
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    os.rename(portfile + '.tmp', portfile)
    await asyncio.Event().wait()
asyncio.run(main())
PY
"$PY" "$T/relay.py" "$T/mail" "$T/relay.port" "$PASS" \
    >"$T/relay.out" 2>"$T/relay.err" &
RELAY_PID=$!
relay_stop() {
    [ -n "$RELAY_PID" ] || return 0
    kill "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID" 2>/dev/null
    RELAY_PID=
}
i=0
while [ ! -s "$T/relay.port" ]; do
    kill -0 "$RELAY_PID" 2>/dev/null || bail_out "the relay did not start: $(cat "$T/relay.err")"
    i=$((i + 1))
    [ $i -lt 200 ] || bail_out "the relay did not start in 10 s"
    sleep 0.05
done
RELAY_PORT=$(cat "$T/relay.port")

# decoded FILE: the stored message as Python's email parser reads it, one
# field a line.
decoded() {
    "$PY" - "$1" <<'PY'
import email, email.policy, sys
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.default)
for k in ('X-Envelope-From', 'X-Auth-User', 'From', 'To', 'Cc', 'Subject',
          'Message-ID', 'Content-Type', 'Content-Transfer-Encoding',
          'Auto-Submitted'):
    print('%s: %s' % (k, m[k]))
print('Envelope-To: %s' % ' '.join(m.get_all('X-Envelope-To') or []))
print('Defects: %d' % (len(m.defects) + sum(len(m[k].defects) for k in m.keys())))
longest = max(len(l) for l in raw.split(b'\r\n'))
print('Longest line: %s' % ('ok' if longest <= 76 else longest))
print('Bare LF: %s' % ('yes' if raw.replace(b'\r\n', b'').count(b'\n') else 'no'))
print('Body: %r' % m.get_content())
PY
}

# tool_msg N ID: the content of the tool message answering ID in request N,
# still JSON-escaped (as in e2e-tools.sh).
tool_msg() {
    standin_request "$1" | awk -v pre="{\"role\":\"tool\",\"tool_call_id\":\"$2\",\"content\":\"" '
        { i = index($0, pre)
          if (!i) exit
          s = substr($0, i + length(pre))
          for (k = 1; k <= length(s); k++) {
              c = substr(s, k, 1)
              if (c == "\\") { printf "%s", c substr(s, k + 1, 1); k++ }
              else if (c == "\"") break
              else printf "%s", c
          }
          print "" }'
}

cat >"$T/task.lua" <<LUA
return {
  name = "mail",
  model = { provider = "openai", name = "gpt-e2e" },
  goal = "Tell Zoë about the launch by email.",
  tools = { email = { relay = "smtp://127.0.0.1:$RELAY_PORT",
                      from = "Agent Ünïcode <agent@example.org>",
                      username = "agent", password = "$PASS",
                      allow_domains = { "example.org" } } },
  limits = { steps = 8, seconds = 60 },
}
LUA

# the body: accents, an emoji, a line of one dot, a long line
scenario mail.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "c_send", "name": "email", "arguments": {
     "to": ["Zoë Ünal <zoe@example.org>"], "cc": ["bob@Example.org"],
     "subject": "Réunion 🚀 — ordre du jour de lundi",
     "body": "Bonjour Zoë,\n\nLe lancement est prévu lundi à 10 h. 🎉\n.\nÀ bientôt,\nl’agent — avec une ligne très longue qui dépasse largement les soixante-dix-huit caractères autorisés par ligne.\n"}}]},
  {"tool_calls": [{"id": "c_evil", "name": "email", "arguments": {
     "to": ["zoe@example.org"], "cc": ["eve@evil.example"],
     "subject": "copy", "body": "leak"}}]},
  {"tool_calls": [{"id": "c_nobody", "name": "email", "arguments": {
     "to": ["nobody@example.org"], "subject": "hello", "body": "hi"}}]},
  {"tool_calls": [{"id": "c_inject", "name": "email", "arguments": {
     "to": ["zoe@example.org"], "subject": "hi\r\nBcc: eve@evil.example",
     "body": "x"}}]},
  {"text": "Sent the mail to Zoë."}
]}
EOF
standin_start --script "$T/mail.json" || bail_out "the stand-in did not start"
"$AGENT" run "$T/task.lua" --base-url "$STANDIN_URL" --json \
    --audit "$T/audit.jsonl" >"$T/out" 2>"$T/err"
rc=$?
standin_stop
out=$(cat "$T/out")
err=$(cat "$T/err")
cat "$T/out" "$T/err" >>"$T/seen"
[ "$rc" = 0 ] || diag "$err"

is "$rc" 0 "the run ends with exit 0"
like "$(printf '%s\n' "$out" | grep '"event":"run.end"')" \
    '"outcome":"done","reason":"answered","answer":"Sent the mail to Zo' \
    "the model answers after the mails"
is "$(standin_count)" 5 "five model requests"

# ---- what the relay stored ----
ls "$T/mail" >"$T/stored"
is "$(tr '\n' ' ' <"$T/stored")" "1.eml " "one message reached the relay"
dec=$(decoded "$T/mail/1.eml" 2>&1)
diag "$dec"
like "$dec" "X-Envelope-From: agent@example.org" "MAIL FROM is the task's sender"
like "$dec" "Envelope-To: zoe@example.org bob@Example.org" \
    "RCPT TO the To and the Cc recipients"
like "$dec" "X-Auth-User: agent" "the relay saw AUTH with the task's user"
like "$dec" "From: Agent Ünïcode <agent@example.org>" "From decodes (non-ASCII name)"
like "$dec" "To: Zoë Ünal <zoe@example.org>" "To decodes (non-ASCII name)"
like "$dec" "Cc: bob@Example.org" "Cc"
like "$dec" "Subject: Réunion 🚀 — ordre du jour de lundi" \
    "the non-ASCII subject decodes"
like "$dec" "Content-Type: text/plain; charset=\"utf-8\"" "text/plain, UTF-8"
like "$dec" "Content-Transfer-Encoding: quoted-printable" "quoted-printable body"
like "$dec" "Auto-Submitted: auto-generated" "marked auto-generated"
like "$dec" "Defects: 0" "Python's parser finds no defect"
like "$dec" "Longest line: ok" "no line longer than 76 characters"
like "$dec" "Bare LF: no" "CRLF line ends only"
like "$dec" "Body: 'Bonjour Zoë,\\r\\n\\r\\nLe lancement est prévu lundi à 10 h. 🎉\\r\\n.\\r\\nÀ bientôt,\\r\\nl’agent — avec une ligne très longue qui dépasse largement les soixante-dix-huit caractères autorisés par ligne.\\r\\n'" \
    "the body decodes to what the model wrote, the lone dot included"
mid=$(printf '%s\n' "$dec" | sed -n 's/^Message-ID: //p')
like "$mid" "@example.org>" "a Message-ID in the sender's domain"

# ---- what the model saw ----
last=5
sent=$(tool_msg $last c_send)
like "$sent" '\"sent\":true' "the model is told the mail was sent"
like "$sent" "\\\"message_id\\\":\\\"$mid\\\"" "... with the Message-ID the relay got"
like "$sent" '\"accepted\":[\"Zoë Ünal <zoe@example.org>\",\"bob@Example.org\"]' \
    "... and the accepted recipients"
is "$(tool_msg $last c_evil)" \
    "error: policy: recipient eve@evil.example is outside the allowed domains" \
    "a recipient outside allow_domains: refused by the broker, the model told why"
like "$(tool_msg $last c_nobody)" \
    "error: relay refused: 550 5.1.1 <nobody@example.org>: no such user here" \
    "a recipient the relay refuses: the model gets the relay's reply"
is "$(tool_msg $last c_inject)" "error: subject must be one line (no line breaks)" \
    "a subject with a line break is refused"

# ---- the audit log ----
audit=$(cat "$T/audit.jsonl")
n_net=$(grep -c '"net.request"' "$T/audit.jsonl")
[ "$n_net" -ge 3 ]
ok $? "net.request audit records for the mails ($n_net)"
like "$(grep '"net.request"' "$T/audit.jsonl" | grep evil.example)" \
    "outside the allowed domains" "the refusal is audited"
"$AGENT" audit verify "$T/audit.jsonl" >/dev/null 2>&1
ok $? "the audit log verifies"

# ---- secrets ----
unlike "$(cat "$T/seen")" "$PASS" "the relay password is in no output"
unlike "$(cat "$T/requests.jsonl")" "$PASS" "... in no request the model saw"
unlike "$audit" "$PASS" "... and not in the audit log"
unlike "$(cat "$T/requests.jsonl")" "127.0.0.1:$RELAY_PORT" \
    "the model never sees the relay"
unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report"
unlike "$(cat "$T/seen")" "runtime error:" "no UndefinedBehaviorSanitizer report"

# ---- a mail tool's Lua never sees the relay or its credentials ----
mkdir "$T/tools"
cat >"$T/tools/mailprobe.lua" <<'LUA'
-- Reports the options its code sees, then sends to an allowed recipient.
return {
  name = "mailprobe", description = "Looks at its options.",
  parameters = { type = "object", properties = {} },
  policy = { smtp = { max_recipients = 1 } },
  run = function(args, ctx)
    local res, err = smtp.send{ to = { "a@example.org", "b@example.org" },
                                subject = "two", body = "x" }
    return { options = ctx.options, err = err }
  end,
}
LUA
cat >"$T/probe.lua" <<LUA
return { name = "probe", model = { provider = "openai", name = "gpt-e2e" },
         goal = "x", limits = { steps = 3 },
         tools = { mailprobe = { relay = "smtp://127.0.0.1:$RELAY_PORT",
                                 from = "agent@example.org",
                                 username = "agent", password = "$PASS",
                                 allow_domains = { "example.org" },
                                 note = "visible" } } }
LUA
scenario probe.json <<'EOF'
{"replies": [{"tool_calls": [{"id": "c_p", "name": "mailprobe"}]},
             {"text": "Looked."}]}
EOF
standin_start --script "$T/probe.json" || bail_out "the stand-in did not start"
"$AGENT" run "$T/probe.lua" --base-url "$STANDIN_URL" >"$T/out" 2>"$T/err"
rc=$?
standin_stop
cat "$T/out" "$T/err" "$T/requests.jsonl" >>"$T/seen"
probe=$(tool_msg 2 c_p)
is "$rc" 0 "a mail tool that looks at its options: exit 0"
like "$probe" '\"options\":{\"note\":\"visible\"}' \
    "ctx.options holds the task's other options only"
unlike "$probe" "$PASS" "... not the password"
unlike "$probe" "$RELAY_PORT" "... nor the relay"
like "$probe" "more than 1 recipients" \
    "the tool's max_recipients is enforced by the broker"
unlike "$(cat "$T/seen")" "$PASS" "the password is still in no output"

# ---- no relay configured: a clear error ----
cat >"$T/norelay.lua" <<'LUA'
return { name = "mail", model = { provider = "openai", name = "gpt-e2e" },
         goal = "x", tools = { "email" }, limits = { steps = 3 } }
LUA
scenario one.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "c_1", "name": "email", "arguments": {
     "to": ["zoe@example.org"], "subject": "s", "body": "b"}}]},
  {"text": "Could not send."}
]}
EOF
standin_start --script "$T/one.json" || bail_out "the stand-in did not start"
"$AGENT" run "$T/norelay.lua" --base-url "$STANDIN_URL" >"$T/out" 2>"$T/err"
rc=$?
standin_stop
is "$rc" 0 "a task without a relay: the run goes on"
like "$(tool_msg 2 c_1)" "error: no mail relay for this task" \
    "... and the model is told there is no relay"

# ---- the example, with its scripted model, against this relay ----
AGENT_SMTP_RELAY=smtp://127.0.0.1:$RELAY_PORT "$AGENT" run \
    "$SRCDIR/examples/email.lua" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out" "$T/err" >>"$T/seen"
is "$rc" 0 "examples/email.lua: exit 0"
like "$(cat "$T/out")" "I emailed Zoë (message <" "examples/email.lua: sent"
like "$(cat "$T/out")" "outside the allowed domains" \
    "examples/email.lua: the partner is refused"
like "$(decoded "$T/mail/2.eml" 2>&1)" "Subject: Lancement lundi à 10 h 🚀" \
    "examples/email.lua: the relay got the mail"

relay_stop
is "$(ls "$T/mail" | tr '\n' ' ')" "1.eml 2.eml " \
    "nothing else reached the relay"
unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report at all"
done_testing
