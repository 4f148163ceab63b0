#!/usr/bin/env python3
"""check-run.py DIR [FACT]: checks what a run of `agent sim` wrote in DIR
against the issue's claims, and prints one line per check: "ok NAME" or
"not ok NAME: why". Used by tests/e2e-sim.sh.

  plans        every day plan has items; every hourly plan from 00:00 covers
               the day (minutes sum to 1440, no overlap); every action of a
               plan block lasts 5-15 minutes at a place of the map
  monotonic    FACT's diffusion curve never goes down
  provenance   every holder of FACT has a chain of tellers back to its seed
               holder, and learned it from someone who held it before
  attendees    those at FACT's event are among its holders, and each has a
               plan item for it made before the event began
"""
import json
import sys


def load(d):
    ev = [json.loads(line) for line in open(d + "/timeline.jsonl")]
    m = json.load(open(d + "/metrics.json"))
    w = json.load(open(d + "/world.json"))
    return ev, m, w


def report(name, problems):
    if problems:
        print("not ok %s: %s" % (name, "; ".join(problems[:3])))
    else:
        print("ok " + name)


def check_plans(ev, w):
    places = {"%s:%s" % (s["sector"], a["arena"])
              for s in w["map"] for a in s["arenas"]}
    bad = []
    days = hourly = acts = 0
    for e in ev:
        if e["type"] == "plan" and e.get("kind") == "day":
            days += 1
            if not e["items"]:
                bad.append("%s: an empty day plan at %s" % (e["agent"], e["t"]))
        if e["type"] == "plan" and e.get("kind") == "hourly":
            hourly += 1
            items = sorted(e["items"], key=lambda b: b["start"])
            total = sum(b["minutes"] for b in items)
            if total != 1440:
                bad.append("%s: hourly plan at %s covers %d minutes"
                           % (e["agent"], e["t"], total))
            for a, b in zip(items, items[1:]):
                if a["start"] + a["minutes"] > b["start"]:
                    bad.append("%s: blocks overlap at %s" % (e["agent"], b["hhmm"]))
        if e["type"] == "act" and "block" in e:
            acts += 1
            if not 5 <= e["minutes"] <= 15:
                bad.append("%s: an action of %d minutes" % (e["agent"], e["minutes"]))
            if e["place"] not in places:
                bad.append("%s: an action at %s" % (e["agent"], e["place"]))
    if not days or not hourly or not acts:
        bad.append("no plans (%d day, %d hourly, %d actions)" % (days, hourly, acts))
    report("plans: %d day plans, %d hourly plans, %d actions" % (days, hourly, acts), bad)


def check_fact(ev, m, w, fact):
    seed = [f for f in w["facts"] if f["id"] == fact][0]
    holders = m["facts"][fact]["holders"]
    by = {h["agent"]: h for h in holders}
    curve = [p["count"] for p in m["facts"][fact]["curve"]]
    report("monotonic: %s reaches %d" % (fact, curve[-1] if curve else 0),
           [] if curve == sorted(curve) else ["the curve goes down"])
    bad = []
    for h in holders:
        a, seen = h["agent"], set()
        while by[a]["from"] is not None:
            if a in seen:
                bad.append("a cycle at " + a)
                break
            seen.add(a)
            teller = by[a]["from"]
            if teller not in by:
                bad.append("%s was told by %s, who never held it" % (a, teller))
                break
            if by[teller]["t"] > by[a]["t"]:
                bad.append("%s was told by %s before %s knew" % (a, teller, teller))
            a = teller
        else:
            if a != seed["holder"]:
                bad.append("%s's chain ends at %s" % (h["agent"], a))
    report("provenance: %d holders back to %s" % (len(holders), seed["holder"]), bad)
    if "event" not in seed:
        return
    start = seed["event"]["from"]
    att = m["events"][fact]["attendees"]
    bad = []
    for a in att:
        if a not in by:
            bad.append(a + " attended without knowing")
            continue
        planned = False
        for e in ev:
            if (e["type"] == "plan" and e["agent"] == a and e["t"] < start
                    and e.get("kind") in ("day", "added")):
                planned |= any(start[11:16] in it or "party" in it.lower()
                               for it in e["items"])
        if not planned:
            bad.append(a + " attended with no plan item made before")
    report("attendees: %d of %d holders, each with a plan item" % (len(att), len(holders)), bad)


def main():
    d = sys.argv[1]
    fact = sys.argv[2] if len(sys.argv) > 2 else "party"
    ev, m, w = load(d)
    check_plans(ev, w)
    check_fact(ev, m, w, fact)


if __name__ == "__main__":
    main()
