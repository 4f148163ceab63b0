#!/bin/sh
# e2e-booking.sh: the booking service (examples/booking/server.py), its
# database generator, and the booking tool as `agent run` uses it.
#
# 1. Conformance: every operation of ../shared/booking/README.md called over
#    HTTP against the benchmark's own database (../shared/booking/data,
#    served in place: the service reads the files and never writes), each
#    answer compared with what the specification says, errors, quirks and
#    formatting included; GET /db afterwards for what changed and what must
#    not have (key order, integers staying integers). A small fixture
#    database (tests/data/booking) covers what the benchmark's data cannot
#    show: the not zero-padded next day of a one-stop search, string
#    comparison of times, floats staying floats, non-ASCII escapes, the
#    HATHAV overwrite, send_certificate's "None".
# 2. Idempotency: a repeated Idempotency-Key changes nothing twice, a key
#    reused for another request is refused, /reset forgets keys.
# 3. The generator: the same seed gives identical files, another seed other
#    ones; the database is consistent and the service loads it.
# 4. End to end: the tool list the model sees is tools.json; `agent run`
#    with a scripted stand-in model books a flight through the tool, and the
#    database shows exactly that booking, sent with an idempotency key.
. "$SRCDIR/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
SERVER=$SRCDIR/examples/booking/server.py
GENERATE=$SRCDIR/examples/booking/generate.py
SHARED=$SRCDIR/../shared/booking
FIXTURE=$SRCDIR/tests/data/booking
unset OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL AGENT_MODEL
OPENAI_API_KEY=sk-e2e-booking
export OPENAI_API_KEY

# skip REASON: one test that cannot run here.
skip() {
    _tap_n=$((_tap_n + 1))
    printf 'ok %d # SKIP %s\n' "$_tap_n" "$*"
}

# ---- the service ----

BOOKING_PID=
# booking_start DIR: serves DIR on a free port; sets BOOKING_URL.
booking_start() {
    booking_stop
    rm -f "$T/bport"
    : >"$T/blog"
    python3 "$SERVER" --db "$1" --port 0 --port-file "$T/bport" \
        --log "$T/blog" --quiet 2>"$T/booking.err" &
    BOOKING_PID=$!
    _bs_i=0
    while [ ! -s "$T/bport" ]; do
        if ! kill -0 "$BOOKING_PID" 2>/dev/null; then
            diag "the booking service did not start:" "$(cat "$T/booking.err")"
            BOOKING_PID=
            return 1
        fi
        _bs_i=$((_bs_i + 1))
        [ "$_bs_i" -le 200 ] || { booking_stop; return 1; }
        sleep 0.05
    done
    BOOKING_URL=http://127.0.0.1:$(cat "$T/bport")
}

booking_stop() {
    [ -n "$BOOKING_PID" ] || return 0
    kill "$BOOKING_PID" 2>/dev/null
    wait "$BOOKING_PID"
    BOOKING_STATUS=$?
    BOOKING_PID=
}
trap '_rc=$?; booking_stop; (exit $_rc); _lib_exit' EXIT

# client.py METHOD URL [BODY [KEY]]: prints the response body as it came
# (BODY @FILE: the file's contents);
# writes the status (and "replayed" when the service says so) to $T/status.
cat >"$T/client.py" <<'PY'
import os, sys, urllib.error, urllib.request
method, url = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
if body and body.startswith(b"@"):
    body = open(body[1:], "rb").read()
headers = {"Content-Type": "application/json"}
if len(sys.argv) > 4:
    headers["Idempotency-Key"] = sys.argv[4]
req = urllib.request.Request(url, data=body, method=method, headers=headers)
try:
    with urllib.request.urlopen(req, timeout=30) as r:
        status, data = r.status, r.read()
        replayed = r.headers.get("Idempotent-Replayed") == "true"
except urllib.error.HTTPError as e:
    status, data, replayed = e.code, e.read(), False
except OSError as e:
    status, data, replayed = "failed: %s" % e, b"", False
with open(os.environ["STATUS_FILE"], "w") as f:
    f.write(str(status) + (" replayed" if replayed else ""))
sys.stdout.buffer.write(data)
PY
STATUS_FILE=$T/status
export STATUS_FILE

# op NAME JSON [KEY]: the result of an operation.
op() {
    python3 "$T/client.py" POST "$BOOKING_URL/ops/$1" "$2" ${3+"$3"}
}
status() {
    cat "$T/status"
}

# q EXPR: a Python expression over the service's current database
# (flights, reservations, users), printed as json.dumps prints it.
cat >"$T/q.py" <<'PY'
import json, os, sys, urllib.request
src = sys.argv[1]
if src.startswith("http"):
    db = json.loads(urllib.request.urlopen(src + "/db").read())
else:
    db = {t: json.load(open(os.path.join(src, t + ".json")))
          for t in ("flights", "reservations", "users")}
flights, reservations, users = db["flights"], db["reservations"], db["users"]
print(json.dumps(eval(sys.argv[2])))
PY
q() {
    python3 "$T/q.py" "$BOOKING_URL" "$1"
}
# fq DIR EXPR: the same over the files of DIR.
fq() {
    python3 "$T/q.py" "$1" "$2"
}
# dbsum: a digest of the whole database as GET /db gives it.
dbsum() {
    python3 "$T/client.py" GET "$BOOKING_URL/db" | cksum
}

# =====================================================================
# 1. the fixture database: quirks the benchmark's data cannot show
# =====================================================================
booking_start "$FIXTURE" || bail_out "the booking service did not start"

is "$(python3 "$T/client.py" GET "$BOOKING_URL/db")" \
    "$(fq "$FIXTURE" 'db')" \
    "GET /db is the files' database: structure, key order, number types"
is "$(q 'users["zoe_muller_1"]["payment_methods"]["gift_card_1000002"]["amount"]')" \
    "80.5" "a float stays a float"
is "$(q 'users["zoe_muller_1"]["payment_methods"]["certificate_3221324"]')" \
    '{"source": "certificate", "amount": 250.0, "id": "certificate_3221324"}' \
    "250.0 stays 250.0"

