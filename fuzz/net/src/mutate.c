/*
 * mutate.c - mutations of a server's side of a POP3 dialogue that know the protocol:
 * status indicators (RFC 1939 section 3), response codes (RFC 2449 section 8, RFC 3206),
 * numbers in STAT/LIST/UIDL replies at the edges of 31, 32 and 64 bits, listing lines
 * (RFC 1939 section 5), CAPA tags (RFC 2449 section 6), SASL continuations (RFC 5034
 * section 4), byte-stuffing and the terminator (RFC 1939 section 3), line ends, long
 * lines, write boundaries and pauses, the connection closed early; plus blind octet
 * changes. Mutations edit the script text (escapes and directives of pop3-mock), so a
 * mutated script is what a finding saves; one that no longer parses is drawn again by
 * the caller.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfuzz.h"

static const char *const statuses[] = {"-ERR", "+OK", "+ok", "+OKAY",   "OK",     "+",
                                       "-",    "*",   "",    "-ERR\\s", "+OK\\t", "\\s+OK"};
static const char *const numbers[] = {
    "0",
    "1",
    "-1",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "00000000000000000001",
    "1e9",
};
static const char *const codes[] = {
    "[IN-USE] ", "[SYS/TEMP] ", "[SYS/PERM] ", "[AUTH] ", "[LOGIN-DELAY] ", "[UTF8] ",
    "[",         "[]",          "[X/",         "] ",      "[IN-USE",        "[[[[ "};
static const char *const listings[] = {"S: 1 2 3",
                                       "S: 1",
                                       "S: x y",
                                       "S: 0 0",
                                       "S: -1 -1",
                                       "S: 1\\s",
                                       "S: 4294967296 18446744073709551616",
                                       "S: 1 1",
                                       "S: 2147483648 1",
                                       "S: 1 \\x01\\x7F\\xFF",
                                       "S: \\s",
                                       "S:"};
static const char *const capas[] = {"S: SASL PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER",
                                    "S: STLS",
                                    "S: LOGIN-DELAY 18446744073709551616",
                                    "S: EXPIRE NEVER",
                                    "S: EXPIRE -1",
                                    "S: UTF8 USER",
                                    "S: SASL",
                                    "S: TOP",
                                    "S: PIPELINING",
                                    "S: RESP-CODES",
                                    "S: AUTH-RESP-CODE",
                                    "S: IMPLEMENTATION \\x00"};
static const char *const sasls[] = {
    "S: +\\s",        "S: +",   "S: + !!!!",
    "S: + ==",        "S: + =", "S: + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+",
    "S: + \\xFF\\xFE"};
static const char *const dots[] = {"S: .",       "S: ..",   "S: .x",   "S: .\\c", "S: .\\r\\c",
                                   "S: .\\n\\c", "S: \\s.", "S: .\\s", "S: ...",  "S: .\\r\\n.\\c"};
static const char *const ends[] = {"\\c",    "\\n\\c",       "\\r\\c", "\\0",
                                   "\\r\\n", "\\r\\r\\n\\c", "\\n"};
static const char *const faults[] = {"!close",         "!reset",         "!half-close",
                                     "!close-after 0", "!close-after 1", "!close-after 5",
                                     "!close-after 40"};

#define PICK(r, a) ((a)[pop3fuzz_below((r), sizeof(a) / sizeof *(a))])

static bool is_server(const char *l)
{
    while (*l == ' ' || *l == '\t')
        l++;
    return l[0] == 'S' && l[1] == ':';
}

/* Where the reply text of an S: line starts. */
static size_t text_at(const char *l)
{
    size_t i = 0;
    while (l[i] == ' ' || l[i] == '\t')
        i++;
    i += 2;
    while (l[i] == ' ' || l[i] == '\t')
        i++;
    return i;
}

/* A random S: line, or (size_t)-1 when there is none. */
static size_t pick_server(const pop3fuzz_script *s, pop3fuzz_rng *r)
{
    size_t start = pop3fuzz_below(r, s->n ? s->n : 1);
    for (size_t k = 0; k < s->n; k++) {
        size_t i = (start + k) % s->n;
        if (is_server(s->line[i])) return i;
    }
    return (size_t)-1;
}

