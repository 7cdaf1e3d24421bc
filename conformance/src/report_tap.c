/*
 * report_tap.c - TAP version 13 on standard output: one test point per case and client,
 * "# SKIP" for a case the client cannot express, and the transcript diff of a failure in
 * a YAML block, so CI systems that read TAP show it next to the failing case.
 */
#include <stdio.h>
#include <string.h>

#include "conform.h"

void report_tap_plan(const conform_report *r)
{
    fprintf(r->out, "TAP version 13\n1..%zu\n", r->ncases * r->nclients);
    fflush(r->out);
}

static void yaml_block(FILE *out, const char *text)
{
    fputs("  ---\n  detail: |\n", out);
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "    %.*s\n", (int)n, p);
        p += n + (nl != NULL ? 1 : 0);
    }
    fputs("  ...\n", out);
}

void report_tap_case(const conform_report *r, size_t i)
{
    const conform_case *c = r->cases[i];
    for (size_t k = 0; k < r->nclients; k++) {
        const case_outcome *o = &r->outcomes[i * r->nclients + k];
        size_t num = i * r->nclients + k + 1;
        const char *name = r->clients[k].name;
        if (o->v == V_PASS) {
            fprintf(r->out, "ok %zu - %s: %s (%s) %lld ms\n", num, name, c->id, c->section,
                    (long long)o->ms);
        } else if (o->v == V_NA) {
            const char *why = o->detail.ptr != NULL ? o->detail.ptr : "";
            while (*why == ' ')
                why++;
            size_t n = strcspn(why, "\n");
            fprintf(r->out, "ok %zu - %s: %s (%s) # SKIP %.*s\n", num, name, c->id, c->section,
                    (int)n, why);
        } else {
            fprintf(r->out, "not ok %zu - %s: %s (%s) %lld ms\n", num, name, c->id, c->section,
                    (long long)o->ms);
            yaml_block(r->out, o->detail.ptr != NULL ? o->detail.ptr : "");
        }
    }
    fflush(r->out);
}
