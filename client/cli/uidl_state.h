/*
 * uidl_state.h - the set of unique-ids (RFC 1939 section 7, UIDL) already fetched, kept
 * in a file of one UID per line and saved atomically (write a temporary file, fsync,
 * rename over the old one, fsync the folder), so an interrupted save leaves the old
 * file or the new one, never half of one.
 */
#ifndef POP3_CLI_UIDL_STATE_H
#define POP3_CLI_UIDL_STATE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct uidl_state {
    char *path;
    char **slots; /* open-addressing hash set of malloc'd UIDs */
    size_t cap, count;
    bool dirty;
} uidl_state;

/* Load `path` (a missing file is an empty set). 0, or -1 with `err` set. */
int uidl_state_load(uidl_state *s, const char *path, char *err, size_t errlen);
void uidl_state_free(uidl_state *s);
bool uidl_state_has(const uidl_state *s, const char *uid);
/* Add a UID (no effect when present). 0, or -1 when out of memory or the UID holds a
 * line end (which the file format cannot hold; RFC 1939 UIDs never do). */
int uidl_state_add(uidl_state *s, const char *uid);
/* Write the set atomically when it changed. A set that was never loaded from a path
 * (zero-initialised) stays in memory. 0, or -1 with `err`. */
int uidl_state_save(uidl_state *s, char *err, size_t errlen);

#endif
