/*
 * capa.c - the capability list of a CAPA response (pop3/parse.h).
 *
 * Implements RFC 2449 section 5 (CAPA: one capability per line, a capa-tag and its
 * parameters; tags are case-insensitive) and the parameter lists of RFC 2449 section 6
 * (e.g. "EXPIRE 5 USER", "LOGIN-DELAY 900") and RFC 5034 section 3 ("SASL PLAIN
 * DIGEST-MD5"). RFC2595-4.7 / RFC5034-4.13: after STLS or a SASL security layer the
 * caller forgets the list with pop3_capa_clear and asks again.
 *
 * Storage: every line is copied into one growing character store; the names and
 * parameters are views into it, and the parameter views of all capabilities share one
 * array. When either block has to grow, it is copied to a new block and every view is
 * moved over before the old block is freed, so views handed out stay consistent.
 */
#include "pop3/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"

/* Far more than any real server lists (the RFC 2449 example has 9 lines). */
#define CAPA_DEFAULT_MAX_CAPS 256u

#define CAPA_MIN_CAPS   16u
#define CAPA_MIN_PARAMS 32u
#define CAPA_MIN_STORE  512u /* RFC2449-5.5: one capability line is at most 512 octets */

/* RFC 2449 separates parameters by SP; HTAB and runs of blanks are tolerated. */
static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive equality of a view and a NUL-terminated string; locale-free. */
static bool view_eq_ci(pop3_view v, const char *s)
{
    size_t i = 0;
    for (; i < v.len; i++) {
        if (s[i] == '\0' || ascii_lower(v.ptr[i]) != ascii_lower(s[i])) return false;
    }
    return s[i] == '\0';
}

/* A view into the block `from` re-pointed at the same offset in block `to`. */
static void rebase(pop3_view *v, const char *from, char *to)
{
    v->ptr = to + (v->ptr - from);
}

void pop3_capa_init(pop3_capa_set *c)
{
    memset(c, 0, sizeof *c);
    c->max_caps = CAPA_DEFAULT_MAX_CAPS;
}

void pop3_capa_free(pop3_capa_set *c)
{
    free(c->caps);
    free(c->store);
    free(c->params);
    size_t max_caps = c->max_caps; /* the limit survives, as with pop3_capa_clear */
    pop3_capa_init(c);
    c->max_caps = max_caps;
}

void pop3_capa_clear(pop3_capa_set *c)
{
    /* The blocks are kept for the next CAPA response, which is usually the same size. */
    c->count = 0;
    c->store_len = 0;
    c->params_len = 0;
}

static int reserve_caps(pop3_capa_set *c)
{
    if (c->count < c->caps_cap) return POP3_OK;
    /* Nothing inside the capa points into caps, so realloc may move it. */
    int rc = POP3_OK;
    pop3_capability *p = pop3_array_grow(c->caps, &c->caps_cap, c->count + 1, sizeof *c->caps,
                                         CAPA_MIN_CAPS, c->max_caps, &rc);
    if (p == NULL) return rc;
    c->caps = p;
    return POP3_OK;
}

/*
 * Room for one more parameter view past the `pending` ones that the line being added
 * has already written after params_len (not yet counted, so they are copied here too).
 */
static int reserve_param(pop3_capa_set *c, size_t pending)
{
    size_t used = c->params_len + pending;
    if (used < c->params_cap) return POP3_OK;
    if (used == SIZE_MAX) return POP3_ELIMIT;
    size_t cap = 0;
    int rc = pop3_grow_cap(c->params_cap, used + 1, CAPA_MIN_PARAMS, sizeof *c->params, 0, &cap);
    if (rc != POP3_OK) return rc;
    /* Not realloc: the old block must outlive the re-pointing below. */
    pop3_view *p = malloc(cap * sizeof *p);
    if (p == NULL) return POP3_ENOMEM;
    /* Copy, then move each capability's params pointer while the old block still
     * exists: arithmetic on a pointer into freed memory would be undefined. */
    if (used > 0) memcpy(p, c->params, used * sizeof *p);
    for (size_t i = 0; i < c->count; i++) {
        if (c->caps[i].nparams > 0) c->caps[i].params = p + (c->caps[i].params - c->params);
    }
    free(c->params);
    c->params = p;
    c->params_cap = cap;
    return POP3_OK;
}

