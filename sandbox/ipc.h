/* sandbox/ipc.h: placeholder */
