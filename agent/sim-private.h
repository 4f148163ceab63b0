/* agent/sim-private.h: placeholder */
