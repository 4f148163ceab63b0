#!/usr/bin/env python3
"""server.py: the booking service, an airline reservation system over HTTP.

It loads a database directory (flights.json, reservations.json, users.json),
keeps it in memory and exposes the 14 operations of the airline domain of
tau-bench as `POST /ops/NAME`, following ../shared/booking/README.md (the
specification) to the letter: the same result strings, the same error
strings, the same quirks, results printed as Python's default json.dumps.
Nothing is ever written back to disk.

    python3 server.py --db DIR [--host 127.0.0.1] [--port 8090]
                      [--port-file FILE] [--log FILE] [--quiet]

Endpoints (see README.md next to this file):

    POST /ops/NAME   body: the arguments as a JSON object ({} or empty for
                     none). Answers 200, text/plain; charset=utf-8, with the
                     operation's result string as the whole body (errors
                     included: they are results starting "Error: ").
                     4xx only for HTTP-level faults (body not JSON or not an
                     object, too large, bad Idempotency-Key).
    GET  /db         the whole current database as one JSON object
                     {"flights": ..., "reservations": ..., "users": ...}
    GET  /db/TABLE   one of the three tables
    POST /reset      reloads the files and forgets idempotency keys
    GET  /health     "ok"

Idempotency: a request to an operation that changes data may carry an
`Idempotency-Key` header (1 to 255 visible ASCII characters). The first
request with a key runs and its result is stored in memory under the key,
with a fingerprint of the operation and its arguments; a later request with
the same key and the same operation and arguments gets the stored result
back (header `Idempotent-Replayed: true`) and changes nothing; one with the
same key but something else is refused with 422. Keys live in memory only:
a restart or /reset forgets them (both reload the files, so the state the
keys described is gone too). At most MAX_KEYS keys are kept, oldest dropped
first. Read-only operations ignore the header.

The server is single-threaded on purpose (http.server.HTTPServer, not the
threading variant): one writer, operations applied in the order received.
Every response closes its connection, so that no idle keep-alive connection
holds the single thread, and a client that stalls is dropped after
SOCKET_TIMEOUT seconds.
"""

import argparse
import ast
import hashlib
import json
import math
import operator
import os
import signal
import sys
import warnings
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

TABLES = ("flights", "reservations", "users")
MAX_BODY = 1 << 20
MAX_DRAIN = 16 << 20  # of a body too large, read before answering 413
MAX_KEYS = 100000
SOCKET_TIMEOUT = 10

AIRPORTS = {
    "SFO": "San Francisco", "JFK": "New York", "LAX": "Los Angeles",
    "ORD": "Chicago", "DFW": "Dallas", "DEN": "Denver", "SEA": "Seattle",
    "ATL": "Atlanta", "MIA": "Miami", "BOS": "Boston", "PHX": "Phoenix",
    "IAH": "Houston", "LAS": "Las Vegas", "MCO": "Orlando", "EWR": "Newark",
    "CLT": "Charlotte", "MSP": "Minneapolis", "DTW": "Detroit",
    "PHL": "Philadelphia", "LGA": "LaGuardia",
}


def dumps(value):
    """Results are JSON text in the style of Python's default json.dumps."""
    return json.dumps(value)


# ---- reading operations ----
#
# Each operation is a function taking the database first and the arguments
# by name; a missing or unexpected argument raises TypeError before the body
# runs, which becomes an "Error: " result. Operations that change data
# validate everything first and change only when nothing can fail any more.

def get_user_details(_db, user_id):
    users = _db["users"]
    if user_id not in users:
        return "Error: user not found"
    return dumps(users[user_id])


def get_reservation_details(_db, reservation_id):
    reservations = _db["reservations"]
    if reservation_id not in reservations:
        return "Error: user not found"  # sic: the reference says "user"
    return dumps(reservations[reservation_id])


def list_all_airports(_db):
    return dumps(AIRPORTS)


def _without_dates(flight):
    return {k: v for k, v in flight.items() if k != "dates"}


def search_direct_flight(_db, origin, destination, date):
    results = []
    for flight in _db["flights"].values():
        if flight["origin"] != origin or flight["destination"] != destination:
            continue
        entry = flight["dates"].get(date)
        if entry is not None and entry["status"] == "available":
            found = _without_dates(flight)
            found.update(entry)
            results.append(found)
    return dumps(results)


