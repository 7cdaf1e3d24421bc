/*
 * script_parse.c - reading a dialogue script (format in mockserver/README.md).
 *
 * The format is built so that the example dialogues of RFC 1939 (sections 4 to 10),
 * RFC 2449 and RFC 5034 paste in unchanged: indentation and the spaces after "S:" and
 * "C:" are ignored, and RFC 1939 section 10's pseudo-lines mean what they say
 * ("C: <open connection>", "C: <close connection>", "S: <wait for next connection>").
 * Everything is checked here, before any client connects: escapes, directive
 * arguments, and that every {name} refers to something defined before it. Each error
 * is "NAME:LINE: what is wrong: expected what".
 *
 * TLS (RFC 2595 section 4, RFC 8314 section 3): !starttls and !implicit-tls are real
 * handshakes; !tls-abort, !tls-garbage, !tls-alert and !tls-truncate are handshakes
 * that fail on purpose (RFC 8446 section 6 for the alerts). !tls-cert and !tls-max are
 * settings, not steps: each handshake takes the ones in force at its line, so a
 * certificate named at the top of a file serves the whole script. Certificate files are
 * named relative to the script's folder, so a script and its certificate travel
 * together.
 *
 * !optional marks the next C: line and the S: lines that answer it as an exchange a
 * client may leave out: RFC 2449 section 5 makes CAPA optional for a client, so a case
 * about something else can offer the CAPA exchange without failing the clients that
 * never send it (and those that always do, such as curl). The exchange must be followed
 * by a C: line, so that a client line that is not the optional one has a line to match.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"
#include "pop3/parse.h"
#include "arena.h"
#include "script_internal.h"

/* The largest script file read (16 MiB). */
#define SCRIPT_MAX_OCTETS (16u << 20)
/* Steps in one session by default (pop3mock_script_options.max_steps). */
#define SCRIPT_MAX_STEPS  ((size_t)1 << 20)
/* Words of a directive line. */
#define MAX_WORDS         64
/* Largest pause, in milliseconds (one hour). */
#define MAX_MS            3600000u

/* A segment list under construction. */
typedef struct segs {
    pop3mock__seg *v;
    size_t n, cap;
    char *lit; /* the literal being gathered */
    size_t lit_len, lit_cap;
} segs;

typedef struct parser {
    pop3mock_script *sc;
    const char *name;
    unsigned line;
    char *err;
    size_t errlen;
    bool failed;
    /* names defined so far in the current session: captures and !set (the names
     * themselves live in the script's arena) */
    const char **defined;
    size_t ndefined, defcap;
    unsigned split_line; /* a !split waiting for its S: line, or 0 */
    bool closed;         /* the current session ended with !close, !reset or !stall */
    unsigned closed_line;
    /* TLS settings in force: the last !tls-cert (strings owned by sc->certs) and the
     * last !tls-max. */
    const char *cert, *key;
    unsigned tls_max;
    size_t max_steps;       /* pop3mock_script_options.max_steps */
    unsigned optional_line; /* a !optional waiting for its C: line, or 0 */
    /* Work space reused from line to line, so that a line allocates nothing once these
     * have grown to its size: the segments of a text before they are copied into the
     * arena, the captures of a C: line, the words of a directive. */
    segs text;
    const char **caps;
    size_t ncaps, capscap;
    char *words;
    size_t words_cap;
} parser;

