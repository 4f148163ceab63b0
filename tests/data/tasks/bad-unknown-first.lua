-- expect: unknown field "alpha"
-- several unknown fields: the smallest is reported, whatever the hash order
return { goal = "g", zeta = 1, alpha = 2, mid = 3 }