def search_onestop_flight(_db, origin, destination, date):
    flights = _db["flights"]
    results = []
    for leg1 in flights.values():
        if leg1["origin"] != origin:
            continue
        for leg2 in flights.values():
            if (leg2["destination"] != destination
                    or leg1["destination"] != leg2["origin"]):
                continue
            arrival = leg1["scheduled_arrival_time_est"]
            if "+1" in arrival:
                # the day after, not zero-padded: "2024-05-" + str(day + 1)
                date2 = "2024-05-" + str(int(date[-2:]) + 1)
            else:
                date2 = date
            if arrival > leg2["scheduled_departure_time_est"]:
                continue
            first = leg1["dates"].get(date)
            second = leg2["dates"].get(date2)
            if (first is None or second is None
                    or first["status"] != "available"
                    or second["status"] != "available"):
                continue
            r1 = _without_dates(leg1)
            r1.update(first)
            r1["date"] = date
            r2 = _without_dates(leg2)
            r2.update(first)  # sic: the first date's fields, as the reference
            r2["date"] = date2
            results.append([r1, r2])
    return dumps(results)


# calculate: the reference evaluates the expression with Python after
# checking its characters. This walks the parsed expression instead, with
# the same operators (so the same values and the same error texts), and
# refuses integers past MAX_BITS bits: "9**9**9**9" would otherwise hold
# the single thread for ever. Such a number could never become a float, so
# the error is the one float() gives.
MAX_BITS = 16384
warnings.filterwarnings("ignore", category=SyntaxWarning)  # "(1)(2)"
_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def _too_big():
    return OverflowError("int too large to convert to float")


