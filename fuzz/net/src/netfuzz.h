/*
 * netfuzz.h - pop3-fuzz's client mode: a hostile POP3 server (RFC 1939, RFC 2449,
 * RFC 5034) that plays mutated pop3-mock scripts to any client program and watches it.
 *
 * A script is held as its lines (the pop3-mock script format), so that mutations and the
 * minimiser work on the same unit a person reads in a saved finding. One run: the script
 * is served by libpop3mock's epoll server in a thread, the client command runs under
 * `sh -c`, and what became of it is classified (signal, sanitizer report, hang, memory,
 * exit status). Everything random comes from one seeded generator, so a seed names a
 * campaign.
 */
#ifndef POP3_NETFUZZ_H
#define POP3_NETFUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the generator: splitmix64, small and the same on every platform ---- */
typedef struct pop3fuzz_rng {
    uint64_t s;
} pop3fuzz_rng;

static inline uint64_t pop3fuzz_next(pop3fuzz_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A number below `n` (n > 0). */
static inline size_t pop3fuzz_below(pop3fuzz_rng *r, size_t n)
{
    return (size_t)(pop3fuzz_next(r) % (uint64_t)n);
}

/* ---- scripts as lines ---- */
typedef struct pop3fuzz_script {
    char **line; /* each malloc'd, without its line end */
    size_t n, cap;
} pop3fuzz_script;

void pop3fuzz_script_free(pop3fuzz_script *s);
/* Append a copy of `len` octets as a line; false when out of memory. */
bool pop3fuzz_script_push(pop3fuzz_script *s, const char *text, size_t len);
/* Insert a copy of `text` before line `at` (at <= n). */
bool pop3fuzz_script_insert(pop3fuzz_script *s, size_t at, const char *text);
void pop3fuzz_script_remove(pop3fuzz_script *s, size_t at);
/* Replace line `at` by `text` (copied). */
bool pop3fuzz_script_set(pop3fuzz_script *s, size_t at, const char *text);
bool pop3fuzz_script_copy(pop3fuzz_script *dst, const pop3fuzz_script *src);
/* Split `len` octets of script text at LF (a CR before it dropped). */
bool pop3fuzz_script_from_text(pop3fuzz_script *s, const char *text, size_t len);
/* The lines joined by LF; malloc'd, NUL-terminated, length in *len. */
char *pop3fuzz_script_text(const pop3fuzz_script *s, size_t *len);

/* ---- seeds (seeds.c) ---- */
typedef struct pop3fuzz_seeds {
    pop3fuzz_script *v;
    size_t n;
} pop3fuzz_seeds;

/* The built-in dialogues: the sessions a mail client most often opens. */
bool pop3fuzz_seeds_builtin(pop3fuzz_seeds *out);
/* Add every `*.case` (its dialogue) and `*.pop3` script under `dir`; the client's lines
 * become "C: {*}" (any command), TLS sessions are left out (no certificate here).
 * Returns the number added, or -1 with `err` filled. */
int pop3fuzz_seeds_load_dir(pop3fuzz_seeds *out, const char *dir, char *err, size_t errlen);
void pop3fuzz_seeds_free(pop3fuzz_seeds *s);
/* Rewrite one seed for fuzzing: any client line is accepted, in order. */
void pop3fuzz_seed_loosen(pop3fuzz_script *s);

/* ---- mutations (mutate.c) ---- */

/* Longest line a mutation makes (octets of the script text): 2 MiB, the "long lines up
 * to MiBs" of a hostile server, and well below the mock's own limits on a script. */
#define POP3FUZZ_LONG_LINE_MAX ((size_t)2 << 20)

/* Apply 1 to `max_stack` mutations to `s`. */
void pop3fuzz_mutate(pop3fuzz_script *s, pop3fuzz_rng *r, unsigned max_stack);

/* The mutation families (status, number, resp-code, listing, capa, sasl, stuffing,
 * line-end, long-line, write, close, octets, drop, swap): what pop3-fuzz diff
 * deduplicates disagreements by. */
#define POP3FUZZ_FAMILIES 14
const char *pop3fuzz_family_name(unsigned f);
/* pop3fuzz_mutate, the same draws; the families applied become bits of `*families`
 * (1 << family; may be NULL). */
void pop3fuzz_mutate_tagged(pop3fuzz_script *s, pop3fuzz_rng *r, unsigned max_stack,
                            unsigned *families);

/* ---- one run (run.c) ---- */
typedef enum pop3fuzz_kind {
    POP3FUZZ_NONE = 0,
    POP3FUZZ_SIGNAL,    /* death by a signal */
    POP3FUZZ_SANITIZER, /* a sanitizer report on stderr */
    POP3FUZZ_HANG,      /* still running at --hang-ms: killed */
    POP3FUZZ_RSS,       /* peak resident memory past --rss-mb */
    POP3FUZZ_EXIT,      /* an exit status outside --ok-exit */
} pop3fuzz_kind;

const char *pop3fuzz_kind_name(pop3fuzz_kind k);

typedef struct pop3fuzz_options {
    const char *client;   /* the command, {port} replaced per run */
    unsigned hang_ms;     /* a run still going past this is a hang (default 5000) */
    unsigned long rss_mb; /* peak RSS past this is a finding (default 1024; 0: off) */
    unsigned idle_ms;     /* the server hangs up after this long without a move either way
                             (default 100; 0: never) */
    bool ok_exit[256];    /* exit statuses that are fine (default 0-5) */
    const char *user, *password;
    bool echo_stderr; /* copy the client's stderr to ours (a replay shows it) */
} pop3fuzz_options;

typedef struct pop3fuzz_result {
    pop3fuzz_kind kind;
    char signature[512]; /* what deduplicates: kind and its details */
    char detail[256];    /* one line for the summary */
    unsigned long rss_kb;
    bool script_error; /* the mutated script did not parse: not run */
} pop3fuzz_result;

/* Serve `text` once to a fresh run of the client; fills `res`. Returns 0, or -1 with
 * `err` filled when the harness itself failed (no socket, no fork). */
int pop3fuzz_run(const pop3fuzz_options *o, const char *text, size_t len, pop3fuzz_result *res,
                 char *err, size_t errlen);

/* ---- minimisation (minimise.c) ---- */

/* Shrink `s` while a run still yields `signature`, in at most `tries` runs. Returns the
 * runs spent. */
unsigned pop3fuzz_minimise(const pop3fuzz_options *o, pop3fuzz_script *s, const char *signature,
                           unsigned tries);

/* Whether a shrunk script still shows what is being minimised (one or more runs). */
typedef bool (*pop3fuzz_keeps_fn)(void *ud, const pop3fuzz_script *s);

/* The shrinking itself: runs of lines dropped (halves down to single lines, from the
 * end), then the longest line halved, each change kept while `keeps` says so, in at most
 * `tries` calls of it. Returns the calls spent. */
unsigned pop3fuzz_shrink(pop3fuzz_script *s, unsigned tries, pop3fuzz_keeps_fn keeps, void *ud);

/* ---- what the modes share (finding_text.c) ---- */

/* Seconds on the monotonic clock. */
double pop3fuzz_now_s(void);
/* FNV-1a of `s`: the hash in a saved finding's file name. */
uint32_t pop3fuzz_fnv1a(const char *s);
/* `s` as one sh word (a newline becomes a space), for a finding's reproduce line. */
void pop3fuzz_shell_quote(FILE *f, const char *s);
/* "pop3-fuzz: " + fmt (one %s: arg) and the --help hint on stderr; returns 2. */
int pop3fuzz_usage_error(const char *fmt, const char *arg);
/* A decimal number of digits only, at most `max`. */
bool pop3fuzz_parse_ulong(const char *s, unsigned long max, unsigned long *out);

#endif
