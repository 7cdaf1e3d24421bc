/*
 * diff.h - pop3-fuzz's differential mode: one mutated server dialogue played to several
 * POP3 clients (RFC 1939, RFC 2449, RFC 2595, RFC 5034), each driven as pop3-conform
 * drives a client (conformance/README.md, "The adapter contract"), and the places where
 * they disagree on what matters.
 *
 * What matters is an outcome's summary: per operation, success or failure; the message
 * count a STAT, LIST or UIDL gave; the length and MD5 of each body RETR or TOP delivered;
 * and, when the case requires TLS, whether PASS, APOP or AUTH went out in clear (after a
 * refused or absent STLS). Two summaries disagree on a field when they differ there, up
 * to the first operation where the clients' successes part (what follows it is a
 * consequence). A disagreement is kept once per (field, grouping of the clients by their
 * value, mutation families) and saved as a conformance case file that replays it.
 */
#ifndef POP3_NETFUZZ_DIFF_H
#define POP3_NETFUZZ_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conform.h"

/* The fields of a summary that a disagreement can be about. */
typedef enum pop3diff_field {
    POP3DIFF_STATUS = 0, /* success vs failure of an operation */
    POP3DIFF_COUNT,      /* the message count of STAT, LIST, UIDL */
    POP3DIFF_BODY,       /* the octets of a RETR or TOP body (length and MD5) */
    POP3DIFF_CREDS,      /* credentials sent in clear although TLS was required */
    POP3DIFF_NFIELDS
} pop3diff_field;

const char *pop3diff_field_name(pop3diff_field f);

/* One operation's outcome, normalised. */
typedef struct pop3diff_op {
    char status[12]; /* "ok", "fail", "missing" (no result came), "n/a" (not compared) */
    char kind[24];   /* the failure's KIND as the client reported it (shown, not compared) */
    char value[64];  /* "count=N", "body=LEN:MD5", or "" */
} pop3diff_op;

typedef struct pop3diff_summary {
    pop3diff_op *ops;
    size_t nops;
    char creds[8]; /* "clear", "none", or "-" when the case does not require TLS */
} pop3diff_summary;

void pop3diff_summary_free(pop3diff_summary *s);

/* The summary of one client run of case `c`; `transcript` is the mock's text log. */
void pop3diff_summarise(const conform_case *c, const client_output *o, const char *transcript,
                        size_t tlen, pop3diff_summary *s);

/* One line: "creds=X OP OP ..." with OP "STATUS[:KIND][,VALUE]". */
void pop3diff_summary_format(const pop3diff_summary *s, pop3_buf *out);
/* The reverse of pop3diff_summary_format; false when `line` is not one. */
bool pop3diff_summary_parse(const char *line, pop3diff_summary *s);

/* One disagreement among summaries. */
typedef struct pop3diff_disagreement {
    pop3diff_field field;
    size_t op;         /* the operation it is about (0 for creds) */
    char groups[512];  /* "a,b | c": the clients grouped by their value, sorted */
    char values[1024]; /* "a,b: VALUE | c: VALUE" */
} pop3diff_disagreement;

/* Compare `n` summaries (clients named `names`); at most `max` disagreements go to
 * `out`, at most one per field. Returns how many. */
size_t pop3diff_compare(const char *const *names, const pop3diff_summary *const *sums, size_t n,
                        const conform_case *c, pop3diff_disagreement *out, size_t max);

/* ---- the campaign and the replay (diff_campaign.c) ---- */

/* Defaults of the limits (each has an option of pop3-fuzz diff). */
#define POP3DIFF_DEFAULT_SECONDS    60
#define POP3DIFF_DEFAULT_HANG_MS    10000              /* one client's run of one case, at most */
#define POP3DIFF_DEFAULT_TIMEOUT_MS 1000               /* a client's read timeout */
#define POP3DIFF_DEFAULT_STACK      2                  /* mutations stacked per run, at most */
#define POP3DIFF_DEFAULT_MAX_OUTPUT ((size_t)16 << 20) /* octets an adapter may print */
/* Runs of the clients spent shrinking a disagreement: none unless asked. A try costs a
 * run of every disagreeing client, and a client waiting for a reply the shrinking
 * dropped waits its whole --timeout-ms: 24 tries took about 15 s per disagreement. */
#define POP3DIFF_DEFAULT_MINIMISE   0
#define POP3DIFF_MAX_CLIENTS        16

typedef struct pop3diff_options {
    conform_client clients[POP3DIFF_MAX_CLIENTS];
    size_t nclients;
    const char *cases_dir; /* the seed cases */
    strlist filters;       /* globs on the seed case names (none: every case) */
    unsigned long seconds, iterations;
    unsigned long long seed;
    const char *out_dir;
    unsigned hang_ms, timeout_ms, max_stack;
    size_t max_output;            /* octets an adapter may print for one case */
    unsigned long minimise_tries; /* runs of the disagreeing clients spent shrinking one */
    bool progress;
    bool echo_stderr; /* replay: show the clients' own output */
} pop3diff_options;

/* The campaign; its table and "N runs, N disagreements" go to `out`. Returns the number
 * of distinct disagreements, or -1 with `err` filled. */
long pop3diff_campaign(const pop3diff_options *o, FILE *out, char *err, size_t errlen);

/* Replay a saved disagreement with the clients of `o` (none: the clients the file
 * names). Returns 1 when the disagreement comes back, 0 when not, -1 with `err`. */
int pop3diff_replay(pop3diff_options *o, const char *path, FILE *out, char *err, size_t errlen);

/* `pop3-fuzz diff ...` and `pop3-fuzz replay FILE.case ...` (diff_cli.c). */
int pop3fuzz_diff_main(int argc, char **argv);
/* True when the arguments of `pop3-fuzz replay` name a differential reproducer (a
 * `.case` file), which pop3fuzz_diff_main replays. */
bool pop3fuzz_diff_claims(int argc, char **argv);

#endif
