/*
 * pop3/buf.h - the one way pop3kit grows memory: a bounded byte buffer and an array
 * growth helper, with one overflow and limit policy.
 *
 * Every collection that grows with what a peer sends (a listing, a CAPA response, a
 * reply kept for the caller, a script, a transcript) must stop at a named limit with a
 * clear error rather than grow until the allocator gives up, and must never let a size
 * computation wrap (a wrapped `count * size` allocates a small block and then writes a
 * large one). Written once here, so that each user only names its limit.
 *
 * The policy:
 *   - a capacity starts at a minimum and doubles until it holds what is needed, then is
 *     cut to the limit: amortised O(1) appends, never more than the limit allocated;
 *   - asking for more than the limit is POP3_ELIMIT; so is a size that does not fit a
 *     size_t (a request no allocator could grant is a limit, not an allocation failure);
 *   - an allocation failure is POP3_ENOMEM;
 *   - on any error nothing changes: the old block, its contents and its capacity stay
 *     valid, so the caller may report, shrink its ambitions or free as usual.
 *
 * Nothing here does I/O or keeps global state; the memory comes from malloc/realloc.
 */
#ifndef POP3_BUF_H
#define POP3_BUF_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * pop3_grow_cap - the capacity a block of `elem`-octet elements should grow to so that
 * it holds `need` of them, from `cap` now: at least `min` (1 if 0), doubled until it is
 * at least `need`, cut to `limit` (0: no limit but size_t) and to the largest count whose
 * size in octets fits a size_t. Returns POP3_OK with `*out` >= need; POP3_ELIMIT when
 * `need` exceeds `limit` or `need * elem` does not fit a size_t; POP3_EUSAGE when `elem`
 * is 0. For callers that must move their block themselves (views to re-point).
 */
int pop3_grow_cap(size_t cap, size_t need, size_t min, size_t elem, size_t limit, size_t *out);

/*
 * pop3_array_grow - room for `need` elements of `elem` octets in the block `ptr` (NULL
 * when none yet) whose capacity is `*cap` elements, following pop3_grow_cap. Returns the
 * block to use from now on (possibly moved by realloc) and updates `*cap`; when `need`
 * <= `*cap` already, returns `ptr` untouched. On error returns NULL with `*error` set
 * (POP3_ELIMIT, POP3_ENOMEM, or POP3_EUSAGE for `need` or `elem` of 0) and leaves `ptr`
 * and `*cap` as they were. Typical use:
 *
 *     item *p = pop3_array_grow(list->v, &list->cap, list->n + 1, sizeof *p, 16,
 *                               list->max, &rc);
 *     if (p == NULL) return rc;
 *     list->v = p;
 */
void *pop3_array_grow(void *ptr, size_t *cap, size_t need, size_t elem, size_t min, size_t limit,
                      int *error);

/* The smallest block a pop3_buf allocates (octets, its NUL included). */
#define POP3_BUF_MIN 64

/*
 * A growable byte string with a limit. Zero-initialised it is empty and unlimited;
 * pop3_buf_init sets a limit. `ptr` is NULL until something was reserved, and from
 * then on `ptr[len]` is always a NUL (not counted in `len`, `cap` or `limit`), so the
 * contents can be used as a C string when they hold no NUL of their own.
 */
typedef struct pop3_buf {
    char *ptr;    /* the bytes; owned by the buffer */
    size_t len;   /* bytes held */
    size_t cap;   /* bytes it can hold without growing */
    size_t limit; /* most bytes it may ever hold (0: no limit but size_t) */
} pop3_buf;

/* An empty buffer that will hold at most `limit` bytes (0: no limit). */
void pop3_buf_init(pop3_buf *b, size_t limit);

/* Room for `more` bytes after `len`. POP3_OK, POP3_ELIMIT (`len + more` past the limit
 * or past size_t) or POP3_ENOMEM; nothing changes on error. */
int pop3_buf_reserve(pop3_buf *b, size_t more);

/* Append `n` bytes (`p` may point into the buffer itself). Same errors as reserve;
 * on error the buffer is unchanged. */
int pop3_buf_append(pop3_buf *b, const void *p, size_t n);

/* Append one byte. */
int pop3_buf_putc(pop3_buf *b, char c);

/* Append printf-formatted text (C99 vsnprintf, no locale-dependent format needed).
 * POP3_OK, POP3_ELIMIT, POP3_ENOMEM, or POP3_EUSAGE when the format itself fails. */
int pop3_buf_printf(pop3_buf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int pop3_buf_vprintf(pop3_buf *b, const char *fmt, va_list ap);

/* Forget the contents, keep the memory and the limit. */
void pop3_buf_reset(pop3_buf *b);

/* Free the memory; the buffer is then empty and keeps its limit. */
void pop3_buf_free(pop3_buf *b);

/*
 * pop3_buf_detach - hand the bytes to the caller, who frees them with free(). Always a
 * NUL-terminated block, even for an empty buffer (NULL only when that one-octet block
 * cannot be allocated). `*len` (may be NULL) gets the length. The buffer is then empty
 * and keeps its limit.
 */
char *pop3_buf_detach(pop3_buf *b, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
