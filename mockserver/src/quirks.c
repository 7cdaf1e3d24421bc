/*
 * quirks.c - quirk names, their parameters and the server presets.
 *
 * The presets imitate the visible personality of real servers (Dovecot 2.3's defaults,
 * popa3d, Cyrus pop3d: held against the real servers by conformance/tests/preset_probe.py;
 * Q7, Q11 for qmail-pop3d; Q1, Q9 for Exchange, conformance/QUIRKS.md): their greeting,
 * their CAPA, and the quirks they are known for.
 */
#define _POSIX_C_SOURCE 200809L
#include "pop3mock/quirks.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/error.h"
#include "pop3/parse.h"

static const char *const names[] = {
#define POP3MOCK__QUIRK_NAME(id, name, help) name,
    POP3MOCK_QUIRK_LIST(POP3MOCK__QUIRK_NAME)
#undef POP3MOCK__QUIRK_NAME
};

static const char *const helps[] = {
#define POP3MOCK__QUIRK_HELP(id, name, help) help,
    POP3MOCK_QUIRK_LIST(POP3MOCK__QUIRK_HELP)
#undef POP3MOCK__QUIRK_HELP
};

void pop3mock_quirks_default(pop3mock_quirks *q)
{
    memset(q, 0, sizeof *q);
    q->top_lines = 10;
    q->drip_bytes = 1;
    q->drip_ms = 1;
    q->max_bad = 3;
    q->greeting = "POP3 server ready";
    q->implementation = "pop3kit-mock";
}

const char *pop3mock_quirk_name(unsigned id)
{
    return id < POP3MOCK_QUIRK_COUNT ? names[id] : NULL;
}

const char *pop3mock_quirk_help(unsigned id)
{
    return id < POP3MOCK_QUIRK_COUNT ? helps[id] : NULL;
}

/* A decimal in [lo, hi], whole string (pop3_parse_number: digits only, 64 bits). */
static bool parse_uint(const char *s, size_t len, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v = 0;
    if (pop3_parse_number(s, len, &v) != POP3_OK || v < lo || v > hi) return false;
    *out = (unsigned)v;
    return true;
}

int pop3mock_quirk_enable(pop3mock_quirks *q, const char *spec, const char **message)
{
    const char *eq = strchr(spec, '=');
    size_t nlen = eq != NULL ? (size_t)(eq - spec) : strlen(spec);
    const char *arg = eq != NULL ? eq + 1 : NULL;
    for (unsigned id = 0; id < POP3MOCK_QUIRK_COUNT; id++) {
        if (strlen(names[id]) != nlen || strncmp(names[id], spec, nlen) != 0) continue;
        if (id == POP3MOCK_QUIRK_ID_TOP_IGNORES_LINES && arg != NULL) {
            if (!parse_uint(arg, strlen(arg), 0, 100000000, &q->top_lines)) {
                *message = "top-ignores-lines=N wants a line count";
                return -1;
            }
        } else if (id == POP3MOCK_QUIRK_ID_SLOW_DRIP && arg != NULL) {
            const char *colon = strchr(arg, ':');
            size_t blen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
            if (!parse_uint(arg, blen, 1, 1u << 20, &q->drip_bytes) ||
                (colon != NULL &&
                 !parse_uint(colon + 1, strlen(colon + 1), 0, 60000, &q->drip_ms))) {
                *message = "slow-drip=N:MS wants octets per write (1..1048576) and a pause in "
                           "milliseconds (0..60000)";
                return -1;
            }
        } else if (id == POP3MOCK_QUIRK_ID_MAX_BAD_COMMANDS && arg != NULL) {
            if (!parse_uint(arg, strlen(arg), 1, 1000000, &q->max_bad)) {
                *message = "max-bad-commands=N wants a count of 1 or more";
                return -1;
            }
        } else if (arg != NULL) {
            *message = "this quirk takes no argument";
            return -1;
        }
        q->flags |= UINT64_C(1) << id;
        return 0;
    }
    *message = "unknown quirk (pop3-mock --help lists them)";
    return -1;
}

int pop3mock_preset_apply(pop3mock_quirks *q, const char *name, const char **message)
{
    if (strcmp(name, "dovecot") == 0) {
        /* Dovecot 2.3: "+OK Dovecot ready. <...>", CAPA lists CAPA (its CAPA code);
         * pop3-login drops a client after 3 bad commands in a row
         * (CLIENT_MAX_BAD_COMMANDS), and its default disable_plaintext_auth = yes hides
         * and refuses USER and plaintext SASL on a connection without TLS. */
        q->greeting = "Dovecot ready.";
        q->implementation = "Dovecot";
        q->flags |= POP3MOCK_QUIRK(CAPA_LISTS_CAPA) | POP3MOCK_QUIRK(MAX_BAD_COMMANDS) |
                    POP3MOCK_QUIRK(PLAINTEXT_NEEDS_TLS);
        /* What the probe found in Dovecot 2.3.19 (conformance/findings/dovecot-*.md): an
         * empty message sent as one blank line (Q51), a message without a final line end
         * sized as stored (Q52), CAPA after login without USER and SASL (Q53), and no
         * maildrop lock between sessions of the user (Q54). */
        q->flags |= POP3MOCK_QUIRK(EMPTY_BLANK_LINE) | POP3MOCK_QUIRK(UNTERMINATED_SIZE) |
                    POP3MOCK_QUIRK(CAPA_DROPS_AUTH) | POP3MOCK_QUIRK(NO_LOCK);
    } else if (strcmp(name, "popa3d") == 0) {
        /* popa3d 1.0.3: a bare "+OK" greeting (no APOP), no CAPA command at all (Q30),
         * and no lock between sessions of the user (Q54,
         * conformance/findings/popa3d-*.md). */
        q->greeting = "";
        q->implementation = "popa3d";
        q->flags |= POP3MOCK_QUIRK(NO_APOP) | POP3MOCK_QUIRK(CAPA_ERR) | POP3MOCK_QUIRK(NO_LOCK);
    } else if (strcmp(name, "cyrus") == 0) {
        /* Cyrus IMAP 3.6 pop3d: CAPA after login lists neither USER nor SASL (Q53), and a
         * second session of the user is let in (Q54; conformance/findings/cyrus-*.md). */
        q->greeting = "Cyrus POP3 server ready";
        q->implementation = "Cyrus POP3";
        q->flags |= POP3MOCK_QUIRK(CAPA_DROPS_AUTH) | POP3MOCK_QUIRK(NO_LOCK);
    } else if (strcmp(name, "qmail") == 0) {
        /* qmail-pop3d: greeting is only the timestamp, no CAPA, an extra blank line at
         * the end of every message (Q7), sizes counted with LF (Q11). */
        q->greeting = "";
        q->flags |=
            POP3MOCK_QUIRK(CAPA_ERR) | POP3MOCK_QUIRK(EXTRA_BLANK_LINE) | POP3MOCK_QUIRK(SIZES_LF);
    } else if (strcmp(name, "exchange") == 0) {
        /* Exchange 2000/2003: no APOP, compressed-store sizes (Q9), "." glued to a
         * message without a final newline (Q1). */
        q->greeting = "Microsoft Exchange Server 2003 POP3 server version 6.5.7638.1 ready.";
        q->implementation = "Microsoft-Exchange";
        q->flags |=
            POP3MOCK_QUIRK(NO_APOP) | POP3MOCK_QUIRK(LYING_SIZES) | POP3MOCK_QUIRK(DOT_NO_CRLF);
    } else {
        *message = "unknown preset (dovecot, popa3d, cyrus, qmail or exchange)";
        return -1;
    }
    return 0;
}