static bool fail(parser *p, const char *fmt, ...)
{
    if (p->failed) return false;
    p->failed = true;
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
    if (n < 0 || (size_t)n >= p->errlen) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

/* A NUL-terminated copy owned by the script. */
static char *dup_mem(parser *p, const char *s, size_t n)
{
    return pop3mock__arena_strdup(&p->sc->arena, s, n);
}

void pop3mock_script_free(pop3mock_script *sc)
{
    if (sc == NULL) return;
    for (size_t s = 0; s < sc->nsessions; s++) {
        pop3mock__script_session *ss = &sc->sessions[s];
        free(ss->steps);
    }
    free(sc->sessions);
    free(sc->certs);
    /* Every string and segment list of the steps, certificates and !secret, and the
     * script itself (its first piece): the arena is taken out before it goes. */
    pop3mock__arena arena = sc->arena;
    pop3mock__arena_free(&arena);
}

size_t pop3mock_script_sessions(const pop3mock_script *sc)
{
    return sc->nsessions;
}

const char *pop3mock_script_name(const pop3mock_script *sc)
{
    return sc->name;
}

bool pop3mock_script_tls_cert(const pop3mock_script *sc, size_t i, const char **cert,
                              const char **key, unsigned *line)
{
    if (i >= sc->ncerts) return false;
    *cert = sc->certs[i].cert;
    *key = sc->certs[i].key;
    *line = sc->certs[i].line;
    return true;
}

/* A real handshake with the settings in force. */
static pop3mock_tls_plan tls_plan(const parser *p)
{
    pop3mock_tls_plan plan = {.fault = POP3MOCK_TLS_HANDSHAKE};
    plan.cert = p->cert;
    plan.key = p->key;
    plan.max_version = p->tls_max;
    return plan;
}

bool pop3mock__builtin(const char *name)
{
    return strcmp(name, "timestamp") == 0 || strcmp(name, "apop") == 0 ||
           strcmp(name, "cram-md5") == 0 || strcmp(name, "user") == 0 ||
           strcmp(name, "secret") == 0;
}

static bool defined(const parser *p, const char *name)
{
    for (size_t i = 0; i < p->ndefined; i++)
        if (strcmp(p->defined[i], name) == 0) return true;
    return false;
}

/* `name` lives in the script's arena, so the list keeps the pointer. */
static bool define(parser *p, const char *name)
{
    if (defined(p, name)) return true;
    int rc = POP3_OK;
    const char **nd = pop3_array_grow(p->defined, &p->defcap, p->ndefined + 1, sizeof *nd, 8,
                                      POP3MOCK__NAMES_MAX, &rc);
    if (nd == NULL && rc == POP3_ELIMIT)
        return fail(p, "more than %d names (captures and !set) in one session",
                    POP3MOCK__NAMES_MAX);
    if (nd == NULL) return fail(p, "%s", pop3_strerror(rc));
    p->defined = nd;
    p->defined[p->ndefined++] = name;
    return true;
}

static void forget_defined(parser *p)
{
    p->ndefined = 0;
}

static pop3mock__script_session *current(parser *p)
{
    if (p->sc->nsessions == 0) {
        p->sc->sessions = calloc(1, sizeof *p->sc->sessions);
        if (p->sc->sessions == NULL) {
            fail(p, "out of memory");
            return NULL;
        }
        p->sc->nsessions = 1;
        p->sc->sessions[0].line = p->line;
    }
    return &p->sc->sessions[p->sc->nsessions - 1];
}

static pop3mock__step *add_step(parser *p, pop3mock__step_kind kind, const char *src, size_t srclen)
{
    if (p->closed)
        return fail(p, "nothing can follow line %u (the connection ends there): expected !session",
                    p->closed_line),
               NULL;
    pop3mock__script_session *ss = current(p);
    if (ss == NULL) return NULL;
    if (ss->nsteps == 0) {
        ss->line = p->line;
        ss->implicit = tls_plan(p);
    }
    int rc = POP3_OK;
    pop3mock__step *ns =
        pop3_array_grow(ss->steps, &ss->stepcap, ss->nsteps + 1, sizeof *ns, 16, p->max_steps, &rc);
    if (ns == NULL && rc == POP3_ELIMIT)
        return fail(p, "more than %zu steps in one session (the max-steps limit)", p->max_steps),
               NULL;
    if (ns == NULL) return fail(p, "%s", pop3_strerror(rc)), NULL;
    ss->steps = ns;
    pop3mock__step *st = &ss->steps[ss->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = kind;
    st->line = p->line;
    st->source = dup_mem(p, src, srclen);
    if (st->source == NULL) return fail(p, "out of memory"), NULL;
    return st;
}

static bool new_session(parser *p)
{
    p->closed = false;
    forget_defined(p);
    if (p->sc->nsessions > 0 && p->sc->sessions[p->sc->nsessions - 1].nsteps == 0) return true;
    int rc = POP3_OK;
    pop3mock__script_session *ns = pop3_array_grow(p->sc->sessions, &p->sc->sessioncap,
                                                   p->sc->nsessions + 1, sizeof *ns, 4, 0, &rc);
    if (ns == NULL) return fail(p, "%s", pop3_strerror(rc));
    p->sc->sessions = ns;
    memset(&ns[p->sc->nsessions], 0, sizeof *ns);
    ns[p->sc->nsessions].line = p->line;
    p->sc->nsessions++;
    return true;
}

/* Append src[0..n) to the literal being gathered. */
static bool lit_append(parser *p, segs *s, const char *src, size_t n)
{
    if (n > s->lit_cap - s->lit_len) {
        int rc = POP3_OK;
        char *nl = pop3_array_grow(s->lit, &s->lit_cap, s->lit_len + n, 1, 64, 0, &rc);
        if (nl == NULL) return fail(p, "%s", pop3_strerror(rc));
        s->lit = nl;
    }
    memcpy(s->lit + s->lit_len, src, n);
    s->lit_len += n;
    return true;
}

static bool seg_push(parser *p, segs *s, pop3mock__seg seg)
{
    int rc = POP3_OK;
    pop3mock__seg *nv = pop3_array_grow(s->v, &s->cap, s->n + 1, sizeof *nv, 8, 0, &rc);
    if (nv == NULL) return fail(p, "%s", pop3_strerror(rc));
    s->v = nv;
    s->v[s->n++] = seg;
    return true;
}

static bool lit_flush(parser *p, segs *s)
{
    if (s->lit_len == 0) return true;
    pop3mock__seg seg = {.kind = POP3MOCK__SEG_LITERAL, .len = s->lit_len};
    seg.text = dup_mem(p, s->lit, s->lit_len);
    s->lit_len = 0;
    if (seg.text == NULL) return fail(p, "out of memory");
    return seg_push(p, s, seg);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static bool class_of(const char *s, size_t n, pop3mock__class *cls)
{
    if (n == 1 && s[0] == '*')
        *cls = POP3MOCK__CLASS_ANY;
    else if (n == 4 && memcmp(s, "word", 4) == 0)
        *cls = POP3MOCK__CLASS_WORD;
    else if (n == 6 && memcmp(s, "digits", 6) == 0)
        *cls = POP3MOCK__CLASS_DIGITS;
    else
        return false;
    return true;
}

#define BRACE_HELP "expected {name}, {*}, {word}, {digits} or {name:*|word|digits}"

/* A "{...}" at text[i]; returns the index after "}". */
static size_t brace(parser *p, segs *s, const char *t, size_t n, size_t i, bool client,
                    pop3mock__seg_kind *kind_out)
{
    const char *close = memchr(t + i, '}', n - i);
    if (close == NULL) return fail(p, "unclosed \"{\": " BRACE_HELP " (\\{ for a brace)"), 0;
    const char *in = t + i + 1;
    size_t len = (size_t)(close - in);
    const char *colon = memchr(in, ':', len);
    pop3mock__seg seg = {0};
    pop3mock__class cls;
    if (colon != NULL || class_of(in, len, &cls)) {
        if (!client)
            return fail(p, "{%.*s} matches client octets: only in C: lines; " BRACE_HELP, (int)len,
                        in),
                   0;
        seg.kind = POP3MOCK__SEG_WILD;
        if (colon != NULL) {
            size_t nlen = (size_t)(colon - in);
            if (!valid_name(in, nlen))
                return fail(p,
                            "bad capture name in {%.*s}: " BRACE_HELP
                            " (names: letters, digits, _ and -)",
                            (int)len, in),
                       0;
            if (!class_of(colon + 1, len - nlen - 1, &cls))
                return fail(p, "unknown class in {%.*s}: expected *, word or digits", (int)len, in),
                       0;
            seg.name = dup_mem(p, in, nlen);
            if (seg.name == NULL) return fail(p, "out of memory"), 0;
            if (pop3mock__builtin(seg.name)) {
                return fail(p, "{%.*s}: %.*s is a builtin and cannot be captured into", (int)len,
                            in, (int)nlen, in),
                       0;
            }
        }
        seg.cls = cls;
    } else {
        if (!valid_name(in, len)) return fail(p, "bad {%.*s}: " BRACE_HELP, (int)len, in), 0;
        seg.kind = POP3MOCK__SEG_REF;
        seg.name = dup_mem(p, in, len);
        if (seg.name == NULL) return fail(p, "out of memory"), 0;
        if (pop3mock__builtin(seg.name)) {
            bool needs_secret = strcmp(seg.name, "timestamp") != 0;
            if (needs_secret && p->sc->secret == NULL) {
                return fail(p, "{%.*s} needs a \"!secret USER SECRET\" line before it", (int)len,
                            in),
                       0;
            }
        } else if (!defined(p, seg.name)) {
            return fail(p,
                        "{%.*s} is not defined here: expected a capture {%.*s:...} in an "
                        "earlier C: line or a \"!set %.*s ...\" before it",
                        (int)len, in, (int)len, in, (int)len, in),
                   0;
        }
    }
    *kind_out = seg.kind;
    if (!lit_flush(p, s) || !seg_push(p, s, seg)) return 0;
    return (size_t)(close - t) + 1;
}

#define ESCAPE_HELP \
    "expected \\r \\n \\t \\0 \\xNN \\\\ \\{ \\} \\s, or \\c at the end of an S: line"

/*
 * Escapes and braces of an S:, C: or !set text into segments, in the parser's work
 * space (p->text, emptied first); with `capture`, the capture names go to p->caps.
 */
static bool parse_text(parser *p, const char *t, size_t n, bool client, bool allow_c, bool *crlf,
                       bool capture)
{
    segs *s = &p->text;
    s->n = 0;
    s->lit_len = 0;
    p->ncaps = 0;
    if (crlf != NULL) *crlf = true;
    /* The octets between braces and escapes are copied a run at a time: the next "{"
     * and the next "\\" are found with memchr and looked for again only once passed,
     * so the text is read once. */
    const char *next_brace = memchr(t, '{', n), *next_esc = memchr(t, '\\', n);
    for (size_t i = 0; i < n;) {
        if (next_brace != NULL && next_brace < t + i) next_brace = memchr(t + i, '{', n - i);
        if (next_esc != NULL && next_esc < t + i) next_esc = memchr(t + i, '\\', n - i);
        size_t run = n;
        if (next_brace != NULL) run = (size_t)(next_brace - t);
        if (next_esc != NULL && (size_t)(next_esc - t) < run) run = (size_t)(next_esc - t);
        if (run > i) {
            if (!lit_append(p, s, t + i, run - i)) return false;
            i = run;
            continue;
        }
        char c = t[i];
        if (c == '{') {
            pop3mock__seg_kind kind;
            size_t next = brace(p, s, t, n, i, client, &kind);
            if (next == 0) return false;
            if (kind == POP3MOCK__SEG_WILD && s->v[s->n - 1].name != NULL && capture) {
                int rc = POP3_OK;
                const char **nc =
                    pop3_array_grow(p->caps, &p->capscap, p->ncaps + 1, sizeof *nc, 4, 0, &rc);
                if (nc == NULL) return fail(p, "%s", pop3_strerror(rc));
                p->caps = nc;
                nc[p->ncaps++] = s->v[s->n - 1].name;
            }
            i = next;
            continue;
        }
        if (i + 1 >= n) return fail(p, "a line cannot end with a lone \"\\\": " ESCAPE_HELP);
        char e = t[i + 1];
        char out;
        size_t used = 2;
        switch (e) {
        case 'r': out = '\r'; break;
        case 'n': out = '\n'; break;
        case 't': out = '\t'; break;
        case '0': out = '\0'; break;
        case 's': out = ' '; break;
        case '\\': out = '\\'; break;
        case '{': out = '{'; break;
        case '}': out = '}'; break;
        case 'x': {
            int hi = i + 2 < n ? hexval(t[i + 2]) : -1;
            int lo = i + 3 < n ? hexval(t[i + 3]) : -1;
            if (hi < 0 || lo < 0)
                return fail(p, "bad escape \"\\x%.*s\": expected two hex digits after \\x",
                            (int)(n - i - 2 < 2 ? n - i - 2 : 2), t + i + 2);
            out = (char)(hi * 16 + lo);
            used = 4;
            break;
        }
        case 'c':
            if (!allow_c || i + 2 != n)
                return fail(p, "\\c (no CRLF) is only allowed at the very end of an S: line");
            *crlf = false;
            i += 2;
            continue;
        default: return fail(p, "bad escape \"\\%c\": " ESCAPE_HELP, e);
        }
        if (!lit_append(p, s, &out, 1)) return false;
        i += used;
    }
    return lit_flush(p, s);
}

/* The segments parse_text left in the work space, copied into the script for `st`. */
static bool keep_segs(parser *p, pop3mock__step *st)
{
    st->nsegs = p->text.n;
    if (st->nsegs == 0) return true;
    st->segs = pop3mock__arena_alloc(&p->sc->arena, st->nsegs * sizeof *st->segs);
    if (st->segs == NULL) {
        st->nsegs = 0;
        return fail(p, "out of memory");
    }
    memcpy(st->segs, p->text.v, st->nsegs * sizeof *st->segs);
    return true;
}

static void trim(const char **t, size_t *n)
{
    while (*n > 0 && (**t == ' ' || **t == '\t')) {
        (*t)++;
        (*n)--;
    }
    while (*n > 0 && ((*t)[*n - 1] == ' ' || (*t)[*n - 1] == '\t'))
        (*n)--;
}

static bool is_text(const char *t, size_t n, const char *what)
{
    return strlen(what) == n && memcmp(t, what, n) == 0;
}

static bool starts(const char *t, size_t n, const char *what)
{
    size_t w = strlen(what);
    return n >= w && memcmp(t, what, w) == 0;
}

static bool server_line(parser *p, const char *src, size_t srclen, const char *t, size_t n)
{
    if (p->optional_line != 0)
        return fail(p,
                    "the !optional of line %u applies to the next C: line: expected a C: "
                    "line, not an S: line",
                    p->optional_line);
    /* RFC 1939 section 10 pseudo-lines. */
    if (starts(t, n, "<wait for next connection")) return new_session(p);
    if (starts(t, n, "<wait for connection")) return true;
    pop3mock__step *st = add_step(p, POP3MOCK__STEP_SEND, src, srclen);
    if (st == NULL) return false;
    bool ok = parse_text(p, t, n, false, true, &st->crlf, false) && keep_segs(p, st);
    p->split_line = 0;
    return ok;
}

static bool client_line(parser *p, const char *src, size_t srclen, char how, const char *t,
                        size_t n)
{
    if (p->split_line != 0)
        return fail(p,
                    "the !split of line %u applies to the next S: line: expected an S: line "
                    "before this C: line",
                    p->split_line);
    if (is_text(t, n, "<open connection>")) return true;
    if (p->optional_line != 0 && is_text(t, n, "<close connection>"))
        return fail(p,
                    "the !optional of line %u applies to a command: expected a C: line with "
                    "a command, not <close connection>",
                    p->optional_line);
    if (is_text(t, n, "<close connection>"))
        return add_step(p, POP3MOCK__STEP_EXPECT_EOF, src, srclen) != NULL;
    pop3mock__step *st = add_step(p, POP3MOCK__STEP_EXPECT, src, srclen);
    if (st == NULL) return false;
    st->optional = p->optional_line != 0;
    p->optional_line = 0;
    st->match = how == '='   ? POP3MOCK__MATCH_EXACT
                : how == '~' ? POP3MOCK__MATCH_NOCASE
                             : POP3MOCK__MATCH_KEYWORD;
    bool ok = parse_text(p, t, n, true, false, NULL, true) && keep_segs(p, st);
    /* A skipped line captures nothing, so a later {name} would have no value. */
    if (ok && st->optional && p->ncaps > 0)
        ok = fail(p,
                  "an !optional C: line cannot capture {%s:...}: expected a line without "
                  "captures",
                  p->caps[0]);
    /* Captures become defined once the line has matched: usable from the next line. */
    for (size_t i = 0; ok && i < p->ncaps; i++)
        ok = define(p, p->caps[i]);
    if (ok && st->nsegs > 0 && st->segs[0].kind == POP3MOCK__SEG_LITERAL) {
        const char *sp = memchr(st->segs[0].text, ' ', st->segs[0].len);
        st->keyword_len = sp != NULL ? (size_t)(sp - st->segs[0].text) : st->segs[0].len;
    }
    return ok;
}

/* A decimal in [lo, hi], whole string (pop3_parse_number: digits only, 64 bits). */
static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v = 0;
    if (s == NULL || pop3_parse_number(s, strlen(s), &v) != POP3_OK || v < lo || v > hi)
        return false;
    *out = (unsigned)v;
    return true;
}

#define DIRECTIVES                                                                        \
    "!session !delay !drip !split !flush !close !reset !half-close !close-after !stall "  \
    "!starttls !implicit-tls !tls-abort !tls-garbage !tls-alert !tls-truncate !tls-cert " \
    "!tls-max !secret !set !optional"

/* RFC 8446 section 6 (and RFC 5246 section 7.2) alert descriptions a script may name. */
static const struct {
    const char *name;
    unsigned value;
} alerts[] = {
    {"unexpected_message", 10},    {"bad_record_mac", 20},
    {"handshake_failure", 40},     {"bad_certificate", 42},
    {"certificate_expired", 45},   {"certificate_unknown", 46},
    {"illegal_parameter", 47},     {"unknown_ca", 48},
    {"access_denied", 49},         {"decode_error", 50},
    {"decrypt_error", 51},         {"protocol_version", 70},
    {"insufficient_security", 71}, {"internal_error", 80},
    {"unrecognized_name", 112},    {"no_application_protocol", 120},
};

/* What !tls-garbage sends when no text is given: plain text where a ServerHello
 * belongs, as a server that does not speak TLS on this port would answer. */
#define DEFAULT_GARBAGE "-ERR this is not TLS\r\n"

/* "FILE" relative to the folder of the script `p->name` (absolute names stay as they
 * are), in the script's arena. */
static char *resolve(parser *p, const char *file)
{
    const char *slash = strrchr(p->name, '/');
    size_t dlen = file[0] == '/' || slash == NULL ? 0 : (size_t)(slash - p->name) + 1;
    size_t flen = strlen(file);
    char *path = pop3mock__arena_alloc(&p->sc->arena, dlen + flen + 1);
    if (path == NULL) return NULL;
    memcpy(path, p->name, dlen);
    memcpy(path + dlen, file, flen + 1);
    return path;
}

/* !tls-cert CERT [KEY]: the certificate of every handshake from here on. */
static bool tls_cert(parser *p, char **w, size_t nw)
{
    if (nw != 2 && nw != 3)
        return fail(p, "!tls-cert: expected a PEM certificate file and optionally its key file, "
                       "relative to the script's folder (\"!tls-cert server.pem server.key\")");
    int rc = POP3_OK;
    pop3mock__script_cert *nc =
        pop3_array_grow(p->sc->certs, &p->sc->certcap, p->sc->ncerts + 1, sizeof *nc, 2, 0, &rc);
    if (nc == NULL) return fail(p, "%s", pop3_strerror(rc));
    p->sc->certs = nc;
    pop3mock__script_cert *c = &nc[p->sc->ncerts];
    c->line = p->line;
    c->cert = resolve(p, w[1]);
    c->key = nw == 3 ? resolve(p, w[2]) : NULL;
    if (c->cert == NULL || (nw == 3 && c->key == NULL)) return fail(p, "out of memory");
    p->sc->ncerts++;
    p->cert = c->cert;
    p->key = c->key;
    return true;
}

/* !tls-max VERSION: the highest TLS version of every handshake from here on. */
static bool tls_max(parser *p, char **w, size_t nw)
{
    static const struct {
        const char *name;
        unsigned version;
    } versions[] = {{"1.0", POP3MOCK_TLS_1_0},
                    {"1.1", POP3MOCK_TLS_1_1},
                    {"1.2", POP3MOCK_TLS_1_2},
                    {"1.3", POP3MOCK_TLS_1_3},
                    {"off", 0}};
    for (size_t i = 0; nw == 2 && i < sizeof versions / sizeof versions[0]; i++) {
        if (strcmp(w[1], versions[i].name) == 0) {
            p->tls_max = versions[i].version;
            return true;
        }
    }
    return fail(p, "!tls-max: expected 1.0, 1.1, 1.2, 1.3, or off for the server's own setting");
}

/* !tls-garbage [TEXT]: the octets of TEXT (escapes decoded) instead of a ServerHello. */
static bool tls_garbage(parser *p, pop3mock__step *st, const char *text, size_t len)
{
    if (len == 0) {
        text = DEFAULT_GARBAGE;
        len = strlen(DEFAULT_GARBAGE);
    }
    bool ok = parse_text(p, text, len, false, false, NULL, false);
    const segs sg = p->text;
    size_t total = 0;
    for (size_t i = 0; ok && i < sg.n; i++) {
        if (sg.v[i].kind != POP3MOCK__SEG_LITERAL)
            ok = fail(p, "!tls-garbage: {%s} cannot be used here: expected octets and escapes",
                      sg.v[i].name);
        else
            total += sg.v[i].len;
    }
    if (ok && (st->octets = pop3mock__arena_alloc(&p->sc->arena, total)) == NULL)
        ok = fail(p, "out of memory");
    for (size_t i = 0, k = 0; ok && i < sg.n; k += sg.v[i].len, i++)
        memcpy(st->octets + k, sg.v[i].text, sg.v[i].len);
    if (ok) {
        st->tls.garbage.ptr = st->octets;
        st->tls.garbage.len = total;
    }
    return ok;
}

/* The TLS directives; `copy` holds `t` split into the words `w`. */
static bool tls_directive(parser *p, const char *src, size_t srclen, const char *t, size_t n,
                          const char *copy, char **w, size_t nw)
{
    const char *d = w[0];
    if (strcmp(d, "!tls-cert") == 0) return tls_cert(p, w, nw);
    if (strcmp(d, "!tls-max") == 0) return tls_max(p, w, nw);
    pop3mock_tls_plan plan = tls_plan(p);
    unsigned a = 0;
    if (strcmp(d, "!tls-abort") == 0) {
        if (nw != 2 || !parse_uint(w[1], 1, POP3MOCK_TLS_FAULT_MAX, &a))
            return fail(p, "!tls-abort: expected a number of octets");
        plan.fault = POP3MOCK_TLS_ABORT;
        plan.n = a;
    } else if (strcmp(d, "!tls-alert") == 0) {
        bool found = nw == 1;
        a = 40; /* handshake_failure: what a server with nothing in common answers */
        for (size_t i = 0; nw == 2 && !found && i < sizeof alerts / sizeof alerts[0]; i++)
            if (strcmp(w[1], alerts[i].name) == 0) {
                a = alerts[i].value;
                found = true;
            }
        if (nw > 2 || (!found && !parse_uint(w[1], 0, 255, &a)))
            return fail(p, "!tls-alert: expected an alert description: a number (0..255) or a "
                           "name such as handshake_failure, protocol_version, internal_error");
        plan.fault = POP3MOCK_TLS_ALERT;
        plan.n = a;
    } else if (strcmp(d, "!tls-truncate") == 0) {
        if (nw < 2 || nw > 3 || !parse_uint(w[1], 0, POP3MOCK_TLS_FAULT_MAX, &a) ||
            (nw == 3 && strcmp(w[2], "stall") != 0))
            return fail(p, "!tls-truncate: expected the octets of the server's handshake to "
                           "send, then optionally \"stall\" (\"!tls-truncate 100 stall\")");
        plan.fault = POP3MOCK_TLS_TRUNCATE;
        plan.n = a;
        plan.stall = nw == 3;
    } else if (strcmp(d, "!tls-garbage") == 0) {
        plan.fault = POP3MOCK_TLS_GARBAGE;
    } else {
        return fail(p, "unknown directive \"%s\": expected one of " DIRECTIVES, d);
    }
    pop3mock__step *st = add_step(p, POP3MOCK__STEP_TLS_FAULT, src, srclen);
    if (st == NULL) return false;
    st->tls = plan;
    if (plan.fault == POP3MOCK_TLS_GARBAGE) {
        /* The text is the rest of the line after the directive, spaces included. */
        const char *rest = nw > 1 ? t + (w[1] - copy) : t + n;
        if (!tls_garbage(p, st, rest, (size_t)(t + n - rest))) return false;
    }
    /* A handshake that fails ends the connection. */
    p->closed = true;
    p->closed_line = p->line;
    return true;
}

static bool directive(parser *p, const char *src, size_t srclen, const char *t, size_t n)
{
    /* Split into words (a copy in the work space, NUL-terminated). */
    int rc = POP3_OK;
    char *copy = pop3_array_grow(p->words, &p->words_cap, n + 1, 1, 64, 0, &rc);
    if (copy == NULL) return fail(p, "%s", pop3_strerror(rc));
    p->words = copy;
    memcpy(copy, t, n);
    copy[n] = '\0';
    char *w[MAX_WORDS];
    size_t nw = 0;
    for (char *q = copy; *q != '\0' && nw < MAX_WORDS;) {
        while (*q == ' ' || *q == '\t')
            *q++ = '\0';
        if (*q == '\0') break;
        w[nw++] = q;
        while (*q != '\0' && *q != ' ' && *q != '\t')
            q++;
    }
    bool ok = true;
    const char *d = nw > 0 ? w[0] : "!";
    pop3mock__step *st = NULL;
    unsigned a = 0, b = 0;
    if (p->optional_line != 0) {
        ok = fail(p,
                  "the !optional of line %u applies to the next C: line: expected a C: line, "
                  "not %s",
                  p->optional_line, d);
    } else if (strcmp(d, "!optional") == 0) {
        if (nw != 1)
            ok = fail(p, "!optional takes no argument: it marks the C: line after it");
        else
            p->optional_line = p->line;
    } else if (strcmp(d, "!session") == 0) {
        ok = nw == 1 ? new_session(p) : fail(p, "!session takes no argument");
    } else if (strcmp(d, "!delay") == 0) {
        if (nw != 2 || !parse_uint(w[1], 0, MAX_MS, &a))
            ok = fail(p, "!delay: expected a pause in milliseconds (0..%u)", MAX_MS);
        else if ((st = add_step(p, POP3MOCK__STEP_DELAY, src, srclen)) != NULL)
            st->ms = a;
    } else if (strcmp(d, "!drip") == 0) {
        if (nw == 2 && strcmp(w[1], "off") == 0) {
            if ((st = add_step(p, POP3MOCK__STEP_DRIP, src, srclen)) != NULL) st->n = 0;
        } else if (nw != 3 || !parse_uint(w[1], 1, 1u << 20, &a) ||
                   !parse_uint(w[2], 0, MAX_MS, &b)) {
            ok = fail(p, "!drip: expected octets per write (1..1048576) and a pause in "
                         "milliseconds, or \"off\"");
        } else if ((st = add_step(p, POP3MOCK__STEP_DRIP, src, srclen)) != NULL) {
            st->n = a;
            st->ms = b;
        }
    } else if (strcmp(d, "!split") == 0) {
        size_t noff = nw - 1;
        unsigned wait = 0;
        if (nw >= 3 && strcmp(w[nw - 2], "wait") == 0) {
            if (!parse_uint(w[nw - 1], 0, MAX_MS, &wait)) ok = false;
            noff -= 2;
        }
        unsigned *offs =
            noff > 0 ? pop3mock__arena_alloc(&p->sc->arena, noff * sizeof *offs) : NULL;
        unsigned prev = 0;
        for (size_t i = 0; ok && i < noff; i++)
            if (!parse_uint(w[1 + i], prev + 1, 1u << 30, &offs[i]))
                ok = false;
            else
                prev = offs[i];
        if (!ok || noff == 0 || offs == NULL) {
            ok = fail(p, "!split: expected increasing octet offsets into the next S: line "
                         "(\"!split 1 5\"), optionally \"wait MS\" between the pieces");
        } else if ((st = add_step(p, POP3MOCK__STEP_SPLIT, src, srclen)) != NULL) {
            st->offsets = offs;
            st->noffsets = noff;
            st->ms = wait;
            p->split_line = p->line;
        }
    } else if (strcmp(d, "!flush") == 0 || strcmp(d, "!close") == 0 || strcmp(d, "!reset") == 0 ||
               strcmp(d, "!half-close") == 0 || strcmp(d, "!stall") == 0 ||
               strcmp(d, "!starttls") == 0 || strcmp(d, "!implicit-tls") == 0) {
        pop3mock__step_kind k = strcmp(d, "!flush") == 0        ? POP3MOCK__STEP_FLUSH
                                : strcmp(d, "!close") == 0      ? POP3MOCK__STEP_CLOSE
                                : strcmp(d, "!reset") == 0      ? POP3MOCK__STEP_RESET
                                : strcmp(d, "!half-close") == 0 ? POP3MOCK__STEP_HALF_CLOSE
                                : strcmp(d, "!stall") == 0      ? POP3MOCK__STEP_STALL
                                                                : POP3MOCK__STEP_STARTTLS;
        if (nw != 1) {
            ok = fail(p, "%s takes no argument", d);
        } else if (strcmp(d, "!implicit-tls") == 0 && p->sc->nsessions > 0 &&
                   current(p)->nsteps > 0) {
            ok = fail(p, "!implicit-tls must come first in a session (the handshake precedes "
                         "the greeting): expected it before any S: or C: line");
        } else if ((st = add_step(p, k, src, srclen)) == NULL) {
            ok = false;
        } else if (k == POP3MOCK__STEP_CLOSE || k == POP3MOCK__STEP_RESET ||
                   k == POP3MOCK__STEP_STALL) {
            p->closed = true;
            p->closed_line = p->line;
        } else if (k == POP3MOCK__STEP_STARTTLS) {
            st->tls = tls_plan(p);
        }
    } else if (strcmp(d, "!close-after") == 0) {
        /* close-after lets later S: lines provide the octets it cuts. */
        if (nw != 2 || !parse_uint(w[1], 0, 1u << 30, &a))
            ok = fail(p, "%s: expected a number of octets", d);
        else if ((st = add_step(p, POP3MOCK__STEP_CLOSE_AFTER, src, srclen)) != NULL)
            st->n = a;
    } else if (strncmp(d, "!tls-", 5) == 0) {
        ok = tls_directive(p, src, srclen, t, n, copy, w, nw);
    } else if (strcmp(d, "!secret") == 0) {
        if (nw < 3) {
            ok = fail(p, "!secret: expected a user name and a secret (\"!secret mrose tanstaaf\")");
        } else {
            /* The secret is the rest of the line, spaces included, as a PASS argument. */
            const char *rest = t + (w[2] - copy);
            size_t rlen = n - (size_t)(w[2] - copy);
            /* A later !secret replaces this one; the old strings stay in the arena. */
            p->sc->user = dup_mem(p, w[1], strlen(w[1]));
            p->sc->secret = dup_mem(p, rest, rlen);
            if (p->sc->user == NULL || p->sc->secret == NULL) ok = fail(p, "out of memory");
        }
    } else if (strcmp(d, "!set") == 0) {
        if (nw < 2 || !valid_name(w[1], strlen(w[1])) || pop3mock__builtin(w[1])) {
            ok = fail(p, "!set: expected a variable name (letters, digits, _ and -, not a "
                         "builtin) and a value");
        } else if ((st = add_step(p, POP3MOCK__STEP_SET, src, srclen)) != NULL) {
            st->name = dup_mem(p, w[1], strlen(w[1]));
            const char *rest = nw > 2 ? t + (w[2] - copy) : t + n;
            size_t rlen = (size_t)(t + n - rest);
            ok = st->name != NULL && parse_text(p, rest, rlen, false, false, NULL, false) &&
                 keep_segs(p, st);
            if (ok) ok = define(p, st->name);
        }
    } else {
        ok = fail(p, "unknown directive \"%s\": expected one of " DIRECTIVES, d);
    }
    return ok && !p->failed;
}

static bool parse_line(parser *p, const char *src, size_t n)
{
    const char *t = src;
    size_t len = n;
    trim(&t, &len);
    if (len == 0 || t[0] == '#') return true;
    if (len >= 2 && t[0] == 'S' && t[1] == ':') {
        const char *rest = t + 2;
        size_t rlen = len - 2;
        trim(&rest, &rlen);
        return server_line(p, t, len, rest, rlen);
    }
    if (len >= 2 && t[0] == 'C' && (t[1] == ':' || t[1] == '=' || t[1] == '~')) {
        const char *rest = t + 2;
        size_t rlen = len - 2;
        trim(&rest, &rlen);
        return client_line(p, t, len, t[1], rest, rlen);
    }
    if (t[0] == '!') return directive(p, t, len, t, len);
    return fail(p,
                "expected \"S:\", \"C:\", \"C=\", \"C~\", a !directive or a # comment, got "
                "\"%.*s\"",
                (int)(len > 40 ? 40 : len), t);
}

void pop3mock_script_options_default(pop3mock_script_options *opt)
{
    opt->max_steps = SCRIPT_MAX_STEPS;
}

/* Where each optional exchange ends: past the S: lines (and the pacing directives
 * among them) that answer its C: line. What comes next must be a C: line: a client
 * that leaves the exchange out has sent that line instead. */
static void optional_ends(parser *p)
{
    for (size_t s = 0; s < p->sc->nsessions && !p->failed; s++) {
        pop3mock__script_session *ss = &p->sc->sessions[s];
        for (size_t i = 0; i < ss->nsteps && !p->failed; i++) {
            pop3mock__step *st = &ss->steps[i];
            if (!st->optional) continue;
            size_t j = i + 1;
            while (j < ss->nsteps && (ss->steps[j].kind == POP3MOCK__STEP_SEND ||
                                      ss->steps[j].kind == POP3MOCK__STEP_FLUSH ||
                                      ss->steps[j].kind == POP3MOCK__STEP_SPLIT ||
                                      ss->steps[j].kind == POP3MOCK__STEP_DELAY))
                j++;
            st->skip_to = j;
            if (j == ss->nsteps || (ss->steps[j].kind != POP3MOCK__STEP_EXPECT &&
                                    ss->steps[j].kind != POP3MOCK__STEP_EXPECT_EOF)) {
                p->line = j < ss->nsteps ? ss->steps[j].line : st->line;
                fail(p,
                     "the optional exchange of line %u must be followed by a C: line (what a "
                     "client that leaves it out sends next): expected a C: line here",
                     st->line);
            }
        }
    }
}

pop3mock_script *pop3mock_script_parse(const char *name, const char *text, size_t len, char *err,
                                       size_t errlen)
{
    return pop3mock_script_parse_with(name, text, len, NULL, err, errlen);
}

pop3mock_script *pop3mock_script_parse_with(const char *name, const char *text, size_t len,
                                            const pop3mock_script_options *opt, char *err,
                                            size_t errlen)
{
    parser p = {.name = name, .err = err, .errlen = errlen};
    p.max_steps = opt != NULL && opt->max_steps != 0 ? opt->max_steps : SCRIPT_MAX_STEPS;
    /* The script is the first piece of its own arena: one allocation fewer per parse. */
    pop3mock__arena arena = {0};
    p.sc = pop3mock__arena_alloc(&arena, sizeof *p.sc);
    if (p.sc != NULL) {
        memset(p.sc, 0, sizeof *p.sc);
        p.sc->arena = arena;
    }
    if (p.sc == NULL || (p.sc->name = dup_mem(&p, name, strlen(name))) == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        pop3mock_script_free(p.sc);
        return NULL;
    }
    size_t i = 0;
    while (i < len && !p.failed) {
        const char *lf = memchr(text + i, '\n', len - i);
        size_t end = lf != NULL ? (size_t)(lf - text) : len;
        size_t n = end - i;
        if (n > 0 && text[i + n - 1] == '\r') n--;
        p.line++;
        parse_line(&p, text + i, n);
        i = end + 1;
    }
    if (!p.failed && p.split_line != 0) {
        p.line = p.split_line;
        fail(&p, "!split applies to the next S: line: expected an S: line after it");
    }
    if (!p.failed && p.optional_line != 0) {
        p.line = p.optional_line;
        fail(&p, "!optional applies to the next C: line: expected a C: line after it");
    }
    if (!p.failed) optional_ends(&p);
    /* A trailing "<wait for next connection>" or !session leaves an empty session. */
    if (!p.failed && p.sc->nsessions > 0 && p.sc->sessions[p.sc->nsessions - 1].nsteps == 0)
        p.sc->nsessions--;
    if (!p.failed && p.sc->nsessions == 0) {
        p.line = p.line == 0 ? 1 : p.line;
        fail(&p, "the script has no S: or C: line: expected a dialogue");
    }
    free(p.defined);
    free(p.text.v);
    free(p.text.lit);
    free(p.caps);
    free(p.words);
    if (p.failed) {
        pop3mock_script_free(p.sc);
        return NULL;
    }
    return p.sc;
}

pop3mock_script *pop3mock_script_load(const char *path, char *err, size_t errlen)
{
    return pop3mock_script_load_with(path, NULL, err, errlen);
}

pop3mock_script *pop3mock_script_load_with(const char *path, const pop3mock_script_options *opt,
                                           char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pop3_buf buf;
    pop3_buf_init(&buf, SCRIPT_MAX_OCTETS);
    char chunk[65536];
    size_t n;
    int rc = POP3_OK;
    while (rc == POP3_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = pop3_buf_append(&buf, chunk, n);
    bool rerr = ferror(f) != 0;
    fclose(f);
    if (rc != POP3_OK || rerr) {
        if (rc == POP3_ELIMIT)
            snprintf(err, errlen, "%s: larger than %u octets", path, SCRIPT_MAX_OCTETS);
        else if (rc != POP3_OK)
            snprintf(err, errlen, "%s: %s", path, pop3_strerror(rc));
        else
            snprintf(err, errlen, "%s: read error", path);
        pop3_buf_free(&buf);
        return NULL;
    }
    pop3mock_script *sc =
        pop3mock_script_parse_with(path, buf.ptr != NULL ? buf.ptr : "", buf.len, opt, err, errlen);
    pop3_buf_free(&buf);
    return sc;
}
