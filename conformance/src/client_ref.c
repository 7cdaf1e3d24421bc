/*
 * client_ref.c - the operation language run with the reference client (libpop3).
 *
 * Each "run:" line of a case is one call of pop3/client.h (poplib's calls in C: connect,
 * capa, user, pass, apop, auth, login, stat, list, uidl, retr, top, dele, rset, noop,
 * utf8, stls, quit, close, raw commands, pipelined retrieval) and gives result lines in
 * the form every adapter also prints (conformance/README.md): "ok" or "err KIND" with
 * the RFC 2449 / 3206 / 6856 response code ("code IN-USE"), then the values returned.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "pop3/client.h"
#include "pop3/digest.h"
#include "pop3/error.h"
#include "pop3/parse.h"

/* Bodies up to this size are shown whole; longer ones by length and MD5. */
#define BODY_SHOW_MAX 2048

typedef struct ref_state {
    pop3_client *c;
    pop3_options opt;
    pop3_tls_options tls;
    const client_env *env;
    unsigned anomalies; /* of the last LIST or UIDL listing */
    size_t skipped;
    strlist *out; /* the result lines of the operation being run */
} ref_state;

static void line(ref_state *st, const char *s)
{
    strlist_add(st->out, s);
}

static void linef(ref_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void linef(ref_state *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    strlist_add(st->out, tmp);
}

static void text_line(ref_state *st, const char *key, const char *p, size_t n)
{
    pop3_buf b = {0};
    cbuf_puts(&b, key);
    cbuf_putc(&b, ' ');
    text_format(&b, p, n);
    strlist_take(st->out, cbuf_take(&b));
}

static void body_lines(strlist *out, const char *key, const char *p, size_t n)
{
    pop3_buf b = {0};
    if (n <= BODY_SHOW_MAX) {
        cbuf_printf(&b, "%s ", key);
        text_format(&b, p, n);
    } else {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL);
        cbuf_printf(&b, "%s-md5 %zu ", key, n);
        for (unsigned i = 0; i < mdlen; i++)
            cbuf_printf(&b, "%02x", md[i]);
    }
    strlist_take(out, cbuf_take(&b));
}

static const char *kind_name(int rc)
{
    switch (rc) {
    case POP3_ESERVER: return "server";
    case POP3_EPROTO: return "proto";
    case POP3_EIO: return "io";
    case POP3_ETLS: return "tls";
    case POP3_ETIMEOUT: return "timeout";
    case POP3_ELIMIT: return "limit";
    case POP3_EUSAGE: return "usage";
    case POP3_ESTATE: return "state";
    case POP3_ENOMEM: return "nomem";
    case POP3_ECLOSED: return "closed";
    default: return "unknown";
    }
}

/* "ok", or "err KIND # message" and the response code of a -ERR. */
static void status(ref_state *st, int rc)
{
    if (rc == POP3_OK) {
        line(st, "ok");
        return;
    }
    pop3_buf b = {0};
    cbuf_printf(&b, "err %s", kind_name(rc));
    const char *msg = st->c != NULL ? pop3_errmsg(st->c) : "";
    if (msg != NULL && *msg != '\0') cbuf_printf(&b, "  # %s", msg);
    strlist_take(st->out, cbuf_take(&b));
    if (rc == POP3_ESERVER && st->c != NULL) {
        pop3_resp_code code = pop3_response_code(st->c);
        if (code == POP3_CODE_OTHER)
            linef(st, "code %s", pop3_response_code_text(st->c));
        else if (code != POP3_CODE_NONE)
            linef(st, "code %s", pop3_resp_code_name(code));
    }
}

/* The longest "connect timeout=SECONDS" a case may ask for: an hour, far past any
 * case's run, and well inside what the client's millisecond timeouts hold. */
#define CASE_TIMEOUT_MAX_S 3600

/* A message number or line count of a case's client step: RFC 1939 digits, 64 bits. */
static bool parse_u64(const char *s, uint64_t *v)
{
    return s != NULL && pop3_parse_number(s, strlen(s), v) == POP3_OK;
}

static int sink(void *ud, const char *data, size_t len)
{
    cbuf_add(ud, data, len);
    return POP3_OK;
}

typedef struct retrieve_ctx {
    ref_state *st;
    bool dele;
    pop3_buf body;
    strlist got, deleted;
} retrieve_ctx;

