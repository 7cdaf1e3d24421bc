/*
 * pop3mock/quirks.h - named misbehaviours of the maildrop server, and presets.
 *
 * Each quirk is one deviation a real server shows; the number in brackets refers to the
 * quirk catalogue (Qn), conformance/QUIRKS.md. The list is written once as an
 * X-macro so the flags, the names and the help text cannot drift apart.
 */
#ifndef POP3MOCK_QUIRKS_H
#define POP3MOCK_QUIRKS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(ID, "name", "what the server then does") */
#define POP3MOCK_QUIRK_LIST(X)                                                                    \
    X(BARE_LF, "bare-lf", "every line end the server sends is a bare LF (Q6)")                    \
    X(NO_DOT_STUFFING, "no-dot-stuffing", "body lines starting with '.' are sent unstuffed (Q4)") \
    X(DOT_NO_CRLF, "dot-no-crlf",                                                                 \
      "a message lacking a final newline gets '.' appended right after its last octet (Q1)")      \
    X(DOT_CR, "dot-cr", "RETR and TOP bodies end with \".\\r\" and the server closes (Q2)")       \
    X(TOP_IGNORES_LINES, "top-ignores-lines",                                                     \
      "TOP sends the same number of body lines whatever was asked (Q15, Q16; =N, default 10)")    \
    X(TOP_TWICE, "top-twice", "TOP is answered with +OK twice (Q18)")                             \
    X(DELETES_ON_DISCONNECT, "deletes-on-disconnect",                                             \
      "messages marked with DELE are removed on any disconnect, not only at QUIT (Q21)")          \
    X(SIZES_LF, "sizes-lf", "STAT, LIST and RETR sizes count each line end as one octet (Q11)")   \
    X(LYING_SIZES, "lying-sizes", "STAT, LIST and RETR report half the real size (Q9)")           \
    X(CAPA_AFTER_LOGIN, "capa-after-login",                                                       \
      "TOP, UIDL and PIPELINING are announced only after login (Q31)")                            \
    X(CAPA_ERR, "capa-err", "CAPA is answered -ERR (Q30)")                                        \
    X(BANNER, "banner", "three lines of text come before the greeting (Q35)")                     \
    X(PLUS_ERR, "plus-err", "error replies are spelled \"+ERR\" (Q40)")                           \
    X(BOGUS_APOP_TIMESTAMP, "bogus-apop-timestamp",                                               \
      "the greeting carries \"<a.b.c>\", not a msg-id; APOP is refused (Q33)")                    \
    X(APOP_REFUSED, "apop-refused", "a valid APOP timestamp is sent but APOP is refused (Q34)")   \
    X(LONG_UIDS, "long-uids", "unique-ids are 80 octets long, over RFC 1939's 70 (Q46)")          \
    X(SPACED_UIDS, "spaced-uids",                                                                 \
      "UIDL lines have two spaces after the number and a space inside the unique-id (Q46)")       \
    X(MSGNO_ZERO, "msgno-zero", "LIST and UIDL listings start with a line for message 0 (Q45)")   \
    X(EXTRA_BLANK_LINE, "extra-blank-line",                                                       \
      "every RETR and TOP body gets an extra empty line at its end, as qmail-pop3d (Q7)")         \
    X(NUL_BYTES, "nul-bytes", "every +OK status line carries a NUL octet before its CRLF (Q48)")  \
    X(SLOW_DRIP, "slow-drip",                                                                     \
      "every reply is written N octets at a time with a pause (=N:MS, default 1:1)")              \
    X(CAPA_LISTS_CAPA, "capa-lists-capa", "CAPA lists \"CAPA\" itself, as Dovecot does")          \
    X(NO_APOP, "no-apop", "the greeting has no APOP timestamp and APOP is refused")               \
    X(MAX_BAD_COMMANDS, "max-bad-commands",                                                       \
      "after N unknown or misplaced commands in a row before login the server answers "           \
      "\"-ERR Too many invalid bad commands.\" and closes, as Dovecot (=N, default 3)")           \
    X(PLAINTEXT_NEEDS_TLS, "plaintext-needs-tls",                                                 \
      "with a certificate and before TLS, USER and SASL PLAIN and LOGIN are hidden and "          \
      "refused with -ERR [AUTH], as Dovecot's disable_plaintext_auth")                            \
    X(EMPTY_BLANK_LINE, "empty-blank-line",                                                       \
      "an empty message is sent as one empty line, its size still 0 (Q51, Dovecot, Courier)")     \
    X(UNTERMINATED_SIZE, "unterminated-size",                                                     \
      "a message without a final line end is sized without the CRLF sent before \".\" (Q52)")     \
    X(CAPA_DROPS_AUTH, "capa-drops-auth",                                                         \
      "CAPA after login lists neither USER nor SASL (Q53, Dovecot, Cyrus)")                       \
    X(NO_LOCK, "no-lock",                                                                         \
      "no maildrop lock: a second session of the user is let in, never [IN-USE] (Q54)")

typedef enum pop3mock_quirk_id {
#define POP3MOCK__QUIRK_ENUM(id, name, help) POP3MOCK_QUIRK_ID_##id,
    POP3MOCK_QUIRK_LIST(POP3MOCK__QUIRK_ENUM)
#undef POP3MOCK__QUIRK_ENUM
        POP3MOCK_QUIRK_COUNT
} pop3mock_quirk_id;

#define POP3MOCK_QUIRK(id) (UINT64_C(1) << POP3MOCK_QUIRK_ID_##id)

typedef struct pop3mock_quirks {
    uint64_t flags;             /* POP3MOCK_QUIRK(...) bits */
    unsigned top_lines;         /* top-ignores-lines: body lines TOP sends (10) */
    unsigned drip_bytes;        /* slow-drip: octets per write (1) */
    unsigned drip_ms;           /* slow-drip: pause after each write (1) */
    unsigned max_bad;           /* max-bad-commands: bad commands in a row that close (3) */
    const char *greeting;       /* greeting text before the timestamp ("POP3 server ready") */
    const char *implementation; /* IMPLEMENTATION capability ("pop3kit-mock") */
} pop3mock_quirks;

/* No quirk, the default greeting and parameters. */
void pop3mock_quirks_default(pop3mock_quirks *q);

/* Enable the quirk "NAME" or "NAME=ARG". Returns 0, or -1 with `*message` saying why. */
int pop3mock_quirk_enable(pop3mock_quirks *q, const char *spec, const char **message);

/* Apply a preset: "dovecot", "popa3d", "cyrus", "qmail" or "exchange". Returns 0 or -1 with
 * `*message`. */
int pop3mock_preset_apply(pop3mock_quirks *q, const char *name, const char **message);

/* Name and help text of quirk `id` (< POP3MOCK_QUIRK_COUNT), NULL past the end. */
const char *pop3mock_quirk_name(unsigned id);
const char *pop3mock_quirk_help(unsigned id);

#ifdef __cplusplus
}
#endif
#endif
