#!/usr/bin/env python3
"""generate.py: a realistic synthetic database for the booking service.

Writes DIR/flights.json, DIR/reservations.json and DIR/users.json with the
shape of the airline domain of tau-bench (../shared/booking/README.md), so
that examples/booking/server.py has something to serve out of the box:

    python3 generate.py --out DIR [--seed 1] [--flights 300] [--users 500]
                        [--reservations 1000]

The world is May 2024 seen from "now" = 2024-05-15 15:00 EST (the time
the airline policy gives): each flight flies every day from 2024-05-01 to
2024-05-30; past days are landed (or cancelled), today's flights are
landed, flying, on time or delayed by the clock, and future days are
available with seats and prices per cabin. Users have addresses, saved
passengers, a membership and payment methods (credit cards, gift cards
with balances, travel certificates). Reservations are direct or one-stop
itineraries that a search would have offered (same connection rules),
one way or round trip, priced from the flights, with baggage fees from the
membership allowance and insurance at 30 per passenger, paid in full by
one of the user's cards; a few are cancelled and refunded.

The output is a function of the arguments only: the same seed and sizes
give byte-identical files (no set or hash order, no clock). Two fixed
points make examples work with any seed: the first user is always
mia_li_3668 (a gold member with a visa card), and HAT001 always flies
SFO to JFK.
"""

import argparse
import json
import math
import os
import random
import sys

# IATA code -> (city, latitude, longitude): the 20 airports of the domain,
# in the order list_all_airports gives them.
AIRPORTS = {
    "SFO": ("San Francisco", 37.62, -122.38),
    "JFK": ("New York", 40.64, -73.78),
    "LAX": ("Los Angeles", 33.94, -118.41),
    "ORD": ("Chicago", 41.97, -87.91),
    "DFW": ("Dallas", 32.90, -97.04),
    "DEN": ("Denver", 39.86, -104.67),
    "SEA": ("Seattle", 47.45, -122.31),
    "ATL": ("Atlanta", 33.64, -84.43),
    "MIA": ("Miami", 25.79, -80.29),
    "BOS": ("Boston", 42.37, -71.01),
    "PHX": ("Phoenix", 33.43, -112.01),
    "IAH": ("Houston", 29.99, -95.34),
    "LAS": ("Las Vegas", 36.08, -115.15),
    "MCO": ("Orlando", 28.43, -81.31),
    "EWR": ("Newark", 40.69, -74.17),
    "CLT": ("Charlotte", 35.21, -80.94),
    "MSP": ("Minneapolis", 44.88, -93.22),
    "DTW": ("Detroit", 42.21, -83.35),
    "PHL": ("Philadelphia", 39.87, -75.24),
    "LGA": ("LaGuardia", 40.78, -73.87),
}
CODES = list(AIRPORTS)
CABINS = ("basic_economy", "economy", "business")
PRICE_RANGE = {"basic_economy": (50, 100), "economy": (100, 200),
               "business": (200, 500)}
DAYS = 30           # 2024-05-01 .. 2024-05-30
TODAY = 15          # 2024-05-15
NOW_MINUTES = 15 * 60  # 15:00 EST
# free checked bags per passenger: membership -> cabin -> count (policy.md)
FREE_BAGS = {
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 3},
}
RESERVED_IDS = {"HATHAT", "HATHAU", "HATHAV"}  # what bookings will use
RESERVED_CERTIFICATES = {"certificate_3221322", "certificate_3221323",
                         "certificate_3221324"}  # what send_certificate adds

