/* agent/smtp.h: placeholder */