def _calc_node(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_calc_node(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _calc_node(node.left)
        right = _calc_node(node.right)
        if (isinstance(node.op, ast.Pow) and isinstance(left, int)
                and isinstance(right, int) and right > 0 and abs(left) > 1
                and right * math.log2(abs(left)) > MAX_BITS):
            raise _too_big()
        value = _BINARY[type(node.op)](left, right)
        if isinstance(value, int) and value.bit_length() > MAX_BITS:
            raise _too_big()
        return value
    # Anything else these characters allow ("()", "(1)(2)", "...") is left
    # to Python as the reference does, unless arithmetic hides inside.
    if any(isinstance(n, ast.BinOp) for n in ast.walk(node)):
        raise TypeError("unsupported expression")
    code = compile(ast.Expression(body=node), "<string>", "eval")
    return eval(code, {"__builtins__": None}, {})


def calculate(_db, expression):
    if not all(c in "0123456789+-*/(). " for c in expression):
        return "Error: invalid characters in expression"
    try:
        # eval() of a string skips leading blanks; the parser would not
        tree = compile(expression.lstrip(" \t"), "<string>", "eval",
                       ast.PyCF_ONLY_AST)
        return str(round(float(_calc_node(tree.body)), 2))
    except Exception as e:  # the reason, as the reference reports it
        return "Error: " + str(e)


def think(_db, thought):
    return ""


def transfer_to_human_agents(_db, summary):
    return "Transfer successful"


# ---- changing operations ----

def _price_flights(flights_db, wanted, cabin, passengers, keep=None):
    """Checks and prices the requested flights. Returns (entries, total)
    or (None, error). keep(request) may return an existing entry to reuse
    (update_reservation_flights)."""
    entries = []
    total = 0
    for request in wanted:
        entry = dict(request)  # a copy of the request, extended below
        old = keep(request) if keep else None
        if old is not None:
            entry["price"] = old["price"]
            entry["origin"] = old["origin"]
            entry["destination"] = old["destination"]
            total += entry["price"] * passengers
            entries.append(entry)
            continue
        number = request["flight_number"]
        date = request["date"]
        if number not in flights_db:
            return None, f"Error: flight {number} not found"
        flight = flights_db[number]
        if date not in flight["dates"]:
            return None, f"Error: flight {number} not found on date {date}"
        day = flight["dates"][date]
        if day["status"] != "available":
            return None, f"Error: flight {number} not available on date {date}"
        if day["available_seats"][cabin] < passengers:
            return None, f"Error: not enough seats on flight {number}"
        entry["price"] = day["prices"][cabin]
        entry["origin"] = flight["origin"]
        entry["destination"] = flight["destination"]
        total += entry["price"] * passengers
        entries.append(entry)
    return entries, total


def book_reservation(_db, user_id, origin, destination, flight_type, cabin,
                     flights, passengers, payment_methods, total_baggages,
                     nonfree_baggages, insurance):
    users = _db["users"]
    reservations = _db["reservations"]
    if user_id not in users:
        return "Error: user not found"
    user = users[user_id]
    rid = "HATHAT"
    if rid in reservations:
        rid = "HATHAU"
        if rid in reservations:
            rid = "HATHAV"
    count = len(passengers)
    entries, total = _price_flights(_db["flights"], flights, cabin, count)
    if entries is None:
        return total
    if insurance == "yes":
        total += 30 * count
    total += 50 * nonfree_baggages
    methods = user["payment_methods"]
    for payment in payment_methods:
        pid = payment["payment_id"]
        amount = payment["amount"]
        if pid not in methods:
            return f"Error: payment method {pid} not found"
        if methods[pid]["source"] in ("gift_card", "certificate"):
            if methods[pid]["amount"] < amount:
                return f"Error: not enough balance in payment method {pid}"
    paid = sum(payment["amount"] for payment in payment_methods)
    if paid != total:
        return (f"Error: payment amount does not add up, total price is "
                f"{total}, but paid {paid}")
    # nothing can fail from here on
    for payment in payment_methods:
        method = methods.get(payment["payment_id"])
        if method is None:  # a certificate listed twice: already used
            continue
        if method["source"] == "gift_card":
            method["amount"] -= payment["amount"]
        elif method["source"] == "certificate":
            del methods[payment["payment_id"]]
    reservation = {
        "reservation_id": rid,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": entries,
        "passengers": passengers,
        "payment_history": payment_methods,
        "created_at": "2024-05-15T15:00:00",
        "total_baggages": total_baggages,
        "nonfree_baggages": nonfree_baggages,
        "insurance": insurance,
    }
    reservations[rid] = reservation
    user["reservations"].append(rid)
    return dumps(reservation)


def cancel_reservation(_db, reservation_id):
    reservations = _db["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    refunds = [{"payment_id": p["payment_id"], "amount": -p["amount"]}
               for p in reservation["payment_history"]]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    return dumps(reservation)


def _update_payment(_db, reservation, payment_id, amount):
    """The payment checks of the update operations: returns the method or
    an error string."""
    methods = _db["users"][reservation["user_id"]]["payment_methods"]
    if payment_id not in methods:
        return "Error: payment method not found"
    method = methods[payment_id]
    if method["source"] == "certificate":
        return "Error: certificate cannot be used to update reservation"
    if method["source"] == "gift_card" and method["amount"] < amount:
        return "Error: gift card balance is not enough"
    return method


def update_reservation_flights(_db, reservation_id, cabin, flights,
                               payment_id):
    reservations = _db["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    count = len(reservation["passengers"])

    def keep(request):
        if cabin != reservation["cabin"]:
            return None
        for old in reservation["flights"]:
            if (old["flight_number"] == request["flight_number"]
                    and old["date"] == request["date"]):
                return old
        return None

    entries, total = _price_flights(_db["flights"], flights, cabin, count,
                                    keep)
    if entries is None:
        return total
    total -= sum(old["price"] for old in reservation["flights"]) * count
    method = _update_payment(_db, reservation, payment_id, total)
    if isinstance(method, str):
        return method
    if method["source"] == "gift_card":
        method["amount"] -= total
    reservation["flights"] = entries
    if total != 0:
        reservation["payment_history"].append(
            {"payment_id": payment_id, "amount": total})
    return dumps(reservation)


def update_reservation_baggages(_db, reservation_id, total_baggages,
                                nonfree_baggages, payment_id):
    reservations = _db["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    price = 50 * max(0, nonfree_baggages - reservation["nonfree_baggages"])
    method = _update_payment(_db, reservation, payment_id, price)
    if isinstance(method, str):
        return method
    reservation["total_baggages"] = total_baggages
    reservation["nonfree_baggages"] = nonfree_baggages
    if method["source"] == "gift_card":
        method["amount"] -= price
    if price != 0:
        reservation["payment_history"].append(
            {"payment_id": payment_id, "amount": price})
    return dumps(reservation)


def update_reservation_passengers(_db, reservation_id, passengers):
    reservations = _db["reservations"]
    if reservation_id not in reservations:
        return "Error: reservation not found"
    reservation = reservations[reservation_id]
    if len(passengers) != len(reservation["passengers"]):
        return "Error: number of passengers does not match"
    reservation["passengers"] = passengers
    return dumps(reservation)


def send_certificate(_db, user_id, amount):
    users = _db["users"]
    if user_id not in users:
        return "Error: user not found"
    methods = users[user_id]["payment_methods"]
    for number in (3221322, 3221323, 3221324):
        pid = f"certificate_{number}"
        if pid not in methods:
            methods[pid] = {"source": "certificate", "amount": amount,
                            "id": pid}
            return (f"Certificate {pid} added to user {user_id} with "
                    f"amount {amount}.")
    return "None"  # the reference returns None when all three exist


# name -> (function, changes data)
OPERATIONS = {
    "book_reservation": (book_reservation, True),
    "calculate": (calculate, False),
    "cancel_reservation": (cancel_reservation, True),
    "get_reservation_details": (get_reservation_details, False),
    "get_user_details": (get_user_details, False),
    "list_all_airports": (list_all_airports, False),
    "search_direct_flight": (search_direct_flight, False),
    "search_onestop_flight": (search_onestop_flight, False),
    "send_certificate": (send_certificate, True),
    "think": (think, False),
    "transfer_to_human_agents": (transfer_to_human_agents, False),
    "update_reservation_baggages": (update_reservation_baggages, True),
    "update_reservation_flights": (update_reservation_flights, True),
    "update_reservation_passengers": (update_reservation_passengers, True),
}


def run_operation(db, name, args):
    """Runs one operation; always returns a string."""
    if name not in OPERATIONS:
        return f"Unknown action {name}"
    fn = OPERATIONS[name][0]
    try:
        return fn(db, **args)
    except Exception as e:  # missing or unexpected arguments, wrong types
        return "Error: " + str(e)


# ---- the database and the service ----

def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text):
    """JSON as Python loads it (key order kept, 250 stays int, 250.0 stays
    float), but refusing NaN and Infinity, which are not JSON."""
    return json.loads(text, parse_constant=_no_constant)


def load_db(directory):
    db = {}
    for table in TABLES:
        path = os.path.join(directory, table + ".json")
        with open(path, encoding="utf-8") as f:
            value = parse_json(f.read())
        if not isinstance(value, dict):
            raise ValueError(f"{path}: not a JSON object")
        db[table] = value
    return db


def fingerprint(name, args):
    text = json.dumps([name, args], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def valid_key(key):
    return 0 < len(key) <= 255 and all(" " < c <= "~" for c in key)


class Service:
    """The state: the database, where it came from, and the idempotency
    keys (key -> (fingerprint, result), in insertion order)."""

    def __init__(self, directory, log=None):
        self.directory = directory
        self.db = load_db(directory)
        self.keys = {}
        self.log = log

    def reset(self):
        self.db = load_db(self.directory)  # keeps the old one on failure
        self.keys = {}

    def call(self, name, args, key):
        """Returns (result, replayed) or raises KeyError for a key reused
        with another request."""
        changes = name in OPERATIONS and OPERATIONS[name][1]
        if key is None or not changes:
            return run_operation(self.db, name, args), False
        fp = fingerprint(name, args)
        if key in self.keys:
            stored_fp, result = self.keys[key]
            if stored_fp != fp:
                raise KeyError(key)
            return result, True
        result = run_operation(self.db, name, args)
        if len(self.keys) >= MAX_KEYS:
            del self.keys[next(iter(self.keys))]
        self.keys[key] = (fp, result)
        return result, False

    def record(self, name, args, key, replayed, result):
        if not self.log:
            return
        line = json.dumps({"op": name, "args": args, "key": key,
                           "replayed": replayed, "result": result})
        self.log.write(line + "\n")
        self.log.flush()


class Handler(BaseHTTPRequestHandler):
    server_version = "booking/1"
    protocol_version = "HTTP/1.1"  # for "Expect: 100-continue"; but see
                                   # send_text: one request per connection
    timeout = SOCKET_TIMEOUT

    def send_text(self, status, text, ctype="text/plain; charset=utf-8",
                  headers=()):
        body = text.encode("utf-8", "replace")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")  # frees the one thread
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        """Returns the body as text, or None after answering an error."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_text(411, "Error: send a Content-Length")
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.send_text(400, "Error: bad Content-Length")
            return None
        if length > MAX_BODY:
            # read what is reasonable first, so that the client gets to
            # see the answer rather than a connection reset
            left = min(length, MAX_DRAIN)
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            self.send_text(413, f"Error: request body over {MAX_BODY} bytes")
            return None
        data = self.rfile.read(length) if length else b""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.send_text(400, "Error: request body is not UTF-8")
            return None

    def do_GET(self):
        service = self.server.service
        path = urlsplit(self.path).path
        if path == "/db":
            self.send_text(200, dumps(service.db), "application/json")
        elif path.startswith("/db/") and path[4:] in TABLES:
            self.send_text(200, dumps(service.db[path[4:]]),
                           "application/json")
        elif path == "/health":
            self.send_text(200, "ok")
        elif path.startswith("/ops/") or path == "/reset":
            self.send_text(405, "Error: use POST", headers=[("Allow", "POST")])
        else:
            self.send_text(404, f"Error: no such endpoint {path}")

    do_HEAD = do_GET

    def do_POST(self):
        service = self.server.service
        path = urlsplit(self.path).path
        if path == "/reset":
            if self.read_body() is None:
                return
            try:
                service.reset()
            except (OSError, ValueError) as e:
                self.send_text(500, f"Error: cannot reload: {e}")
                return
            self.send_text(200, "reset")
            return
        if not path.startswith("/ops/") or "/" in path[5:]:
            self.send_text(404, f"Error: no such endpoint {path}")
            return
        name = path[5:]
        key = self.headers.get("Idempotency-Key")
        if key is not None and not valid_key(key):
            self.send_text(400, "Error: an Idempotency-Key has 1 to 255 "
                           "visible ASCII characters")
            return
        text = self.read_body()
        if text is None:
            return
        try:
            args = parse_json(text) if text.strip() else {}
        except ValueError as e:
            self.send_text(400, f"Error: request body is not JSON: {e}")
            return
        if not isinstance(args, dict):
            self.send_text(400, "Error: the arguments must be a JSON object")
            return
        try:
            result, replayed = service.call(name, args, key)
        except KeyError:
            self.send_text(422, f"Error: Idempotency-Key {key} was already "
                           "used for a different request")
            return
        service.record(name, args, key, replayed, result)
        self.send_text(200, result, headers=[("Idempotent-Replayed", "true")]
                       if replayed else [])

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("booking: %s %s\n" % (self.address_string(),
                                                   fmt % args))


def write_port_file(path, port):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description="The booking service.")
    p.add_argument("--db", required=True,
                   help="directory with flights.json, reservations.json, "
                   "users.json")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090,
                   help="0 picks a free port (default 8090)")
    p.add_argument("--port-file",
                   help="write the port chosen to this file (atomically)")
    p.add_argument("--log", help="append one JSON line per operation here")
    p.add_argument("--quiet", action="store_true",
                   help="no request lines on stderr")
    opts = p.parse_args(argv)
    log = open(opts.log, "a", encoding="utf-8") if opts.log else None
    try:
        service = Service(opts.db, log)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"booking: cannot load {opts.db}: {e}\n")
        return 1
    server = HTTPServer((opts.host, opts.port), Handler)
    server.service = service
    server.quiet = opts.quiet
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if opts.port_file:
        write_port_file(opts.port_file, port)
    sys.stderr.write(f"booking: serving {opts.db} on "
                     f"http://{opts.host}:{port}/\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