FIRST_NAMES = [
    "Aarav", "Amelia", "Anya", "Ava", "Chen", "Daiki", "Emma", "Ethan",
    "Evelyn", "Fatima", "Harper", "Isabella", "Ivan", "James", "Juan",
    "Lei", "Liam", "Lucas", "Mason", "Mei", "Mia", "Mohamed", "Noah",
    "Olivia", "Omar", "Raj", "Sofia", "Sophia", "Yara", "Yusuf", "Amara",
    "Diego", "Hana", "Kofi", "Lina", "Mateo", "Nadia", "Priya", "Sven",
    "Zara",
]
LAST_NAMES = [
    "Ahmed", "Anderson", "Brown", "Davis", "Garcia", "Gonzalez",
    "Hernandez", "Ito", "Jackson", "Johansson", "Johnson", "Khan", "Kim",
    "Kovacs", "Lee", "Li", "Lopez", "Martin", "Moore", "Muller", "Nguyen",
    "Patel", "Rossi", "Sanchez", "Santos", "Silva", "Smith", "Taylor",
    "Thomas", "Wilson", "Okafor", "Novak", "Haddad", "Tanaka", "Costa",
]
STREETS = [
    "Sunset Drive", "Elm Avenue", "Maple Drive", "Oak Street", "Cedar Lane",
    "Pine Lane", "Hillcrest Drive", "Lakeview Drive", "Main Street",
    "Park Avenue", "River Road", "Willow Lane", "Chestnut Street",
    "Highland Avenue", "Broadway",
]
CITIES = [  # city, state, first three digits of its zip codes
    ("Austin", "TX", "787"), ("Los Angeles", "CA", "900"),
    ("Charlotte", "NC", "282"), ("Denver", "CO", "802"),
    ("Jacksonville", "FL", "322"), ("Indianapolis", "IN", "462"),
    ("San Antonio", "TX", "782"), ("Chicago", "IL", "606"),
    ("San Francisco", "CA", "941"), ("Phoenix", "AZ", "850"),
    ("Fort Worth", "TX", "761"), ("Columbus", "OH", "432"),
    ("Houston", "TX", "770"), ("San Diego", "CA", "921"),
    ("Dallas", "TX", "752"), ("Washington", "DC", "200"),
    ("Seattle", "WA", "981"), ("Philadelphia", "PA", "191"),
    ("San Jose", "CA", "951"), ("New York", "NY", "100"),
    ("Boston", "MA", "021"), ("Miami", "FL", "331"),
]
ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def date_of(day):
    return f"2024-05-{day:02d}"


def clock(minutes):
    """Minutes after midnight (may pass 24 h) as "HH:MM:SS"."""
    return f"{(minutes // 60) % 24:02d}:{minutes % 60:02d}:00"


def stamp(day, minutes):
    """A day of May and minutes after its midnight as an ISO date-time."""
    day += minutes // (24 * 60)
    minutes %= 24 * 60
    month, day = (5, day) if day <= 31 else (6, day - 31)
    return f"2024-{month:02d}-{day:02d}T{clock(minutes)}"


