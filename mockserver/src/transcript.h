/*
 * transcript.h - the --log file: both directions of every connection, timestamped.
 */
#ifndef POP3MOCK_TRANSCRIPT_H
#define POP3MOCK_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pop3mock__log pop3mock__log;

/* Open (append) `path`; NULL with `err` filled on failure. */
pop3mock__log *pop3mock__log_open(const char *path, bool json, char *err, size_t errlen);
void pop3mock__log_close(pop3mock__log *log);

/* Octets that went one way: dir 'C' (client to server) or 'S'. One record per line. */
void pop3mock__log_data(pop3mock__log *log, unsigned long conn, char dir, bool tls, const char *p,
                        size_t n);

/* Something that happened to the connection ("connect 127.0.0.1:5555", "tls-start"). */
void pop3mock__log_event(pop3mock__log *log, unsigned long conn, bool tls, const char *what);

#endif
