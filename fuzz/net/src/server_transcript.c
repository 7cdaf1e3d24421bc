/*
 * server_transcript.c - pop3-fuzz server mode: sessions as lists of steps, the escaped
 * text form of a command line, its placeholders (RFC 1939 section 7 APOP digest, RFC 4616
 * PLAIN credentials for RFC 5034 AUTH) and the transcript file a finding is saved as.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/digest.h"
#include "pop3/error.h"
#include "server_fuzz.h"

void pop3fuzz_session_free(pop3fuzz_session *s)
{
    for (size_t k = 0; k < s->n; k++)
        free(s->v[k].text);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

bool pop3fuzz_session_insert(pop3fuzz_session *s, size_t at, pop3fuzz_step_kind kind,
                             const char *text, unsigned n)
{
    int rc;
    pop3fuzz_step *v = pop3_array_grow(s->v, &s->cap, s->n + 1, sizeof *v, 16, 0, &rc);
    if (v == NULL) return false;
    s->v = v;
    char *copy = NULL;
    if (text != NULL && (copy = strdup(text)) == NULL) return false;
    memmove(v + at + 1, v + at, (s->n - at) * sizeof *v);
    v[at] = (pop3fuzz_step){.kind = kind, .text = copy, .n = n};
    s->n++;
    return true;
}

bool pop3fuzz_session_push(pop3fuzz_session *s, pop3fuzz_step_kind kind, const char *text,
                           unsigned n)
{
    return pop3fuzz_session_insert(s, s->n, kind, text, n);
}

void pop3fuzz_session_remove(pop3fuzz_session *s, size_t at)
{
    free(s->v[at].text);
    memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof *s->v);
    s->n--;
}

void pop3fuzz_session_truncate(pop3fuzz_session *s, size_t keep)
{
    while (s->n > keep)
        pop3fuzz_session_remove(s, s->n - 1);
}

bool pop3fuzz_session_copy(pop3fuzz_session *dst, const pop3fuzz_session *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t k = 0; k < src->n; k++)
        if (!pop3fuzz_session_push(dst, src->v[k].kind, src->v[k].text, src->v[k].n)) {
            pop3fuzz_session_free(dst);
            return false;
        }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One placeholder between "{" and "}" (name, len). */
static int fill_placeholder(const char *name, size_t len, const pop3fuzz_fill *f, pop3_buf *out,
                            const char **why)
{
    const char *user = f->user ? f->user : "", *pw = f->password ? f->password : "";
    if (len == 4 && memcmp(name, "user", 4) == 0) return pop3_buf_append(out, user, strlen(user));
    if (len == 8 && memcmp(name, "password", 8) == 0) return pop3_buf_append(out, pw, strlen(pw));
    if (len == 4 && memcmp(name, "apop", 4) == 0) {
        char hex[POP3_MD5_HEX_SIZE];
        /* Without a timestamp the digest is of the secret alone: a wrong one, as it should. */
        const char *ts = f->timestamp ? f->timestamp : "";
        if (pop3_apop_digest(ts, strlen(ts), pw, strlen(pw), hex) != POP3_OK) {
            *why = "MD5 is not available";
            return POP3_EPROTO;
        }
        return pop3_buf_append(out, hex, strlen(hex));
    }
    if (len == 5 && memcmp(name, "plain", 5) == 0) {
        char raw[1100], b64[1500];
        size_t ul = strlen(user), pl = strlen(pw), bl;
        if (ul + pl + 2 > sizeof raw) return POP3_ELIMIT;
        raw[0] = '\0';
        memcpy(raw + 1, user, ul);
        raw[1 + ul] = '\0';
        memcpy(raw + 2 + ul, pw, pl);
        if (pop3_base64_encode(raw, ul + pl + 2, b64, sizeof b64, &bl) != POP3_OK)
            return POP3_ELIMIT;
        return pop3_buf_append(out, b64, bl);
    }
    if (len > 6 && memcmp(name, "rep:", 4) == 0) {
        /* {rep:N:HH} */
        char *end;
        char tmp[32];
        if (len - 4 >= sizeof tmp) goto bad;
        memcpy(tmp, name + 4, len - 4);
        tmp[len - 4] = '\0';
        errno = 0;
        unsigned long long n = strtoull(tmp, &end, 10);
        if (errno != 0 || end == tmp || *end != ':' || strlen(end) != 3) goto bad;
        int hi = hexval(end[1]), lo = hexval(end[2]);
        if (hi < 0 || lo < 0) goto bad;
        if (n > f->max || (out->limit != 0 && n > out->limit - out->len)) return POP3_ELIMIT;
        int rc = pop3_buf_reserve(out, (size_t)n);
        if (rc != POP3_OK) return rc;
        memset(out->ptr + out->len, hi * 16 + lo, (size_t)n);
        out->len += (size_t)n;
        out->ptr[out->len] = '\0';
        return POP3_OK;
    }
bad:
    *why = "unknown placeholder (use {user}, {password}, {apop}, {plain}, {rep:N:HH})";
    return POP3_EPROTO;
}

