/* sandbox/pool.c: placeholder */
typedef int ag_placeholder_t;
