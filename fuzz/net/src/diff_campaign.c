/*
 * diff_campaign.c - pop3-fuzz diff: conformance cases as seeds, their dialogues mutated
 * by pop3-fuzz's mutations (mutate.c), each mutated dialogue played by the mock (in a
 * thread, as pop3-conform plays it) to each client in turn, the clients' outcomes
 * summarised and compared (diff_outcome.c), and each new disagreement saved as a case
 * file that `pop3-fuzz replay` plays again.
 *
 * Run I of seed S draws from a generator seeded with S and I, as in client mode. A client
 * that answers n/a to a case unmutated (it cannot express its operations or options) is
 * not run on that case again, and a case that fewer than two clients can express is no
 * longer drawn: the draws of a campaign are the same for the same seed and the same
 * clients.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "diff.h"
#include "netfuzz.h"

/* Scripts drawn again when a mutation broke the script syntax. */
#define POP3DIFF_REDRAWS    8
/* Draws that may land on retired seeds before a run gives up finding a live one. */
#define POP3DIFF_SEED_DRAWS 64
/* Disagreements one comparison can report (one per field). */
#define POP3DIFF_PER_RUN    POP3DIFF_NFIELDS

typedef struct seed {
    conform_case *c;
    pop3fuzz_script dialogue;
    uint32_t na;  /* clients (bits) that answered n/a to this case */
    bool retired; /* fewer than two clients can express it */
    bool based;   /* played once unmutated: `base` holds its disagreements */
    strlist base; /* "FIELD / GROUPS" of the unmutated case's own disagreements */
} seed;

typedef struct found {
    char key[1200];
    pop3diff_disagreement d;
    char families[200];
    char path[1100];
    unsigned long first_run, count;
} found;

static void families_text(unsigned mask, char *out, size_t len)
{
    size_t w = 0;
    out[0] = '\0';
    for (unsigned f = 0; f < POP3FUZZ_FAMILIES; f++)
        if (mask & (1u << f)) {
            int a = snprintf(out + w, len - w, "%s%s", w ? "+" : "", pop3fuzz_family_name(f));
            if (a < 0 || (size_t)a >= len - w) break;
            w += (size_t)a;
        }
    if (w == 0) snprintf(out, len, "none");
}

/* One client on one dialogue. Returns 0, 1 when the dialogue does not parse (nothing
 * ran), -1 with `err` when the harness failed. */
static int play(const pop3diff_options *o, const conform_tls *tls, const conform_case *c,
                const char *text, size_t len, const conform_client *cl, pop3diff_summary *sum,
                bool *na, pop3_buf *log, char *err, size_t errlen)
{
    const tls_cert *cert = tls_fixture_find(tls, c->tls_cert);
    if (cert == NULL) {
        snprintf(err, errlen, "%s: no test certificate \"%s\"", c->path, c->tls_cert);
        return 1;
    }
    char why[1024];
    mock_run *m =
        mock_start(c->path, text, len, cert, tls->dir, o->hang_ms / 1000 + 1, why, sizeof why);
    if (m == NULL) return 1;
    client_env env = {.host = "127.0.0.1",
                      .port = mock_port(m),
                      .ca_file = cert->cert,
                      .other_ca_file = tls->other,
                      .timeout_ms = (int)o->timeout_ms};
    client_output out;
    run_config rc = {.tls = tls,
                     .timeout_ms = (int)o->timeout_ms,
                     .watchdog_ms = (int)o->hang_ms,
                     .whole_only = true,
                     .max_output = o->max_output};
    if (cl->command != NULL)
        client_adapter_run(c, cl, &env, &rc, &out);
    else
        client_ref_run(c, &env, &out);
    mock_report rep;
    mock_finish(m, 2000, &rep);
    *na = out.na != NULL;
    pop3diff_summarise(c, &out, rep.transcript.ptr, rep.transcript.len, sum);
    if (log != NULL) {
        if (out.na != NULL) cbuf_printf(log, "n/a: %s\n", out.na);
        if (out.problems.len > 0) cbuf_add(log, out.problems.ptr, out.problems.len);
        if (out.log.len > 0) cbuf_add(log, out.log.ptr, out.log.len);
    }
    /* The results go into the reproducer: keep them with the summary's owner. */
    client_output_free(&out);
    mock_report_free(&rep);
    (void)err;
    (void)errlen;
    return 0;
}