static int rt_data(void *ud, uint64_t msg, const char *data, size_t len)
{
    retrieve_ctx *r = ud;
    (void)msg;
    cbuf_add(&r->body, data, len);
    return POP3_OK;
}

static int rt_done(void *ud, uint64_t msg, int st)
{
    retrieve_ctx *r = ud;
    char tmp[128];
    if (st == POP3_OK) {
        snprintf(tmp, sizeof tmp, "retrieved %llu ok", (unsigned long long)msg);
        strlist_add(&r->got, tmp);
        body_lines(&r->got, "body", r->body.ptr != NULL ? r->body.ptr : "", r->body.len);
    } else {
        snprintf(tmp, sizeof tmp, "retrieved %llu err %s", (unsigned long long)msg, kind_name(st));
        strlist_add(&r->got, tmp);
    }
    r->body.len = 0;
    return st == POP3_OK && r->dele ? POP3_DELETE : POP3_KEEP;
}

static void rt_deleted(void *ud, uint64_t msg, int st)
{
    retrieve_ctx *r = ud;
    char tmp[128];
    snprintf(tmp, sizeof tmp, "deleted %llu %s%s", (unsigned long long)msg,
             st == POP3_OK ? "ok" : "err ", st == POP3_OK ? "" : kind_name(st));
    strlist_add(&r->deleted, tmp);
}

/* The POP3_TOL_* bits in order (pop3/wire.h); their quirks are in conformance/QUIRKS.md. */
static const char *const quirk_names[] = {"bare-lf",    "banner",      "bare-plus",
                                          "dot-cr-eof", "status-case", "any-plus"};

static void quirks_line(ref_state *st, unsigned q)
{
    pop3_buf b = {0};
    cbuf_puts(&b, "quirks");
    for (unsigned i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++)
        if (q & (1u << i)) cbuf_printf(&b, " %s", quirk_names[i]);
    if (q & POP3_SEEN_DOT_NOT_STUFFED) cbuf_puts(&b, " dot-not-stuffed");
    if (q & POP3_SEEN_PLUS_ERR) cbuf_puts(&b, " plus-err");
    if (b.len == 6) cbuf_puts(&b, " none");
    strlist_take(st->out, cbuf_take(&b));
}

static void anomalies_line(ref_state *st)
{
    static const char *const names[] = {"extra-space", "trailing",  "msgno-zero",   "duplicate",
                                        "uid-long",    "uid-chars", "duplicate-uid"};
    pop3_buf b = {0};
    cbuf_puts(&b, "anomalies");
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (st->anomalies & (1u << i)) cbuf_printf(&b, " %s", names[i]);
    if (b.len == 9) cbuf_puts(&b, " none");
    strlist_take(st->out, cbuf_take(&b));
    linef(st, "skipped %zu", st->skipped);
}

static void listing_lines(ref_state *st, const pop3_listing *l)
{
    for (size_t i = 0; i < l->count; i++) {
        const pop3_listing_entry *e = &l->entries[i];
        if (l->uidl) {
            pop3_buf b = {0};
            cbuf_printf(&b, "uid %llu ", (unsigned long long)e->msgno);
            text_format(&b, e->uid, e->uid_len);
            strlist_take(st->out, cbuf_take(&b));
        } else {
            linef(st, "msg %llu %llu", (unsigned long long)e->msgno, (unsigned long long)e->size);
        }
    }
    st->anomalies = l->anomalies;
    st->skipped = l->skipped;
}

static void lines_result(ref_state *st, int rc, const pop3_lines *l)
{
    status(st, rc);
    if (rc != POP3_OK) return;
    text_line(st, "response", l->response, strlen(l->response));
    for (size_t i = 0; i < l->count; i++)
        text_line(st, "line", l->lines[i].ptr, l->lines[i].len);
    linef(st, "octets %llu", (unsigned long long)l->octets);
}

static void caps_lines(ref_state *st, const pop3_capa_set *caps)
{
    for (size_t i = 0; i < caps->count; i++)
        text_line(st, "cap", caps->caps[i].line.ptr, caps->caps[i].line.len);
}

/* A scripted SASL mechanism for "sasl MECH [ir TEXT] [reply TEXT | cancel]...": the
 * initial response and the answers to the server's challenges, in order; past the last
 * answer (or at "cancel") the exchange is cancelled. The challenges are recorded.
 * "ir64" and "reply64" give binary answers in base64 (a KERBEROS_V4 ticket holds NULs). */
