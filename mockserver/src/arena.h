/*
 * arena.h - one block list that owns every string and small array of a parsed script.
 *
 * A parsed dialogue script (script_parse.c) holds many small pieces: each line's source
 * for reports, the literal and name of each segment, split offsets, TLS octets. Taking
 * them from a few large blocks instead of one malloc each makes parsing a large script
 * cheaper, and freeing it a walk over the blocks. Nothing is freed piece by piece: a
 * piece lives until pop3mock__arena_free.
 *
 * Under AddressSanitizer the free room of every block stays poisoned and each piece is
 * unpoisoned as it is handed out, so a read or write past a piece still faults as it
 * would past its own malloc block.
 */
#ifndef POP3MOCK_ARENA_H
#define POP3MOCK_ARENA_H

#include <stddef.h>

typedef struct pop3mock__arena_block pop3mock__arena_block;

/* Zero-initialised is empty. */
typedef struct pop3mock__arena {
    pop3mock__arena_block *head; /* the block pieces come from; older ones after it */
} pop3mock__arena;

/*
 * pop3mock__arena_alloc - `n` octets (n may be 0) aligned for any type, owned by the
 * arena and valid until pop3mock__arena_free; their contents are unspecified. NULL when
 * out of memory (the arena is unchanged).
 */
void *pop3mock__arena_alloc(pop3mock__arena *a, size_t n);

/* A NUL-terminated copy of s[0..n) in the arena, or NULL when out of memory. */
char *pop3mock__arena_strdup(pop3mock__arena *a, const char *s, size_t n);

/* Free every block; the arena is then empty and may be reused. */
void pop3mock__arena_free(pop3mock__arena *a);

#endif