like "$(op get_user_details '{"user_id": "zoe_muller_1"}')" \
    '{"name": {"first_name": "Zo\u00eb", "last_name": "M\u00fcller"}' \
    "results escape non-ASCII as \\uXXXX"

is "$(op search_direct_flight '{"origin": "SFO", "destination": "DEN", "date": "2024-05-05"}')" \
    '[{"flight_number": "FX001", "origin": "SFO", "destination": "DEN", "scheduled_departure_time_est": "22:00:00", "scheduled_arrival_time_est": "02:30:00+1", "status": "available", "available_seats": {"basic_economy": 5, "economy": 5, "business": 2}, "prices": {"basic_economy": 60, "economy": 120.0, "business": 300}}, {"flight_number": "FX004", "origin": "SFO", "destination": "DEN", "scheduled_departure_time_est": "08:00:00", "scheduled_arrival_time_est": "11:30:00", "status": "available", "available_seats": {"basic_economy": 1, "economy": 6, "business": 0}, "prices": {"basic_economy": 55, "economy": 110, "business": 290}}]' \
    "search_direct_flight: available dates only, in file order, float prices kept"

onestop=$(op search_onestop_flight '{"origin": "SFO", "destination": "JFK", "date": "2024-05-05"}')
is "$(printf '%s' "$onestop" | python3 -c '
import json, sys
print(" ".join(a["flight_number"] + "@" + a["date"] + "+" + b["flight_number"] + "@" + b["date"]
               for a, b in json.load(sys.stdin)))')" \
    "FX001@2024-05-05+FX002@2024-05-6 FX004@2024-05-05+FX005@2024-05-05 FX004@2024-05-05+FX007@2024-05-05" \
    "search_onestop_flight: next day not zero-padded, string comparison of times (equal passes), unavailable legs left out"
is "$(printf '%s' "$onestop" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)[0][1]))')" \
    '{"flight_number": "FX002", "origin": "DEN", "destination": "JFK", "scheduled_departure_time_est": "06:00:00", "scheduled_arrival_time_est": "11:30:00", "status": "available", "available_seats": {"basic_economy": 5, "economy": 5, "business": 2}, "prices": {"basic_economy": 60, "economy": 120.0, "business": 300}, "date": "2024-05-6"}' \
    "search_onestop_flight: the second leg carries the first date's fields, then its own date"

BOOK_ZOE='{"user_id": "zoe_muller_1", "origin": "SFO", "destination": "DEN", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "FX004", "date": "2024-05-05"}], "passengers": [{"first_name": "Zo\u00eb", "last_name": "M\u00fcller", "dob": "1985-02-14"}], "payment_methods": [{"payment_id": "gift_card_1000002", "amount": 30.25}, {"payment_id": "credit_card_1000001", "amount": 79.75}], "total_baggages": 1, "nonfree_baggages": 0, "insurance": "no"}'
is "$(op book_reservation "$BOOK_ZOE")" \
    '{"reservation_id": "HATHAV", "user_id": "zoe_muller_1", "origin": "SFO", "destination": "DEN", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "FX004", "date": "2024-05-05", "price": 110, "origin": "SFO", "destination": "DEN"}], "passengers": [{"first_name": "Zo\u00eb", "last_name": "M\u00fcller", "dob": "1985-02-14"}], "payment_history": [{"payment_id": "gift_card_1000002", "amount": 30.25}, {"payment_id": "credit_card_1000001", "amount": 79.75}], "created_at": "2024-05-15T15:00:00", "total_baggages": 1, "nonfree_baggages": 0, "insurance": "no"}' \
    "book_reservation: HATHAT and HATHAU taken, the new one is HATHAV; float amounts add up"
is "$(q 'users["zoe_muller_1"]["payment_methods"]["gift_card_1000002"]')" \
    '{"source": "gift_card", "amount": 50.25, "id": "gift_card_1000002"}' \
    "the gift card's float balance drops by the amount"
like "$(op book_reservation "$BOOK_ZOE")" '{"reservation_id": "HATHAV", ' \
    "a fourth booking overwrites HATHAV (reference behaviour)"
is "$(q 'users["zoe_muller_1"]["reservations"]')" \
    '["HATHAT", "HATHAU", "HATHAV", "HATHAV"]' "... and lists it again"
is "$(q 'list(reservations)')" '["HATHAT", "HATHAU", "HATHAV"]' \
    "three reservations"
is "$(q 'flights["FX004"]["dates"]["2024-05-05"]["available_seats"]')" \
    '{"basic_economy": 1, "economy": 6, "business": 0}' \
    "seat counts are not decremented (reference behaviour)"
is "$(op book_reservation '{"user_id": "zoe_muller_1", "origin": "SFO", "destination": "DEN", "flight_type": "one_way", "cabin": "business", "flights": [{"flight_number": "FX004", "date": "2024-05-05"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "2000-01-01"}], "payment_methods": [], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}')" \
    "Error: not enough seats on flight FX004" "no seat left in the cabin"
is "$(op book_reservation '{"user_id": "zoe_muller_1", "origin": "SFO", "destination": "DEN", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "FX004", "date": "2024-05-05"}], "passengers": [{"first_name": "A", "last_name": "B", "dob": "2000-01-01"}], "payment_methods": [{"payment_id": "credit_card_1000001", "amount": 100.5}], "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}')" \
    "Error: payment amount does not add up, total price is 110, but paid 100.5" \
    "amounts that do not add up: the total and the sum as Python prints them"

is "$(op send_certificate '{"user_id": "zoe_muller_1", "amount": 75.5}')" \
    "Certificate certificate_3221323 added to user zoe_muller_1 with amount 75.5." \
    "send_certificate: the first free id, the amount as given"
before=$(dbsum)
is "$(op send_certificate '{"user_id": "zoe_muller_1", "amount": 10}')" "None" \
    "send_certificate with all three ids taken: None"
is "$(dbsum)" "$before" "... and nothing changed"
is "$(q 'list(users["zoe_muller_1"]["payment_methods"].items())[-1]')" \
    '["certificate_3221323", {"source": "certificate", "amount": 75.5, "id": "certificate_3221323"}]' \
    "the certificate is added last, keys source, amount, id"