typedef struct sasl_script {
    const strlist *w;
    size_t next; /* index into w of the next "reply"/"cancel" word */
    strlist challenges;
} sasl_script;

static int sasl_step(void *ud, const char *challenge, size_t challenge_len, char *out, size_t cap,
                     size_t *out_len)
{
    sasl_script *s = ud;
    const char *text = NULL;
    const char *key = s->next + 1 < s->w->n ? s->w->v[s->next] : "";
    bool b64 = strcmp(key, "ir64") == 0 || strcmp(key, "reply64") == 0;
    if (challenge == NULL) {
        if (strcmp(key, "ir") == 0 || strcmp(key, "ir64") == 0) {
            text = s->w->v[s->next + 1];
            s->next += 2;
        } else {
            return POP3_SASL_WAIT;
        }
    } else {
        body_lines(&s->challenges, "challenge", challenge, challenge_len);
        if (strcmp(key, "reply") == 0 || strcmp(key, "reply64") == 0) {
            text = s->w->v[s->next + 1];
            s->next += 2;
        } else {
            if (s->next < s->w->n && strcmp(s->w->v[s->next], "cancel") == 0) s->next++;
            return POP3_EUSAGE; /* cancel: the client sends "*" (RFC5034-4.5) */
        }
    }
    size_t n = strlen(text);
    if (b64)
        return pop3_base64_decode(text, n, out, cap, out_len) == POP3_OK ? POP3_OK : POP3_EUSAGE;
    if (n > cap) return POP3_ELIMIT;
    memcpy(out, text, n);
    *out_len = n;
    return POP3_OK;
}

/* Credentials from "USER SECRET [authzid=Z] [bearer]". */
static bool credentials(const strlist *w, size_t from, pop3_credentials *cr)
{
    memset(cr, 0, sizeof *cr);
    if (w->n < from + 2) return false;
    cr->user = w->v[from];
    cr->secret = w->v[from + 1];
    for (size_t i = from + 2; i < w->n; i++) {
        if (strncmp(w->v[i], "authzid=", 8) == 0)
            cr->authzid = w->v[i] + 8;
        else if (strcmp(w->v[i], "bearer") == 0)
            cr->bearer = true;
        else
            return false;
    }
    return true;
}

/* One operation; false when the operation itself is malformed (a case error). PASS
 * takes the rest of the line, spaces included (RFC1939-7.6), unless it is quoted. */
