/*
 * campaign.c - pop3-fuzz's client-mode loop: draw a seed dialogue, mutate it, serve it
 * to the client, and keep each distinct finding (same signature: the same signal, the
 * same sanitizer error at the same top frames, or the same kind), minimised and saved as
 * a pop3-mock script with the command that replays it.
 *
 * Run I of seed S draws from a generator seeded with S and I only, so a campaign is the
 * same sequence of scripts on every machine, whatever the timing of its runs, and -j N
 * runs N of them at once (each on a server and port of its own) without changing which.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "campaign.h"

/* Scripts drawn again when a mutation broke the script syntax. */
#define POP3FUZZ_REDRAWS 8

typedef struct finding {
    char signature[512];
    char detail[256];
    char path[1024];
    pop3fuzz_kind kind;
    unsigned long first_run, count;
    size_t lines;
} finding;

/* The --ok-exit set as the ranges it was given in ("0,64-69,71-78"), so that the
 * reproduce line of a finding replays it with the same verdicts. */
static void write_ok_exit(FILE *f, const bool ok[256])
{
    bool first = true;
    for (int k = 0; k < 256; k++) {
        if (!ok[k]) continue;
        int end = k;
        while (end + 1 < 256 && ok[end + 1])
            end++;
        fprintf(f, first ? "%d" : ",%d", k);
        if (end > k) fprintf(f, "-%d", end);
        first = false;
        k = end;
    }
}

