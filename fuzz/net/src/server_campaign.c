/*
 * server_campaign.c - pop3-fuzz server mode: the campaign (AFLNet-style state feedback: a
 * session that reaches a (command, status, response code) transition not seen before is
 * kept and mutated further), its findings deduplicated by kind and command, minimised
 * and saved as transcripts, and the replay of a saved transcript.
 *
 * A server that stops greeting (RFC 1939 section 4) cannot be restarted from here, so
 * that finding ends the campaign, and its transcript is cut after the command that came
 * last; hangs and broken replies (RFC 1939 section 3, RFC 2449 section 4) leave the
 * server up, and their transcripts are shrunk by dropping commands while the finding
 * still comes back.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "server_fuzz.h"

/* The same finding: same kind, same command. */
static bool same_finding(const pop3fuzz_srv_result *r, pop3fuzz_srv_kind kind, const char *verb)
{
    return r->kind == kind && strcmp(r->verb, verb) == 0;
}

/* Drop steps before the trigger while the finding still comes back. */
static unsigned minimise(const pop3fuzz_target *t, pop3fuzz_session *s, pop3fuzz_srv_result *best,
                         unsigned tries)
{
    unsigned used = 0;
    pop3fuzz_srv_kind kind = best->kind;
    char verb[sizeof best->verb];
    snprintf(verb, sizeof verb, "%s", best->verb);
    pop3fuzz_session_truncate(s, best->trigger + 1);
    for (size_t i = s->n - 1; i-- > 0 && used < tries;) {
        pop3fuzz_session cand;
        if (!pop3fuzz_session_copy(&cand, s)) break;
        pop3fuzz_session_remove(&cand, i);
        pop3fuzz_srv_result r;
        used++;
        if (pop3fuzz_srv_run(t, &cand, &r) == 0 && same_finding(&r, kind, verb)) {
            pop3fuzz_session_truncate(&cand, r.trigger + 1);
            pop3fuzz_session_free(s);
            *s = cand;
            pop3fuzz_srv_result_free(best);
            *best = r;
            if (i > s->n) i = s->n;
        } else {
            pop3fuzz_session_free(&cand);
            pop3fuzz_srv_result_free(&r);
        }
    }
    return used;
}

static uint32_t fnv(const char *p, size_t n, uint32_t h)
{
    for (size_t k = 0; k < n; k++)
        h = (h ^ (unsigned char)p[k]) * 16777619u;
    return h;
}

static const char *step_prefix(pop3fuzz_step_kind k)
{
    return k == POP3FUZZ_STEP_CMD ? "C: " : "R: ";
}

