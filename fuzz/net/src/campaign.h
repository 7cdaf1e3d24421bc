/*
 * campaign.h - a client-mode campaign of pop3-fuzz: runs, findings, their files.
 */
#ifndef POP3_NETFUZZ_CAMPAIGN_H
#define POP3_NETFUZZ_CAMPAIGN_H

#include <stdio.h>

#include "netfuzz.h"

typedef struct pop3fuzz_campaign_options {
    pop3fuzz_options run;
    const pop3fuzz_seeds *seeds;
    unsigned long seconds;    /* stop after this long (0: no limit) */
    unsigned long iterations; /* stop after this many runs (0: no limit) */
    unsigned long long seed;
    const char *out_dir;
    unsigned minimise_tries; /* runs the minimiser may spend per finding */
    unsigned max_stack;      /* mutations stacked on one seed per run */
    bool progress;           /* a progress line on stderr (a terminal) */
    unsigned jobs;           /* clients run at once (-j; default 1) */
} pop3fuzz_campaign_options;

/* Run the campaign; the summary and "N runs, N findings" go to `out`. Returns the number
 * of findings, or -1 with `err` filled when the harness itself failed. */
long pop3fuzz_campaign(const pop3fuzz_campaign_options *c, FILE *out, char *err, size_t errlen);

/* Replay a saved finding once. Returns 1 when it reproduces (a line saying what goes to
 * `out`), 0 when not, -1 with `err` filled when it cannot be run. */
int pop3fuzz_replay(const pop3fuzz_options *o, const char *path, FILE *out, char *err,
                    size_t errlen);

#endif