/* Line `i` with [from, to) replaced by `with`. */
static void splice(pop3fuzz_script *s, size_t i, size_t from, size_t to, const char *with)
{
    const char *l = s->line[i];
    size_t ll = strlen(l), wl = strlen(with);
    if (from > ll) from = ll;
    if (to > ll) to = ll;
    char *n = malloc(ll - (to - from) + wl + 1);
    if (n == NULL) return;
    memcpy(n, l, from);
    memcpy(n + from, with, wl);
    memcpy(n + from + wl, l + to, ll - to + 1);
    free(s->line[i]);
    s->line[i] = n;
}

/* Text of `n` octets, a repeated pattern chosen by the generator. */
static char *long_text(pop3fuzz_rng *r, size_t n)
{
    static const char *const pats[] = {"A", "0123456789", "x y ", "..", "QUFB", "\\t"};
    const char *p = PICK(r, pats);
    size_t pl = strlen(p);
    char *t = malloc(n + pl + 1);
    if (t == NULL) return NULL;
    size_t k = 0;
    while (k < n) {
        memcpy(t + k, p, pl);
        k += pl;
    }
    t[k] = '\0';
    return t;
}

static size_t long_length(pop3fuzz_rng *r)
{
    static const size_t lens[] = {100,  513,  1000,  2047,     2048,
                                  2049, 4096, 65536, 1u << 20, POP3FUZZ_LONG_LINE_MAX};
    return PICK(r, lens);
}

/* The families of mutate_once, in the order of its switch. */
static const char *const family_names[POP3FUZZ_FAMILIES] = {
    "status",   "number",    "resp-code", "listing", "capa",   "sasl", "stuffing",
    "line-end", "long-line", "write",     "close",   "octets", "drop", "swap"};

const char *pop3fuzz_family_name(unsigned f)
{
    return f < POP3FUZZ_FAMILIES ? family_names[f] : "?";
}