/* Write the transcript; its path goes to `path`. */
static int save(const pop3fuzz_srv_campaign *c, const pop3fuzz_session *s,
                const pop3fuzz_srv_result *r, pop3fuzz_srv_kind kind, const char *detail,
                unsigned long run, char *path, size_t pathlen, char *err, size_t errlen)
{
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < s->n; k++) {
        if (s->v[k].text) h = fnv(s->v[k].text, strlen(s->v[k].text), h);
        h = fnv((const char *)&s->v[k].n, sizeof s->v[k].n, h);
    }
    if (mkdir(c->out_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", c->out_dir, strerror(errno));
        return -1;
    }
    snprintf(path, pathlen, "%s/%s-%s-%08x.txt", c->out_dir, pop3fuzz_srv_kind_name(kind), r->verb,
             (unsigned)h);
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(fp, "# pop3-fuzz server transcript\n");
    fprintf(fp, "# finding: %s %s: %s\n", pop3fuzz_srv_kind_name(kind), r->verb, detail);
    fprintf(fp, "# server: %s%s, seed %llu, run %lu\n", c->target_text, c->mode_text, c->seed, run);
    fprintf(fp, "# user: %s\n", c->target.user);
    fprintf(fp, "# reproduce: pop3-fuzz replay %s %s%s --hang-ms %u\n", path, c->target_text,
            c->mode_text, c->target.hang_ms);
    fprintf(fp, "# one line per step: C: a command (CRLF added), R: raw octets; escapes \\r \\n "
                "\\0 \\xHH \\\\ \\{;\n# {user} {password} {apop} {plain} {rep:N:HH} are "
                "filled in when sent\n");
    for (size_t k = 0; k < s->n; k++) {
        const pop3fuzz_step *st = &s->v[k];
        switch (st->kind) {
        case POP3FUZZ_STEP_CMD:
        case POP3FUZZ_STEP_RAW: fprintf(fp, "%s%s\n", step_prefix(st->kind), st->text); break;
        case POP3FUZZ_STEP_BURST: fprintf(fp, "!burst %u\n", st->n); break;
        case POP3FUZZ_STEP_IDLE: fprintf(fp, "!idle %u\n", st->n); break;
        case POP3FUZZ_STEP_SHUTDOWN: fprintf(fp, "!shutdown\n"); break;
        }
        if (k < r->nnotes && r->notes[k] != NULL) fprintf(fp, "%s\n", r->notes[k]);
    }
    if (kind == POP3FUZZ_SRV_DEAD) fprintf(fp, "# then: %s\n", detail);
    if (fclose(fp) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A dead server: the last command sent is the suspect; cut the transcript after it and
 * name the finding by its verb. */
static void dead_cut(pop3fuzz_session *s, pop3fuzz_srv_result *r)
{
    size_t trig = r->odd_end ? r->trigger : (r->sent ? r->sent - 1 : 0);
    if (trig + 1 < s->n) pop3fuzz_session_truncate(s, trig + 1);
    if (!r->odd_end && trig < s->n && s->v[trig].text)
        snprintf(r->verb, sizeof r->verb, "%.15s", s->v[trig].text);
    for (char *p = r->verb; *p; p++)
        if (*p == ' ' || *p == '/' || *p == '\\' || *p == '{') *p = '\0';
    if (r->verb[0] == '\0') snprintf(r->verb, sizeof r->verb, "OTHER");
}

/* Run --restart and wait until the server greets again. */
static bool restart(const pop3fuzz_srv_campaign *c, char *why, size_t wl)
{
    fflush(NULL);
    int st = system(c->restart);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(why, wl, "--restart command failed (status %d)", st);
        return false;
    }
    for (int k = 0; k < POP3FUZZ_SRV_RESTART_POLLS; k++) {
        if (pop3fuzz_srv_alive(&c->target, why, wl)) return true;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Drop steps while the server still dies of the session, restarting it after each death.
 * False when a restart failed (the server is down). */
static bool minimise_dead(const pop3fuzz_srv_campaign *c, pop3fuzz_session *s,
                          pop3fuzz_srv_result *best, char *why, size_t wl)
{
    unsigned used = 0;
    for (size_t i = s->n - 1; i-- > 0 && used < c->minimise_tries;) {
        pop3fuzz_session cand;
        if (!pop3fuzz_session_copy(&cand, s)) break;
        pop3fuzz_session_remove(&cand, i);
        pop3fuzz_srv_result r;
        used++;
        if (pop3fuzz_srv_run(&c->target, &cand, &r) != 0) {
            pop3fuzz_session_free(&cand);
            break;
        }
        char w[512];
        if (!pop3fuzz_srv_alive(&c->target, w, sizeof w)) {
            dead_cut(&cand, &r);
            bool same = strcmp(r.verb, best->verb) == 0;
            if (same) {
                pop3fuzz_session_free(s);
                *s = cand;
                pop3fuzz_srv_result_free(best);
                *best = r;
                if (i > s->n) i = s->n;
            } else {
                pop3fuzz_session_free(&cand);
                pop3fuzz_srv_result_free(&r);
            }
            if (!restart(c, why, wl)) return false;
        } else {
            pop3fuzz_session_free(&cand);
            pop3fuzz_srv_result_free(&r);
        }
    }
    return true;
}

typedef struct corpus {
    pop3fuzz_session *v;
    size_t n, cap;
} corpus;

long pop3fuzz_srv_campaign_run(const pop3fuzz_srv_campaign *c, FILE *out, char *err, size_t errlen)
{
    const pop3fuzz_target *t = &c->target;
    char why[512];
    if (!pop3fuzz_srv_alive(t, why, sizeof why)) {
        snprintf(err, errlen, "the server does not greet: %s", why);
        return -1;
    }
    pop3fuzz_rng rng = {c->seed * 0x2545f4914f6cdd1dull + 1};
    static uint8_t map[(1u << POP3FUZZ_SRV_MAP_BITS) / 8];
    memset(map, 0, sizeof map);
    size_t states = 0;
    corpus cp = {0};
    char(*keys)[48] = NULL;
    size_t nkeys = 0, keycap = 0;
    long findings = 0;
    unsigned long runs = 0, odd = 0, checks = 0;
    size_t nseeds = 0;
    double start = pop3fuzz_now_s(), shown = 0;
    int rc = 0;
    fprintf(out, "pop3-fuzz server %s%s, seed %llu\n", c->target_text, c->mode_text, c->seed);
    fflush(out);
    for (;;) {
        if (c->iterations && runs >= c->iterations) break;
        if (c->seconds && pop3fuzz_now_s() - start >= (double)c->seconds) break;
        pop3fuzz_session s;
        bool ok;
        if (pop3fuzz_srv_seed(runs, &s)) {
            ok = true;
            nseeds = runs + 1;
        } else if (cp.n == 0 || pop3fuzz_below(&rng, 8) == 0) {
            ok = pop3fuzz_srv_generate(&c->grammar, &rng, &s);
        } else {
            ok = pop3fuzz_session_copy(&s, &cp.v[pop3fuzz_below(&rng, cp.n)]);
            if (ok)
                pop3fuzz_srv_mutate(&c->grammar, &rng, &s, &cp.v[pop3fuzz_below(&rng, cp.n)],
                                    c->stack);
        }
        if (!ok) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        pop3fuzz_srv_result r;
        if (pop3fuzz_srv_run(t, &s, &r) != 0) {
            pop3fuzz_session_free(&s);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        runs++;
        bool fresh = false;
        for (size_t k = 0; k < r.ntrans; k++) {
            uint32_t b = r.trans[k];
            if (!(map[b / 8] & (1u << (b % 8)))) {
                map[b / 8] |= (uint8_t)(1u << (b % 8));
                states++;
                fresh = true;
            }
        }
        bool stop = false;
        if (r.kind != POP3FUZZ_SRV_NONE) {
            char key[48];
            snprintf(key, sizeof key, "%s %s", pop3fuzz_srv_kind_name(r.kind), r.verb);
            bool seen = false;
            for (size_t k = 0; k < nkeys && !seen; k++)
                seen = strcmp(keys[k], key) == 0;
            if (!seen) {
                int e;
                char(*nk)[48] = pop3_array_grow(keys, &keycap, nkeys + 1, sizeof *keys, 8, 0, &e);
                if (nk != NULL) {
                    keys = nk;
                    snprintf(keys[nkeys++], sizeof *keys, "%s", key);
                }
                pop3fuzz_srv_kind kind = r.kind;
                char detail[256];
                snprintf(detail, sizeof detail, "%s", r.detail);
                minimise(t, &s, &r, c->minimise_tries);
                char path[1024];
                if (save(c, &s, &r, kind, detail, runs, path, sizeof path, err, errlen) != 0) {
                    rc = -1;
                    stop = true;
                } else {
                    findings++;
                    fprintf(out, "%sfinding: %s (run %lu) -> %s\n", c->progress ? "\r\033[K" : "",
                            key, runs, path);
                    fprintf(out, "  %s\n", detail);
                    fflush(out);
                }
            }
        }
        if (r.odd_end) odd++;
        if (!stop && (r.odd_end || (c->check_every && runs % c->check_every == 0))) {
            checks++;
            if (!pop3fuzz_srv_alive(t, why, sizeof why)) {
                dead_cut(&s, &r);
                char key[48], detail[600];
                snprintf(key, sizeof key, "dead %s", r.verb);
                snprintf(detail, sizeof detail, "a fresh connection fails: %s", why);
                bool seen = false;
                for (size_t k = 0; k < nkeys && !seen; k++)
                    seen = strcmp(keys[k], key) == 0;
                bool up = false;
                if (c->restart != NULL) {
                    up = restart(c, why, sizeof why);
                    if (up && !seen) up = minimise_dead(c, &s, &r, why, sizeof why);
                }
                if (!seen) {
                    int e;
                    char(*nk)[48] =
                        pop3_array_grow(keys, &keycap, nkeys + 1, sizeof *keys, 8, 0, &e);
                    if (nk != NULL) {
                        keys = nk;
                        snprintf(keys[nkeys++], sizeof *keys, "%s", key);
                    }
                    char path[1024];
                    if (save(c, &s, &r, POP3FUZZ_SRV_DEAD, detail, runs, path, sizeof path, err,
                             errlen) != 0) {
                        rc = -1;
                        stop = true;
                    } else {
                        findings++;
                        fprintf(out, "%sfinding: dead %s (run %lu) -> %s\n  %s\n",
                                c->progress ? "\r\033[K" : "", r.verb, runs, path, detail);
                    }
                }
                if (!up) {
                    if (c->restart != NULL)
                        fprintf(out, "the server could not be restarted: %s\n", why);
                    fprintf(out, "the server no longer answers: campaign stopped\n");
                    stop = true;
                }
            }
        }
        if (!stop && fresh && !r.no_connect) {
            if (cp.n < c->corpus_max) {
                int e;
                pop3fuzz_session *nv =
                    pop3_array_grow(cp.v, &cp.cap, cp.n + 1, sizeof *nv, 64, c->corpus_max, &e);
                if (nv != NULL) {
                    cp.v = nv;
                    cp.v[cp.n++] = s;
                    s = (pop3fuzz_session){0};
                }
            } else if (cp.n > nseeds) {
                size_t at = nseeds + pop3fuzz_below(&rng, cp.n - nseeds);
                pop3fuzz_session_free(&cp.v[at]);
                cp.v[at] = s;
                s = (pop3fuzz_session){0};
            }
        }
        pop3fuzz_session_free(&s);
        pop3fuzz_srv_result_free(&r);
        if (c->progress && pop3fuzz_now_s() - shown >= 0.5) {
            shown = pop3fuzz_now_s();
            double el = shown - start;
            fprintf(stderr,
                    "\r\033[K%lu runs, %.1f runs/s, corpus %zu, %zu transitions, %ld findings",
                    runs, el > 0 ? (double)runs / el : 0.0, cp.n, states, findings);
        }
        if (stop) break;
    }
    if (c->progress) fprintf(stderr, "\r\033[K");
    double el = pop3fuzz_now_s() - start;
    fprintf(out,
            "%lu runs in %.1f s (%.1f runs/s); corpus %zu sessions, %zu state transitions; "
            "%lu sessions ended by the server or the network, %lu liveness checks\n",
            runs, el, el > 0 ? (double)runs / el : 0.0, cp.n, states, odd, checks);
    fprintf(out, "%lu runs, %ld findings\n", runs, findings);
    fflush(out);
    for (size_t k = 0; k < cp.n; k++)
        pop3fuzz_session_free(&cp.v[k]);
    free(cp.v);
    free(keys);
    return rc < 0 ? -1 : findings;
}

int pop3fuzz_srv_replay(const pop3fuzz_target *t, const pop3fuzz_session *s, FILE *out)
{
    pop3fuzz_srv_result r;
    if (pop3fuzz_srv_run(t, s, &r) != 0) return -1;
    for (size_t k = 0; k < r.nnotes; k++) {
        const pop3fuzz_step *st = &s->v[k];
        if (k >= r.sent && r.notes[k] == NULL) continue;
        if (st->text) fprintf(out, "%s%s\n", step_prefix(st->kind), st->text);
        if (r.notes[k]) fprintf(out, "%s\n", r.notes[k]);
    }
    int rc = 0;
    char why[512];
    if (r.kind != POP3FUZZ_SRV_NONE) {
        fprintf(out, "reproduced: %s %s: %s\n", pop3fuzz_srv_kind_name(r.kind), r.verb, r.detail);
        rc = 1;
    } else if (!pop3fuzz_srv_alive(t, why, sizeof why)) {
        fprintf(out, "reproduced: dead: a fresh connection fails: %s\n", why);
        rc = 1;
    } else {
        fprintf(out, "not reproduced: the server answered every command and still greets\n");
    }
    pop3fuzz_srv_result_free(&r);
    return rc;
}