/* Like play, but the client's result lines are kept (the reproducer's expectations). */
static void results_of(const pop3diff_options *o, const conform_tls *tls, const conform_case *c,
                       const char *text, size_t len, const conform_client *cl, client_output *out)
{
    memset(out, 0, sizeof *out);
    const tls_cert *cert = tls_fixture_find(tls, c->tls_cert);
    char why[1024];
    mock_run *m = cert ? mock_start(c->path, text, len, cert, tls->dir, o->hang_ms / 1000 + 1, why,
                                    sizeof why)
                       : NULL;
    if (m == NULL) return;
    client_env env = {.host = "127.0.0.1",
                      .port = mock_port(m),
                      .ca_file = cert->cert,
                      .other_ca_file = tls->other,
                      .timeout_ms = (int)o->timeout_ms};
    run_config rc = {.tls = tls,
                     .timeout_ms = (int)o->timeout_ms,
                     .watchdog_ms = (int)o->hang_ms,
                     .whole_only = true,
                     .max_output = o->max_output};
    if (cl->command != NULL)
        client_adapter_run(c, cl, &env, &rc, out);
    else
        client_ref_run(c, &env, out);
    mock_report rep;
    mock_finish(m, 2000, &rep);
    mock_report_free(&rep);
}

static void write_client_line(FILE *f, const conform_client *cl)
{
    fprintf(f, "# pop3-fuzz-client: %s=%s\n", cl->name, cl->command ? cl->command : "reference");
}

static int save(const pop3diff_options *o, const conform_tls *tls, const seed *sd,
                const pop3fuzz_script *s, found *fd, const char *const *names,
                const pop3diff_summary *const *sums, const size_t *who, size_t n, unsigned long run,
                char *err, size_t errlen)
{
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", o->out_dir, strerror(errno));
        return -1;
    }
    snprintf(fd->path, sizeof fd->path, "%s/%s-%08x.case", o->out_dir,
             pop3diff_field_name(fd->d.field), pop3fuzz_fnv1a(fd->key));
    const conform_case *c = sd->c;
    size_t len = 0;
    char *text = pop3fuzz_script_text(s, &len);
    if (text == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The expectations of the case file are the first client's results. */
    client_output first;
    results_of(o, tls, c, text, len, &o->clients[who[0]], &first);
    FILE *f = fopen(fd->path, "w");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", fd->path, strerror(errno));
        client_output_free(&first);
        free(text);
        return -1;
    }
    const char *optext = fd->d.field == POP3DIFF_CREDS ? "the whole session"
                         : fd->d.op < c->nops          ? c->ops[fd->d.op].text
                                                       : "?";
    fprintf(f, "# pop3-fuzz diff: %s differs at operation %zu (%s): %s\n",
            pop3diff_field_name(fd->d.field), fd->d.op + 1, optext, fd->d.values);
    fprintf(f, "# seed case %s, mutations %s; found by seed %llu, run %lu\n", c->id, fd->families,
            o->seed, run);
    fputs("# reproduce: pop3-fuzz replay ", f);
    pop3fuzz_shell_quote(f, fd->path);
    for (size_t k = 0; k < n; k++) {
        const conform_client *cl = &o->clients[who[k]];
        fputs(" --client ", f);
        pop3_buf spec = {0};
        cbuf_printf(&spec, "%s=%s", cl->name, cl->command ? cl->command : "reference");
        pop3fuzz_shell_quote(f, spec.ptr);
        cbuf_free(&spec);
    }
    fprintf(f, " --timeout-ms %u --hang-ms %u\n", o->timeout_ms, o->hang_ms);
    fprintf(f,
            "# The results below are %s's. Each client's summary: creds=, then per\n"
            "# operation STATUS[:KIND][,VALUE] (pop3-fuzz(1), DIFFERENTIAL MODE).\n",
            names[0]);
    fprintf(f, "# pop3-fuzz-field: %s\n", pop3diff_field_name(fd->d.field));
    for (size_t k = 0; k < n; k++)
        write_client_line(f, &o->clients[who[k]]);
    for (size_t k = 0; k < n; k++) {
        pop3_buf b = {0};
        pop3diff_summary_format(sums[k], &b);
        fprintf(f, "# pop3-fuzz-summary %s: %s\n", names[k], b.ptr ? b.ptr : "");
        cbuf_free(&b);
    }
    /* The seed's id: it is the POP3_CONFORM_CASE the adapters saw (curl's adapter reads
     * the case file of that name beside it). */
    fprintf(f, "id:      %s\n", c->id);
    fprintf(f, "title:   pop3-fuzz diff: %s differs (%s)\n", pop3diff_field_name(fd->d.field),
            fd->d.groups);
    fprintf(f, "section: %s\n", c->section);
    if (c->options.n > 0) {
        fputs("options:", f);
        for (size_t i = 0; i < c->options.n; i++)
            fprintf(f, " %s", c->options.v[i]);
        fputc('\n', f);
    }
    if (strcmp(c->tls_cert, "localhost") != 0) fprintf(f, "tls-cert: %s\n", c->tls_cert);
    fputc('\n', f);
    for (size_t i = 0; i < c->nops; i++) {
        fprintf(f, "run: %s\n", c->ops[i].text);
        const strlist *l = i < first.nops ? &first.ops[i].lines : NULL;
        if (l == NULL || l->n == 0) fputs("  err *\n", f);
        for (size_t k = 0; l != NULL && k < l->n; k++)
            fprintf(f, "  %s\n", l->v[k]);
    }
    fputs("\ndialogue:\n", f);
    /* The case's header lines became "#" lines of its dialogue: left out. */
    size_t i = 0;
    while (i < s->n && (strcmp(s->line[i], "#") == 0 || s->line[i][0] == '\0'))
        i++;
    for (; i < s->n; i++)
        fprintf(f, "%s\n", s->line[i]);
    client_output_free(&first);
    free(text);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", fd->path, strerror(errno));
        return -1;
    }
    return 0;
}

