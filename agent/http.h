/* agent/http.h: placeholder */
