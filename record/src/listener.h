/*
 * listener.h - the socket pop3-record listens on for clients.
 */
#ifndef POP3RECORD_LISTENER_H
#define POP3RECORD_LISTENER_H

#include <stddef.h>

/* Split "HOST:PORT" or "[HOST]:PORT" (port 0..65535, or 1..65535 when !allow_zero).
 * Returns 0, or -1 with `err` saying what is wrong. */
int rec_split_hostport(const char *spec, char *host, size_t hostcap, unsigned *port, int allow_zero,
                       char *err, size_t errlen);

/* A listening socket on `spec` ("ADDR:PORT", "[ADDR]:PORT"); `addr` gets the bound
 * address with the real port ("127.0.0.1:40517"). The descriptor, or -1 with `err`. */
int rec_listen(const char *spec, char *addr, size_t addrcap, char *err, size_t errlen);

#endif
