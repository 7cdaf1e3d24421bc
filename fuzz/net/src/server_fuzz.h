/*
 * server_fuzz.h - pop3-fuzz's server mode: a hostile POP3 client (RFC 1939 sections 3-7,
 * RFC 2449 sections 4-6, RFC 2595 section 4, RFC 5034 section 4) that plays sessions built
 * from the command grammar to a server, reads every reply with the codec in strict mode,
 * and keeps the sessions that reach new (command, reply) state transitions.
 *
 * A session is a list of steps, the lines of a transcript file (server_transcript.c):
 *
 *     C: TEXT        a command: TEXT (escaped) and CRLF
 *     R: TEXT        raw octets: TEXT (escaped) and nothing else (a bare LF, a fragment)
 *     !burst N       the next N commands go out in one write (pipelined)
 *     !idle MS       wait MS milliseconds, then go on
 *     !shutdown      close our sending half (the server sees end of stream)
 *
 * Escapes: \\ \r \n \t \0 \xHH \{; placeholders {user} {password} {apop} (the APOP digest
 * for the greeting's timestamp) {plain} (base64 of the SASL PLAIN credentials) and
 * {rep:N:HH} (octet HH N times) are filled in when the line is sent, so a saved finding
 * never holds the password.
 */
#ifndef POP3_NETFUZZ_SERVER_H
#define POP3_NETFUZZ_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "netfuzz.h"
#include "pop3/buf.h"
#include "pop3/transport.h"

/* Longest line the generator makes, in octets ({rep} included): 4 MiB ("many MiB"). */
#define POP3FUZZ_SRV_LONG_LINE_DEFAULT ((size_t)4 << 20)
/* Most octets one step may expand to when a transcript is read: 64 MiB. */
#define POP3FUZZ_SRV_SEND_MAX          ((size_t)64 << 20)
/* Most steps in one session (default of --max-steps). */
#define POP3FUZZ_SRV_STEPS_DEFAULT     48
/* Sessions kept for mutation (default of --corpus-max). */
#define POP3FUZZ_SRV_CORPUS_DEFAULT    1024
/* RFC 2449 section 4: the first line of a response, CRLF included (default of
 * --max-status). */
#define POP3FUZZ_SRV_STATUS_MAX        512
/* Longest listing line read (CAPA, LIST, UIDL lines), CRLF included. */
#define POP3FUZZ_SRV_LISTING_LINE      65536
/* Most octets of one multi-line reply (default of --max-reply). */
#define POP3FUZZ_SRV_REPLY_MAX         ((uint64_t)64 << 20)
/* A reply still coming after this many times --hang-ms is a hang (a drip). */
#define POP3FUZZ_SRV_SLOW_REPLY        60
/* Sessions between two checks that the server still greets (default of --check-every). */
#define POP3FUZZ_SRV_CHECK_EVERY       16
/* Longest transcript line read back, octets. */
#define POP3FUZZ_SRV_TEXT_LINE         ((size_t)1 << 20)
/* After --restart, how many times (100 ms apart) the server is asked to greet. */
#define POP3FUZZ_SRV_RESTART_POLLS     100
/* Bits of the state-transition map. */
#define POP3FUZZ_SRV_MAP_BITS          16

typedef enum pop3fuzz_step_kind {
    POP3FUZZ_STEP_CMD = 1, /* C: text + CRLF */
    POP3FUZZ_STEP_RAW,     /* R: text as is */
    POP3FUZZ_STEP_BURST,   /* !burst n */
    POP3FUZZ_STEP_IDLE,    /* !idle n */
    POP3FUZZ_STEP_SHUTDOWN /* !shutdown */
} pop3fuzz_step_kind;

typedef struct pop3fuzz_step {
    pop3fuzz_step_kind kind;
    char *text; /* CMD, RAW: the escaped text (malloc'd); NULL otherwise */
    unsigned n; /* BURST: commands; IDLE: milliseconds */
} pop3fuzz_step;

typedef struct pop3fuzz_session {
    pop3fuzz_step *v;
    size_t n, cap;
} pop3fuzz_session;

/* ---- sessions and transcripts (server_transcript.c) ---- */
void pop3fuzz_session_free(pop3fuzz_session *s);
bool pop3fuzz_session_push(pop3fuzz_session *s, pop3fuzz_step_kind kind, const char *text,
                           unsigned n);
bool pop3fuzz_session_insert(pop3fuzz_session *s, size_t at, pop3fuzz_step_kind kind,
                             const char *text, unsigned n);
void pop3fuzz_session_remove(pop3fuzz_session *s, size_t at);
bool pop3fuzz_session_copy(pop3fuzz_session *dst, const pop3fuzz_session *src);
/* Cut the session after step `keep` - 1. */
void pop3fuzz_session_truncate(pop3fuzz_session *s, size_t keep);

/* What the placeholders stand for in one connection. */
typedef struct pop3fuzz_fill {
    const char *user, *password;
    const char *timestamp; /* the greeting's APOP timestamp, NUL-terminated; NULL: none */
    size_t max;            /* most octets the expansion may reach */
} pop3fuzz_fill;

/* Unescape `text` and fill its placeholders into `out` (appended). Returns POP3_OK,
 * POP3_EPROTO (a bad escape or placeholder, `*why` says which) or POP3_ELIMIT. */
