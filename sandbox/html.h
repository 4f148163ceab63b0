/* sandbox/html.h: placeholder */
