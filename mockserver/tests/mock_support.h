/*
 * mock_support.h - helpers shared by the mock server's unit tests.
 */
#ifndef POP3MOCK_TEST_SUPPORT_H
#define POP3MOCK_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3mock/maildrop.h"
#include "pop3mock/session.h"

/* Everything a session sends for `in` (then EOF), as a NUL-terminated malloc'd string;
 * `*len` (may be NULL) gets the octets. */
char *mock_run(pop3mock_session *s, const char *in, size_t *len);

/* The same, feeding `in` one octet at a time and acknowledging one octet per SEND. */
char *mock_run_bytewise(pop3mock_session *s, const char *in, size_t *len);

/* A maildrop for user "u", password "p" with the RFC-ish two messages below. */
void mock_maildrop(pop3mock_maildrop *md);

/* A maildrop session with a fixed timestamp and the given quirk specs (NULL-ended). */
pop3mock_session *mock_session(pop3mock_maildrop *md, const char *const *quirks);

/* The fixed APOP timestamp mock_session uses. */
#define MOCK_TS "<1896.697170952@dbc.mtview.ca.us>"

/* Message 1 and 2 of mock_maildrop. */
#define MOCK_MSG1 "From: a@example\nSubject: one\n\nline 1\n.dot line\nline 3\n"
#define MOCK_MSG2 "From: b@example\r\nSubject: two\r\n\r\nbody without final newline"

#endif
