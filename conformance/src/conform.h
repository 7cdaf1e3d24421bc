/*
 * conform.h - the internals of `pop3-conform`, the conformance runner and server probe.
 *
 * A case (conformance/cases/NAME.case) is a transcript: a mock dialogue in pop3-mock's
 * script format, the client operations to run against it, the result each operation must
 * give, and the ids it covers (requirements of RFC 1939, 2449, 2595, 5034, 6856, 3206,
 * 8314 named by RFC and section, RFC1939-11; quirks Qn; poplib and curl test names). The
 * runner plays the dialogue with the mock in a thread of its own on a free loopback port,
 * runs the operations with the reference client (or an adapter around another client),
 * and compares: the mock checks what the client sent, the runner checks what the client
 * made of the replies. Every case runs twice: replies written whole, and one octet per
 * write.
 */
#ifndef POP3_CONFORM_H
#define POP3_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pop3/buf.h"

/* Text is built in the codec's pop3_buf (pop3/buf.h), unlimited (zero-initialised),
 * through these thin wrappers that abort when it fails: the runner is a test tool whose
 * inputs are our own files, and a half-built report helps nobody. */

void cbuf_add(pop3_buf *b, const void *p, size_t n);
void cbuf_puts(pop3_buf *b, const char *s);
void cbuf_putc(pop3_buf *b, char c);
void cbuf_printf(pop3_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cbuf_free(pop3_buf *b);
/* Hand the string over to the caller (free() it); the buffer is then empty. */
char *cbuf_take(pop3_buf *b);

/* A list of owned strings. */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

void strlist_add(strlist *l, const char *s);
void strlist_take(strlist *l, char *s); /* add, owning `s` */
void strlist_free(strlist *l);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Room for `need` elements of `elem` octets in `ptr`, whose capacity is `*cap`: the
 * codec's pop3_array_grow (doubling from 8, no limit but size_t), aborting as xmalloc
 * does when it fails. Returns the block to use from now on. */
void *xarray_grow(void *ptr, size_t *cap, size_t need, size_t elem);

/* Read a whole file; NULL with errno set on failure. */
char *read_file(const char *path, size_t *len);

/* Milliseconds on the monotonic clock. */
int64_t mono_ms(void);

/*
 * Text values in results (escape.c). One rule that adapters implement too (README): a
 * value made only of octets 0x21..0x7E and single inner spaces, with no '"' or '\', is
 * written as is; anything else is written in double quotes with C escapes (\r \n \t \\
 * \" and \xNN for other octets outside 0x20..0x7E).
 */
void text_format(pop3_buf *out, const char *p, size_t n);
/* Split an operation line into words: space-separated, or "quoted with escapes".
 * Returns false with `*err` on a malformed quote or escape. */
bool words_split(const char *line, strlist *out, const char **err);
/* Decode C escapes (\r \n \t \0 \\ \" \xNN) of `in` into `out`. */
bool unescape(const char *in, size_t n, pop3_buf *out, const char **err);

/* One operation of a case and the result lines it must give. */
typedef struct case_op {
    char *text; /* as written after "run:" */
    int line;   /* line in the case file */
    strlist want;
} case_op;

typedef struct conform_case {
    char *path;
    char *id;
    char *title;
    char *section; /* "RFC 1939 §5" */
    strlist covers;
    strlist options;
    case_op *ops;
    size_t nops;
    int exit_status; /* the `pop3` command's exit status for this outcome, -1: not stated */
    char *tls_cert;  /* the certificate the mock serves ("localhost" unless stated) */
    char *dialogue;  /* the file with every line that is not dialogue blanked to "#" */
    size_t dialogue_len;
    unsigned sessions; /* "!session" lines + 1 */
} conform_case;

/* Parse a case file. NULL with "FILE:LINE: message" in `err`. */
conform_case *case_load(const char *path, char *err, size_t errlen);
void case_free(conform_case *c);
/* Expand %repeat[COUNT|TEXT]% (COUNT copies of TEXT, escapes allowed). */
char *case_expand(const char *in, size_t len, size_t *outlen, const char **err);

/* Every *.case under `dir` whose id matches one of the globs (all when none), sorted. */
int cases_list(const char *dir, const strlist *globs, strlist *paths, char *err, size_t errlen);
/* The cases folder when none is given (case_list.c): $POP3_CONFORM_CASES, conformance/cases
 * under the working folder, the installed <bin>/../share/pop3kit/cases beside the program,
 * the source tree's. Returns a malloc'd path. */
char *cases_default_dir(void);

/* The command-line conventions (cli.c). */
struct option;
/* "pop3-conform: MESSAGE" and "try 'pop3-conform --help'" on stderr; returns 2. */
int conform_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The message for what getopt_long returned ('?' or ':'); returns 2. */
int conform_getopt_error(int c, char **argv, const struct option *opts);
/* "pop3-conform (pop3kit) VERSION" on stdout; returns 0. */
int conform_version(void);

/* Decimal numbers of the runner's own (number.c), read by the codec's pop3_parse_number. */
/* The whole of `s` is a decimal number from lo to hi: digits only, no sign, no blank. */
bool conform_number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* The decimal number `s` starts with: returns how many digits it took, 0 when `s` does not
 * start with a digit or the number passes 2^64-1 (`*out` is then untouched). */
size_t conform_leading_number(const char *s, uint64_t *out);
/* Seconds "N" or "N.F" (F: one to three digits) from 0 to `max_s`, the whole of `s`. */
bool conform_seconds(const char *s, uint64_t max_s, double *out);

/* The TLS fixture (test_cert.c): fresh self-signed certificates, one of which the mock
 * serves and the clients trust as their only CA, and an unrelated one that they must not
 * accept. */
#define TLS_CERTS_MAX 8

typedef struct tls_cert {
    const char *name; /* "localhost" (default), "cn-only", "wildcard", ... */
    char cert[300];
    char key[300];
} tls_cert;

typedef struct conform_tls {
    char dir[256];
    tls_cert certs[TLS_CERTS_MAX];
    size_t ncerts;
    const char *cert; /* the default certificate ("localhost", "127.0.0.1") and key */
    const char *key;
    char other[300]; /* a certificate of another party, that clients must not accept */
    char other_key[300];
} conform_tls;

int tls_fixture_make(conform_tls *t, char *err, size_t errlen);
const tls_cert *tls_fixture_find(const conform_tls *t, const char *name);
void tls_fixture_remove(conform_tls *t);

/* The mock, played in a thread on 127.0.0.1 port 0 (mock_thread.c). */
typedef struct mock_run mock_run;

typedef struct mock_report {
    bool passed;         /* every session was played and the client followed it */
    pop3_buf text;       /* departure reports, sessions that never ran */
    pop3_buf transcript; /* S:/C: lines of every session (from the mock's --log) */
} mock_report;

/* `cert` is what the mock serves for STLS and implicit TLS; `logdir` takes its --log. */
mock_run *mock_start(const char *name, const char *script, size_t len, const tls_cert *cert,
                     const char *logdir, unsigned idle_timeout, char *err, size_t errlen);
unsigned mock_port(const mock_run *m);
/* Wait for every session the clients opened to end (at most `wait_ms`), stop the server,
 * and fill `rep`. Frees `m`. */
void mock_finish(mock_run *m, int wait_ms, mock_report *rep);
void mock_report_free(mock_report *r);

/* What a client run produced: one block of result lines per operation. */
typedef struct op_result {
    strlist lines; /* first line "ok", "err KIND ...", or "n/a REASON" */
} op_result;

typedef struct client_output {
    op_result *ops;
    size_t nops;
    char *na;          /* the client cannot express this case: why */
    pop3_buf problems; /* adapter crashes, missing results */
    pop3_buf log;      /* the client's own trace (adapter stderr, reference debug lines) */
} client_output;

void client_output_free(client_output *o);

/* Where a client connects and what it trusts. */
typedef struct client_env {
    const char *host;
    unsigned port;
    const char *ca_file;       /* the certificate the mock serves: the only trusted CA */
    const char *other_ca_file; /* an unrelated certificate (option ca=other) */
    int timeout_ms;            /* default per-read timeout unless the case sets one */
} client_env;

/* Run the operations with the reference client (client_ref.c). */
void client_ref_run(const conform_case *c, const client_env *env, client_output *out);
struct conform_client;
struct run_config;
/* Run the operations with an adapter command (client_adapter.c): a process for the case,
 * or the thread's persistent process for the client when `cl->persistent`. */
void client_adapter_run(const conform_case *c, const struct conform_client *cl,
                        const client_env *env, const struct run_config *cfg, client_output *out);
/* End every persistent adapter process (adapter_persist.c): after the last case. */
void adapter_persist_close_all(void);
/* True when every run of `command` so far exited 126 or 127 (the shell could not execute
 * it or did not find it); `why` gets the first line the shell said about it. */
bool adapter_cannot_start(const char *command, char *why, size_t len);
/* Runs of `command` so far. */
size_t adapter_runs(const char *command);

/* Compare (compare.c): true when `got` meets every expectation of `c`; the diff of
 * expected and received lines goes to `diff`. */
bool results_match(const conform_case *c, const client_output *got, pop3_buf *diff);
/* The exit status the `pop3` command gives for the first error of the run (pop3(1)). */
int results_exit_status(const client_output *got);

/* One client under test. */
typedef struct conform_client {
    char *name;      /* "pop3kit", "poplib", "curl" */
    char *command;   /* NULL: the reference client */
    char *file;      /* the adapter's file (its script, or the program), NULL when unknown */
    bool persistent; /* served by a long-lived process per worker (README) */
} conform_client;

/* `--client [NAME=]COMMAND` (client_spec.c): the column name (NAME, else derived from the
 * adapter's file name), the command with relative adapter paths found beside the cases,
 * and a check that it can be started. -1 with a one-line reason in `err`. */
int client_spec_prepare(conform_client *cl, const char *spec, const char *cases_dir, char *err,
                        size_t errlen);

typedef enum verdict {
    V_PASS = 0,
    V_FAIL,
    V_NA,
} verdict;

/* The outcome of one case for one client, both deliveries. */
typedef struct case_outcome {
    verdict v;
    int64_t ms;
    pop3_buf detail; /* why it failed or is n/a: diffs, mock reports, transcripts */
} case_outcome;

typedef struct run_config {
    const conform_tls *tls;
    int timeout_ms;
    int watchdog_ms;
    bool whole_only;   /* skip the one-octet-per-write delivery (--no-drip) */
    bool verbose;      /* keep transcripts of passing cases too */
    size_t max_output; /* most octets an adapter may write for one case (--max-output) */
} run_config;

/* Run one case with one client, whole and dripped (case_run.c). */
void case_run(const conform_case *c, const conform_client *cl, const run_config *cfg,
              case_outcome *out);

/* Run `njobs` jobs on `nthreads` threads (pool.c). `fn` is called for each job index;
 * `done` is called under a lock, in job order, as soon as every earlier job is done. */
void pool_run(size_t njobs, unsigned nthreads, void (*fn)(void *ud, size_t job),
              void (*done)(void *ud, size_t job), void *ud);

/* Reports (report.c, report_tap.c, report_junit.c). */
typedef struct report {
    conform_case **cases;
    size_t ncases;
    conform_client *clients;
    size_t nclients;
    case_outcome *outcomes; /* ncases * nclients, case-major */
    bool tap;
    int verbose; /* 1: details of every client's failures; 2: and of n/a and passing cases */
    FILE *out;
} conform_report;

void report_case_line(const conform_report *r, size_t i);
void report_summary(const conform_report *r, size_t *passed, size_t *failed);
void report_tap_plan(const conform_report *r);
void report_tap_case(const conform_report *r, size_t i);
int report_junit(const conform_report *r, const char *path, char *err, size_t errlen);
/* The first difference of a failure's detail, in one line (JUnit message, annotations);
 * `*line` gets the case file line it is about (0 when none is known). */
void report_first_difference(const conform_case *c, const char *detail, pop3_buf *msg, int *line);
/* GitHub Actions workflow commands: "::error file=F,line=N::MESSAGE" per failure. */
void report_github(const conform_report *r);
/* The group a coverage id belongs to in the summary: "RFC 1939", "quirks", "poplib"... */
const char *cover_group(const char *id, char *buf, size_t len);

/* The server probe (probe*.c). */
int probe_main(int argc, char **argv);

/* Write `s` as XML character data or an attribute value (report_junit.c). */
void conform_xml_text(FILE *f, const char *s);

#endif
