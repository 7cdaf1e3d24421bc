/*
 * test_buf.c - bounded growth (codec/src/buf.c, pop3/buf.h): the capacity policy, the
 * array helper and the byte buffer, each at its limit, past it, at the edge of size_t
 * and when the allocator says no (requests too large for any allocator: the test runs
 * with ASan's allocator_may_return_null=1 so that they fail as plain malloc does).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/buf.h"
#include "pop3/error.h"

/* ---- pop3_grow_cap ---- */

Test(grow_cap, policy)
{
    size_t out = 0;
    cr_expect(pop3_grow_cap(0, 1, 16, 8, 0, &out) == POP3_OK && out == 16, "minimum");
    cr_expect(pop3_grow_cap(16, 17, 16, 8, 0, &out) == POP3_OK && out == 32, "doubling");
    cr_expect(pop3_grow_cap(16, 100, 16, 8, 0, &out) == POP3_OK && out == 128, "doubling twice");
    cr_expect(pop3_grow_cap(0, 1, 0, 1, 0, &out) == POP3_OK && out == 1, "min 0 means 1");
    cr_expect(pop3_grow_cap(16, 17, 16, 8, 20, &out) == POP3_OK && out == 20, "cut to the limit");
    cr_expect(pop3_grow_cap(16, 20, 16, 8, 20, &out) == POP3_OK && out == 20, "need at the limit");
    cr_expect(pop3_grow_cap(16, 21, 16, 8, 20, &out) == POP3_ELIMIT, "need past the limit");
    cr_expect(pop3_grow_cap(0, 5, 64, 1, 10, &out) == POP3_OK && out == 10,
              "a minimum above the limit is cut too");
    cr_expect(pop3_grow_cap(0, 1, 1, 0, 0, &out) == POP3_EUSAGE, "element size 0");
}

Test(grow_cap, size_t_edges)
{
    size_t out = 0;
    /* need * elem would wrap: refused as a limit, whatever the caller's own limit. */
    cr_expect(pop3_grow_cap(0, SIZE_MAX / 8 + 1, 16, 8, 0, &out) == POP3_ELIMIT);
    cr_expect(pop3_grow_cap(0, SIZE_MAX / 8 + 1, 16, 8, SIZE_MAX, &out) == POP3_ELIMIT);
    /* The largest representable count is granted, and doubling does not wrap near it. */
    cr_expect(pop3_grow_cap(0, SIZE_MAX / 8, 16, 8, 0, &out) == POP3_OK && out == SIZE_MAX / 8);
    size_t half = SIZE_MAX / 2 + 1;
    cr_expect(pop3_grow_cap(half, half + 1, 1, 1, 0, &out) == POP3_OK && out == SIZE_MAX);
    cr_expect(pop3_grow_cap(SIZE_MAX - 1, SIZE_MAX, 1, 1, 0, &out) == POP3_OK && out == SIZE_MAX);
}

/* ---- pop3_array_grow ---- */

Test(array_grow, grows_keeps_contents_and_stops_at_the_limit)
{
    int *v = NULL;
    size_t cap = 0;
    int rc = POP3_OK;
    for (size_t n = 0; n < 100; n++) {
        int *p = pop3_array_grow(v, &cap, n + 1, sizeof *v, 8, 100, &rc);
        cr_assert(p != NULL, "grow to %zu: %s", n + 1, pop3_errname(rc));
        v = p;
        v[n] = (int)n;
        cr_assert(cap >= n + 1 && cap <= 100);
    }
    cr_expect(cap == 100, "the last growth is cut to the limit, got %zu", cap);
    for (size_t n = 0; n < 100; n++)
        cr_assert(v[n] == (int)n);
    /* Already room: the same block. */
    cr_expect(pop3_array_grow(v, &cap, 50, sizeof *v, 8, 100, &rc) == v);
    /* One past the limit: refused, block and capacity untouched. */
    rc = POP3_OK;
    cr_expect(pop3_array_grow(v, &cap, 101, sizeof *v, 8, 100, &rc) == NULL && rc == POP3_ELIMIT);
    cr_expect(cap == 100 && v[99] == 99);
    free(v);
}

Test(array_grow, overflow_and_allocation_failure_leave_the_block_alone)
{
    size_t cap = 0;
    int rc = POP3_OK;
    char *v = pop3_array_grow(NULL, &cap, 4, 1, 4, 0, &rc);
    cr_assert(v != NULL && cap == 4);
    memcpy(v, "abcd", 4);
    /* count * size past size_t */
    uint64_t *w = NULL;
    size_t wcap = 0;
    cr_expect(pop3_array_grow(w, &wcap, SIZE_MAX / 4, sizeof *w, 8, 0, &rc) == NULL &&
              rc == POP3_ELIMIT && wcap == 0);
    /* Representable, but no allocator grants it: POP3_ENOMEM, and the old block lives. */
    rc = POP3_OK;
    cr_expect(pop3_array_grow(v, &cap, SIZE_MAX / 2, 1, 4, 0, &rc) == NULL && rc == POP3_ENOMEM);
    cr_expect(cap == 4 && memcmp(v, "abcd", 4) == 0);
    /* Usage errors. */
    cr_expect(pop3_array_grow(v, &cap, 0, 1, 4, 0, &rc) == NULL && rc == POP3_EUSAGE);
    cr_expect(pop3_array_grow(v, &cap, 8, 0, 4, 0, &rc) == NULL && rc == POP3_EUSAGE);
    free(v);
}

