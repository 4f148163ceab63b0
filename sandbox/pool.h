/* sandbox/pool.h: placeholder */