is "$(op update_reservation_passengers '{"reservation_id": "HATHAT", "passengers": [{"first_name": "J\u00fcrgen", "last_name": "N", "dob": "1970-07-07"}]}' | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["passengers"]))')" \
    '[{"first_name": "J\u00fcrgen", "last_name": "N", "dob": "1970-07-07"}]' \
    "update_reservation_passengers replaces the list as given"
booking_stop

# =====================================================================
# 2. the benchmark's database
# =====================================================================
if [ ! -r "$SHARED/data/flights.json" ]; then
    skip "no benchmark database at $SHARED/data: conformance on it not run"
else
    booking_start "$SHARED/data" || bail_out "the booking service did not start"
    DATA=$SHARED/data
    orig=$(dbsum)

    # ---- reading ----
    is "$(python3 "$T/client.py" GET "$BOOKING_URL/db" | cksum)" \
        "$(fq "$DATA" 'db' | tr -d '\n' | cksum)" \
        "GET /db is the benchmark's files, as json.dumps prints them"
    is "$(op get_user_details '{"user_id": "mia_li_3668"}')" \
        "$(fq "$DATA" 'users["mia_li_3668"]')" "get_user_details"
    is "$(op get_user_details '{"user_id": "nobody_0000"}')" \
        "Error: user not found" "get_user_details: unknown user"
    is "$(op get_reservation_details '{"reservation_id": "NO6JO3"}')" \
        "$(fq "$DATA" 'reservations["NO6JO3"]')" "get_reservation_details"
    is "$(op get_reservation_details '{"reservation_id": "ZZZZZZ"}')" \
        "Error: user not found" "get_reservation_details: unknown id says user (sic)"
    is "$(op list_all_airports '{}')" \
        '{"SFO": "San Francisco", "JFK": "New York", "LAX": "Los Angeles", "ORD": "Chicago", "DFW": "Dallas", "DEN": "Denver", "SEA": "Seattle", "ATL": "Atlanta", "MIA": "Miami", "BOS": "Boston", "PHX": "Phoenix", "IAH": "Houston", "LAS": "Las Vegas", "MCO": "Orlando", "EWR": "Newark", "CLT": "Charlotte", "MSP": "Minneapolis", "DTW": "Detroit", "PHL": "Philadelphia", "LGA": "LaGuardia"}' \
        "list_all_airports: 20 airports in order"
    like "$(python3 "$T/client.py" POST "$BOOKING_URL/ops/list_all_airports" "")" \
        '{"SFO": "San Francisco"' "an empty body is no arguments"
    is "$(op search_direct_flight '{"origin": "SFO", "destination": "PHX", "date": "2024-05-20"}')" \
        '[{"flight_number": "HAT123", "origin": "SFO", "destination": "PHX", "scheduled_departure_time_est": "16:00:00", "scheduled_arrival_time_est": "18:00:00", "status": "available", "available_seats": {"basic_economy": 20, "economy": 20, "business": 6}, "prices": {"basic_economy": 67, "economy": 104, "business": 479}}, {"flight_number": "HAT134", "origin": "SFO", "destination": "PHX", "scheduled_departure_time_est": "07:00:00", "scheduled_arrival_time_est": "09:00:00", "status": "available", "available_seats": {"basic_economy": 15, "economy": 18, "business": 14}, "prices": {"basic_economy": 56, "economy": 192, "business": 424}}, {"flight_number": "HAT144", "origin": "SFO", "destination": "PHX", "scheduled_departure_time_est": "03:00:00", "scheduled_arrival_time_est": "05:00:00", "status": "available", "available_seats": {"basic_economy": 15, "economy": 9, "business": 5}, "prices": {"basic_economy": 62, "economy": 133, "business": 477}}]' \
        "search_direct_flight: flight fields but dates, then the date's fields"
    is "$(op search_direct_flight '{"origin": "SFO", "destination": "PHX", "date": "2024-05-10"}')" \
        "[]" "search_direct_flight: landed flights are not offered"
    is "$(op search_direct_flight '{"origin": "SFO", "destination": "JFK", "date": "2024-05-20"}')" \
        "[]" "search_direct_flight: no such route"
    onestop=$(op search_onestop_flight '{"origin": "SFO", "destination": "JFK", "date": "2024-05-20"}')
    is "$(printf '%s' "$onestop" | python3 -c '