static int load_seeds(const pop3diff_options *o, seed **out, size_t *nout, char *err, size_t errlen)
{
    strlist paths = {0};
    if (cases_list(o->cases_dir, &o->filters, &paths, err, errlen) < 0) return -1;
    seed *v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < paths.n; i++) {
        char why[512];
        conform_case *c = case_load(paths.v[i], why, sizeof why);
        if (c == NULL) continue;
        seed sd = {.c = c};
        if (!pop3fuzz_script_from_text(&sd.dialogue, c->dialogue, c->dialogue_len)) {
            case_free(c);
            continue;
        }
        v = realloc(v, (n + 1) * sizeof *v);
        if (v == NULL) abort();
        v[n++] = sd;
    }
    strlist_free(&paths);
    if (n == 0) {
        snprintf(err, errlen, "no case under %s matches", o->cases_dir);
        free(v);
        return -1;
    }
    *out = v;
    *nout = n;
    return 0;
}

static void free_seeds(seed *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        strlist_free(&v[i].base);
        case_free(v[i].c);
        pop3fuzz_script_free(&v[i].dialogue);
    }
    free(v);
}

static unsigned popcount32(uint32_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* "FIELD / GROUPS": a disagreement without its values and mutations. */
static void base_key(const pop3diff_disagreement *d, char *out, size_t len)
{
    snprintf(out, len, "%s / %s", pop3diff_field_name(d->field), d->groups);
}

/*
 * The first time a seed is drawn it is played unmutated to every client: the clients
 * that cannot express it answer n/a there, and the disagreements the case has by itself
 * (the conformance failures the suite already reports) are remembered, so that a mutated
 * run that only shows them again is filed under the mutation family "seed" instead of
 * once per family. Returns false when the unmutated dialogue cannot be served.
 */
static bool play_base(const pop3diff_options *o, const conform_tls *tls, seed *sd,
                      pop3diff_summary *sums, char *err, size_t errlen)
{
    sd->based = true;
    size_t who[POP3DIFF_MAX_CLIENTS], nwho = 0;
    for (size_t cl = 0; cl < o->nclients; cl++) {
        bool na = false;
        pop3diff_summary_free(&sums[cl]);
        if (play(o, tls, sd->c, sd->c->dialogue, sd->c->dialogue_len, &o->clients[cl], &sums[cl],
                 &na, NULL, err, errlen) != 0)
            return false;
        if (na)
            sd->na |= 1u << cl;
        else
            who[nwho++] = cl;
    }
    if (nwho < 2) return true;
    const char *names[POP3DIFF_MAX_CLIENTS];
    const pop3diff_summary *sp[POP3DIFF_MAX_CLIENTS];
    for (size_t k = 0; k < nwho; k++) {
        names[k] = o->clients[who[k]].name;
        sp[k] = &sums[who[k]];
    }
    pop3diff_disagreement ds[POP3DIFF_PER_RUN];
    size_t nd = pop3diff_compare(names, sp, nwho, sd->c, ds, POP3DIFF_PER_RUN);
    for (size_t d = 0; d < nd; d++) {
        char key[600];
        base_key(&ds[d], key, sizeof key);
        strlist_add(&sd->base, key);
    }
    return true;
}

static bool in_base(const seed *sd, const pop3diff_disagreement *d)
{
    char key[600];
    base_key(d, key, sizeof key);
    for (size_t k = 0; k < sd->base.n; k++)
        if (strcmp(sd->base.v[k], key) == 0) return true;
    return false;
}

/* ---- minimising a disagreement ---- */

typedef struct shrink_ctx {
    const pop3diff_options *o;
    const conform_tls *tls;
    const conform_case *c;
    const size_t *who; /* the clients that took part, by index */
    size_t nwho;
    pop3diff_field field; /* what must still differ, between the same groups */
    const char *groups;
    pop3diff_summary *sums;  /* by client index: the summaries of the last success */
    pop3diff_disagreement d; /* and its disagreement */
} shrink_ctx;

/* Do the same clients, on the shrunk dialogue, still disagree on the same field in the
 * same groups? A script that no longer parses, or a client that says n/a to it, is no. */
static bool still_disagrees(void *ud, const pop3fuzz_script *s)
{
    shrink_ctx *x = ud;
    size_t len = 0;
    char *text = pop3fuzz_script_text(s, &len);
    if (text == NULL) return false;
    pop3diff_summary tmp[POP3DIFF_MAX_CLIENTS];
    const pop3diff_summary *sp[POP3DIFF_MAX_CLIENTS];
    const char *names[POP3DIFF_MAX_CLIENTS];
    memset(tmp, 0, sizeof tmp);
    bool ok = true;
    size_t ran = 0;
    char err[512];
    for (; ran < x->nwho && ok; ran++) {
        bool na = false;
        const conform_client *cl = &x->o->clients[x->who[ran]];
        ok = play(x->o, x->tls, x->c, text, len, cl, &tmp[ran], &na, NULL, err, sizeof err) == 0 &&
             !na;
        names[ran] = cl->name;
        sp[ran] = &tmp[ran];
    }
    free(text);
    pop3diff_disagreement ds[POP3DIFF_PER_RUN];
    size_t nd = ok ? pop3diff_compare(names, sp, x->nwho, x->c, ds, POP3DIFF_PER_RUN) : 0;
    bool same = false;
    for (size_t d = 0; d < nd && !same; d++)
        if (ds[d].field == x->field && strcmp(ds[d].groups, x->groups) == 0) {
            same = true;
            x->d = ds[d];
        }
    for (size_t k = 0; k < ran; k++) {
        if (same) {
            /* This script is the one kept: its summaries go into the saved case. */
            pop3diff_summary_free(&x->sums[x->who[k]]);
            x->sums[x->who[k]] = tmp[k];
        } else {
            pop3diff_summary_free(&tmp[k]);
        }
    }
    return same;
}

/* Shrink `s` (lines dropped, long lines halved: minimise.c) while the clients `who` still
 * disagree as in `d`; `sums` and `d` then describe the shrunk dialogue. */
static void shrink(const pop3diff_options *o, const conform_tls *tls, const conform_case *c,
                   pop3fuzz_script *s, pop3diff_disagreement *d, const size_t *who, size_t nwho,
                   pop3diff_summary *sums)
{
    char groups[sizeof d->groups];
    snprintf(groups, sizeof groups, "%s", d->groups);
    shrink_ctx x = {o, tls, c, who, nwho, d->field, groups, sums, *d};
    size_t before = s->n;
    pop3fuzz_shrink(s, (unsigned)o->minimise_tries, still_disagrees, &x);
    if (s->n != before) *d = x.d;
}

long pop3diff_campaign(const pop3diff_options *o, FILE *out, char *err, size_t errlen)
{
    seed *seeds = NULL;
    size_t nseeds = 0;
    if (load_seeds(o, &seeds, &nseeds, err, errlen) != 0) return -1;
    conform_tls tls;
    memset(&tls, 0, sizeof tls);
    if (tls_fixture_make(&tls, err, errlen) != 0) {
        free_seeds(seeds, nseeds);
        return -1;
    }
    found *fs = NULL;
    size_t nf = 0;
    unsigned long runs = 0, compared = 0, based = 0;
    double start = pop3fuzz_now_s(), last_progress = 0;
    uint32_t all = o->nclients >= 32 ? ~0u : (1u << o->nclients) - 1;
    long rc = 0;
    pop3diff_summary *sums = xcalloc(o->nclients, sizeof *sums);
    for (unsigned long i = 0; rc == 0; i++) {
        if (o->iterations && runs >= o->iterations) break;
        if (o->seconds && pop3fuzz_now_s() - start >= (double)o->seconds) break;
        pop3fuzz_rng r = {o->seed * 0x100000001b3u + i};
        pop3fuzz_next(&r);
        seed *sd = NULL;
        for (int k = 0; k < POP3DIFF_SEED_DRAWS && sd == NULL; k++) {
            seed *t = &seeds[pop3fuzz_below(&r, nseeds)];
            if (!t->retired) sd = t;
        }
        if (sd == NULL) {
            bool any = false;
            for (size_t k = 0; k < nseeds; k++)
                any |= !seeds[k].retired;
            if (!any && runs == 0) {
                snprintf(err, errlen,
                         "no seed case is expressed by two clients (every client answered n/a)");
                rc = -1;
                break;
            }
            if (!any) {
                /* Every case was run, and no more can be compared: the campaign is over. */
                if (o->progress) fputs("\r\033[K", stderr);
                fprintf(stderr, "pop3-fuzz: every seed case left is expressed by fewer than two "
                                "clients; stopping\n");
                break;
            }
            continue;
        }
        if (!sd->based) {
            based++;
            if (!play_base(o, &tls, sd, sums, err, errlen)) {
                sd->retired = true;
                continue;
            }
            uint32_t can = all & ~sd->na;
            if (popcount32(can) < 2) {
                sd->retired = true;
                continue;
            }
        }
        pop3fuzz_script s = {0};
        unsigned families = 0;
        bool ran = false;
        size_t who[POP3DIFF_MAX_CLIENTS], nwho = 0;
        for (int k = 0; k < POP3DIFF_REDRAWS && !ran && rc == 0; k++) {
            pop3fuzz_script_free(&s);
            if (!pop3fuzz_script_copy(&s, &sd->dialogue)) abort();
            pop3fuzz_mutate_tagged(&s, &r, o->max_stack, &families);
            size_t len = 0;
            char *text = pop3fuzz_script_text(&s, &len);
            if (text == NULL) abort();
            nwho = 0;
            bool parse_error = false;
            for (size_t cl = 0; cl < o->nclients && !parse_error; cl++) {
                if (sd->na & (1u << cl)) continue;
                bool na = false;
                pop3diff_summary_free(&sums[cl]);
                int p = play(o, &tls, sd->c, text, len, &o->clients[cl], &sums[cl], &na, NULL, err,
                             errlen);
                if (p == 1) {
                    parse_error = true;
                    break;
                }
                /* n/a on a mutated dialogue (curl's adapter says so when curl opened a
                 * second connection) leaves the client out of this run only. */
                if (!na) who[nwho++] = cl;
            }
            free(text);
            ran = !parse_error;
        }
        if (!ran) {
            /* Its dialogue broke under every mutation drawn (or has no certificate here):
             * not drawn again, so that a campaign of such seeds ends. */
            sd->retired = true;
            pop3fuzz_script_free(&s);
            continue;
        }
        runs++;
        if (nwho >= 2) {
            compared++;
            const char *names[POP3DIFF_MAX_CLIENTS];
            const pop3diff_summary *sp[POP3DIFF_MAX_CLIENTS];
            for (size_t k = 0; k < nwho; k++) {
                names[k] = o->clients[who[k]].name;
                sp[k] = &sums[who[k]];
            }
            pop3diff_disagreement ds[POP3DIFF_PER_RUN];
            size_t nd = pop3diff_compare(names, sp, nwho, sd->c, ds, POP3DIFF_PER_RUN);
            for (size_t d = 0; d < nd && rc == 0; d++) {
                char fam[200];
                if (in_base(sd, &ds[d]))
                    snprintf(fam, sizeof fam, "seed");
                else
                    families_text(families, fam, sizeof fam);
                char key[1200];
                snprintf(key, sizeof key, "%s / %s / %s", pop3diff_field_name(ds[d].field),
                         ds[d].groups, fam);
                size_t f = 0;
                while (f < nf && strcmp(fs[f].key, key) != 0)
                    f++;
                if (f < nf) {
                    fs[f].count++;
                    continue;
                }
                found *p = realloc(fs, (nf + 1) * sizeof *p);
                if (p == NULL) abort();
                fs = p;
                found *fd = &fs[nf++];
                memset(fd, 0, sizeof *fd);
                snprintf(fd->key, sizeof fd->key, "%s", key);
                snprintf(fd->families, sizeof fd->families, "%s", fam);
                fd->d = ds[d];
                fd->first_run = i;
                fd->count = 1;
                if (o->progress) fputs("\r\033[K", stderr);
                fprintf(stderr, "pop3-fuzz: run %lu (%s): %s differs: %s\n", i, sd->c->id,
                        pop3diff_field_name(ds[d].field), ds[d].values);
                if (o->minimise_tries > 0) {
                    shrink(o, &tls, sd->c, &s, &ds[d], who, nwho, sums);
                    fd->d = ds[d];
                }
                if (save(o, &tls, sd, &s, fd, names, sp, who, nwho, i, err, errlen) != 0) rc = -1;
            }
        }
        pop3fuzz_script_free(&s);
        double t = pop3fuzz_now_s();
        if (o->progress && t - last_progress >= 0.5) {
            last_progress = t;
            fprintf(stderr, "\r\033[Kpop3-fuzz: %lu runs, %zu disagreements, %.2f runs/s", runs, nf,
                    t > start ? (double)runs / (t - start) : 0.0);
        }
    }
    if (o->progress) fputs("\r\033[K", stderr);
    double secs = pop3fuzz_now_s() - start;
    if (rc == 0) {
        if (nf > 0) {
            fprintf(out, "%-7s %6s %8s  %-32s %-22s %s\n", "field", "count", "first", "clients",
                    "mutations", "file");
            for (size_t k = 0; k < nf; k++)
                fprintf(out, "%-7s %6lu %8lu  %-32s %-22s %s\n", pop3diff_field_name(fs[k].d.field),
                        fs[k].count, fs[k].first_run, fs[k].d.groups, fs[k].families, fs[k].path);
        }
        fprintf(out,
                "%.1f s, %.2f runs/s, %lu compared (two clients or more expressed the case), "
                "%lu seed cases played unmutated first\n",
                secs, secs > 0 ? (double)runs / secs : 0.0, compared, based);
        fprintf(out, "%lu runs, %zu disagreements\n", runs, nf);
        rc = (long)nf;
    }
    for (size_t k = 0; k < o->nclients; k++)
        pop3diff_summary_free(&sums[k]);
    free(sums);
    free(fs);
    tls_fixture_remove(&tls);
    free_seeds(seeds, nseeds);
    return rc;
}

/* ---- replay ---- */

typedef struct recorded {
    char field[16];
    strlist clients; /* "NAME=CMD" */
    strlist names;   /* of the summaries, in order */
    pop3diff_summary *sums;
    size_t nsums;
} recorded;

static void recorded_free(recorded *r)
{
    strlist_free(&r->clients);
    strlist_free(&r->names);
    for (size_t k = 0; k < r->nsums; k++)
        pop3diff_summary_free(&r->sums[k]);
    free(r->sums);
}

static bool read_recorded(const char *text, size_t len, recorded *r)
{
    memset(r, 0, sizeof *r);
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        char *l = xstrndup(p, n);
        p += n + 1;
        if (strncmp(l, "# pop3-fuzz-field: ", 19) == 0) {
            snprintf(r->field, sizeof r->field, "%s", l + 19);
        } else if (strncmp(l, "# pop3-fuzz-client: ", 20) == 0) {
            strlist_add(&r->clients, l + 20);
        } else if (strncmp(l, "# pop3-fuzz-summary ", 20) == 0) {
            char *colon = strstr(l + 20, ": ");
            pop3diff_summary s;
            if (colon != NULL && pop3diff_summary_parse(colon + 2, &s)) {
                strlist_take(&r->names, xstrndup(l + 20, (size_t)(colon - (l + 20))));
                r->sums = realloc(r->sums, (r->nsums + 1) * sizeof *r->sums);
                if (r->sums == NULL) abort();
                r->sums[r->nsums++] = s;
            }
        } else if (strncmp(l, "dialogue:", 9) == 0) {
            free(l);
            break;
        }
        free(l);
    }
    return r->field[0] != '\0';
}

