/*
 * script_internal.h - the parsed form of a dialogue script, shared by the parser,
 * the matcher and the script session.
 */
#ifndef POP3MOCK_SCRIPT_INTERNAL_H
#define POP3MOCK_SCRIPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "pop3mock/script.h"

/* A piece of an S: or C: line. */
typedef enum pop3mock__seg_kind {
    POP3MOCK__SEG_LITERAL, /* octets, escapes decoded */
    POP3MOCK__SEG_REF,     /* {name}: a variable or a builtin, expanded */
    POP3MOCK__SEG_WILD,    /* {class} or {name:class}: matches client octets (C: only) */
} pop3mock__seg_kind;

typedef enum pop3mock__class {
    POP3MOCK__CLASS_ANY,    /* {*}: any octets, possibly none */
    POP3MOCK__CLASS_WORD,   /* {word}: one or more octets other than SP */
    POP3MOCK__CLASS_DIGITS, /* {digits}: one or more decimal digits */
} pop3mock__class;

typedef struct pop3mock__seg {
    pop3mock__seg_kind kind;
    char *text; /* LITERAL octets */
    size_t len;
    char *name; /* REF name; WILD capture name or NULL */
    pop3mock__class cls;
} pop3mock__seg;

typedef enum pop3mock__step_kind {
    POP3MOCK__STEP_SEND,        /* S: */
    POP3MOCK__STEP_EXPECT,      /* C: C= C~ */
    POP3MOCK__STEP_EXPECT_EOF,  /* C: <close connection> */
    POP3MOCK__STEP_DELAY,       /* !delay MS */
    POP3MOCK__STEP_DRIP,        /* !drip N MS | !drip off */
    POP3MOCK__STEP_SPLIT,       /* !split OFFSET... [wait MS] */
    POP3MOCK__STEP_FLUSH,       /* !flush */
    POP3MOCK__STEP_CLOSE,       /* !close */
    POP3MOCK__STEP_RESET,       /* !reset */
    POP3MOCK__STEP_HALF_CLOSE,  /* !half-close */
    POP3MOCK__STEP_CLOSE_AFTER, /* !close-after N */
    POP3MOCK__STEP_STALL,       /* !stall */
    POP3MOCK__STEP_STARTTLS,    /* !starttls, !implicit-tls */
    POP3MOCK__STEP_TLS_FAULT,   /* !tls-abort N, !tls-garbage, !tls-alert, !tls-truncate */
    POP3MOCK__STEP_SET,         /* !set NAME VALUE */
} pop3mock__step_kind;

/* How a C: line is compared. */
typedef enum pop3mock__match {
    POP3MOCK__MATCH_KEYWORD, /* C: the command keyword case-insensitively, the rest exactly */
    POP3MOCK__MATCH_EXACT,   /* C= every octet, and the line must end CRLF */
    POP3MOCK__MATCH_NOCASE,  /* C~ the whole line case-insensitively */
} pop3mock__match;

typedef struct pop3mock__step {
    pop3mock__step_kind kind;
    unsigned line;       /* line number in the script */
    char *source;        /* the script text of the line, for reports */
    pop3mock__seg *segs; /* SEND, EXPECT, SET */
    size_t nsegs;
    bool crlf; /* SEND: CRLF is appended (no trailing \c) */
    pop3mock__match match;
    size_t keyword_len; /* MATCH_KEYWORD: octets of the leading keyword */
    /* EXPECT after !optional: a client may leave this exchange out. `skip_to` is the
     * step after its S: replies (always a C: line), where a line that does not match
     * (or the client's close) is tried instead. */
    bool optional;
    size_t skip_to;
    unsigned n, ms;    /* DELAY ms; DRIP n ms; CLOSE_AFTER n; SPLIT wait */
    unsigned *offsets; /* SPLIT */
    size_t noffsets;
    char *name; /* SET */
    /* STARTTLS, TLS_FAULT: how the handshake goes, with the !tls-cert and !tls-max in
     * force at this line; `garbage` points into `octets`. */
    pop3mock_tls_plan tls;
    char *octets;
} pop3mock__step;

typedef struct pop3mock__script_session {
    pop3mock__step *steps;
    size_t nsteps, stepcap;
    unsigned line; /* where the session starts */
    /* The handshake --implicit-tls puts before the session: the !tls-cert and !tls-max
     * in force at its first step. */
    pop3mock_tls_plan implicit;
} pop3mock__script_session;

/* A certificate named by !tls-cert, resolved against the script's folder. */
typedef struct pop3mock__script_cert {
    char *cert;
    char *key; /* NULL: the key is in the cert file */
    unsigned line;
} pop3mock__script_cert;

/* The script itself and every string and segment list (a step's source, segs and their
 * text and names, offsets, name, octets; the certificates' paths; name, user and
 * secret) live in `arena`; the arrays of sessions, steps and certificates are blocks of
 * their own. */
struct pop3mock_script {
    pop3mock__arena arena;
    char *name;
    pop3mock__script_session *sessions;
    size_t nsessions, sessioncap;
    char *user; /* !secret USER SECRET: for {apop}, {cram-md5}, {user} */
    char *secret;
    pop3mock__script_cert *certs; /* every !tls-cert, in order; plans point into these */
    size_t ncerts, certcap;
};

/* Names one session of a script may define (captures and !set): far more than any
 * dialogue needs, and small enough that looking a name up stays a short scan. The
 * parser refuses a script past it, so a running session never holds more. */
#define POP3MOCK__NAMES_MAX 4096

/* One variable of a running session. */
typedef struct pop3mock__var {
    char *name;
    char *value;
    size_t len;
} pop3mock__var;

/* Variables of one running session, at most POP3MOCK__NAMES_MAX. */
typedef struct pop3mock__vars {
    pop3mock__var *v;
    size_t count, cap;
} pop3mock__vars;

void pop3mock__vars_free(pop3mock__vars *v);
int pop3mock__vars_set(pop3mock__vars *v, const char *name, const char *value, size_t len);
const char *pop3mock__vars_get(const pop3mock__vars *v, const char *name, size_t *len);

/* Builtins a {name} may refer to without a !set or a capture. */
bool pop3mock__builtin(const char *name);

/*
 * pop3mock__match_line - does client line `line` match `st` (an EXPECT step)? On
 * success, captures are stored in `vars`. `lookup` expands {name} references.
 */
typedef const char *(*pop3mock__lookup)(void *ctx, const char *name, size_t *len);
bool pop3mock__match_line(const pop3mock__step *st, const char *line, size_t len,
                          pop3mock__lookup lookup, void *ctx, pop3mock__vars *vars);

#endif
