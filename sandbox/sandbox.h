/* sandbox/sandbox.h: placeholder */
