/* sandbox/setup.h: placeholder */
