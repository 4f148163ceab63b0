-- expect: 2: no goal today
error("no goal today")
