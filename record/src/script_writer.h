/*
 * script_writer.h - writing a relayed session as a pop3-mock dialogue script
 * (format: mockserver/README.md, "Dialogue scripts").
 *
 * Server octets go out exactly as received: each line becomes an "S:" line whose text
 * is escaped so that the mock sends the same octets back (CRLF is the "S:" line's own
 * ending; a bare LF, a lone CR, NUL, 8-bit octets, braces and backslashes are escapes;
 * a line that has not ended yet, or a piece of a long line, ends in "\c"). Client lines
 * become "C:" lines, with the parts that carry secrets replaced by wildcards.
 *
 * Everything is written through to the file (fflush) as it happens, before the octets
 * are relayed: what a client saw is in the file even when the recorder is killed.
 */
#ifndef POP3RECORD_SCRIPT_WRITER_H
#define POP3RECORD_SCRIPT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pop3/buf.h"

/* Raw octets of a server line written on one "S:" line; longer lines continue on the
 * next "S:" line (the pieces end in "\c", and consecutive "S:" lines are one write). */
#define REC_PIECE_OCTETS 512

/* The largest script pop3-mock reads (its SCRIPT_MAX_OCTETS, 16 MiB): beyond it the
 * recording goes on but is reported as too large to replay. */
#define REC_REPLAYABLE_OCTETS (16u << 20)

typedef struct rec_writer {
    FILE *f;
    char *path;
    bool failed;      /* a write failed: the file is incomplete */
    int err;          /* errno of that failure */
    bool keep_timing; /* one write per chunk received, with the pauses between */
    int64_t last_ms;  /* time of the last event written (keep_timing) */
    /* The server octets of a line not yet ended, held until the line ends, a client
     * line comes, or REC_PIECE_OCTETS are there. */
    char pending[REC_PIECE_OCTETS];
    size_t npending;
    uint64_t written; /* octets written to the file */
    /* A copy of the current session's script text (for --case), bounded. */
    pop3_buf *mirror;
} rec_writer;

/* How a client line is written: the first `keep` octets as they are, then, when
 * `wild` is set, a wildcard in place of the rest ("{*}"). */
typedef struct rec_redaction {
    size_t keep;
    bool wild;
} rec_redaction;

/* Open (truncate) `path` for writing. Returns 0, or -1 with `err` set. */
int rec_writer_open(rec_writer *w, const char *path, bool keep_timing, char *err, size_t errlen);

/* Close the file. Returns 0, or -1 when a write or the close failed (errno in w->err). */
int rec_writer_close(rec_writer *w);

/* A "# " comment line (printf format; control octets are shown as '?'). */
void rec_comment(rec_writer *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A directive line such as "!starttls" or "!session" (written as given). */
void rec_directive(rec_writer *w, const char *text);

/* Server octets as received, at time `now_ms` (a monotonic clock). With keep_timing
 * the chunk is one write of its own, preceded by "!delay MS" when time passed. */
void rec_server(rec_writer *w, const char *data, size_t len, int64_t now_ms);

/* Whatever server octets are held, written out now (as "S: ...\c"). */
void rec_server_flush(rec_writer *w);

/* One client line (without its line end), at time `now_ms`. */
void rec_client(rec_writer *w, const char *line, size_t len, rec_redaction r, int64_t now_ms);

/* fflush; returns false once any write failed. */
bool rec_sync(rec_writer *w);

/* The escaped text of `len` octets appended to `out` (escapes of the script format;
 * `edges` escapes a leading and a trailing space, which the format would trim). */
int rec_escape(pop3_buf *out, const char *data, size_t len, bool edges);

#endif
