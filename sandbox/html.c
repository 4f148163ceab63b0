/* sandbox/html.c: placeholder */
typedef int ag_placeholder_t;
