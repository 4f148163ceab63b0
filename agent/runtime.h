/* agent/runtime.h: placeholder */
