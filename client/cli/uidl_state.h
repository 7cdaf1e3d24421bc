/*
 * uidl_state.h - the unique-ids (RFC 1939 section 7, UIDL) already fetched, per account,
 * kept in a text file saved atomically (write a temporary file, fsync, rename over the
 * old one, fsync the folder), so an interrupted save leaves the old file or the new
 * one, never half of one.
 *
 * The file format (version 1), one item per LF-terminated line:
 *
 *   pop3-uidl-state 1
 *   account alice@pop.example.com:995
 *   uid 1a2b3c
 *   uid 1a2b3d
 *   account bob@[2001:db8::1]:110
 *   uid 000017
 *
 * An account is USER@HOST:PORT (an IPv6 host in brackets). A run reads and rewrites
 * only its own account's section and keeps the others as they were; its own section is
 * pruned to the UIDs the server still lists, so the file does not grow without end.
 * A file without the first line is the older format (one UID per line, no account): its
 * UIDs are taken as the current account's, and the next save writes version 1.
 */
#ifndef POP3_CLI_UIDL_STATE_H
#define POP3_CLI_UIDL_STATE_H

#include <stdbool.h>
#include <stddef.h>

/* The first line of a version 1 file. */
#define UIDL_STATE_MAGIC    "pop3-uidl-state 1"
/* Most octets of a state file read: far above a million RFC 1939 UIDs of 70 octets. */
#define UIDL_STATE_MAX_FILE ((size_t)256 << 20)

typedef struct uidl_state {
    char *path;    /* NULL: an in-memory set, never saved */
    char *account; /* USER@HOST:PORT */
    char **slots;  /* open-addressing hash set of malloc'd UIDs */
    size_t cap, count;
    char *others; /* the other accounts' sections, verbatim */
    size_t others_len;
    bool dirty;
} uidl_state;

/* Load `account`'s UIDs from `path` (a missing file is an empty set) and check that
 * `path` can be written, so that a run does not fetch everything and then fail to
 * record it. 0, or -1 with `err` naming the path and the reason. */
int uidl_state_load(uidl_state *s, const char *path, const char *account, char *err, size_t errlen);
void uidl_state_free(uidl_state *s);
bool uidl_state_has(const uidl_state *s, const char *uid);
/* Add a UID (no effect when present). 0, or -1 when out of memory or the UID holds a
 * line end or is empty (which the file format cannot hold; RFC 1939 UIDs never do). */
int uidl_state_add(uidl_state *s, const char *uid);
/* Keep only the UIDs for which `keep` returns true (the server still lists them). */
void uidl_state_retain(uidl_state *s, bool (*keep)(void *ud, const char *uid), void *ud);
/* Write the file when the set changed. A set that was never loaded from a path
 * (zero-initialised) stays in memory. 0, or -1 with `err`. */
int uidl_state_save(uidl_state *s, char *err, size_t errlen);

#endif
