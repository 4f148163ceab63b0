-- The task file is plain Lua with the standard libraries.
local goal = os.getenv("AG_TEST_TASK_GOAL") or "no variable"
return { goal = string.upper(goal), limits = { steps = 2 * 5 } }