int pop3diff_replay(pop3diff_options *o, const char *path, FILE *out, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    if (text == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    recorded rec;
    bool ok = read_recorded(text, len, &rec);
    free(text);
    if (!ok) {
        recorded_free(&rec);
        snprintf(err, errlen, "%s: not a pop3-fuzz diff reproducer (no pop3-fuzz-field line)",
                 path);
        return -1;
    }
    conform_case *c = case_load(path, err, errlen);
    if (c == NULL) {
        recorded_free(&rec);
        return -1;
    }
    if (o->nclients == 0) {
        for (size_t k = 0; k < rec.clients.n && o->nclients < POP3DIFF_MAX_CLIENTS; k++) {
            const char *spec = rec.clients.v[k];
            const char *eq = strchr(spec, '=');
            conform_client *cl = &o->clients[o->nclients];
            if (eq != NULL && strcmp(eq + 1, "reference") == 0) {
                cl->name = xstrndup(spec, (size_t)(eq - spec));
                cl->command = NULL;
            } else if (client_spec_prepare(cl, spec, o->cases_dir, err, errlen) != 0) {
                recorded_free(&rec);
                case_free(c);
                return -1;
            }
            o->nclients++;
        }
    }
    conform_tls tls;
    memset(&tls, 0, sizeof tls);
    if (tls_fixture_make(&tls, err, errlen) != 0) {
        recorded_free(&rec);
        case_free(c);
        return -1;
    }
    const char *names[2 * POP3DIFF_MAX_CLIENTS];
    const pop3diff_summary *sp[2 * POP3DIFF_MAX_CLIENTS];
    pop3diff_summary fresh[POP3DIFF_MAX_CLIENTS];
    memset(fresh, 0, sizeof fresh);
    size_t n = 0;
    int rc = 0;
    for (size_t k = 0; k < o->nclients; k++) {
        bool na = false;
        pop3_buf log = {0};
        if (play(o, &tls, c, c->dialogue, c->dialogue_len, &o->clients[k], &fresh[k], &na, &log,
                 err, errlen) != 0) {
            snprintf(err, errlen, "%s: the dialogue does not parse", path);
            cbuf_free(&log);
            rc = -1;
            break;
        }
        if (o->echo_stderr && log.len > 0) {
            fprintf(stderr, "--- %s:\n", o->clients[k].name);
            fwrite(log.ptr, 1, log.len, stderr);
        }
        cbuf_free(&log);
        pop3_buf b = {0};
        pop3diff_summary_format(&fresh[k], &b);
        fprintf(out, "%s: %s%s\n", o->clients[k].name, na ? "n/a " : "", b.ptr ? b.ptr : "");
        cbuf_free(&b);
        if (!na) {
            names[n] = o->clients[k].name;
            sp[n++] = &fresh[k];
        }
    }
    if (rc == 0) {
        /* The recorded outcomes of the clients not run now stand in for them. */
        for (size_t k = 0; k < rec.nsums; k++) {
            bool run_now = false;
            for (size_t j = 0; j < o->nclients; j++)
                run_now |= strcmp(o->clients[j].name, rec.names.v[k]) == 0;
            if (run_now) continue;
            names[n] = rec.names.v[k];
            sp[n++] = &rec.sums[k];
            fprintf(out, "%s (recorded): ", rec.names.v[k]);
            pop3_buf b = {0};
            pop3diff_summary_format(&rec.sums[k], &b);
            fprintf(out, "%s\n", b.ptr ? b.ptr : "");
            cbuf_free(&b);
        }
        pop3diff_disagreement ds[POP3DIFF_PER_RUN];
        size_t nd = pop3diff_compare(names, sp, n, c, ds, POP3DIFF_PER_RUN);
        for (size_t d = 0; d < nd && rc == 0; d++)
            if (strcmp(pop3diff_field_name(ds[d].field), rec.field) == 0) {
                fprintf(out, "reproduced: %s differs at operation %zu: %s\n", rec.field,
                        ds[d].op + 1, ds[d].values);
                rc = 1;
            }
        if (rc == 0) fprintf(out, "did not reproduce: the clients agree on %s\n", rec.field);
    }
    for (size_t k = 0; k < o->nclients; k++)
        pop3diff_summary_free(&fresh[k]);
    tls_fixture_remove(&tls);
    recorded_free(&rec);
    case_free(c);
    return rc;
}
