/*
 * server_grammar.c - pop3-fuzz server mode: sessions built from the POP3 command grammar
 * and their mutations. Every command of the AUTHORIZATION and TRANSACTION states (RFC 1939
 * sections 4-7: USER PASS APOP STAT LIST UIDL RETR TOP DELE RSET NOOP QUIT; RFC 2449
 * section 5 CAPA; RFC 2595 section 4 STLS; RFC 5034 section 4 AUTH and its SASL lines;
 * RFC 6856 UTF8 and LANG) with arguments at and past the limits: message numbers 0, -1,
 * 2^32, 2^64 and longer, the 40-octet argument of RFC 1939 section 3, the 255-octet
 * command of RFC 2449 section 4 and far past it, NUL and 8-bit octets, bare line ends,
 * pipelined bursts, STLS abuse, pauses and a half-closed connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_fuzz.h"

static const char *const numbers[] = {
    "1",
    "1",
    "2",
    "3",
    "0",
    "-1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999999999999",
    "+1",
    "1.5",
    "0x1",
    "007",
    "2147483648",
    "65536",
    "1e3",
};

static const char *const sasl_lines[] = {
    "*",        "{plain}",      "=",    "!!!!", "AAAA",
    "dXNlcg==", "AGZvbwBiYXI=", "====", "AA=A", "{rep:4000:41}",
};

static const char *const mechs[] = {
    "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER", "SCRAM-SHA-1", "X", "DIGEST-MD5",
};

static const char *pick(pop3fuzz_rng *r, const char *const *v, size_t n)
{
    return v[pop3fuzz_below(r, n)];
}
#define PICK(r, arr) pick((r), (arr), sizeof(arr) / sizeof *(arr))

/* An argument past a limit: NUL, 8-bit, 41 and 256 octets, a few KiB, MiBs. */
static void odd_arg(const pop3fuzz_grammar *g, pop3fuzz_rng *r, char *out, size_t cap)
{
    switch (pop3fuzz_below(r, 9)) {
    case 0: snprintf(out, cap, "1\\0"); break;
    case 1: snprintf(out, cap, "\\xff\\xfe\\x80"); break;
    case 2: snprintf(out, cap, "{rep:41:41}"); break;
    case 3: snprintf(out, cap, "{rep:256:31}"); break;
    case 4: snprintf(out, cap, "{rep:%zu:58}", (size_t)4096 + pop3fuzz_below(r, 8192)); break;
    case 5:
        snprintf(out, cap, "{rep:%zu:41}",
                 g->long_line / 2 + pop3fuzz_below(r, g->long_line / 2 + 1));
        break;
    case 6: snprintf(out, cap, "%s", PICK(r, numbers)); break;
    case 7: snprintf(out, cap, "1 2 3 4 5 6 7 8"); break;
    default: snprintf(out, cap, "\\x1b[0m%%s%%n"); break;
    }
}

static const char *number(pop3fuzz_rng *r)
{
    /* Mostly the messages that exist, so that deeper states are reached. */
    if (pop3fuzz_below(r, 3) != 0) return pick(r, numbers, 4);
    return PICK(r, numbers);
}

/* One command line in escaped form. */
static void command(const pop3fuzz_grammar *g, pop3fuzz_rng *r, char *out, size_t cap)
{
    char a[96];
    bool odd = pop3fuzz_below(r, 6) == 0;
    if (odd) odd_arg(g, r, a, sizeof a);
    switch (pop3fuzz_below(r, 22)) {
    case 0: snprintf(out, cap, "USER %s", odd ? a : "{user}"); break;
    case 1: snprintf(out, cap, "PASS %s", odd ? a : "{password}"); break;
    case 2: snprintf(out, cap, "APOP {user} %s", odd ? a : "{apop}"); break;
    case 3:
        if (odd)
            snprintf(out, cap, "AUTH %s", a);
        else if (pop3fuzz_below(r, 3) == 0)
            snprintf(out, cap, "AUTH PLAIN %s", PICK(r, sasl_lines));
        else
            snprintf(out, cap, "AUTH %s", PICK(r, mechs));
        break;
    case 4: snprintf(out, cap, "%s", PICK(r, sasl_lines)); break;
    case 5: snprintf(out, cap, "CAPA%s%s", odd ? " " : "", odd ? a : ""); break;
    case 6: snprintf(out, cap, "STLS%s%s", odd ? " " : "", odd ? a : ""); break;
    case 7: snprintf(out, cap, "STAT%s%s", odd ? " " : "", odd ? a : ""); break;
    case 8:
    case 9:
        if (pop3fuzz_below(r, 3) == 0)
            snprintf(out, cap, "LIST");
        else
            snprintf(out, cap, "LIST %s", odd ? a : number(r));
        break;
    case 10:
        if (pop3fuzz_below(r, 3) == 0)
            snprintf(out, cap, "UIDL");
        else
            snprintf(out, cap, "UIDL %s", odd ? a : number(r));
        break;
    case 11: snprintf(out, cap, "RETR %s", odd ? a : number(r)); break;
    case 12: snprintf(out, cap, "TOP %s %s", number(r), odd ? a : number(r)); break;
    case 13:
    case 14: snprintf(out, cap, "DELE %s", odd ? a : number(r)); break;
    case 15: snprintf(out, cap, "RSET%s%s", odd ? " " : "", odd ? a : ""); break;
    case 16: snprintf(out, cap, "NOOP%s%s", odd ? " " : "", odd ? a : ""); break;
    case 17: snprintf(out, cap, "QUIT%s%s", odd ? " " : "", odd ? a : ""); break;
    case 18: snprintf(out, cap, "UTF8%s%s", odd ? " " : "", odd ? a : ""); break;
    case 19: snprintf(out, cap, "LANG%s%s", pop3fuzz_below(r, 2) ? " " : "", odd ? a : "*"); break;
    case 20: snprintf(out, cap, "%s", odd ? a : "XYZZY"); break;
    default: snprintf(out, cap, "TOP %s 0", number(r)); break;
    }
}