/*
 * Append `len` octets of `line` to the store; returns where they went, or NULL.
 * `line` may point into the store itself (a caller re-adding one of our own views): it
 * is copied before the old block is freed.
 */
static char *store_append(pop3_capa_set *c, const char *line, size_t len)
{
    if (len > SIZE_MAX - c->store_len) return NULL;
    if (c->store_len + len <= c->store_cap) {
        char *dst = c->store + c->store_len;
        memcpy(dst, line, len); /* source, if ours, lies before store_len: no overlap */
        c->store_len += len;
        return dst;
    }
    size_t cap = 0;
    if (pop3_grow_cap(c->store_cap, c->store_len + len, CAPA_MIN_STORE, 1, 0, &cap) != POP3_OK)
        return NULL;
    char *p = malloc(cap);
    if (p == NULL) return NULL;
    if (c->store_len > 0) memcpy(p, c->store, c->store_len);
    memcpy(p + c->store_len, line, len);
    for (size_t i = 0; i < c->count; i++) {
        rebase(&c->caps[i].name, c->store, p);
        rebase(&c->caps[i].line, c->store, p);
    }
    for (size_t i = 0; i < c->params_len; i++)
        rebase(&c->params[i], c->store, p);
    free(c->store);
    c->store = p;
    c->store_cap = cap;
    char *dst = p + c->store_len;
    c->store_len += len;
    return dst;
}

int pop3_capa_add(pop3_capa_set *c, const char *line, size_t len)
{
    /* Only the leading blanks are read before the limit: a blank line is EPROTO
     * whatever the count. */
    size_t i = 0;
    while (i < len && is_blank(line[i]))
        i++;
    if (i == len) return POP3_EPROTO; /* RFC 2449: capa-tag = 1*cchar; a blank line names nothing */
    if (c->count >= c->max_caps) return POP3_ELIMIT;

    int rc = reserve_caps(c);
    if (rc != POP3_OK) return rc;
    size_t store_len = c->store_len;
    const char *s = store_append(c, line, len);
    if (s == NULL) return POP3_ENOMEM;

    /* One pass over the copy (not over `line`, which may be one of our own views that
     * store_append has just freed), cutting words as they come. The parameter views
     * go straight after params_len and are counted only at the end, so a failure to
     * grow their block takes back the copy and leaves the list as it was. */
    pop3_capability *cap = &c->caps[c->count];
    size_t start = i;
    while (i < len && !is_blank(s[i]))
        i++;
    cap->name = (pop3_view){s + start, i - start};
    size_t n = 0;
    for (;;) {
        while (i < len && is_blank(s[i]))
            i++;
        if (i == len) break;
        start = i;
        while (i < len && !is_blank(s[i]))
            i++;
        if ((rc = reserve_param(c, n)) != POP3_OK) {
            c->store_len = store_len;
            return rc;
        }
        c->params[c->params_len + n++] = (pop3_view){s + start, i - start};
    }
    cap->line = (pop3_view){s, len};
    cap->params = n > 0 ? c->params + c->params_len : NULL;
    cap->nparams = n;
    c->params_len += n;
    c->count++;
    return POP3_OK;
}

const pop3_capability *pop3_capa_find(const pop3_capa_set *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++) {
        if (view_eq_ci(c->caps[i].name, name)) return &c->caps[i];
    }
    return NULL;
}

bool pop3_capa_has_param(const pop3_capa_set *c, const char *name, const char *param)
{
    /* Every line with the tag counts: a server may split "SASL" over several lines. */
    for (size_t i = 0; i < c->count; i++) {
        const pop3_capability *cap = &c->caps[i];
        if (!view_eq_ci(cap->name, name)) continue;
        for (size_t k = 0; k < cap->nparams; k++) {
            if (view_eq_ci(cap->params[k], param)) return true;
        }
    }
    return false;
}