int pop3fuzz_expand(const char *text, const pop3fuzz_fill *f, pop3_buf *out, const char **why);
/* Append octets to `out` in the escaped form (printable ASCII but \ and {; the rest as
 * escapes). */
int pop3fuzz_escape(pop3_buf *out, const char *p, size_t len);

/* Read a transcript file (its comments are skipped, "# user: U" is returned in `user`
 * when there is one). Returns 0, or -1 with `err` filled. */
int pop3fuzz_transcript_read(const char *path, pop3fuzz_session *s, char *user, size_t userlen,
                             char *err, size_t errlen);

/* ---- generation and mutation (server_grammar.c) ---- */
typedef struct pop3fuzz_grammar {
    size_t long_line; /* longest line made (--max-line) */
    size_t max_steps; /* most steps in a session (--max-steps) */
} pop3fuzz_grammar;

/* The built-in starting sessions, one per index; false past the last. */
bool pop3fuzz_srv_seed(size_t index, pop3fuzz_session *out);
/* A fresh session from the grammar. */
bool pop3fuzz_srv_generate(const pop3fuzz_grammar *g, pop3fuzz_rng *r, pop3fuzz_session *out);
/* 1 to `stack` mutations; `other` (may be NULL) is a second session to splice from. */
void pop3fuzz_srv_mutate(const pop3fuzz_grammar *g, pop3fuzz_rng *r, pop3fuzz_session *s,
                         const pop3fuzz_session *other, unsigned stack);

/* ---- one session against the server (server_run.c) ---- */
typedef enum pop3fuzz_srv_kind {
    POP3FUZZ_SRV_NONE = 0,
    POP3FUZZ_SRV_DEAD,   /* the server no longer accepts or greets a fresh connection */
    POP3FUZZ_SRV_HANG,   /* a command unanswered past --hang-ms */
    POP3FUZZ_SRV_BROKEN, /* a reply that breaks the protocol */
} pop3fuzz_srv_kind;

const char *pop3fuzz_srv_kind_name(pop3fuzz_srv_kind k);

typedef struct pop3fuzz_target {
    const char *host;
    unsigned port;
    bool tls;      /* implicit TLS */
    bool starttls; /* STLS before every session */
    bool can_tls;  /* a +OK to STLS is followed by a handshake (else the session ends) */
    pop3_tls_options tlsopt;
    const char *user, *password;
    unsigned hang_ms;   /* a reply not complete this long after the last octet: a hang */
    size_t max_status;  /* longest status line, CRLF included (512) */
    uint64_t max_reply; /* most octets of one multi-line reply (64 MiB) */
    bool destructive;   /* send a QUIT after a successful DELE (messages are deleted) */
} pop3fuzz_target;

typedef struct pop3fuzz_srv_result {
    pop3fuzz_srv_kind kind; /* HANG or BROKEN; DEAD is found by pop3fuzz_srv_alive */
    size_t trigger;         /* index of the step whose reply failed (or the last sent) */
    char verb[16];          /* the command verb of that step */
    char detail[256];
    bool odd_end;      /* the server closed or the connection failed unexpectedly */
    bool no_connect;   /* no connection or greeting at all */
    bool framing_lost; /* a line end we cannot count replies after */
    size_t sent;       /* steps sent */
    char **notes;      /* per step: the replies seen, escaped (malloc'd; may be NULL) */
    size_t nnotes;
    uint32_t *trans; /* state transitions met, hashed */
    size_t ntrans, trans_cap;
} pop3fuzz_srv_result;

void pop3fuzz_srv_result_free(pop3fuzz_srv_result *r);

/* Play `s` to the server. Returns 0, or -1 when the harness itself failed (memory). */
int pop3fuzz_srv_run(const pop3fuzz_target *t, const pop3fuzz_session *s, pop3fuzz_srv_result *res);
/* True when a fresh connection is accepted and greeted with +OK within --hang-ms; `why`
 * says what failed otherwise. */
bool pop3fuzz_srv_alive(const pop3fuzz_target *t, char *why, size_t whylen);

/* ---- campaign, replay, command line (server_campaign.c, server_cli.c) ---- */
typedef struct pop3fuzz_srv_campaign {
    pop3fuzz_target target;
    pop3fuzz_grammar grammar;
    unsigned long seconds, iterations;
    unsigned long long seed;
    const char *out_dir;
    unsigned stack;          /* mutations per run */
    unsigned check_every;    /* sessions between liveness checks */
    size_t corpus_max;       /* sessions kept */
    unsigned minimise_tries; /* runs spent minimising each finding */
    bool progress;
    const char *target_text; /* HOST:PORT as given, for the reproduce line */
    const char *mode_text;   /* "", " --tls", " --starttls" */
    const char *restart;     /* --restart: a command that starts the server again, or NULL */
} pop3fuzz_srv_campaign;

long pop3fuzz_srv_campaign_run(const pop3fuzz_srv_campaign *c, FILE *out, char *err, size_t errlen);
int pop3fuzz_srv_replay(const pop3fuzz_target *t, const pop3fuzz_session *s, FILE *out);

/* The `pop3-fuzz server` and `pop3-fuzz replay FILE HOST:PORT` commands (argv as main's). */
int pop3fuzz_server_main(int argc, char **argv);
int pop3fuzz_server_replay_main(int argc, char **argv);
/* True when `path` is a server transcript (its first line says so). */
bool pop3fuzz_is_transcript(const char *path);

#endif