def distance_miles(a, b):
    _, lat1, lon1 = AIRPORTS[a]
    _, lat2, lon2 = AIRPORTS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = (math.sin(dp / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2)
    return 3959 * 2 * math.asin(math.sqrt(h))


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.used_payment_ids = set(RESERVED_CERTIFICATES)
        self.used_user_ids = set()
        self.used_reservation_ids = set(RESERVED_IDS)

    # ---- flights ----

    def flight(self, number, origin, destination):
        rng = self.rng
        miles = distance_miles(origin, destination)
        # block time: taxi and climb plus cruise, to the half hour
        duration = max(60, int(round((40 + miles / 7.8) / 30.0)) * 30)
        depart = rng.randrange(0, 24) * 60
        arrive = depart + duration
        arrival = clock(arrive) + ("+1" if arrive >= 24 * 60 else "")
        dates = {}
        # longer flights cost more, within each cabin's range
        share = min(1.0, miles / 2600.0)
        for day in range(1, DAYS + 1):
            dates[date_of(day)] = self.flight_day(day, depart, arrive, share)
        return {
            "flight_number": number,
            "origin": origin,
            "destination": destination,
            "scheduled_departure_time_est": clock(depart),
            "scheduled_arrival_time_est": arrival,
            "dates": dates,
        }

    def flight_day(self, day, depart, arrive, share):
        rng = self.rng
        if day > TODAY:
            seats, prices = {}, {}
            for cabin in CABINS:
                seats[cabin] = rng.randint(0, 20)
            for cabin in CABINS:
                lo, hi = PRICE_RANGE[cabin]
                mid = lo + (hi - lo) * (0.3 + 0.5 * share)
                spread = (hi - lo) * 0.25
                prices[cabin] = max(lo, min(hi, int(round(
                    rng.uniform(mid - spread, mid + spread)))))
            return {"status": "available", "available_seats": seats,
                    "prices": prices}
        late = rng.choice([-25, -15, -10, -5, 0, 0, 5, 10, 20, 35, 60])
        if day < TODAY or arrive + late <= NOW_MINUTES:
            if rng.random() < 0.09:
                return {"status": "cancelled"}
            off = late + rng.randint(-10, 10)
            return {
                "status": "landed",
                "actual_departure_time_est": stamp(day, depart + late),
                "actual_arrival_time_est": stamp(day, arrive + off),
            }
        if depart + late <= NOW_MINUTES:
            return {
                "status": "flying",
                "actual_departure_time_est": stamp(day, depart + late),
                "estimated_arrival_time_est": stamp(day, arrive + late),
            }
        if rng.random() < 0.4:
            late = rng.choice([45, 60, 90, 120, 150, 180])
            return {
                "status": "delayed",
                "estimated_departure_time_est": stamp(day, depart + late),
                "estimated_arrival_time_est": stamp(day, arrive + late),
            }
        late = rng.randint(-5, 15)
        return {
            "status": "on time",
            "estimated_departure_time_est": stamp(day, depart + late),
            "estimated_arrival_time_est": stamp(day, arrive + late),
        }

    def flights(self, count):
        rng = self.rng
        width = max(3, len(str(count)))
        flights = {}
        for i in range(1, count + 1):
            if i == 1:
                origin, destination = "SFO", "JFK"
            else:
                origin = rng.choice(CODES)
                destination = rng.choice([c for c in CODES if c != origin])
            number = f"HAT{i:0{width}d}"
            flights[number] = self.flight(number, origin, destination)
        return flights

    # ---- users ----

    def payment_id(self, source):
        while True:
            pid = f"{source}_{self.rng.randint(1000000, 9999999)}"
            if pid not in self.used_payment_ids:
                self.used_payment_ids.add(pid)
                return pid

    def credit_card(self):
        pid = self.payment_id("credit_card")
        return {"source": "credit_card",
                "brand": self.rng.choice(["visa", "mastercard"]),
                "last_four": f"{self.rng.randint(0, 9999):04d}", "id": pid}

    def payment_methods(self):
        rng = self.rng
        kinds = []
        for source, chance in (("credit_card", 0.65), ("gift_card", 0.55),
                               ("certificate", 0.5)):
            if rng.random() < chance:
                kinds.append(source)
                if rng.random() < 0.2:
                    kinds.append(source)
        if "credit_card" not in kinds and "gift_card" not in kinds:
            kinds.append(rng.choice(["credit_card", "gift_card"]))
        rng.shuffle(kinds)
        methods = {}
        for source in kinds:
            if source == "credit_card":
                method = self.credit_card()
            elif source == "gift_card":
                method = {"source": "gift_card",
                          "amount": rng.randint(0, 300),
                          "id": self.payment_id("gift_card")}
            else:
                method = {"source": "certificate",
                          "amount": rng.choice([100, 150, 250, 500]),
                          "id": self.payment_id("certificate")}
            methods[method["id"]] = method
        return methods

    def person(self, first=None, last=None, adult=False):
        rng = self.rng
        year = rng.randint(1945, 2004 if adult else 2016)
        return {"first_name": first or rng.choice(FIRST_NAMES),
                "last_name": last or rng.choice(LAST_NAMES),
                "dob": f"{year}-{rng.randint(1, 12):02d}-"
                       f"{rng.randint(1, 28):02d}"}

    def user(self, first, last):
        rng = self.rng
        city, state, zip3 = rng.choice(CITIES)
        me = self.person(first, last, adult=True)
        if rng.random() < 0.75:
            unit = f"Suite {rng.randint(100, 999)}"
        else:
            unit = f"Apt {rng.randint(1, 40)}"
        return {
            "name": {"first_name": first, "last_name": last},
            "address": {
                "address1": f"{rng.randint(100, 999)} {rng.choice(STREETS)}",
                "address2": unit,
                "city": city,
                "country": "USA",
                "state": state,
                "zip": f"{zip3}{rng.randint(0, 99):02d}",
            },
            "email": f"{first.lower()}.{last.lower()}"
                     f"{rng.randint(1000, 9999)}@example.com",
            "dob": me["dob"],
            "payment_methods": self.payment_methods(),
            "saved_passengers": [self.person()
                                 for _ in range(rng.choice([1, 1, 2]))],
            "membership": rng.choice(["regular", "silver", "silver", "gold",
                                      "gold"]),
            "reservations": [],
        }

    def users(self, count):
        rng = self.rng
        users = {}
        for i in range(count):
            if i == 0:  # the fixed point the examples use
                uid, first, last = "mia_li_3668", "Mia", "Li"
            else:
                while True:
                    first = rng.choice(FIRST_NAMES)
                    last = rng.choice(LAST_NAMES)
                    uid = (f"{first.lower()}_{last.lower()}_"
                           f"{rng.randint(1000, 9999)}")
                    if uid not in self.used_user_ids:
                        break
            self.used_user_ids.add(uid)
            users[uid] = self.user(first, last)
        mia = users.get("mia_li_3668")
        if mia:
            mia["membership"] = "gold"
            card = self.credit_card()
            card["brand"] = "visa"
            mia["payment_methods"] = {card["id"]: card,
                                      **mia["payment_methods"]}
        return users

    # ---- reservations ----

    def index(self, flights):
        """Flights by origin and by (origin, destination), in file order."""
        by_origin, by_route = {}, {}
        for f in flights.values():
            by_origin.setdefault(f["origin"], []).append(f)
            by_route.setdefault((f["origin"], f["destination"]), []).append(f)
        return by_origin, by_route

    @staticmethod
    def connects(f1, f2, day):
        """The day of the second leg if f2 continues f1 by the search's
        rules (arrival string not after departure string; "+1" moves to
        the next day), else None."""
        arrival = f1["scheduled_arrival_time_est"]
        if arrival > f2["scheduled_departure_time_est"]:
            return None
        day2 = day + 1 if "+1" in arrival else day
        return day2 if day2 <= DAYS else None

    def itinerary(self, index, origin, day, destination=None):
        """A direct or one-stop trip from origin on day (to destination if
        given); [(flight, day), ...] or None."""
        rng = self.rng
        by_origin, by_route = index
        if destination:
            direct = by_route.get((origin, destination), [])
        else:
            direct = by_origin.get(origin, [])
        onestop = []
        if not direct or rng.random() < 0.45:
            if destination:
                for hub in CODES:
                    for f1 in by_route.get((origin, hub), []):
                        for f2 in by_route.get((hub, destination), []):
                            day2 = self.connects(f1, f2, day)
                            if day2:
                                onestop.append([(f1, day), (f2, day2)])
            else:
                firsts = by_origin.get(origin, [])
                for f1 in rng.sample(firsts, min(len(firsts), 6)):
                    for f2 in by_origin.get(f1["destination"], []):
                        day2 = self.connects(f1, f2, day)
                        if day2 and f2["destination"] != origin:
                            onestop.append([(f1, day), (f2, day2)])
        if onestop:
            return rng.choice(onestop)
        if direct:
            return [(rng.choice(direct), day)]
        return None

    def price(self, flight, day, cabin):
        entry = flight["dates"][date_of(day)]
        if "prices" in entry:
            return entry["prices"][cabin]
        lo, hi = PRICE_RANGE[cabin]
        return self.rng.randint(lo, hi)

    def created_at(self, day):
        """A random moment of a day of May (day 0: April 30)."""
        rng = self.rng
        when = (f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:"
                f"{rng.randint(0, 59):02d}")
        return f"2024-04-30T{when}" if day == 0 else f"{date_of(day)}T{when}"

    def reservation_id(self):
        while True:
            rid = "".join(self.rng.choice(ID_CHARS) for _ in range(6))
            if rid not in self.used_reservation_ids:
                self.used_reservation_ids.add(rid)
                return rid

    def reservation(self, users, uids, index):
        rng = self.rng
        for _ in range(50):
            uid = rng.choice(uids)
            user = users[uid]
            day = rng.randint(1, DAYS - 1)
            origin = rng.choice(CODES)
            out = self.itinerary(index, origin, day)
            if not out:
                continue
            destination = out[-1][0]["destination"]
            legs = list(out)
            flight_type = "one_way"
            if rng.random() < 0.48:
                back_day = out[-1][1] + rng.randint(1, 6)
                if back_day <= DAYS:
                    back = self.itinerary(index, destination, back_day,
                                          origin)
                    if back:
                        legs += back
                        flight_type = "round_trip"
            break
        else:
            return None
        cabin = rng.choice(CABINS)
        count = rng.choices([1, 2, 3, 4], weights=[46, 33, 16, 5])[0]
        passengers = []
        if rng.random() < 0.75:
            passengers.append({"first_name": user["name"]["first_name"],
                               "last_name": user["name"]["last_name"],
                               "dob": user["dob"]})
        for saved in user["saved_passengers"]:
            if len(passengers) < count and rng.random() < 0.5:
                passengers.append(dict(saved))
        while len(passengers) < count:
            passengers.append(self.person())
        flights = [{"origin": f["origin"], "destination": f["destination"],
                    "flight_number": f["flight_number"], "date": date_of(d),
                    "price": self.price(f, d, cabin)} for f, d in legs]
        insurance = rng.choice(["yes", "no"])
        allowance = FREE_BAGS[user["membership"]][cabin] * count
        total_bags = rng.choices(range(0, 2 * count + 2),
                                 weights=[40] + [12] * (2 * count + 1))[0]
        nonfree = max(0, total_bags - allowance)
        total = sum(f["price"] for f in flights) * count + 50 * nonfree
        if insurance == "yes":
            total += 30 * count
        cards = [pid for pid, m in user["payment_methods"].items()
                 if m["source"] in ("credit_card", "gift_card")]
        # booked in the two weeks before it flies, and before now
        latest = min(legs[0][1], TODAY) - 1
        created_day = rng.randint(max(0, latest - 14), latest)
        created = self.created_at(created_day)
        rid = self.reservation_id()
        reservation = {
            "reservation_id": rid,
            "user_id": uid,
            "origin": origin,
            "destination": destination,
            "flight_type": flight_type,
            "cabin": cabin,
            "flights": flights,
            "passengers": passengers,
            "payment_history": [{"payment_id": rng.choice(cards),
                                 "amount": total}],
            "created_at": created,
            "total_baggages": total_bags,
            "nonfree_baggages": nonfree,
            "insurance": insurance,
        }
        if rng.random() < 0.03:  # cancelled and refunded, as the service does
            reservation["payment_history"].append(
                {"payment_id": reservation["payment_history"][0]["payment_id"],
                 "amount": -total})
            reservation["status"] = "cancelled"
        user["reservations"].append(rid)
        return reservation

    def reservations(self, count, users, flights):
        index = self.index(flights)
        uids = list(users)
        reservations = {}
        if not uids or not flights:
            return reservations
        for _ in range(count):
            r = self.reservation(users, uids, index)
            if r:
                reservations[r["reservation_id"]] = r
        return reservations


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=4)
        f.write("\n")
    os.replace(tmp, path)


def positive(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Generate a synthetic booking database.")
    p.add_argument("--out", required=True, help="directory to write")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--flights", type=positive, default=300)
    p.add_argument("--users", type=positive, default=500)
    p.add_argument("--reservations", type=positive, default=1000)
    opts = p.parse_args(argv)
    if opts.flights < 1:
        p.error("--flights must be at least 1")
    gen = Generator(opts.seed)
    flights = gen.flights(opts.flights)
    users = gen.users(opts.users)
    reservations = gen.reservations(opts.reservations, users, flights)
    os.makedirs(opts.out, exist_ok=True)
    write_json(os.path.join(opts.out, "flights.json"), flights)
    write_json(os.path.join(opts.out, "reservations.json"), reservations)
    write_json(os.path.join(opts.out, "users.json"), users)
    sys.stderr.write(f"generate: {len(flights)} flights, {len(users)} users, "
                     f"{len(reservations)} reservations in {opts.out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