/* One mutation; returns its family. */
static unsigned mutate_once(pop3fuzz_script *s, pop3fuzz_rng *r)
{
    size_t i = pick_server(s, r);
    char buf[160];
    unsigned family = (unsigned)pop3fuzz_below(r, POP3FUZZ_FAMILIES);
    switch (family) {
    case 0: /* status indicator */
        if (i != (size_t)-1) {
            size_t t = text_at(s->line[i]), e = t;
            while (s->line[i][e] != '\0' && s->line[i][e] != ' ')
                e++;
            splice(s, i, t, e, PICK(r, statuses));
        }
        break;
    case 1: { /* a number at the edges */
        if (i == (size_t)-1) break;
        const char *l = s->line[i];
        size_t runs[32], nr = 0;
        for (size_t k = text_at(l); l[k] != '\0' && nr < 32; k++)
            if (l[k] >= '0' && l[k] <= '9' && (k == 0 || l[k - 1] < '0' || l[k - 1] > '9') &&
                (k == 0 || l[k - 1] != '\\'))
                runs[nr++] = k;
        if (nr == 0) break;
        size_t a = runs[pop3fuzz_below(r, nr)], b = a;
        while (l[b] >= '0' && l[b] <= '9')
            b++;
        splice(s, i, a, b, PICK(r, numbers));
        break;
    }
    case 2: /* a response code after the status */
        if (i != (size_t)-1) {
            size_t t = text_at(s->line[i]), e = t;
            while (s->line[i][e] != '\0' && s->line[i][e] != ' ')
                e++;
            splice(s, i, e, e, e == strlen(s->line[i]) ? "\\s" : " ");
            splice(s, i, e + (s->line[i][e] == '\\' ? 2 : 1), e + (s->line[i][e] == '\\' ? 2 : 1),
                   PICK(r, codes));
        }
        break;
    case 3: /* a listing line, new or repeated */
        if (i != (size_t)-1 && pop3fuzz_below(r, 2)) {
            char *dup = strdup(s->line[i]);
            if (dup) pop3fuzz_script_insert(s, i, dup);
            free(dup);
        } else {
            pop3fuzz_script_insert(s, i == (size_t)-1 ? s->n : i + 1, PICK(r, listings));
        }
        break;
    case 4: /* a CAPA tag */
        pop3fuzz_script_insert(s, i == (size_t)-1 ? s->n : i + 1, PICK(r, capas));
        break;
    case 5: /* a SASL continuation */
        pop3fuzz_script_insert(s, i == (size_t)-1 ? s->n : i + 1, PICK(r, sasls));
        break;
    case 6: /* byte-stuffing and the terminator */
        if (i != (size_t)-1 && strcmp(s->line[i] + text_at(s->line[i]), ".") == 0 &&
            pop3fuzz_below(r, 3) == 0)
            pop3fuzz_script_remove(s, i);
        else if (i != (size_t)-1 && strcmp(s->line[i] + text_at(s->line[i]), ".") == 0)
            pop3fuzz_script_set(s, i, PICK(r, dots));
        else
            pop3fuzz_script_insert(s, i == (size_t)-1 ? s->n : i + 1, PICK(r, dots));
        break;
    case 7: /* line ends */
        if (i != (size_t)-1) {
            size_t l = strlen(s->line[i]);
            if (l >= 2 && strcmp(s->line[i] + l - 2, "\\c") == 0) break;
            splice(s, i, l, l, PICK(r, ends));
        }
        break;
    case 8: /* a long line: status, listing or body */
        if (i != (size_t)-1) {
            char *t = long_text(r, long_length(r));
            if (t == NULL) break;
            size_t l = strlen(s->line[i]);
            if (l >= 2 && strcmp(s->line[i] + l - 2, "\\c") == 0) l -= 2;
            splice(s, i, l, l, " ");
            splice(s, i, l + 1, l + 1, t);
            free(t);
        }
        break;
    case 9: { /* write boundaries and pauses */
        size_t at = i == (size_t)-1 ? s->n : i;
        switch (pop3fuzz_below(r, 4)) {
        case 0: pop3fuzz_script_insert(s, at, "!flush"); break;
        case 1:
            snprintf(buf, sizeof buf, "!delay %zu", 1 + pop3fuzz_below(r, 30));
            pop3fuzz_script_insert(s, at, buf);
            break;
        case 2:
            snprintf(buf, sizeof buf, "!drip %zu 1", 1 + pop3fuzz_below(r, 7));
            pop3fuzz_script_insert(s, at, buf);
            if (pop3fuzz_below(r, 2))
                pop3fuzz_script_insert(s, at + 2 < s->n ? at + 2 : s->n, "!drip off");
            break;
        default:
            snprintf(buf, sizeof buf, "!split %zu wait %zu", 1 + pop3fuzz_below(r, 3),
                     pop3fuzz_below(r, 20));
            pop3fuzz_script_insert(s, at, buf);
            break;
        }
        break;
    }
    case 10: /* the connection ends early */
        pop3fuzz_script_insert(s, i == (size_t)-1 ? s->n : i + 1, PICK(r, faults));
        break;
    case 11: { /* blind octets in a reply */
        if (i == (size_t)-1) break;
        size_t t = text_at(s->line[i]), l = strlen(s->line[i]);
        size_t at = t + pop3fuzz_below(r, l - t + 1);
        snprintf(buf, sizeof buf, "\\x%02X", (unsigned)pop3fuzz_below(r, 256));
        if (at < l && s->line[i][at] != '\\' && (at == 0 || s->line[i][at - 1] != '\\') &&
            pop3fuzz_below(r, 2))
            splice(s, i, at, at + 1, buf); /* replace one octet */
        else
            splice(s, i, at, at, buf);
        break;
    }
    case 12: /* a line dropped */
        if (s->n > 1) pop3fuzz_script_remove(s, 1 + pop3fuzz_below(r, s->n - 1));
        break;
    default: /* two replies swapped */
        if (i != (size_t)-1) {
            size_t j = pick_server(s, r);
            char *t = s->line[i];
            s->line[i] = s->line[j];
            s->line[j] = t;
        }
        break;
    }
    return family;
}

void pop3fuzz_mutate_tagged(pop3fuzz_script *s, pop3fuzz_rng *r, unsigned max_stack,
                            unsigned *families)
{
    unsigned n = 1 + (unsigned)pop3fuzz_below(r, max_stack ? max_stack : 1);
    if (families != NULL) *families = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned f = mutate_once(s, r);
        if (families != NULL) *families |= 1u << f;
    }
}

void pop3fuzz_mutate(pop3fuzz_script *s, pop3fuzz_rng *r, unsigned max_stack)
{
    pop3fuzz_mutate_tagged(s, r, max_stack, NULL);
}
