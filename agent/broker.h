/* agent/broker.h: placeholder */
