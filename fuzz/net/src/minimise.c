/*
 * minimise.c - shrink a finding's script while it still produces the same finding (in
 * client mode the same signature, in diff mode the same disagreement, diff_campaign.c):
 * first drop runs of lines (halves, then quarters, down to single lines, as delta
 * debugging does), then halve the longest line. The number of runs is bounded (the
 * --minimise-tries limit), because each try of a hang costs a whole --hang-ms.
 */
#include <stdlib.h>
#include <string.h>

#include "netfuzz.h"

typedef struct same_ctx {
    const pop3fuzz_options *o;
    const char *signature;
} same_ctx;

static bool same_signature(void *ud, const pop3fuzz_script *s)
{
    const same_ctx *sc = ud;
    size_t len = 0;
    char *t = pop3fuzz_script_text(s, &len);
    if (t == NULL) return false;
    pop3fuzz_result r;
    char err[256];
    bool ok = pop3fuzz_run(sc->o, t, len, &r, err, sizeof err) == 0 && !r.script_error &&
              strcmp(r.signature, sc->signature) == 0;
    free(t);
    return ok;
}

unsigned pop3fuzz_minimise(const pop3fuzz_options *o, pop3fuzz_script *s, const char *signature,
                           unsigned tries)
{
    same_ctx sc = {o, signature};
    return pop3fuzz_shrink(s, tries, same_signature, &sc);
}

unsigned pop3fuzz_shrink(pop3fuzz_script *s, unsigned tries, pop3fuzz_keeps_fn same, void *ud)
{
    unsigned spent = 0;
    for (size_t chunk = s->n / 2 ? s->n / 2 : 1; chunk >= 1 && spent < tries; chunk /= 2) {
        /* From the end: late lines are the most often unneeded (the client died early). */
        for (size_t end = s->n; end > 0 && spent < tries;) {
            size_t start = end >= chunk ? end - chunk : 0;
            pop3fuzz_script c;
            if (!pop3fuzz_script_copy(&c, s)) return spent;
            for (size_t k = start; k < end; k++)
                pop3fuzz_script_remove(&c, start);
            spent++;
            if (c.n > 0 && same(ud, &c)) {
                pop3fuzz_script_free(s);
                *s = c;
                end = start < s->n ? start : s->n;
            } else {
                pop3fuzz_script_free(&c);
                end = start;
            }
        }
        if (chunk == 1) break;
    }
    /* Long lines: halve the longest while the finding stays. */
    while (spent < tries) {
        size_t at = 0, best = 0;
        for (size_t k = 0; k < s->n; k++)
            if (strlen(s->line[k]) > best) best = strlen(s->line[at = k]);
        if (best < 64) break;
        pop3fuzz_script c;
        if (!pop3fuzz_script_copy(&c, s)) break;
        /* Cut in the middle of a run of plain octets, never inside an escape. */
        size_t cut = best / 2;
        while (cut > 0 && c.line[at][cut - 1] == '\\')
            cut--;
        size_t keep = cut + (best - cut) / 2;
        while (keep < best && c.line[at][keep - 1] == '\\')
            keep++;
        memmove(c.line[at] + cut, c.line[at] + keep, best - keep + 1);
        spent++;
        if (same(ud, &c)) {
            pop3fuzz_script_free(s);
            *s = c;
        } else {
            pop3fuzz_script_free(&c);
            break;
        }
    }
    return spent;
}
