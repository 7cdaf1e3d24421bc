/*
 * case_writer.c - a conformance case skeleton of a recorded session (see
 * case_writer.h). Each reply the tracker saw end becomes one `run:` step with its
 * results in the forms of conformance/README.md, "The operation language": the status
 * (`ok`, `err server`, `code NAME` for RFC 2449 section 8 / RFC 3206 codes), then
 * `cap`, `stat`, `msg`, `uid` and `body` lines.
 */
#define _POSIX_C_SOURCE 200809L
#include "case_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pop3/error.h"
#include "pop3/parse.h"

struct rec_case {
    char *path;
    unsigned number;
    char upstream[300];
    pop3_buf runs;    /* the `run:` steps so far */
    pop3_buf script;  /* the session's script text (the writer's mirror) */
    bool script_lost; /* the mirror overflowed */
    /* the reply in progress */
    pop3_buf results;
    pop3_buf body;
    uint64_t body_len;
    EVP_MD_CTX *md5;
    bool ok;
    bool is_continue;
};

/* A value as the case format writes it: plain when it is visible ASCII with single
 * inner spaces and no quote or backslash, otherwise quoted with C escapes. */
static void value(pop3_buf *b, const char *p, size_t n)
{
    bool plain = n > 0 && p[0] != ' ' && p[n - 1] != ' ';
    for (size_t i = 0; plain && i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '#' ||
            (c == ' ' && i > 0 && p[i - 1] == ' '))
            plain = false;
    }
    if (plain) {
        pop3_buf_append(b, p, n);
        return;
    }
    pop3_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\r': pop3_buf_append(b, "\\r", 2); break;
        case '\n': pop3_buf_append(b, "\\n", 2); break;
        case '\t': pop3_buf_append(b, "\\t", 2); break;
        case '"': pop3_buf_append(b, "\\\"", 2); break;
        case '\\': pop3_buf_append(b, "\\\\", 2); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                pop3_buf_printf(b, "\\x%02x", c);
            else
                pop3_buf_putc(b, (char)c);
        }
    }
    pop3_buf_putc(b, '"');
}

rec_case *rec_case_begin(rec_writer *w, const char *path, unsigned number, const char *upstream)
{
    rec_case *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    size_t n = strlen(path) + 16;
    c->path = malloc(n);
    c->md5 = EVP_MD_CTX_new();
    if (c->path == NULL || c->md5 == NULL) {
        free(c->path);
        EVP_MD_CTX_free(c->md5);
        free(c);
        return NULL;
    }
    if (number > 1)
        snprintf(c->path, n, "%s.%u", path, number);
    else
        snprintf(c->path, n, "%s", path);
    c->number = number;
    snprintf(c->upstream, sizeof c->upstream, "%s", upstream);
    pop3_buf_init(&c->script, REC_REPLAYABLE_OCTETS);
    w->mirror = &c->script;
    return c;
}

static void on_status(void *ctx, const rec_pending *p, const pop3_status_line *st)
{
    (void)p;
    rec_case *c = ctx;
    pop3_buf_reset(&c->results);
    pop3_buf_reset(&c->body);
    c->body_len = 0;
    EVP_DigestInit_ex(c->md5, EVP_md5(), NULL);
    c->is_continue = st->kind == POP3_STATUS_CONTINUE;
    c->ok = st->kind == POP3_STATUS_OK;
    if (c->is_continue) return;
    if (!c->ok) {
        pop3_buf_append(&c->results, "  err server\n", 13);
        if (st->code == POP3_CODE_OTHER)
            pop3_buf_printf(&c->results, "  code %.*s\n", (int)st->code_text.len,
                            st->code_text.ptr);
        else if (st->code != POP3_CODE_NONE)
            pop3_buf_printf(&c->results, "  code %s\n", pop3_resp_code_name(st->code));
        return;
    }
    pop3_buf_append(&c->results, "  ok\n", 5);
    if (p->id == POP3_CMD_STAT) {
        uint64_t count = 0, size = 0;
        if (pop3_parse_stat(st->text.ptr, st->text.len, &count, &size, NULL) == POP3_OK)
            pop3_buf_printf(&c->results, "  stat %llu %llu\n", (unsigned long long)count,
                            (unsigned long long)size);
    } else if ((p->id == POP3_CMD_LIST || p->id == POP3_CMD_UIDL) &&
               p->expect == POP3_EXPECT_SINGLE) {
        uint64_t n = 0, size = 0;
        pop3_view uid = {0};
        if (p->id == POP3_CMD_LIST &&
            pop3_parse_scan(st->text.ptr, st->text.len, &n, &size, NULL) == POP3_OK)
            pop3_buf_printf(&c->results, "  msg %llu %llu\n", (unsigned long long)n,
                            (unsigned long long)size);
        if (p->id == POP3_CMD_UIDL &&
            pop3_parse_uidl(st->text.ptr, st->text.len, &n, &uid, NULL) == POP3_OK) {
            pop3_buf_printf(&c->results, "  uid %llu ", (unsigned long long)n);
            value(&c->results, uid.ptr, uid.len);
            pop3_buf_putc(&c->results, '\n');
        }
    }
}

static void on_line(void *ctx, const rec_pending *p, const char *line, size_t len)
{
    rec_case *c = ctx;
    uint64_t n = 0, size = 0;
    pop3_view uid = {0};
    if (p->id == POP3_CMD_CAPA) {
        pop3_buf_append(&c->results, "  cap ", 6);
        value(&c->results, line, len);
        pop3_buf_putc(&c->results, '\n');
    } else if (p->id == POP3_CMD_LIST && pop3_parse_scan(line, len, &n, &size, NULL) == POP3_OK) {
        pop3_buf_printf(&c->results, "  msg %llu %llu\n", (unsigned long long)n,
                        (unsigned long long)size);
    } else if (p->id == POP3_CMD_UIDL && pop3_parse_uidl(line, len, &n, &uid, NULL) == POP3_OK) {
        pop3_buf_printf(&c->results, "  uid %llu ", (unsigned long long)n);
        value(&c->results, uid.ptr, uid.len);
        pop3_buf_putc(&c->results, '\n');
    }
}

