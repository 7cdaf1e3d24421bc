/*
 * progress.h - the progress line of `pop3 fetch` on a terminal: messages, octets and
 * rate, redrawn at most ten times a second on stderr.
 */
#ifndef POP3_CLI_PROGRESS_H
#define POP3_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
    FILE *out; /* NULL: disabled */
    uint64_t total_msgs, total_octets;
    uint64_t msgs, octets;
    double start, last_draw;
} progress;

/* Enabled only when `out` is a terminal (or `force`). */
void progress_start(progress *p, FILE *out, bool force, uint64_t total_msgs, uint64_t total_octets);
void progress_add(progress *p, uint64_t octets, uint64_t msgs);
/* Draw the final state and end the line. */
void progress_finish(progress *p);
/* The line as drawn, into buf (for tests). */
void progress_format(const progress *p, double now, char *buf, size_t cap);

#endif
