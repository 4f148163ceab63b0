-- expect: error: attempt to index a nil value (global 'package')
-- bpf_keyctl.lua: wants bpf(2) and keyctl(2) through a C module it would load
-- with package.loadlib; both calls are tried in C (tests/test-sandbox.c).
return {
  name = "bpf_keyctl",
  description = "Escape attempt: bpf_keyctl.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return package.loadlib("libkeyutils.so.1", "keyctl")
  end,
}