import json, sys
print(" ".join(a["flight_number"] + "@" + a["date"] + "+" + b["flight_number"] + "@" + b["date"]
               for a, b in json.load(sys.stdin)))')" \
        "HAT082@2024-05-20+HAT025@2024-05-21 HAT082@2024-05-20+HAT068@2024-05-21 HAT082@2024-05-20+HAT085@2024-05-21 HAT204@2024-05-20+HAT021@2024-05-20 HAT204@2024-05-20+HAT089@2024-05-20 HAT204@2024-05-20+HAT100@2024-05-20 HAT204@2024-05-20+HAT276@2024-05-20" \
        "search_onestop_flight SFO-JFK: the pairs, in order, +1 arrivals on the next day, HAT278 (arrives 20:00) left out"
    is "$(printf '%s' "$onestop" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)[0]))')" \
        '[{"flight_number": "HAT082", "origin": "SFO", "destination": "IAH", "scheduled_departure_time_est": "23:00:00", "scheduled_arrival_time_est": "03:00:00+1", "status": "available", "available_seats": {"basic_economy": 19, "economy": 13, "business": 9}, "prices": {"basic_economy": 99, "economy": 100, "business": 440}, "date": "2024-05-20"}, {"flight_number": "HAT025", "origin": "IAH", "destination": "JFK", "scheduled_departure_time_est": "04:00:00", "scheduled_arrival_time_est": "07:30:00", "status": "available", "available_seats": {"basic_economy": 19, "economy": 13, "business": 9}, "prices": {"basic_economy": 99, "economy": 100, "business": 440}, "date": "2024-05-21"}]' \
        "search_onestop_flight: both legs show the first leg's seats and prices (reference quirk)"

    is "$(op calculate '{"expression": "2 + 2"}')" "4.0" "calculate: a float"
    is "$(op calculate '{"expression": "(1 + 2) * 4.1166"}')" "12.35" \
        "calculate: rounded to 2 decimals"
    is "$(op calculate '{"expression": "10 / 4"}')" "2.5" "calculate: division"
    is "$(op calculate '{"expression": " 1/3"}')" "0.33" "calculate: leading blank"
    is "$(op calculate '{"expression": "2 * x"}')" \
        "Error: invalid characters in expression" "calculate: a letter"
    is "$(op calculate '{"expression": "1 / 0"}')" "Error: division by zero" \
        "calculate: the reason of a failure"
    like "$(op calculate '{"expression": "(1 + 2"}')" "Error: " \
        "calculate: a syntax error"
    is "$(op calculate '{"expression": "9**9**9**9"}')" \
        "Error: int too large to convert to float" \
        "calculate: a number too big for a float is refused, not computed"
    is "$(op think '{"thought": "hmm"}')" "" "think: the empty string"
    is "$(op transfer_to_human_agents '{"summary": "help"}')" \
        "Transfer successful" "transfer_to_human_agents"
    is "$(op book_flight '{}')" "Unknown action book_flight" "an unknown operation"
    is "$(status)" "200" "... answered with 200"
    is "$(op get_user_details '{"user_id": "mia_li_3668", "x": 1}')" \
        "Error: get_user_details() got an unexpected keyword argument 'x'" \
        "an unexpected argument"
    like "$(op get_user_details '{}')" "Error: get_user_details() missing 1 required" \
        "a missing argument"
    is "$(dbsum)" "$orig" "reading changed nothing"

    # ---- book_reservation: each error, in the order checked ----
    # mia_li_3668 (gold): credit_card_4421486, certificate_4856383 (100),
    # certificate_7504069 (250), credit_card_1955700; reservations NO6JO3,
    # AIXC49, HKEG34. HAT123 on 2024-05-20: economy 104, 20 seats.
    book() { # USER FLIGHTS PAYMENTS: economy, one passenger, insurance,
             # 2 bags of which 1 not free
        printf '{"user_id": "%s", "origin": "SFO", "destination": "PHX", "flight_type": "one_way", "cabin": "economy", "flights": %s, "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}], "payment_methods": %s, "total_baggages": 2, "nonfree_baggages": 1, "insurance": "yes"}' \
            "$1" "$2" "$3"
    }
    F='[{"flight_number": "HAT123", "date": "2024-05-20"}]'
    P='[{"payment_id": "certificate_4856383", "amount": 100}, {"payment_id": "credit_card_4421486", "amount": 84}]'
    is "$(op book_reservation "$(book nobody_1 "$F" "$P")")" \
        "Error: user not found" "book_reservation: unknown user"
    is "$(op book_reservation "$(book mia_li_3668 '[{"flight_number": "HAT999", "date": "2024-05-20"}]' "$P")")" \
        "Error: flight HAT999 not found" "book_reservation: unknown flight"
    is "$(op book_reservation "$(book mia_li_3668 '[{"flight_number": "HAT123", "date": "2024-06-01"}]' "$P")")" \
        "Error: flight HAT123 not found on date 2024-06-01" "book_reservation: no such date"
    is "$(op book_reservation "$(book mia_li_3668 '[{"flight_number": "HAT123", "date": "2024-05-10"}]' "$P")")" \
        "Error: flight HAT123 not available on date 2024-05-10" "book_reservation: landed"
    is "$(op book_reservation "$(book mia_li_3668 '[{"flight_number": "HAT074", "date": "2024-05-20"}]' "$P")")" \
        "Error: not enough seats on flight HAT074" "book_reservation: no seat"
    is "$(op book_reservation "$(book mia_li_3668 "$F" '[{"payment_id": "credit_card_0000000", "amount": 184}]')")" \
        "Error: payment method credit_card_0000000 not found" \
        "book_reservation: a payment method not the user's"
    is "$(op book_reservation "$(book mia_li_3668 "$F" '[{"payment_id": "certificate_4856383", "amount": 184}]')")" \
        "Error: not enough balance in payment method certificate_4856383" \
        "book_reservation: a certificate too small"
    is "$(op book_reservation "$(book mia_li_3668 "$F" '[{"payment_id": "credit_card_4421486", "amount": 104}]')")" \
        "Error: payment amount does not add up, total price is 184, but paid 104" \
        "book_reservation: total = price x passengers + 30 insurance + 50 per non-free bag"
    like "$(op book_reservation '{"user_id": "mia_li_3668"}')" \
        "Error: book_reservation() missing 10 required" \
        "book_reservation: missing arguments"
    is "$(dbsum)" "$orig" "refused bookings changed nothing"

    is "$(op book_reservation "$(book mia_li_3668 "$F" "$P")")" \
        '{"reservation_id": "HATHAT", "user_id": "mia_li_3668", "origin": "SFO", "destination": "PHX", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "HAT123", "date": "2024-05-20", "price": 104, "origin": "SFO", "destination": "PHX"}], "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}], "payment_history": [{"payment_id": "certificate_4856383", "amount": 100}, {"payment_id": "credit_card_4421486", "amount": 84}], "created_at": "2024-05-15T15:00:00", "total_baggages": 2, "nonfree_baggages": 1, "insurance": "yes"}' \
        "book_reservation: HATHAT, the flight entry as requested + price, origin, destination"
    is "$(q 'users["mia_li_3668"]["reservations"]')" \
        '["NO6JO3", "AIXC49", "HKEG34", "HATHAT"]' "the id is appended to the user's"
    is "$(q 'list(users["mia_li_3668"]["payment_methods"])')" \
        '["credit_card_4421486", "certificate_7504069", "credit_card_1955700"]' \
        "the certificate used is deleted, the others keep their order"
    is "$(q 'reservations["HATHAT"]')" "$(op get_reservation_details '{"reservation_id": "HATHAT"}')" \
        "GET /db holds the reservation as returned"
    is "$(q 'list(reservations)[-1]')" '"HATHAT"' "added after the others"
    is "$(q 'flights["HAT123"]["dates"]["2024-05-20"]["available_seats"]["economy"]')" "20" \
        "seats not decremented"
    # mei_hernandez_8984: gift_card_5309492 (98), credit_card_6082923,
    # certificate_7502997 (250)
    like "$(op book_reservation "$(book mei_hernandez_8984 "$F" '[{"payment_id": "gift_card_5309492", "amount": 90}, {"payment_id": "credit_card_6082923", "amount": 94}]')")" \
        '{"reservation_id": "HATHAU", ' "a second booking is HATHAU"
    is "$(q 'users["mei_hernandez_8984"]["payment_methods"]["gift_card_5309492"]')" \
        '{"source": "gift_card", "amount": 8, "id": "gift_card_5309492"}' \
        "the gift card is debited"

    # ---- cancel_reservation ----
    is "$(op cancel_reservation '{"reservation_id": "ZZZZZZ"}')" \
        "Error: reservation not found" "cancel_reservation: unknown"
    is "$(op cancel_reservation '{"reservation_id": "HATHAT"}' | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps([r["payment_history"], list(r)[-2:]]))')" \
        '[[{"payment_id": "certificate_4856383", "amount": 100}, {"payment_id": "credit_card_4421486", "amount": 84}, {"payment_id": "certificate_4856383", "amount": -100}, {"payment_id": "credit_card_4421486", "amount": -84}], ["insurance", "status"]]' \
        "cancel_reservation: negated copies appended, status added last"
    is "$(q 'reservations["HATHAT"]["status"]')" '"cancelled"' "the reservation is cancelled"
    is "$(q 'list(users["mia_li_3668"]["payment_methods"])')" \
        '["credit_card_4421486", "certificate_7504069", "credit_card_1955700"]' \
        "balances are not changed: the certificate does not come back"

    # ---- update_reservation_baggages (07S7FC: mei, business, 2 passengers,
    # 3 bags, 0 non-free) ----
    before=$(dbsum)
    bags() { # NONFREE PAYMENT [RESERVATION]
        op update_reservation_baggages "{\"reservation_id\": \"${3:-07S7FC}\", \"total_baggages\": $(($1 + 3)), \"nonfree_baggages\": $1, \"payment_id\": \"$2\"}"
    }
    is "$(bags 1 credit_card_6082923 ZZZZZZ)" "Error: reservation not found" \
        "update_reservation_baggages: unknown reservation"
    is "$(bags 1 credit_card_0000000)" "Error: payment method not found" \
        "update_reservation_baggages: a payment method not the user's"
    is "$(bags 1 certificate_7502997)" \
        "Error: certificate cannot be used to update reservation" \
        "update_reservation_baggages: no certificates"
    is "$(bags 1 gift_card_5309492)" "Error: gift card balance is not enough" \
        "update_reservation_baggages: the gift card (8 left) does not cover 50"
    is "$(dbsum)" "$before" "refused baggage updates changed nothing"
    is "$(bags 2 credit_card_6082923 | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps([r["total_baggages"], r["nonfree_baggages"], r["payment_history"]]))')" \
        '[5, 2, [{"payment_id": "credit_card_6082923", "amount": 4118}, {"payment_id": "credit_card_6082923", "amount": 100}]]' \
        "update_reservation_baggages: 2 more non-free bags cost 100"
    is "$(bags 0 gift_card_5309492 | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps([r["total_baggages"], r["nonfree_baggages"], len(r["payment_history"])]))')" \
        '[3, 0, 2]' "fewer bags cost nothing: counts set, no payment recorded"
    is "$(q 'users["mei_hernandez_8984"]["payment_methods"]["gift_card_5309492"]["amount"]')" \
        "8" "... and the gift card is untouched"

    # ---- update_reservation_flights ----
    upd() { # RESERVATION CABIN FLIGHTS PAYMENT
        op update_reservation_flights "{\"reservation_id\": \"$1\", \"cabin\": \"$2\", \"flights\": $3, \"payment_id\": \"$4\"}"
    }
    NO6='[{"flight_number": "HAT083", "date": "2024-05-16"}, {"flight_number": "HAT221", "date": "2024-05-16"}]'
    before=$(dbsum)
    is "$(upd ZZZZZZ business "$NO6" credit_card_1955700)" "Error: reservation not found" \
        "update_reservation_flights: unknown reservation"
    is "$(upd NO6JO3 business '[{"flight_number": "HAT999", "date": "2024-05-16"}]' credit_card_1955700)" \
        "Error: flight HAT999 not found" "update_reservation_flights: unknown flight"
    is "$(upd 07S7FC business '[{"flight_number": "HAT074", "date": "2024-05-20"}]' credit_card_6082923)" \
        "Error: not enough seats on flight HAT074" \
        "update_reservation_flights: seats counted for the reservation's passengers"
    is "$(upd NO6JO3 business "$NO6" gift_card_0000000)" "Error: payment method not found" \
        "update_reservation_flights: a payment method not the user's"
    is "$(upd NO6JO3 business "$NO6" certificate_7504069)" \
        "Error: certificate cannot be used to update reservation" \
        "update_reservation_flights: no certificates"
    # ESDZ4W: aarav_nguyen_1055, basic economy, 2 passengers, 664 paid;
    # gift_card_9785014 holds 133
    like "$(upd ESDZ4W business '[{"flight_number": "HAT292", "date": "2024-05-24"}, {"flight_number": "HAT014", "date": "2024-05-24"}, {"flight_number": "HAT292", "date": "2024-05-30"}, {"flight_number": "HAT014", "date": "2024-05-30"}]' gift_card_9785014)" \
        "Error: gift card balance is not enough" \
        "update_reservation_flights: the gift card does not cover the difference"
    is "$(dbsum)" "$before" "refused flight updates changed nothing"
    is "$(upd NO6JO3 business "$NO6" credit_card_1955700)" \
        '{"reservation_id": "NO6JO3", "user_id": "mia_li_3668", "origin": "JFK", "destination": "DFW", "flight_type": "one_way", "cabin": "business", "flights": [{"flight_number": "HAT083", "date": "2024-05-16", "price": 483, "origin": "JFK", "destination": "SEA"}, {"flight_number": "HAT221", "date": "2024-05-16", "price": 1991, "origin": "SEA", "destination": "DFW"}], "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}], "payment_history": [{"payment_id": "credit_card_1955700", "amount": 2504}], "created_at": "2024-05-09T16:15:57", "total_baggages": 2, "nonfree_baggages": 0, "insurance": "yes"}' \
        "update_reservation_flights: same flights, same cabin: old prices kept, entries rebuilt in request order, nothing to pay"
    is "$(upd NO6JO3 economy "$NO6" credit_card_1955700 | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps([r["cabin"], r["flights"], r["payment_history"][1:]]))')" \
        '["business", [{"flight_number": "HAT083", "date": "2024-05-16", "price": 195, "origin": "JFK", "destination": "SEA"}, {"flight_number": "HAT221", "date": "2024-05-16", "price": 122, "origin": "SEA", "destination": "DFW"}], [{"payment_id": "credit_card_1955700", "amount": -2157}]]' \
        "update_reservation_flights: another cabin reprices at today's prices, refunds the difference, and leaves cabin as it was (reference behaviour)"
    # 07S7FC: business, HAT286 2024-05-28 (917) and HAT175 2024-05-29 (1112),
    # 2 passengers; economy today: 105 and 115
    S7='[{"flight_number": "HAT286", "date": "2024-05-28"}, {"flight_number": "HAT175", "date": "2024-05-29"}]'
    is "$(upd 07S7FC economy "$S7" gift_card_5309492 | python3 -c 'import json, sys; r = json.load(sys.stdin); print(json.dumps(r["payment_history"][-1]))')" \
        '{"payment_id": "gift_card_5309492", "amount": -3618}' \
        "update_reservation_flights: (105 + 115 - 917 - 1112) x 2 = -3618"
    is "$(q 'users["mei_hernandez_8984"]["payment_methods"]["gift_card_5309492"]["amount"]')" \
        "3626" "a negative difference is credited to the gift card"

    # ---- update_reservation_passengers ----
    is "$(op update_reservation_passengers '{"reservation_id": "07S7FC", "passengers": [{"first_name": "A", "last_name": "B", "dob": "2000-01-01"}]}')" \
        "Error: number of passengers does not match" \
        "update_reservation_passengers: the count must match"
    is "$(op update_reservation_passengers '{"reservation_id": "ZZZZZZ", "passengers": []}')" \
        "Error: reservation not found" "update_reservation_passengers: unknown"
    is "$(op update_reservation_passengers '{"reservation_id": "NO6JO3", "passengers": [{"last_name": "Li", "first_name": "Mia", "dob": "1990-04-06"}]}' | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["passengers"]))')" \
        '[{"last_name": "Li", "first_name": "Mia", "dob": "1990-04-06"}]' \
        "update_reservation_passengers: stored as given, key order too"

    # ---- send_certificate ----
    is "$(op send_certificate '{"user_id": "nobody_1", "amount": 100}')" \
        "Error: user not found" "send_certificate: unknown user"
    is "$(op send_certificate '{"user_id": "mia_li_3668", "amount": 150}')" \
        "Certificate certificate_3221322 added to user mia_li_3668 with amount 150." \
        "send_certificate: the first id"
    is "$(op send_certificate '{"user_id": "mia_li_3668", "amount": 150.0}')" \
        "Certificate certificate_3221323 added to user mia_li_3668 with amount 150.0." \
        "send_certificate: the second id, 150.0 stays a float"
    is "$(q '[users["mia_li_3668"]["payment_methods"][k]["amount"] for k in ("certificate_3221322", "certificate_3221323")]')" \
        "[150, 150.0]" "integers stay integers and floats floats in the database"

    # ---- idempotency ----
    K=e2e-$$-cert
    r1=$(op send_certificate '{"user_id": "mei_hernandez_8984", "amount": 100}' "$K")
    s1=$(status)
    r2=$(op send_certificate '{"user_id": "mei_hernandez_8984", "amount": 100}' "$K")
    s2=$(status)
    is "$r1" "Certificate certificate_3221322 added to user mei_hernandez_8984 with amount 100." \
        "idempotency: the first request with a key runs"
    is "$s1" "200" "... as a plain 200"
    is "$r2" "$r1" "idempotency: the same key again answers the stored result"
    is "$s2" "200 replayed" "... marked Idempotent-Replayed"
    is "$(q '[k for k in users["mei_hernandez_8984"]["payment_methods"] if k.startswith("certificate_32213")]')" \
        '["certificate_3221322"]' "... and changed nothing the second time"
    op send_certificate '{"user_id": "mei_hernandez_8984", "amount": 200}' "$K" >/dev/null
    is "$(status)" "422" "idempotency: a key reused for another request is refused"
    KB=e2e-$$-book
    BODY=$(book mei_hernandez_8984 "$F" '[{"payment_id": "credit_card_6082923", "amount": 184}]')
    b1=$(op book_reservation "$BODY" "$KB")
    b2=$(op book_reservation "$BODY" "$KB")
    like "$b1" '{"reservation_id": "HATHAV", ' "idempotency: a booking with a key"
    is "$b2" "$b1" "... sent twice: the same answer"
    is "$(q 'users["mei_hernandez_8984"]["reservations"][-2:]')" '["HATHAU", "HATHAV"]' \
        "... and one booking"
    is "$(op get_user_details '{"user_id": "mia_li_3668"}' "$K" | head -c 9)" '{"name": ' \
        "reading operations ignore the key"
    like "$(python3 "$T/client.py" POST "$BOOKING_URL/ops/think" '{"thought": "x"}' 'bad key with spaces'; status)" \
        "400" "a malformed key is refused"

    # ---- HTTP ----
    like "$(python3 "$T/client.py" POST "$BOOKING_URL/ops/think" '{"thought": ')" \
        "Error: request body is not JSON" "a body that is not JSON: an error ..."
    is "$(status)" "400" "... with 400"
    python3 "$T/client.py" POST "$BOOKING_URL/ops/think" '["x"]' >/dev/null
    is "$(status)" "400" "arguments that are not an object: 400"
    python3 "$T/client.py" POST "$BOOKING_URL/ops/think" '{"thought": NaN}' >/dev/null
    is "$(status)" "400" "NaN is not JSON: 400"
    python3 -c 'print("{\"thought\": \"" + "x" * 1100000 + "\"}")' >"$T/big.json"
    python3 "$T/client.py" POST "$BOOKING_URL/ops/think" "@$T/big.json" >/dev/null
    is "$(status)" "413" "a body over 1 MiB: 413"
    python3 "$T/client.py" GET "$BOOKING_URL/ops/think" >/dev/null
    is "$(status)" "405" "GET on an operation: 405"
    python3 "$T/client.py" GET "$BOOKING_URL/nowhere" >/dev/null
    is "$(status)" "404" "an unknown path: 404"
    is "$(python3 "$T/client.py" GET "$BOOKING_URL/db/users" | cksum)" \
        "$(q 'users' | tr -d '\n' | cksum)" "GET /db/users: one table"

    # ---- reset ----
    is "$(python3 "$T/client.py" POST "$BOOKING_URL/reset" '')" "reset" "POST /reset"
    is "$(op get_user_details '{"user_id": "mia_li_3668"}')" \
        "$(fq "$DATA" 'users["mia_li_3668"]')" "... the user as in the files again"
    is "$(dbsum)" "$orig" "... puts the files' database back"
    r3=$(op send_certificate '{"user_id": "mei_hernandez_8984", "amount": 200}' "$K")
    is "$(status) $r3" \
        "200 Certificate certificate_3221322 added to user mei_hernandez_8984 with amount 200." \
        "... and forgets the keys"
    booking_stop
    is "$BOOKING_STATUS" 0 "the service ends cleanly on SIGTERM"
fi

# =====================================================================
# 3. the generator
# =====================================================================
python3 "$GENERATE" --out "$T/gen1" --seed 7 --flights 120 --users 80 \
    --reservations 200 2>"$T/gen.err"
ok $? "generate.py writes a database"
python3 "$GENERATE" --out "$T/gen2" --seed 7 --flights 120 --users 80 \
    --reservations 200 2>/dev/null
python3 "$GENERATE" --out "$T/gen3" --seed 8 --flights 120 --users 80 \
    --reservations 200 2>/dev/null
same=0
for f in flights reservations users; do
    cmp -s "$T/gen1/$f.json" "$T/gen2/$f.json" || same=1
done
ok $same "the same seed gives identical files"
cmp -s "$T/gen1/users.json" "$T/gen3/users.json"
is $? 1 "another seed gives another database"
like "$(cat "$T/gen.err")" "120 flights, 80 users, 200 reservations" \
    "the sizes asked for"
cat >"$T/check.py" <<'PY'
# Prints what is inconsistent in a generated database, or "consistent".
import json, sys
d = sys.argv[1]
F, R, U = (json.load(open(f"{d}/{t}.json")) for t in ("flights", "reservations", "users"))
bad = []
free = {"regular": (0, 1, 2), "silver": (1, 2, 3), "gold": (2, 3, 3)}
cabins = ("basic_economy", "economy", "business")
for fn, f in F.items():
    if list(f) != ["flight_number", "origin", "destination", "scheduled_departure_time_est",
                   "scheduled_arrival_time_est", "dates"] or len(f["dates"]) != 30:
        bad.append("flight " + fn)
    for date, e in f["dates"].items():
        want = "available" if date > "2024-05-15" else None
        if want and e["status"] != want or not want and e["status"] == "available":
            bad.append(f"status {fn} {date}")
for rid, r in R.items():
    u = U.get(r["user_id"])
    if not u or rid not in u["reservations"]:
        bad.append("owner " + rid)
        continue
    if list(r)[:13] != ["reservation_id", "user_id", "origin", "destination", "flight_type",
                        "cabin", "flights", "passengers", "payment_history", "created_at",
                        "total_baggages", "nonfree_baggages", "insurance"]:
        bad.append("keys " + rid)
    if r["flights"][0]["origin"] != r["origin"] or r["created_at"] >= "2024-05-15T15":
        bad.append("trip " + rid)
    for leg in r["flights"]:
        f = F[leg["flight_number"]]
        e = f["dates"][leg["date"]]
        if (f["origin"], f["destination"]) != (leg["origin"], leg["destination"]):
            bad.append("leg " + rid)
        if "prices" in e and e["prices"][r["cabin"]] != leg["price"]:
            bad.append("price " + rid)
        if leg["date"] <= r["created_at"][:10]:
            bad.append("booked after flying " + rid)
    n = len(r["passengers"])
    allowance = free[u["membership"]][cabins.index(r["cabin"])] * n
    if r["nonfree_baggages"] != max(0, r["total_baggages"] - allowance):
        bad.append("bags " + rid)
    total = sum(l["price"] for l in r["flights"]) * n + 50 * r["nonfree_baggages"] \
        + (30 * n if r["insurance"] == "yes" else 0)
    if r["payment_history"][0]["amount"] != total:
        bad.append("total " + rid)
    if r["payment_history"][0]["payment_id"] not in u["payment_methods"]:
        bad.append("payment " + rid)
for uid, u in U.items():
    for pid, m in u["payment_methods"].items():
        if m["id"] != pid or pid in ("certificate_3221322", "certificate_3221323",
                                     "certificate_3221324"):
            bad.append("method " + pid)
    for rid in u["reservations"]:
        if R[rid]["user_id"] != uid:
            bad.append("listed " + rid)
for rid in ("HATHAT", "HATHAU", "HATHAV"):
    if rid in R:
        bad.append("reserved id " + rid)
if F["HAT001"]["origin"] != "SFO" or F["HAT001"]["destination"] != "JFK" or "mia_li_3668" not in U:
    bad.append("fixed points")
print(" ".join(bad[:10]) if bad else "consistent")
PY
is "$(python3 "$T/check.py" "$T/gen1")" "consistent" \
    "reservations match users, flights, dates, prices, bag allowances and totals"
if booking_start "$T/gen1"; then
    like "$(op get_user_details '{"user_id": "mia_li_3668"}')" \
        '{"name": {"first_name": "Mia", "last_name": "Li"}' \
        "the service serves a generated database"
    like "$(op search_direct_flight '{"origin": "SFO", "destination": "JFK", "date": "2024-05-20"}')" \
        '[{"flight_number": "HAT001", "origin": "SFO", "destination": "JFK", ' \
        "... with a direct flight from SFO to JFK"
    booking_stop
else
    ok 1 "the service serves a generated database"
    ok 1 "... with a direct flight from SFO to JFK"
fi

# =====================================================================
# 4. end to end: the tool in `agent run`
# =====================================================================
# The tool list the model sees, through the stand-in endpoint.
scenario tools-only.json <<'EOF'
{"replies": [{"text": "Nothing to do."}]}
EOF
cat >"$T/list.lua" <<'EOF'
return { goal = "List the tools.", model = { provider = "openai", name = "gpt-e2e" },
         tools = { booking = { url = "http://127.0.0.1:9" } } }
EOF
if [ ! -r "$SHARED/tools.json" ]; then
    skip "no $SHARED/tools.json"
elif standin_start --script "$T/tools-only.json"; then
    "$AGENT" run "$T/list.lua" --base-url "$STANDIN_URL" >"$T/out" 2>"$T/err"
    standin_stop
    is "$(standin_request 1 | python3 -c '
import json, sys
sent = {t["function"]["name"]: t["function"] for t in json.load(sys.stdin)["body"]["tools"]}
want = {t["function"]["name"]: t["function"] for t in json.load(open(sys.argv[1]))}
diff = [n for n in sorted(set(sent) | set(want)) if sent.get(n) != want.get(n)]
print("same" if not diff else "differ: " + " ".join(diff))' "$SHARED/tools.json")" \
        "same" "the model sees the 14 functions of tools.json: names, descriptions, schemas"
else
    skip "the stand-in endpoint did not start"
fi

# A scripted stand-in books through the tool.
if [ ! -r "$SHARED/data/flights.json" ]; then
    skip "no benchmark database"
else
    booking_start "$SHARED/data" || bail_out "the booking service did not start"
    cat >"$T/book.lua" <<EOF
return {
  name = "booking-e2e",
  model = { provider = "script", file = "$SRCDIR/examples/booking-model.lua" },
  goal = "My user id is mia_li_3668. Book me the cheapest direct economy "
      .. "flight from SFO to PHX on 2024-05-20, one way, just me.",
  tools = { booking = { url = "$BOOKING_URL" } },
  limits = { steps = 6, seconds = 60 },
}
EOF
    "$AGENT" run "$T/book.lua" >"$T/out" 2>"$T/err"
    rc=$?
    is "$rc" 0 "agent run with the booking tool: exit 0"
    [ "$rc" = 0 ] || diag "$(cat "$T/err")"
    is "$(cat "$T/out")" \
        "Booked: reservation HATHAT, flight HAT123 from SFO to PHX on 2024-05-20 in economy, 104 paid with credit_card_4421486." \
        "the stand-in looked up the user, searched, booked the cheapest seat and answered"
    is "$(q 'reservations["HATHAT"]')" \
        '{"reservation_id": "HATHAT", "user_id": "mia_li_3668", "origin": "SFO", "destination": "PHX", "flight_type": "one_way", "cabin": "economy", "flights": [{"flight_number": "HAT123", "date": "2024-05-20", "price": 104, "origin": "SFO", "destination": "PHX"}], "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}], "payment_history": [{"payment_id": "credit_card_4421486", "amount": 104}], "created_at": "2024-05-15T15:00:00", "total_baggages": 0, "nonfree_baggages": 0, "insurance": "no"}' \
        "GET /db: the booking, its objects in the schema's key order"
    is "$(q 'users["mia_li_3668"]["reservations"]')" \
        '["NO6JO3", "AIXC49", "HKEG34", "HATHAT"]' "... listed for the user"
    is "$(python3 -c '
import json, sys
print(" ".join("%s:%s" % (r["op"], "key" if r["key"] else "-")
               for r in map(json.loads, open(sys.argv[1]))))' "$T/blog")" \
        "get_user_details:- search_direct_flight:- book_reservation:key" \
        "three requests; only the booking carried an Idempotency-Key"
    "$AGENT" run "$T/book.lua" >"$T/out" 2>"$T/err"
    like "$(cat "$T/out")" "Booked: reservation HATHAU, flight HAT123" \
        "the same task run again books again: its key is not the first run's"

    # Results pass through as the service wrote them: the empty string of
    # think, a float, an "Error:" (a result, not a tool failure).
    cat >"$T/misc-model.lua" <<'EOF'
return function(ctx)
  if ctx.step == 1 then
    return { tool_calls = {
      { id = "c1", name = "think", arguments = { thought = "first the sums" } },
      { id = "c2", name = "calculate", arguments = { expression = "(2 + 3) * 1.5" } },
      { id = "c3", name = "get_reservation_details", arguments = { reservation_id = "ZZZZZZ" } },
      { id = "c4", name = "list_all_airports", arguments = {} },
    } }
  end
  local out = {}
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" then
      local t = m.content:gsub("^<<untrusted[^\n]*>>\n", "")
                         :gsub("\n<<end of untrusted content>>$", "")
      out[#out + 1] = m.is_error and "E:" .. t or t:sub(1, 24)
    end
  end
  return table.concat(out, "|")
end
EOF
    cat >"$T/misc.lua" <<EOF
return { goal = "Misc.", model = { provider = "script", file = "misc-model.lua" },
         tools = { booking = { url = "$BOOKING_URL/" } } }
EOF
    "$AGENT" run "$T/misc.lua" >"$T/out" 2>"$T/err"
    is "$?:$(cat "$T/out")" \
        '0:|7.5|Error: user not found|{"SFO": "San Francisco",' \
        "think, calculate, an Error: result and list_all_airports through the tool"
    booking_stop

    # No service: a tool error the model can read, and the run goes on.
    cat >"$T/down.lua" <<EOF
return { goal = "Misc.", model = { provider = "script", file = "misc-model.lua" },
         tools = { booking = { url = "$BOOKING_URL" } } }
EOF
    "$AGENT" run "$T/down.lua" >"$T/out" 2>"$T/err"
    rc=$?
    is "$rc" 0 "a booking service that is down: the run goes on"
    like "$(cat "$T/out")" "E:error: booking service at $BOOKING_URL: " \
        "... and the model is told the service cannot be reached"
fi

unlike "$(cat "$T/booking.err")" "Traceback" "the service never crashed"
done_testing