int pop3fuzz_expand(const char *text, const pop3fuzz_fill *f, pop3_buf *out, const char **why)
{
    for (const char *p = text; *p != '\0';) {
        int rc = POP3_OK;
        if (*p == '\\') {
            char c;
            switch (p[1]) {
            case '\\': c = '\\'; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = '\0'; break;
            case '{': c = '{'; break;
            case 'x': {
                int hi = hexval(p[2]), lo = hi < 0 ? -1 : hexval(p[3]);
                if (lo < 0) {
                    *why = "\\x needs two hex digits";
                    return POP3_EPROTO;
                }
                c = (char)(hi * 16 + lo);
                p += 2;
                break;
            }
            default: *why = "unknown escape"; return POP3_EPROTO;
            }
            rc = pop3_buf_putc(out, c);
            p += 2;
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close == NULL) {
                *why = "{ without }";
                return POP3_EPROTO;
            }
            rc = fill_placeholder(p + 1, (size_t)(close - p - 1), f, out, why);
            p = close + 1;
        } else {
            rc = pop3_buf_putc(out, *p++);
        }
        if (rc != POP3_OK) {
            if (rc == POP3_ELIMIT) *why = "the line is past the limit";
            return rc;
        }
    }
    return POP3_OK;
}

int pop3fuzz_escape(pop3_buf *out, const char *p, size_t len)
{
    int rc = POP3_OK;
    for (size_t k = 0; k < len && rc == POP3_OK; k++) {
        unsigned char c = (unsigned char)p[k];
        switch (c) {
        case '\\': rc = pop3_buf_append(out, "\\\\", 2); break;
        case '{': rc = pop3_buf_append(out, "\\{", 2); break;
        case '\r': rc = pop3_buf_append(out, "\\r", 2); break;
        case '\n': rc = pop3_buf_append(out, "\\n", 2); break;
        case '\t': rc = pop3_buf_append(out, "\\t", 2); break;
        case '\0': rc = pop3_buf_append(out, "\\0", 2); break;
        default:
            if (c < 0x20 || c > 0x7e)
                rc = pop3_buf_printf(out, "\\x%02x", c);
            else
                rc = pop3_buf_putc(out, (char)c);
        }
    }
    return rc;
}

static bool parse_count(const char *s, unsigned max, unsigned *out)
{
    char *end;
    if (*s < '0' || *s > '9') return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max) return false;
    *out = (unsigned)v;
    return true;
}

int pop3fuzz_transcript_read(const char *path, pop3fuzz_session *s, char *user, size_t userlen,
                             char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    memset(s, 0, sizeof *s);
    if (userlen > 0) user[0] = '\0';
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = 0;
    pop3fuzz_fill check = {.user = "u", .password = "p", .max = 0};
    while ((got = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if ((size_t)got > POP3FUZZ_SRV_TEXT_LINE) {
            snprintf(err, errlen, "%s:%zu: line too long", path, lineno);
            rc = -1;
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (strlen(line) != len) {
            snprintf(err, errlen, "%s:%zu: a NUL octet (write it as \\0)", path, lineno);
            rc = -1;
            break;
        }
        if (strncmp(line, "# user: ", 8) == 0 && userlen > 0) {
            snprintf(user, userlen, "%s", line + 8);
            continue;
        }
        if (len == 0 || line[0] == '#') continue;
        bool ok = true;
        unsigned n = 0;
        if (strncmp(line, "C: ", 3) == 0 || strncmp(line, "R: ", 3) == 0) {
            /* Check the escapes now, so that a bad file is a usage error, not a run. */
            pop3_buf b;
            pop3_buf_init(&b, 4096);
            const char *why = "";
            int e = pop3fuzz_expand(line + 3, &check, &b, &why);
            pop3_buf_free(&b);
            if (e == POP3_EPROTO) {
                snprintf(err, errlen, "%s:%zu: %s", path, lineno, why);
                rc = -1;
                break;
            }
            ok = pop3fuzz_session_push(s, line[0] == 'C' ? POP3FUZZ_STEP_CMD : POP3FUZZ_STEP_RAW,
                                       line + 3, 0);
        } else if (strncmp(line, "!burst ", 7) == 0 && parse_count(line + 7, 1024, &n) && n > 0) {
            ok = pop3fuzz_session_push(s, POP3FUZZ_STEP_BURST, NULL, n);
        } else if (strncmp(line, "!idle ", 6) == 0 && parse_count(line + 6, 3600000, &n)) {
            ok = pop3fuzz_session_push(s, POP3FUZZ_STEP_IDLE, NULL, n);
        } else if (strcmp(line, "!shutdown") == 0) {
            ok = pop3fuzz_session_push(s, POP3FUZZ_STEP_SHUTDOWN, NULL, 0);
        } else {
            snprintf(err, errlen,
                     "%s:%zu: not a step (C:, R:, !burst N, !idle MS, !shutdown or # comment)",
                     path, lineno);
            rc = -1;
            break;
        }
        if (!ok) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(fp);
    if (rc == 0 && s->n == 0) {
        snprintf(err, errlen, "%s: no steps", path);
        rc = -1;
    }
    if (rc != 0) pop3fuzz_session_free(s);
    return rc;
}
