/*
 * client_buffered.c - poplib's return shape, (response, lines, octets), built on the
 * streaming calls.
 *
 * RFC 1939 section 3: the body arrives un-stuffed from the decoder; here it is kept in
 * one block (up to max_buffered octets, so a hostile or huge message cannot exhaust
 * memory) and cut into lines at LF, the CRLF or bare LF (Q6) removed as poplib's
 * _getline does. poplib's octet count is each line as received with its line end, a
 * stuffing dot not counted and the terminator line excluded: exactly the number of body
 * octets the decoder hands out.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "pop3/buf.h"

typedef struct collector {
    pop3_lines *out;
    size_t max;
    bool over;
} collector;

static int collect(void *ud, const char *data, size_t len)
{
    collector *k = ud;
    pop3_lines *l = k->out;
    l->octets += len;
    if (len > k->max - l->store_len) {
        k->over = true;
        return POP3_ELIMIT;
    }
    /* One octet is kept spare for the NUL after a last line without a line end. */
    int rc = POP3_OK;
    char *p = pop3_array_grow(l->store, &l->store_cap, l->store_len + len + 1, 1, 4096, 0, &rc);
    if (p == NULL) return rc;
    l->store = p;
    memcpy(l->store + l->store_len, data, len);
    l->store_len += len;
    return POP3_OK;
}

/* Cut the block into lines; the line ends become NULs. */
static int split(pop3_lines *l, size_t max_lines)
{
    size_t n = 0;
    for (size_t i = 0; i < l->store_len; i++)
        if (l->store[i] == '\n') n++;
    if (l->store_len > 0 && l->store[l->store_len - 1] != '\n') n++;
    if (n > max_lines) return POP3_ELIMIT;
    if (n > 0) {
        l->lines = calloc(n, sizeof *l->lines);
        if (l->lines == NULL) return POP3_ENOMEM;
        l->lines_cap = n;
    }
    size_t start = 0;
    for (size_t i = 0; i <= l->store_len && l->count < n; i++) {
        if (i < l->store_len && l->store[i] != '\n') continue;
        size_t end = i;
        if (end > start && l->store[end - 1] == '\r') end--;
        l->store[end] = '\0'; /* the CR or the LF; store_cap > store_len leaves room */
        l->lines[l->count++] = (pop3_view){l->store + start, end - start};
        start = i + 1;
    }
    return POP3_OK;
}

void pop3_lines_free(pop3_lines *l)
{
    if (l == NULL) return;
    free(l->response);
    free(l->lines);
    free(l->store);
    memset(l, 0, sizeof *l);
}

static int buffered(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                    size_t max_lines, pop3_lines *out)
{
    memset(out, 0, sizeof *out);
    collector k = {out, c->opt.max_buffered, false};
    int rc = pop3__multi(c, keyword, args, nargs, collect, &k);
    if (c->resp[0]) {
        out->response = strdup(c->resp);
        if (out->response == NULL && rc == POP3_OK) rc = POP3_ENOMEM;
    }
    if (rc == POP3_ELIMIT && k.over)
        return pop3__fail(c, rc,
                          "%s: reply larger than max_buffered (%zu octets); the rest was read "
                          "and dropped",
                          keyword, c->opt.max_buffered);
    if (rc != POP3_OK) return rc == POP3_ENOMEM ? pop3__fail(c, rc, "out of memory") : rc;
    if (out->store == NULL) {
        out->store = malloc(1);
        if (out->store == NULL) return pop3__fail(c, POP3_ENOMEM, "out of memory");
        out->store_cap = 1;
        out->store[0] = '\0';
    }
    rc = split(out, max_lines);
    if (rc == POP3_ELIMIT)
        return pop3__fail(c, rc, "%s: more lines than max_listing (%zu)", keyword, max_lines);
    if (rc != POP3_OK) return pop3__fail(c, rc, "out of memory");
    return pop3__ok(c);
}

int pop3_retr_lines(pop3_client *c, uint64_t msg, pop3_lines *out)
{
    char num[24];
    pop3__u64(num, sizeof num, msg);
    const char *args[] = {num};
    return buffered(c, "RETR", args, 1, SIZE_MAX, out);
}

int pop3_top_lines(pop3_client *c, uint64_t msg, uint64_t lines, pop3_lines *out)
{
    char num[24], n[24];
    pop3__u64(num, sizeof num, msg);
    pop3__u64(n, sizeof n, lines);
    const char *args[] = {num, n};
    return buffered(c, "TOP", args, 2, SIZE_MAX, out);
}

int pop3_list_lines(pop3_client *c, pop3_lines *out)
{
    return buffered(c, "LIST", NULL, 0, c->opt.max_listing, out);
}

int pop3_uidl_lines(pop3_client *c, pop3_lines *out)
{
    return buffered(c, "UIDL", NULL, 0, c->opt.max_listing, out);
}