/* ---- pop3_buf ---- */

Test(buf, zero_initialised_is_empty_and_unlimited)
{
    pop3_buf b = {0};
    cr_expect(b.ptr == NULL && b.len == 0);
    cr_assert(pop3_buf_append(&b, "hello", 5) == POP3_OK);
    cr_expect(b.len == 5 && strcmp(b.ptr, "hello") == 0 && b.cap >= 5);
    cr_assert(pop3_buf_putc(&b, '!') == POP3_OK && strcmp(b.ptr, "hello!") == 0);
    cr_assert(pop3_buf_printf(&b, " %d %s", 42, "x") == POP3_OK);
    cr_expect(strcmp(b.ptr, "hello! 42 x") == 0 && b.len == strlen("hello! 42 x"));
    size_t cap = b.cap;
    char *mem = b.ptr;
    pop3_buf_reset(&b);
    cr_expect(b.len == 0 && b.ptr == mem && b.cap == cap && b.ptr[0] == '\0', "memory kept");
    pop3_buf_free(&b);
    cr_expect(b.ptr == NULL && b.len == 0 && b.cap == 0 && b.limit == 0);
}

Test(buf, at_the_limit_and_past_it)
{
    pop3_buf b;
    pop3_buf_init(&b, 100);
    char chunk[30];
    memset(chunk, 'a', sizeof chunk);
    cr_assert(pop3_buf_append(&b, chunk, 30) == POP3_OK);
    cr_assert(pop3_buf_append(&b, chunk, 30) == POP3_OK);
    cr_assert(pop3_buf_append(&b, chunk, 30) == POP3_OK);
    cr_assert(pop3_buf_append(&b, chunk, 10) == POP3_OK, "exactly at the limit");
    cr_expect(b.len == 100 && b.cap == 100 && b.ptr[100] == '\0');
    char *before = b.ptr;
    cr_expect(pop3_buf_putc(&b, 'x') == POP3_ELIMIT, "one past the limit");
    cr_expect(pop3_buf_append(&b, chunk, 30) == POP3_ELIMIT);
    cr_expect(pop3_buf_printf(&b, "%s", "y") == POP3_ELIMIT);
    cr_expect(b.len == 100 && b.ptr == before && b.ptr[100] == '\0', "unchanged on error");
    cr_expect(pop3_buf_append(&b, chunk, 0) == POP3_OK, "nothing more is still fine");
    /* A printf that would cross the limit leaves no partial text. */
    pop3_buf_reset(&b);
    cr_assert(pop3_buf_append(&b, chunk, 28) == POP3_OK);
    cr_assert(pop3_buf_append(&b, chunk, 28) == POP3_OK);
    cr_assert(pop3_buf_append(&b, chunk, 28) == POP3_OK);
    cr_expect(pop3_buf_printf(&b, "%020d", 7) == POP3_ELIMIT && b.len == 84 && b.ptr[84] == '\0');
    cr_expect(pop3_buf_printf(&b, "%016d", 7) == POP3_OK && b.len == 100);
    size_t len = 0;
    char *s = pop3_buf_detach(&b, &len);
    cr_expect(s != NULL && len == 100 && s[100] == '\0');
    cr_expect(b.ptr == NULL && b.len == 0 && b.limit == 100, "detached; the limit stays");
    free(s);
}

Test(buf, size_t_overflow_and_allocation_failure)
{
    pop3_buf b = {0};
    cr_assert(pop3_buf_append(&b, "abc", 3) == POP3_OK);
    /* len + more past size_t: a limit. */
    cr_expect(pop3_buf_reserve(&b, SIZE_MAX) == POP3_ELIMIT);
    cr_expect(pop3_buf_reserve(&b, SIZE_MAX - 3) == POP3_ELIMIT, "no room for the NUL");
    /* Representable, not allocatable. */
    cr_expect(pop3_buf_reserve(&b, SIZE_MAX / 2) == POP3_ENOMEM);
    cr_expect(b.len == 3 && strcmp(b.ptr, "abc") == 0, "unchanged");
    pop3_buf_free(&b);
}

Test(buf, appending_its_own_bytes)
{
    /* The source moves with the block when it grows: the copy must still be right. */
    pop3_buf b = {0};
    cr_assert(pop3_buf_append(&b, "0123456789", 10) == POP3_OK);
    for (int i = 0; i < 8; i++)
        cr_assert(pop3_buf_append(&b, b.ptr, b.len) == POP3_OK);
    cr_expect(b.len == 10u << 8);
    for (size_t i = 0; i < b.len; i++)
        cr_assert(b.ptr[i] == (char)('0' + i % 10), "octet %zu", i);
    cr_assert(pop3_buf_append(&b, b.ptr + 3, 2) == POP3_OK);
    cr_expect(memcmp(b.ptr + b.len - 2, "34", 2) == 0);
    pop3_buf_free(&b);
}

Test(buf, detach_of_an_empty_buffer_is_an_empty_string)
{
    pop3_buf b;
    pop3_buf_init(&b, 5);
    size_t len = 99;
    char *s = pop3_buf_detach(&b, &len);
    cr_expect(s != NULL && s[0] == '\0' && len == 0);
    free(s);
}