static bool push_login(pop3fuzz_rng *r, pop3fuzz_session *s)
{
    switch (pop3fuzz_below(r, 6)) {
    case 0: return pop3fuzz_session_push(s, POP3FUZZ_STEP_CMD, "APOP {user} {apop}", 0);
    case 1: return pop3fuzz_session_push(s, POP3FUZZ_STEP_CMD, "AUTH PLAIN {plain}", 0);
    default:
        return pop3fuzz_session_push(s, POP3FUZZ_STEP_CMD, "USER {user}", 0) &&
               pop3fuzz_session_push(s, POP3FUZZ_STEP_CMD, "PASS {password}", 0);
    }
}

/* The starting sessions: each command once in its state, and the STLS abuses. */
static const char *const seed_text[] = {
    "CAPA|USER {user}|PASS {password}|STAT|LIST|UIDL|LIST 1|UIDL 1|RETR 1|TOP 1 1|NOOP|QUIT",
    "USER {user}|PASS {password}|DELE 1|STAT|RSET|LIST|QUIT",
    "APOP {user} {apop}|STAT|CAPA|UTF8|LANG|QUIT",
    "AUTH PLAIN {plain}|STAT|TOP 2 1|QUIT",
    "AUTH PLAIN|{plain}|UIDL|QUIT",
    "AUTH LOGIN|*|AUTH|USER {user}|PASS x|QUIT",
    "STLS|STLS|CAPA|QUIT",
    "USER {user}|PASS {password}|STLS|NOOP|QUIT",
};

bool pop3fuzz_srv_seed(size_t index, pop3fuzz_session *out)
{
    memset(out, 0, sizeof *out);
    if (index >= sizeof seed_text / sizeof *seed_text) return false;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", seed_text[index]);
    char *save = NULL;
    for (char *t = strtok_r(buf, "|", &save); t; t = strtok_r(NULL, "|", &save))
        if (!pop3fuzz_session_push(out, POP3FUZZ_STEP_CMD, t, 0)) {
            pop3fuzz_session_free(out);
            return false;
        }
    return true;
}

bool pop3fuzz_srv_generate(const pop3fuzz_grammar *g, pop3fuzz_rng *r, pop3fuzz_session *out)
{
    memset(out, 0, sizeof *out);
    bool ok = pop3fuzz_below(r, 5) == 0 || push_login(r, out);
    size_t n = 1 + pop3fuzz_below(r, 12);
    char line[256];
    for (size_t k = 0; ok && k < n && out->n < g->max_steps; k++) {
        command(g, r, line, sizeof line);
        ok = pop3fuzz_session_push(out, POP3FUZZ_STEP_CMD, line, 0);
    }
    if (ok && pop3fuzz_below(r, 3) == 0 && out->n < g->max_steps)
        ok = pop3fuzz_session_push(out, POP3FUZZ_STEP_CMD, "QUIT", 0);
    if (!ok) pop3fuzz_session_free(out);
    return ok;
}

static bool is_line(const pop3fuzz_step *st)
{
    return st->kind == POP3FUZZ_STEP_CMD || st->kind == POP3FUZZ_STEP_RAW;
}

/* Replace the last argument of an escaped command line. */
static void set_arg(pop3fuzz_step *st, const char *arg)
{
    char buf[512];
    const char *sp = strrchr(st->text, ' ');
    size_t keep = sp ? (size_t)(sp - st->text) : strlen(st->text);
    if (keep > 200) keep = 200;
    snprintf(buf, sizeof buf, "%.*s %s", (int)keep, st->text, arg);
    char *copy = strdup(buf);
    if (copy == NULL) return;
    free(st->text);
    st->text = copy;
}