static void on_data(void *ctx, const rec_pending *p, const char *data, size_t len)
{
    (void)p;
    rec_case *c = ctx;
    EVP_DigestUpdate(c->md5, data, len);
    if (c->body_len <= REC_CASE_BODY_SHOW) {
        size_t room = REC_CASE_BODY_SHOW + 1 - (size_t)c->body_len;
        pop3_buf_append(&c->body, data, len < room ? len : room);
    }
    c->body_len += len;
}

/* The `run:` operation of a command as recorded (its label: secrets are "*"). */
static void operation(rec_case *c, const rec_pending *p)
{
    pop3_buf *r = &c->runs;
    const char *l = p->label;
    const char *arg = strchr(l, ' ');
    arg = arg != NULL ? arg + 1 : "";
    switch (p->id) {
    case POP3_CMD_UNKNOWN:
        if (p->expect == POP3_EXPECT_GREETING) {
            pop3_buf_printf(r, "run: connect\n");
            return;
        }
        pop3_buf_printf(r, "# the client sent \"%s\": no operation of the case language\n", l);
        pop3_buf_printf(r, "run: raw %s\n", l);
        return;
    case POP3_CMD_PASS: pop3_buf_printf(r, "run: pass secret\n"); return;
    case POP3_CMD_APOP: {
        const char *sp = strchr(arg, ' ');
        pop3_buf_printf(r, "run: apop %.*s secret\n",
                        (int)(sp != NULL ? (size_t)(sp - arg) : strlen(arg)), arg);
        return;
    }
    case POP3_CMD_AUTH:
        pop3_buf_printf(r,
                        "# the client authenticated with \"%s\": fill in the operation, such as\n"
                        "# \"auth MECH USER SECRET\" (the dialogue accepts any credentials)\n"
                        "run: auth %s user secret\n",
                        l, arg[0] != '\0' ? arg : "PLAIN");
        return;
    default: {
        /* Lower-case keyword, arguments as sent. */
        pop3_buf_append(r, "run: ", 5);
        for (const char *q = l; *q != '\0' && *q != ' '; q++)
            pop3_buf_putc(r, (char)(*q >= 'A' && *q <= 'Z' ? *q - 'A' + 'a' : *q));
        if (arg[0] != '\0') pop3_buf_printf(r, " %s", arg);
        pop3_buf_putc(r, '\n');
    }
    }
}

static void on_end(void *ctx, const rec_pending *p)
{
    rec_case *c = ctx;
    if (c->is_continue) return;
    operation(c, p);
    pop3_buf_append(&c->runs, c->results.ptr != NULL ? c->results.ptr : "", c->results.len);
    if (c->ok && (p->id == POP3_CMD_RETR || p->id == POP3_CMD_TOP)) {
        if (c->body_len <= REC_CASE_BODY_SHOW) {
            pop3_buf_append(&c->runs, "  body ", 7);
            value(&c->runs, c->body.ptr != NULL ? c->body.ptr : "", c->body.len);
            pop3_buf_putc(&c->runs, '\n');
        } else {
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned mdlen = 0;
            EVP_DigestFinal_ex(c->md5, md, &mdlen);
            pop3_buf_printf(&c->runs, "  body-md5 %llu ", (unsigned long long)c->body_len);
            for (unsigned i = 0; i < mdlen; i++)
                pop3_buf_printf(&c->runs, "%02x", md[i]);
            pop3_buf_putc(&c->runs, '\n');
        }
    }
    pop3_buf_reset(&c->results);
}

static const rec_track_hooks hooks = {on_status, on_line, on_data, on_end};

const rec_track_hooks *rec_case_hooks(void)
{
    return &hooks;
}

static void case_free(rec_case *c)
{
    pop3_buf_free(&c->runs);
    pop3_buf_free(&c->script);
    pop3_buf_free(&c->results);
    pop3_buf_free(&c->body);
    EVP_MD_CTX_free(c->md5);
    free(c->path);
    free(c);
}

int rec_case_finish(rec_case *c, rec_writer *w, char *err, size_t errlen)
{
    bool lost = w->mirror == NULL;
    w->mirror = NULL;
    int rc = 0;
    if (lost) {
        snprintf(err, errlen, "%s: the session is larger than a case can hold (%u octets)", c->path,
                 REC_REPLAYABLE_OCTETS);
        case_free(c);
        return -1;
    }
    FILE *f = fopen(c->path, "wb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", c->path, strerror(errno));
        case_free(c);
        return -1;
    }
    fprintf(f,
            "# Recorded by pop3-record from %s (session %u). A skeleton: check the steps,\n"
            "# fill in title, section and covers, say why the case expects what it does.\n"
            "title:   recorded session %u of %s\n"
            "section: RFC 1939\n"
            "covers:  \n\n",
            c->upstream, c->number, c->number, c->upstream);
    fwrite(c->runs.ptr != NULL ? c->runs.ptr : "", 1, c->runs.len, f);
    fputs("\ndialogue:\n", f);
    fwrite(c->script.ptr != NULL ? c->script.ptr : "", 1, c->script.len, f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad != 0) {
        snprintf(err, errlen, "cannot write %s: %s", c->path, strerror(errno));
        rc = -1;
    }
    case_free(c);
    return rc;
}
