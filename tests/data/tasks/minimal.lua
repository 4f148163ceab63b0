-- Only the goal: everything else takes its default.
return { goal = "Say hello." }