static bool run_op(ref_state *st, const case_op *cop, const char *path, const strlist *w,
                   pop3_buf *problem)
{
    const char *op = w->v[0];
    size_t n = w->n;
    uint64_t a = 0, b = 0;
    int rc;
    if (strcmp(op, "connect") == 0) {
        /* connect [tls] [timeout=SECONDS]: poplib's POP3(host, port, timeout) and
         * POP3_SSL; without a timeout, the options' (the case's) timeouts apply. */
        bool tls = false;
        double timeout = POP3_TIMEOUT_DEFAULT;
        for (size_t i = 1; i < n; i++) {
            if (strcmp(w->v[i], "tls") == 0)
                tls = true;
            else if (strncmp(w->v[i], "timeout=", 8) != 0 ||
                     !conform_seconds(w->v[i] + 8, CASE_TIMEOUT_MAX_S, &timeout))
                goto bad;
        }
        rc = tls ? pop3_connect_tls(st->c, st->env->host, st->env->port, timeout, &st->tls)
                 : pop3_connect(st->c, st->env->host, st->env->port, timeout);
        status(st, rc);
    } else if (strcmp(op, "welcome") == 0 && n == 1) {
        line(st, "ok");
        const char *wl = pop3_getwelcome(st->c);
        text_line(st, "welcome", wl, strlen(wl));
    } else if (strcmp(op, "response") == 0 && n == 1) {
        line(st, "ok");
        const char *r = pop3_response(st->c);
        text_line(st, "response", r, strlen(r));
    } else if (strcmp(op, "capa") == 0 && n == 1) {
        const pop3_capa_set *caps = NULL;
        rc = pop3_capa(st->c, &caps);
        status(st, rc);
        if (rc == POP3_OK && caps != NULL) caps_lines(st, caps);
    } else if (strcmp(op, "capabilities") == 0 && n == 1) {
        line(st, "ok");
        const pop3_capa_set *caps = pop3_capabilities(st->c);
        if (caps == NULL)
            line(st, "caps unknown");
        else
            caps_lines(st, caps);
    } else if (strcmp(op, "user") == 0 && n == 2) {
        status(st, pop3_user(st->c, w->v[1]));
    } else if (strcmp(op, "pass") == 0 && n >= 2) {
        const char *rest = cop->text + 4;
        while (*rest == ' ')
            rest++;
        status(st, pop3_pass(st->c, *rest == '"' || n == 2 ? w->v[1] : rest));
    } else if (strcmp(op, "apop") == 0 && n == 3) {
        status(st, pop3_apop(st->c, w->v[1], w->v[2]));
    } else if (strcmp(op, "rpop") == 0 && n == 2) {
        status(st, pop3_rpop(st->c, w->v[1]));
    } else if (strcmp(op, "auth") == 0 && n >= 4) {
        pop3_credentials cr;
        if (!credentials(w, 2, &cr)) goto bad;
        status(st, pop3_auth(st->c, w->v[1], &cr));
    } else if (strcmp(op, "sasl") == 0 && n >= 2) {
        sasl_script sc = {.w = w, .next = 2};
        for (size_t i = 2; i < n; i++) {
            const char *k = w->v[i];
            if (strcmp(k, "cancel") == 0) continue;
            if ((strcmp(k, "ir") != 0 && strcmp(k, "reply") != 0 && strcmp(k, "ir64") != 0 &&
                 strcmp(k, "reply64") != 0) ||
                i + 1 >= n)
                goto bad;
            i++;
        }
        rc = pop3_auth_custom(st->c, w->v[1], sasl_step, &sc);
        status(st, rc);
        for (size_t i = 0; i < sc.challenges.n; i++)
            line(st, sc.challenges.v[i]);
        strlist_free(&sc.challenges);
    } else if (strcmp(op, "login") == 0 && n >= 3) {
        pop3_credentials cr;
        if (!credentials(w, 1, &cr)) goto bad;
        status(st, pop3_login(st->c, &cr));
    } else if (strcmp(op, "stat") == 0 && n == 1) {
        rc = pop3_stat(st->c, &a, &b);
        status(st, rc);
        if (rc == POP3_OK)
            linef(st, "stat %llu %llu", (unsigned long long)a, (unsigned long long)b);
    } else if ((strcmp(op, "list") == 0 || strcmp(op, "uidl") == 0) && n == 1) {
        pop3_listing l;
        bool uidl = op[0] == 'u';
        pop3_listing_init(&l, uidl);
        rc = uidl ? pop3_uidl(st->c, &l) : pop3_list(st->c, &l);
        status(st, rc);
        if (rc == POP3_OK) listing_lines(st, &l);
        pop3_listing_free(&l);
    } else if (strcmp(op, "list") == 0 && n == 2 && parse_u64(w->v[1], &a)) {
        rc = pop3_list_one(st->c, a, &b);
        status(st, rc);
        if (rc == POP3_OK) linef(st, "msg %llu %llu", (unsigned long long)a, (unsigned long long)b);
    } else if (strcmp(op, "uidl") == 0 && n == 2 && parse_u64(w->v[1], &a)) {
        const char *uid = NULL;
        rc = pop3_uidl_one(st->c, a, &uid);
        status(st, rc);
        if (rc == POP3_OK) {
            pop3_buf u = {0};
            cbuf_printf(&u, "uid %llu ", (unsigned long long)a);
            text_format(&u, uid, strlen(uid));
            strlist_take(st->out, cbuf_take(&u));
        }
    } else if ((strcmp(op, "retr") == 0 && n == 2 && parse_u64(w->v[1], &a)) ||
               (strcmp(op, "top") == 0 && n == 3 && parse_u64(w->v[1], &a) &&
                parse_u64(w->v[2], &b))) {
        pop3_buf body = {0};
        rc = op[0] == 'r' ? pop3_retr(st->c, a, sink, &body) : pop3_top(st->c, a, b, sink, &body);
        status(st, rc);
        if (rc == POP3_OK) body_lines(st->out, "body", body.ptr ? body.ptr : "", body.len);
        cbuf_free(&body);
    } else if (strcmp(op, "retr-lines") == 0 && n == 2 && parse_u64(w->v[1], &a)) {
        pop3_lines l;
        rc = pop3_retr_lines(st->c, a, &l);
        lines_result(st, rc, &l);
        pop3_lines_free(&l);
    } else if (strcmp(op, "top-lines") == 0 && n == 3 && parse_u64(w->v[1], &a) &&
               parse_u64(w->v[2], &b)) {
        pop3_lines l;
        rc = pop3_top_lines(st->c, a, b, &l);
        lines_result(st, rc, &l);
        pop3_lines_free(&l);
    } else if ((strcmp(op, "list-lines") == 0 || strcmp(op, "uidl-lines") == 0) && n == 1) {
        pop3_lines l;
        rc = op[0] == 'l' ? pop3_list_lines(st->c, &l) : pop3_uidl_lines(st->c, &l);
        lines_result(st, rc, &l);
        pop3_lines_free(&l);
    } else if (strcmp(op, "dele") == 0 && n == 2 && parse_u64(w->v[1], &a)) {
        status(st, pop3_dele(st->c, a));
    } else if (strcmp(op, "rset") == 0 && n == 1) {
        status(st, pop3_rset(st->c));
    } else if (strcmp(op, "noop") == 0 && n == 1) {
        status(st, pop3_noop(st->c));
    } else if (strcmp(op, "utf8") == 0 && n == 1) {
        status(st, pop3_utf8(st->c));
    } else if (strcmp(op, "stls") == 0 && n == 1) {
        status(st, pop3_stls(st->c, &st->tls));
    } else if (strcmp(op, "quit") == 0 && n == 1) {
        status(st, pop3_quit(st->c));
    } else if (strcmp(op, "close") == 0 && n == 1) {
        pop3_close(st->c);
        line(st, "ok");
    } else if ((strcmp(op, "raw") == 0 || strcmp(op, "raw-multi") == 0) && n >= 2) {
        pop3_buf body = {0};
        bool multi = strcmp(op, "raw-multi") == 0;
        rc = pop3_command(st->c, w->v[1], (const char *const *)w->v + 2, n - 2, multi ? sink : NULL,
                          &body);
        status(st, rc);
        if (rc == POP3_OK && multi) body_lines(st->out, "body", body.ptr ? body.ptr : "", body.len);
        cbuf_free(&body);
    } else if (strcmp(op, "retrieve") == 0 && n >= 2) {
        retrieve_ctx r = {.st = st};
        uint64_t *msgs = xcalloc(n, sizeof *msgs);
        size_t count = 0;
        for (size_t i = 1; i < n; i++) {
            if (strcmp(w->v[i], "delete") == 0)
                r.dele = true;
            else if (parse_u64(w->v[i], &msgs[count]))
                count++;
            else {
                free(msgs);
                goto bad;
            }
        }
        pop3_retrieve_handler h = {
            .data = rt_data, .done = rt_done, .deleted = rt_deleted, .ud = &r};
        rc = pop3_retrieve(st->c, msgs, count, &h);
        status(st, rc);
        for (size_t i = 0; i < r.got.n; i++)
            line(st, r.got.v[i]);
        for (size_t i = 0; i < r.deleted.n; i++)
            line(st, r.deleted.v[i]);
        strlist_free(&r.got);
        strlist_free(&r.deleted);
        cbuf_free(&r.body);
        free(msgs);
    } else if (strcmp(op, "quirks") == 0 && n == 1) {
        line(st, "ok");
        quirks_line(st, pop3_quirks(st->c));
    } else if (strcmp(op, "anomalies") == 0 && n == 1) {
        line(st, "ok");
        anomalies_line(st);
    } else if (strcmp(op, "pipelining") == 0 && n == 1) {
        line(st, "ok");
        linef(st, "pipelining %s", pop3_pipelining_active(st->c) ? "yes" : "no");
    } else if (strcmp(op, "state") == 0 && n == 1) {
        line(st, "ok");
        linef(st, "connected %s", pop3_is_connected(st->c) ? "yes" : "no");
        linef(st, "tls %s", pop3_is_tls(st->c) ? "yes" : "no");
        linef(st, "auth %s", pop3_is_authenticated(st->c) ? "yes" : "no");
    } else {
        goto bad;
    }
    return true;
bad:
    cbuf_printf(problem,
                "%s:%d: unknown or malformed operation \"%s\" (see conformance/README.md)\n", path,
                cop->line, op);
    return false;
}

