#!/usr/bin/env python3
"""big-run.py OUT: writes a made-up run of 25 agents over two game days
(thousands of moves, actions, conversations and learned facts) into the
folder OUT (world.json, timeline.jsonl, metrics.json), for checking that
`agent sim view` shows every event and for timing the page (bench/run.sh)."""
import json, os, random, sys
out, rnd = sys.argv[1], random.Random(5)
sectors = ["Cafe", "College", "Market", "Park", "Library", "Bar", "Gym",
           "Town hall", "Pharmacy", "Houses north", "Houses south", "Dorm"]
world_map = [{"sector": s, "arenas": [
    {"arena": "room %d" % j, "size": [rnd.randint(6, 20), rnd.randint(5, 12)]}
    for j in range(rnd.randint(1, 4))]} for s in sectors]
places = [m["sector"] + ":" + a["arena"] for m in world_map
          for a in m["arenas"]]
names = ["Agent %02d Example" % i for i in range(25)]
where = {a: rnd.choice(places) for a in names}
hold = {"party": {names[0]}, "news": {names[1]}}
events = []
for m in range(0, 2 * 24 * 60, 3):
    t = "2023-02-%02d %02d:%02d:00" % (13 + m // 1440, m // 60 % 24, m % 60)
    for a in rnd.sample(names, 3):
        p = rnd.choice(places)
        events.append({"t": t, "type": "move", "agent": a, "from": where[a],
                       "to": p})
        events.append({"t": t, "type": "act", "agent": a, "place": p,
                       "activity": "errand %d" % m, "minutes": 10})
        where[a] = p
    if m % 15 == 0:
        a, b = rnd.sample(names, 2)
        events.append({"t": t, "type": "chat.start", "agent": a, "with": b})
        for k in range(3):
            events.append({"t": t, "type": "chat.say", "agent": (a, b)[k % 2],
                           "with": (b, a)[k % 2], "text": "line %d" % k})
        events.append({"t": t, "type": "chat.end", "agent": a, "with": b})
        for f in hold:
            if a in hold[f] and b not in hold[f] and rnd.random() < .3:
                hold[f].add(b)
                events.append({"t": t, "type": "learn", "agent": b,
                               "fact": f, "from": a})
os.makedirs(out)
json.dump({"name": "big", "start": "2023-02-13 00:00", "map": world_map,
           "personas": [{"name": a, "at": where[a]} for a in names],
           "facts": [{"id": "party", "holder": names[0], "text": "a party"},
                     {"id": "news", "holder": names[1], "text": "news"}]},
          open(out + "/world.json", "w"))
with open(out + "/timeline.jsonl", "w") as f:
    for i, e in enumerate(events):
        f.write(json.dumps(dict(e, seq=i + 1)) + "\n")
json.dump({}, open(out + "/metrics.json", "w"))