static int save(const pop3fuzz_campaign_options *c, finding *fd, const pop3fuzz_script *s,
                unsigned long run, char *err, size_t errlen)
{
    if (mkdir(c->out_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", c->out_dir, strerror(errno));
        return -1;
    }
    snprintf(fd->path, sizeof fd->path, "%s/%s-%08x.pop3", c->out_dir, pop3fuzz_kind_name(fd->kind),
             pop3fuzz_fnv1a(fd->signature));
    FILE *f = fopen(fd->path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", fd->path, strerror(errno));
        return -1;
    }
    fprintf(f, "# pop3-fuzz finding: %s\n# signature: %s\n# found by seed %llu, run %lu\n",
            fd->detail, fd->signature, c->seed, run);
    fputs("# reproduce: pop3-fuzz replay ", f);
    pop3fuzz_shell_quote(f, fd->path);
    fputs(" --client ", f);
    pop3fuzz_shell_quote(f, c->run.client);
    fprintf(f, " --hang-ms %u --idle-ms %u --rss-mb %lu --ok-exit ", c->run.hang_ms, c->run.idle_ms,
            c->run.rss_mb);
    write_ok_exit(f, c->run.ok_exit);
    fputc('\n', f);
    for (size_t i = 0; i < s->n; i++)
        fprintf(f, "%s\n", s->line[i]);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", fd->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* One run's work: draw its script (from the seed and the run number only), serve it. */
typedef struct slot {
    const pop3fuzz_campaign_options *c;
    unsigned long i;
    pop3fuzz_script s;
    pop3fuzz_result res;
    int rc;
    char err[512];
    pthread_t th;
} slot;

static void *draw_and_run(void *arg)
{
    slot *sl = arg;
    const pop3fuzz_campaign_options *c = sl->c;
    pop3fuzz_rng r = {c->seed * 0x100000001b3u + sl->i};
    pop3fuzz_next(&r);
    memset(&sl->s, 0, sizeof sl->s);
    sl->res = (pop3fuzz_result){.script_error = true};
    sl->rc = 0;
    for (int k = 0; k < POP3FUZZ_REDRAWS && sl->res.script_error && sl->rc == 0; k++) {
        pop3fuzz_script_free(&sl->s);
        if (!pop3fuzz_script_copy(&sl->s, &c->seeds->v[pop3fuzz_below(&r, c->seeds->n)])) break;
        pop3fuzz_mutate(&sl->s, &r, c->max_stack);
        size_t len = 0;
        char *text = pop3fuzz_script_text(&sl->s, &len);
        if (text == NULL) break;
        sl->rc = pop3fuzz_run(&c->run, text, len, &sl->res, sl->err, sizeof sl->err);
        free(text);
    }
    return NULL;
}

long pop3fuzz_campaign(const pop3fuzz_campaign_options *c, FILE *out, char *err, size_t errlen)
{
    finding *fs = NULL;
    size_t nf = 0;
    unsigned long runs = 0;
    double start = pop3fuzz_now_s(), last_progress = 0;
    unsigned jobs = c->jobs ? c->jobs : 1;
    slot *slots = calloc(jobs, sizeof *slots);
    if (slots == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned long i = 0;;) {
        if (c->iterations && runs >= c->iterations) break;
        if (c->seconds && pop3fuzz_now_s() - start >= (double)c->seconds) break;
        /* Runs i .. i+n-1 at once; their results are taken in order, so findings are
         * numbered and minimised the same way for any -j. */
        unsigned n = jobs;
        if (c->iterations && c->iterations - runs < n) n = (unsigned)(c->iterations - runs);
        for (unsigned k = 0; k < n; k++) {
            slots[k].c = c;
            slots[k].i = i + k;
            if (n == 1 || pthread_create(&slots[k].th, NULL, draw_and_run, &slots[k]) != 0) {
                draw_and_run(&slots[k]);
                slots[k].th = pthread_self();
            }
        }
        for (unsigned k = 0; k < n; k++)
            if (!pthread_equal(slots[k].th, pthread_self())) pthread_join(slots[k].th, NULL);
        bool failed = false;
        for (unsigned k = 0; k < n; k++) {
            slot *sl = &slots[k];
            pop3fuzz_result *res = &sl->res;
            if (sl->rc != 0 && !failed) {
                snprintf(err, errlen, "%s", sl->err);
                failed = true;
            }
            if (!failed && !res->script_error) runs++;
            if (!failed && !res->script_error && res->kind != POP3FUZZ_NONE) {
                size_t f = 0;
                while (f < nf && strcmp(fs[f].signature, res->signature) != 0)
                    f++;
                if (f < nf) {
                    fs[f].count++;
                } else {
                    finding *p = realloc(fs, (nf + 1) * sizeof *p);
                    if (p == NULL) {
                        snprintf(err, errlen, "out of memory");
                        failed = true;
                    } else {
                        fs = p;
                        finding *fd = &fs[nf++];
                        memset(fd, 0, sizeof *fd);
                        snprintf(fd->signature, sizeof fd->signature, "%s", res->signature);
                        snprintf(fd->detail, sizeof fd->detail, "%s", res->detail);
                        fd->kind = res->kind;
                        fd->first_run = sl->i;
                        fd->count = 1;
                        if (c->progress) fputs("\r\033[K", stderr);
                        fprintf(stderr, "pop3-fuzz: run %lu: %s (%s); minimising\n", sl->i,
                                pop3fuzz_kind_name(res->kind), res->detail);
                        pop3fuzz_minimise(&c->run, &sl->s, res->signature, c->minimise_tries);
                        fd->lines = sl->s.n;
                        if (save(c, fd, &sl->s, sl->i, err, errlen) != 0) failed = true;
                    }
                }
            }
            pop3fuzz_script_free(&sl->s);
        }
        i += n;
        if (failed) {
            free(slots);
            free(fs);
            return -1;
        }
        double t = pop3fuzz_now_s();
        if (c->progress && t - last_progress >= 0.5) {
            last_progress = t;
            fprintf(stderr, "\r\033[Kpop3-fuzz: %lu runs, %zu findings, %.1f runs/s", runs, nf,
                    t > start ? (double)runs / (t - start) : 0.0);
        }
    }
    free(slots);
    if (c->progress) fputs("\r\033[K", stderr);
    double secs = pop3fuzz_now_s() - start;
    if (nf > 0) {
        fprintf(out, "%-10s %6s %8s %6s  %s\n", "kind", "count", "first", "lines", "finding");
        for (size_t k = 0; k < nf; k++)
            fprintf(out, "%-10s %6lu %8lu %6zu  %s\n%28s%s\n", pop3fuzz_kind_name(fs[k].kind),
                    fs[k].count, fs[k].first_run, fs[k].lines, fs[k].detail, "", fs[k].path);
    }
    fprintf(out, "%.1f s, %.1f runs/s\n", secs, secs > 0 ? (double)runs / secs : 0.0);
    fprintf(out, "%lu runs, %zu findings\n", runs, nf);
    free(fs);
    return (long)nf;
}

int pop3fuzz_replay(const pop3fuzz_options *o, const char *path, FILE *out, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            char *p = realloc(text, cap = cap ? cap * 2 : 131072);
            if (p == NULL) break;
            text = p;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    pop3fuzz_result res;
    int rc = pop3fuzz_run(o, text ? text : "", len, &res, err, errlen);
    free(text);
    if (rc != 0) return -1;
    if (res.script_error) {
        snprintf(err, errlen, "%s: not a pop3-mock script", path);
        return -1;
    }
    if (res.kind == POP3FUZZ_NONE) {
        fprintf(out, "did not reproduce: the client ended normally\n");
        return 0;
    }
    fprintf(out, "reproduced: %s (%s)\n", pop3fuzz_kind_name(res.kind), res.detail);
    return 1;
}
