/*
 * maildrop_internal.h - what the files of the maildrop session share.
 *
 * maildrop_session.c holds the state machine (RFC 1939 section 3: AUTHORIZATION,
 * TRANSACTION, UPDATE), the command table and the replies; maildrop_auth.c the commands
 * of the AUTHORIZATION state (USER, PASS, APOP, AUTH, STLS); maildrop_transaction.c
 * those of the TRANSACTION state (STAT, LIST, UIDL, RETR, TOP, DELE, NOOP, RSET) and the
 * listings and bodies they produce.
 */
#ifndef POP3MOCK_MAILDROP_INTERNAL_H
#define POP3MOCK_MAILDROP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "command_line.h"
#include "pop3/wire.h"
#include "pop3mock/maildrop.h"
#include "session_internal.h"

/* RFC 1939 section 3. UPDATE is entered and left within QUIT, so it has no phase. */
typedef enum md_phase {
    MD_AUTHORIZATION = 0,
    MD_TRANSACTION,
    MD_DONE, /* QUIT answered, or the connection is ending: no more commands */
} md_phase;

/* A set of phases, for the command table. */
#define MD_IN(phase) (1u << (phase))

/* The SASL response line the session waits for (RFC 5034 section 4). */
typedef enum md_sasl {
    MD_SASL_NONE = 0,
    MD_SASL_PLAIN,
    MD_SASL_LOGIN_USER,
    MD_SASL_LOGIN_PASS,
    MD_SASL_CRAM_MD5,
} md_sasl;

/* The multi-line response being produced chunk by chunk. */
typedef enum md_producer {
    MD_PRODUCE_NONE = 0,
    MD_PRODUCE_BODY,
    MD_PRODUCE_LIST,
    MD_PRODUCE_UIDL,
} md_producer;

/* Longest user name kept for USER / APOP (a command line is 255 octets anyway). */
#define MD_USER_MAX 256
/* The reply text is built in a buffer of this size; listing and status texts are short. */
#define MD_TEXT_MAX 512

typedef struct md_state {
    pop3mock_maildrop **accounts; /* the accounts, one maildrop each */
    size_t naccounts;
    pop3mock_maildrop *md; /* the logged-in account's (TRANSACTION), else NULL */
    pop3mock_maildrop_options opt;
    uint64_t q; /* quirk flags */
    md_phase phase;
    bool have_user; /* the last command was a successful USER (PASS may follow) */
    char user[MD_USER_MAX];
    char timestamp[MD_TEXT_MAX];
    size_t *idx;  /* message k (1-based) is md->msgs[idx[k - 1]] */
    bool *marked; /* DELE marks of this session */
    size_t n;
    bool holding; /* counted in md->active (and holds md->locked unless no_lock) */
    md_sasl sasl; /* AUTH sent a challenge and waits for this response line */
    unsigned bad; /* max-bad-commands: bad commands in a row before login */
    pop3mock_maildrop *login_account; /* AUTH LOGIN: the account the user name named */
    bool stls_wait;                   /* STLS answered: nothing more until TLS is up */
    bool utf8;
    md_producer prod;
    size_t next;    /* listing: next message index */
    bool zero_done; /* listing: the msgno-zero line was sent */
    pop3mock__body body;
} md_state;

/* maildrop_session.c: replies, bent by the quirks that bend every line. */
bool pop3mock__md_quirk(const md_state *st, uint64_t bit);
void pop3mock__md_ok(pop3mock_session *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void pop3mock__md_err(pop3mock_session *s, const char *code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void pop3mock__md_challenge(pop3mock_session *s, const char *text);
void pop3mock__md_line(pop3mock_session *s, const char *text);
/* Leave TRANSACTION: release the account's lock and its count of active sessions. */
void pop3mock__md_release(md_state *st);
/* --no-lock or the no-lock quirk (Q54): a second session of the user is let in. */
bool pop3mock__md_unlocked(const md_state *st, const pop3mock_maildrop *md);

/* maildrop.c: hold the maildrop's folders open while sessions are in TRANSACTION (the
 * first login opens them, the last release closes them); failing to is harmless, the
 * messages are then opened by path. */
void pop3mock__maildrop_hold(pop3mock_maildrop *md);
void pop3mock__maildrop_unhold(pop3mock_maildrop *md);

/* maildrop_auth.c */
void pop3mock__md_user(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_pass(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_apop(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_auth(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_stls(pop3mock_session *s, const pop3mock__command *c);
/* A SASL response line for the step `st->sasl` was waiting for. */
void pop3mock__md_sasl_line(pop3mock_session *s, md_sasl step, const char *line, size_t len);
/* USER, PASS and the plaintext SASL mechanisms are refused now (plaintext-needs-tls). */
bool pop3mock__md_plaintext_refused(const pop3mock_session *s);
/* RFC 2595 section 6: SASL PLAIN may be offered and used now. */
bool pop3mock__md_plain_allowed(const pop3mock_session *s);

/* maildrop_transaction.c */
void pop3mock__md_stat(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_list(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_uidl(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_retr(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_top(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_dele(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_noop(pop3mock_session *s, const pop3mock__command *c);
void pop3mock__md_rset(pop3mock_session *s, const pop3mock__command *c);
/* The count and RFC 1939 section 11 size of the messages not marked, as reported. */
void pop3mock__md_totals(const md_state *st, size_t *count, unsigned long long *octets);
/* UPDATE (RFC 1939 section 6): remove what this session marked. */
void pop3mock__md_apply_deletions(md_state *st);
/* Produce the next chunk of the listing or body under way. */
void pop3mock__md_produce(pop3mock_session *s);

#endif
