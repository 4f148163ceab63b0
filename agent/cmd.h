/* agent/cmd.h: placeholder */
