/*
 * case_writer.h - a conformance case skeleton (format: conformance/README.md) of one
 * recorded session: the `run:` steps the client performed, with the results the
 * server's replies gave, then the session's script after `dialogue:`.
 *
 * A skeleton: title, section and covers are left for a person to fill in, and steps
 * the operation language has no exact counterpart for (an AUTH exchange) are written
 * as comments. Credentials in steps are placeholders ("secret"): the dialogue accepts
 * any.
 */
#ifndef POP3RECORD_CASE_WRITER_H
#define POP3RECORD_CASE_WRITER_H

#include <stddef.h>

#include "script_writer.h"
#include "tracker.h"

/* Body octets shown in a `body` result; a longer body is `body-md5 LENGTH HEX`, as
 * pop3-conform's reference client reports it. */
#define REC_CASE_BODY_SHOW 2048

typedef struct rec_case rec_case;

/* Start the case of session `number` (written to PATH, or PATH.N for N > 1): from
 * here on the writer mirrors the session's script text. NULL when out of memory. */
rec_case *rec_case_begin(rec_writer *w, const char *path, unsigned number, const char *upstream);

/* The tracker hooks that feed it (ctx: the rec_case). */
const rec_track_hooks *rec_case_hooks(void);

/* Write the case file and free `c`. Returns 0, or -1 with `err`. */
int rec_case_finish(rec_case *c, rec_writer *w, char *err, size_t errlen);

#endif