/* Case options onto pop3_options and the TLS settings; false for an unknown one. */
static bool apply_option(ref_state *st, const char *o, pop3_buf *problem)
{
    const char *eq = strchr(o, '=');
    const char *v = eq != NULL ? eq + 1 : "";
    size_t kl = eq != NULL ? (size_t)(eq - o) : strlen(o);
#define KEY(k) (kl == sizeof(k) - 1 && strncmp(o, k, kl) == 0)
    uint64_t x = 0;
    if (KEY("require-tls")) {
        st->opt.require_tls = true;
    } else if (KEY("apop")) {
        st->opt.allow_apop = true;
    } else if (KEY("no-sasl-ir")) {
        st->opt.sasl_ir = false;
    } else if (KEY("strict")) {
        st->opt.tolerances = POP3_TOL_STRICT;
    } else if (KEY("any-plus")) {
        st->opt.tolerances |= POP3_TOL_ANY_PLUS;
    } else if (KEY("status-case")) {
        st->opt.tolerances |= POP3_TOL_STATUS_CASE;
    } else if (KEY("timeout") && parse_u64(v, &x) && x > 0 && x < 600000) {
        st->opt.timeout_ms = (int)x;
    } else if (KEY("max-line") && parse_u64(v, &x)) {
        st->opt.max_line = (size_t)x;
    } else if (KEY("max-listing") && parse_u64(v, &x)) {
        st->opt.max_listing = (size_t)x;
    } else if (KEY("max-capa") && parse_u64(v, &x)) {
        st->opt.max_capa = (size_t)x;
    } else if (KEY("max-buffered") && parse_u64(v, &x)) {
        st->opt.max_buffered = (size_t)x;
    } else if (KEY("max-sasl-line") && parse_u64(v, &x)) {
        st->opt.max_sasl_line = (size_t)x;
    } else if (KEY("window") && parse_u64(v, &x) && x > 0 && x < 100000) {
        st->opt.pipeline_window = (unsigned)x;
    } else if (KEY("pipelining") && strcmp(v, "on") == 0) {
        st->opt.pipelining = POP3_PIPELINING_ON;
    } else if (KEY("pipelining") && strcmp(v, "off") == 0) {
        st->opt.pipelining = POP3_PIPELINING_OFF;
    } else if (KEY("pipelining") && strcmp(v, "auto") == 0) {
        st->opt.pipelining = POP3_PIPELINING_AUTO;
    } else if (KEY("ca") && strcmp(v, "other") == 0) {
        st->tls.ca_file = st->env->other_ca_file;
    } else if (KEY("server-name") && *v != '\0') {
        st->tls.server_name = v;
    } else if (KEY("insecure")) {
        st->tls.insecure = true;
    } else {
        cbuf_printf(problem, "unknown client option \"%s\" (see conformance/README.md)\n", o);
        return false;
    }
#undef KEY
    st->opt.tls = st->tls;
    return true;
}

