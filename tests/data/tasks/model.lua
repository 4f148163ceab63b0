-- A stand-in model file for script.lua and shorthand-script.lua (its content
-- is not read by test-task).
return {}