/* Change how a line ends: bare LF, bare CR, none (a fragment), CRLF again. */
static void set_line_end(pop3fuzz_rng *r, pop3fuzz_step *st)
{
    char buf[512];
    size_t len = strlen(st->text);
    if (len > 400) return;
    if (st->kind == POP3FUZZ_STEP_RAW) {
        /* Back to a plain command: drop a trailing escaped line end. */
        while (len >= 2 && st->text[len - 2] == '\\' &&
               (st->text[len - 1] == 'n' || st->text[len - 1] == 'r'))
            len -= 2;
        snprintf(buf, sizeof buf, "%.*s", (int)len, st->text);
        st->kind = POP3FUZZ_STEP_CMD;
    } else {
        static const char *const ends[] = {"\\n", "\\r", "", "\\r\\r\\n", "\\n\\r\\n", "\\0\\r\\n"};
        snprintf(buf, sizeof buf, "%s%s", st->text, PICK(r, ends));
        st->kind = POP3FUZZ_STEP_RAW;
    }
    char *copy = strdup(buf);
    if (copy == NULL) return;
    free(st->text);
    st->text = copy;
}

static void mutate_once(const pop3fuzz_grammar *g, pop3fuzz_rng *r, pop3fuzz_session *s,
                        const pop3fuzz_session *other)
{
    char line[256];
    size_t at = s->n ? pop3fuzz_below(r, s->n) : 0;
    bool room = s->n < g->max_steps;
    switch (pop3fuzz_below(r, 14)) {
    case 0:
    case 1:
        if (!room) break;
        command(g, r, line, sizeof line);
        pop3fuzz_session_insert(s, pop3fuzz_below(r, s->n + 1), POP3FUZZ_STEP_CMD, line, 0);
        break;
    case 2:
        if (s->n > 1) pop3fuzz_session_remove(s, at);
        break;
    case 3:
        if (s->n == 0 || !is_line(&s->v[at])) break;
        command(g, r, line, sizeof line);
        {
            char *copy = strdup(line);
            if (copy == NULL) break;
            free(s->v[at].text);
            s->v[at] = (pop3fuzz_step){.kind = POP3FUZZ_STEP_CMD, .text = copy};
        }
        break;
    case 4:
        if (room && s->n > 0)
            pop3fuzz_session_insert(s, at, s->v[at].kind, s->v[at].text, s->v[at].n);
        break;
    case 5:
        if (s->n > 1 && at + 1 < s->n) {
            pop3fuzz_step t = s->v[at];
            s->v[at] = s->v[at + 1];
            s->v[at + 1] = t;
        }
        break;
    case 6:
        if (s->n > 0 && is_line(&s->v[at])) set_line_end(r, &s->v[at]);
        break;
    case 7:
        if (s->n > 0 && is_line(&s->v[at])) {
            char a[96];
            if (pop3fuzz_below(r, 2))
                odd_arg(g, r, a, sizeof a);
            else
                snprintf(a, sizeof a, "%s", PICK(r, numbers));
            set_arg(&s->v[at], a);
        }
        break;
    case 8:
        if (room)
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_BURST, NULL,
                                    2 + (unsigned)pop3fuzz_below(r, 7));
        break;
    case 9:
        if (room)
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_IDLE, NULL,
                                    (unsigned)pop3fuzz_below(r, 100));
        break;
    case 10:
        if (room)
            pop3fuzz_session_insert(s, pop3fuzz_below(r, s->n + 1), POP3FUZZ_STEP_SHUTDOWN, NULL,
                                    0);
        break;
    case 11:
        /* Lower case verb (RFC 1939 section 3: keywords are case-insensitive). */
        if (s->n > 0 && is_line(&s->v[at]))
            for (char *p = s->v[at].text; *p && *p != ' '; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        break;
    case 12:
        /* Splice: our head, the other's tail. */
        if (other != NULL && other->n > 0) {
            size_t from = pop3fuzz_below(r, other->n);
            pop3fuzz_session_truncate(s, at + 1);
            for (size_t k = from; k < other->n && s->n < g->max_steps; k++)
                pop3fuzz_session_push(s, other->v[k].kind, other->v[k].text, other->v[k].n);
        }
        break;
    default:
        /* STLS where it is not allowed, or garbage right behind it in the same write. */
        if (!room) break;
        if (pop3fuzz_below(r, 2)) {
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_CMD, "STLS", 0);
        } else {
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_CMD, "NOOP", 0);
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_CMD, "STLS", 0);
            pop3fuzz_session_insert(s, at, POP3FUZZ_STEP_BURST, NULL, 2);
        }
        break;
    }
}

void pop3fuzz_srv_mutate(const pop3fuzz_grammar *g, pop3fuzz_rng *r, pop3fuzz_session *s,
                         const pop3fuzz_session *other, unsigned stack)
{
    unsigned n = 1 + (unsigned)pop3fuzz_below(r, stack ? stack : 1);
    for (unsigned k = 0; k < n; k++)
        mutate_once(g, r, s, other);
    if (s->n > g->max_steps) pop3fuzz_session_truncate(s, g->max_steps);
}