void client_ref_run(const conform_case *c, const client_env *env, client_output *out)
{
    memset(out, 0, sizeof *out);
    out->ops = xcalloc(c->nops, sizeof *out->ops);
    out->nops = c->nops;
    ref_state st = {.env = env};
    pop3_options_default(&st.opt);
    st.opt.timeout_ms = env->timeout_ms;
    st.opt.connect_timeout_ms = env->timeout_ms;
    st.tls.ca_file = env->ca_file;
    st.opt.tls = st.tls;
    for (size_t i = 0; i < c->options.n; i++)
        if (!apply_option(&st, c->options.v[i], &out->problems)) return;
    int rc = pop3_client_new(&st.c, &st.opt);
    if (rc != POP3_OK) {
        cbuf_printf(&out->problems, "pop3_client_new: %s\n", pop3_strerror(rc));
        return;
    }
    for (size_t i = 0; i < c->nops; i++) {
        strlist w = {0};
        const char *err = NULL;
        st.out = &out->ops[i].lines;
        if (!words_split(c->ops[i].text, &w, &err) || w.n == 0) {
            cbuf_printf(&out->problems, "%s:%d: %s\n", c->path, c->ops[i].line,
                        err != NULL ? err : "empty operation");
            strlist_free(&w);
            break;
        }
        bool ok = run_op(&st, &c->ops[i], c->path, &w, &out->problems);
        strlist_free(&w);
        if (!ok) break;
    }
    pop3_client_free(st.c);
}
