/*
 * tracker.h - following a relayed dialogue: which reply each client line asks for, when
 * each reply ends, and which client octets are secrets.
 *
 * The recorder relays octets untouched; this is the part that understands them, with
 * the codec: client lines through pop3_parse_command (RFC 1939 section 3, RFC 2449
 * section 4), server octets through the response decoder (RFC 1939 section 3 multi-line
 * replies and their terminator, RFC 5034 section 4 continuations). It knows
 *   - whether a reply is due (for the upstream timeout) or half way (for "partial"),
 *   - when an STLS was accepted (RFC 2595 section 4: TLS starts after the +OK line),
 *   - which octets of a client line must not reach the file: the PASS argument
 *     (RFC 1939 section 7), the APOP digest (section 7), AUTH initial responses and
 *     every SASL response line of the exchange (RFC 5034 section 4).
 * A server that sends what the decoder cannot follow (garbage, a reply nobody asked
 * for) does not stop the recording: the tracker says it lost track, and from then on
 * the recorder times out only on silence after a client line.
 */
#ifndef POP3RECORD_TRACKER_H
#define POP3RECORD_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3/command.h"
#include "pop3/wire.h"
#include "script_writer.h"

/* Client lines whose replies may be outstanding at once (pipelining, RFC 2449 section
 * 6.6); more pipelined lines than this and the tracker stops following. */
#define REC_MAX_PENDING    256
/* Longest status or listing line the tracker follows (a longer one is relayed and
 * recorded all the same, but the tracker loses track). */
#define REC_TRACK_LINE_MAX 65536
/* Octets of a command line kept for messages and case steps. */
#define REC_LABEL_SIZE     96

typedef struct rec_pending {
    pop3_expect expect;
    pop3_command_id id;
    char label[REC_LABEL_SIZE]; /* the line as recorded: secrets as "*" */
    bool started;               /* pop3_decoder_expect was called for it */
    bool awaiting_client;       /* a SASL continuation came: the client speaks next */
    bool got_status;            /* its status line has come */
} rec_pending;

/* What a reply turned out to be, for whoever builds a conformance case from it. */
typedef struct rec_track_hooks {
    void (*status)(void *ctx, const rec_pending *p, const pop3_status_line *st);
    void (*line)(void *ctx, const rec_pending *p, const char *line, size_t len);
    void (*data)(void *ctx, const rec_pending *p, const char *data, size_t len);
    void (*end)(void *ctx, const rec_pending *p); /* the reply is complete */
} rec_track_hooks;

typedef struct rec_tracker {
    pop3_decoder dec;
    rec_pending q[REC_MAX_PENDING];
    size_t head, count;
    bool lost;
    char lost_why[160];
    bool in_sasl; /* an AUTH exchange is going on: client lines are SASL responses */
    const rec_track_hooks *hooks;
    void *ctx;
} rec_tracker;

/* Ready for a session: the greeting is due first. Returns 0 or -1 (out of memory). */
int rec_tracker_init(rec_tracker *t, const rec_track_hooks *hooks, void *ctx);
void rec_tracker_free(rec_tracker *t);

/*
 * rec_tracker_redact - which octets of a client line (without its line end) may be
 * written: the keyword and the user name stay, the secret after them does not. Works on
 * any line, well-formed or not, so that a malformed PASS is hidden as well. `in_sasl`:
 * the line is a SASL response (hidden whole, except the "*" that cancels).
 */
rec_redaction rec_tracker_redact(const char *line, size_t len, bool in_sasl);

/*
 * rec_tracker_client - a client line the recorder forwards upstream: queues the reply it
 * asks for and returns how it is to be written. `*id` gets the command (UNKNOWN for a
 * SASL response or a malformed line).
 */
rec_redaction rec_tracker_client(rec_tracker *t, const char *line, size_t len, pop3_command_id *id);

/*
 * rec_tracker_server - server octets, in order. Returns the number of octets up to and
 * including the line end of an accepted STLS (+OK), when one ended in them (the octets
 * after it are not fed), or `len`. `*stls_ok` says which.
 */
size_t rec_tracker_server(rec_tracker *t, const char *data, size_t len, bool *stls_ok);

/* The server closed the connection: a reply cut short loses its end. */
void rec_tracker_eof(rec_tracker *t);

/* A reply is due from the server (one is queued and the client is not the one to
 * speak). */
bool rec_tracker_due(const rec_tracker *t);

/* A reply has begun to arrive and has not ended. */
bool rec_tracker_mid_reply(const rec_tracker *t);

/* Nothing is outstanding: every reply asked for has ended. */
bool rec_tracker_idle(const rec_tracker *t);

/* The line whose reply is due or under way ("the greeting" first), for messages. */
const char *rec_tracker_waiting_for(const rec_tracker *t);

#endif
