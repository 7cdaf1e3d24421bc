/*
 * pop3/transport_memory.h - an in-memory transport: a scripted server inside the test
 * program, for tests of libpop3 and of programs built on it.
 *
 * It implements the pop3_transport interface of pop3/transport.h without a socket, so
 * a test can give the client exactly the octets of RFC 1939 dialogues (and of broken
 * servers) in any chunking, and read back what the client sent.
 */
#ifndef POP3_TRANSPORT_MEMORY_H
#define POP3_TRANSPORT_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The in-memory transport, for tests. The test scripts the server's bytes as segments;
 * a segment is released once the client has made `after_writes` writes (0: at once),
 * in order, so a reply can wait for its command as on a real connection (the scheme of
 * curl-fuzzer). A read returns octets of one segment only, at most `chunk` of them (0:
 * no limit; 1: one octet at a time). When the released segments are exhausted, a read
 * returns POP3_ETIMEOUT if a segment still waits for a write (the server would wait for
 * a command that never comes), else the end status (POP3_ECLOSED unless set).
 * Everything the client writes is kept. starttls records the output offset at which it
 * was called and switches is_tls on; it fails with POP3_ETLS when released octets were
 * left unread, as a real handshake would choke on them.
 *
 * Ownership: unlike the other transports, close only marks the transport closed so that
 * the test can inspect it after the client is gone; the test frees it with
 * pop3_transport_memory_free.
 */
pop3_transport *pop3_transport_memory_new(void);
void pop3_transport_memory_free(pop3_transport *t);

/* Append a segment (copied). POP3_OK or POP3_ENOMEM. */
int pop3_transport_memory_add(pop3_transport *t, const void *data, size_t len,
                              unsigned after_writes);
/* Append a NUL-terminated string as a segment. */
int pop3_transport_memory_add_str(pop3_transport *t, const char *s, unsigned after_writes);
/* At most `chunk` octets per read (0: no limit). */
void pop3_transport_memory_set_chunk(pop3_transport *t, size_t chunk);
/* Pretend TLS is active from the start (an implicit-TLS server). */
void pop3_transport_memory_set_tls(pop3_transport *t, bool active);
/* What a read returns once every segment is consumed: POP3_ECLOSED (default), POP3_EIO,
 * or POP3_ETLS (a TLS stream cut without close_notify). */
void pop3_transport_memory_set_end(pop3_transport *t, int error);
/* Make the `nth` write (1-based; 0: none) fail with `error`, nothing written. */
void pop3_transport_memory_fail_write(pop3_transport *t, unsigned nth, int error);
/* Make starttls fail with `error` (POP3_OK: succeed, the default). */
void pop3_transport_memory_fail_starttls(pop3_transport *t, int error);

/*
 * A responder turns the memory transport into a tiny in-process server: it is called
 * after each successful write with the octets written and may add segments.
 */
typedef void (*pop3_memory_responder_fn)(void *ud, pop3_transport *t, const char *data, size_t len);
void pop3_transport_memory_set_responder(pop3_transport *t, pop3_memory_responder_fn fn, void *ud);

/* Everything written so far, NUL-terminated for convenience (the length excludes it).
 * Owned by the transport, valid until its next write or its free. */
const char *pop3_transport_memory_output(const pop3_transport *t, size_t *len);
/* Number of writes so far. */
unsigned pop3_transport_memory_writes(const pop3_transport *t);
/* Output offset at which starttls was called, or (size_t)-1 when it never was. */
size_t pop3_transport_memory_tls_offset(const pop3_transport *t);
/* True once the client closed it. */
bool pop3_transport_memory_closed(const pop3_transport *t);
/* Octets released but not yet read by the client. */
size_t pop3_transport_memory_unread(const pop3_transport *t);

#ifdef __cplusplus
}
#endif
#endif
