/*
 * arena.c - the block list behind a parsed script's strings and small arrays (arena.h).
 *
 * Blocks grow from ARENA_MIN_BLOCK to ARENA_MAX_BLOCK octets, doubling, so a script of
 * a few lines takes one or two blocks and a large one a few dozen; a piece larger than a
 * block gets a block of its own. The first block is small because under
 * AddressSanitizer a new block is filled and poisoned whole, which for a script that
 * fails on its first line would cost more than the parse. The sizes are tuning, not
 * limits: any piece that fits a size_t is served.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* AddressSanitizer's manual poisoning, when the build has it (clang or gcc). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN 1
#endif
#endif
#if !defined(ARENA_ASAN) && defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN 1
#endif
#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* Octets left poisoned after each piece, so that the next piece does not start right
 * where an overrun of this one would land. */
#define ARENA_REDZONE        16u
#else
#define ARENA_POISON(p, n)   ((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#define ARENA_REDZONE        0u
#endif

#define ARENA_MIN_BLOCK ((size_t)1024)
#define ARENA_MAX_BLOCK ((size_t)1 << 20)
#define ARENA_ALIGN     alignof(max_align_t)

struct pop3mock__arena_block {
    pop3mock__arena_block *next;
    size_t used, size; /* octets of data[] handed out and held */
    alignas(max_align_t) unsigned char data[];
};

void *pop3mock__arena_alloc(pop3mock__arena *a, size_t n)
{
    if (n > SIZE_MAX - ARENA_REDZONE - ARENA_ALIGN) return NULL;
    /* Every piece starts aligned: its size is rounded up, redzone included. */
    size_t need = (n + ARENA_REDZONE + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
    pop3mock__arena_block *b = a->head;
    if (b == NULL || b->size - b->used < need) {
        size_t size = b == NULL ? ARENA_MIN_BLOCK : b->size;
        if (b != NULL && size < ARENA_MAX_BLOCK) size *= 2;
        if (size < need) size = need;
        if (size > SIZE_MAX - sizeof *b) return NULL;
        pop3mock__arena_block *nb = malloc(sizeof *nb + size);
        if (nb == NULL) return NULL;
        nb->used = 0;
        nb->size = size;
        ARENA_POISON(nb->data, size);
        /* A piece of its own size leaves the current block's room for later pieces. */
        if (b != NULL && size == need && b->size - b->used >= ARENA_MIN_BLOCK / 4) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    ARENA_UNPOISON(p, n);
    return p;
}

char *pop3mock__arena_strdup(pop3mock__arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *d = pop3mock__arena_alloc(a, n + 1);
    if (d == NULL) return NULL;
    if (n > 0) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void pop3mock__arena_free(pop3mock__arena *a)
{
    for (pop3mock__arena_block *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        /* The allocator expects its block as it handed it out. */
        ARENA_UNPOISON(b->data, b->size);
        free(b);
    }
    a->head = NULL;
}
