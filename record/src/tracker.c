/*
 * tracker.c - following a relayed dialogue (see tracker.h): the replies each client
 * line asks for (RFC 1939 sections 4 to 7, RFC 2449 section 5, RFC 2595 section 4,
 * RFC 5034 section 4, RFC 6856), fed to the codec's response decoder, and the secrets
 * of client lines.
 */
#define _POSIX_C_SOURCE 200809L
#include "tracker.h"

#include <stdio.h>
#include <string.h>

#include "pop3/error.h"

int rec_tracker_init(rec_tracker *t, const rec_track_hooks *hooks, void *ctx)
{
    memset(t, 0, sizeof *t);
    pop3_decoder_options opt;
    pop3_decoder_options_default(&opt);
    opt.max_line = REC_TRACK_LINE_MAX;
    /* Follow what real servers do rather than judge it: the client judges. */
    opt.tolerances = POP3_TOL_DEFAULT | POP3_TOL_STATUS_CASE;
    if (pop3_decoder_init(&t->dec, &opt) != POP3_OK) return -1;
    t->hooks = hooks;
    t->ctx = ctx;
    t->q[0].expect = POP3_EXPECT_GREETING;
    snprintf(t->q[0].label, sizeof t->q[0].label, "the greeting");
    t->count = 1;
    return 0;
}

void rec_tracker_free(rec_tracker *t)
{
    pop3_decoder_free(&t->dec);
}

static void lose(rec_tracker *t, const char *why)
{
    if (t->lost) return;
    t->lost = true;
    snprintf(t->lost_why, sizeof t->lost_why, "%s", why);
    t->count = 0;
}

static bool keyword_is(const char *line, size_t len, const char *kw)
{
    size_t n = strlen(kw);
    if (len < n || (len > n && line[n] != ' ')) return false;
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c != kw[i]) return false;
    }
    return true;
}

/* Offset just after the k-th space of the line (k >= 1), or `len` when there is none. */
static size_t after_space(const char *line, size_t len, int k)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] == ' ' && --k == 0) return i + 1;
    return len;
}

rec_redaction rec_tracker_redact(const char *line, size_t len, bool in_sasl)
{
    rec_redaction r = {.keep = len, .wild = false};
    if (in_sasl) {
        /* RFC 5034 section 4: "*" cancels; anything else is a (base64) credential. */
        if (!(len == 1 && line[0] == '*')) r = (rec_redaction){.keep = 0, .wild = true};
        return r;
    }
    size_t at = len;
    if (keyword_is(line, len, "PASS"))
        at = after_space(line, len, 1); /* the password is the rest of the line */
    else if (keyword_is(line, len, "APOP"))
        at = after_space(line, len, 2); /* APOP name digest */
    else if (keyword_is(line, len, "AUTH"))
        at = after_space(line, len, 2); /* AUTH mechanism initial-response */
    if (at < len) r = (rec_redaction){.keep = at, .wild = true};
    return r;
}

/* The label of a line: what is recorded, the secret shown as "*". */
static void label_of(char *out, size_t cap, const char *line, size_t len, rec_redaction r)
{
    size_t keep = r.wild ? r.keep : len;
    size_t n = 0;
    for (size_t i = 0; i < keep && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)line[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (r.wild && n + 1 < cap) out[n++] = '*';
    out[n] = '\0';
}

static pop3_expect expect_of(const pop3_request *rq)
{
    switch (rq->id) {
    case POP3_CMD_CAPA: return POP3_EXPECT_LISTING;
    case POP3_CMD_LIST:
    case POP3_CMD_UIDL: return rq->nargs == 0 ? POP3_EXPECT_LISTING : POP3_EXPECT_SINGLE;
    case POP3_CMD_RETR:
    case POP3_CMD_TOP: return POP3_EXPECT_MULTI;
    /* AUTH alone lists mechanisms (an extension some servers keep); LANG alone lists
     * languages (RFC 6856 section 3). */
    case POP3_CMD_AUTH: return rq->nargs == 0 ? POP3_EXPECT_MULTI : POP3_EXPECT_SASL;
    case POP3_CMD_LANG: return rq->nargs == 0 ? POP3_EXPECT_MULTI : POP3_EXPECT_SINGLE;
    default: return POP3_EXPECT_SINGLE;
    }
}

static rec_pending *head(rec_tracker *t)
{
    return t->count > 0 ? &t->q[t->head] : NULL;
}

rec_redaction rec_tracker_client(rec_tracker *t, const char *line, size_t len, pop3_command_id *id)
{
    *id = POP3_CMD_UNKNOWN;
    pop3_command_options opt;
    pop3_command_options_default(&opt);
    opt.max_line = len + 2;
    pop3_request rq;
    bool parsed = pop3_parse_command(line, len, &opt, &rq, NULL) == POP3_OK;
    if (t->in_sasl && t->lost && parsed && rq.id != POP3_CMD_UNKNOWN) {
        /* Without the server's replies the end of the exchange is not known: a line
         * that is a command is taken for one. */
        t->in_sasl = false;
    }
    if (t->in_sasl) {
        rec_redaction r = rec_tracker_redact(line, len, true);
        rec_pending *h = head(t);
        if (h != NULL && h->awaiting_client) {
            /* The response goes up; the server answers it like the AUTH itself. */
            h->awaiting_client = false;
            h->started = false;
        }
        return r;
    }
    rec_redaction r = rec_tracker_redact(line, len, false);
    if (parsed) *id = rq.id;
    if (parsed && rq.id == POP3_CMD_AUTH && rq.nargs > 0) t->in_sasl = true;
    if (t->lost) return r;
    if (t->count == REC_MAX_PENDING) {
        lose(t, "more pipelined commands than the tracker follows");
        return r;
    }
    rec_pending *p = &t->q[(t->head + t->count) % REC_MAX_PENDING];
    memset(p, 0, sizeof *p);
    p->expect = parsed ? expect_of(&rq) : POP3_EXPECT_SINGLE;
    p->id = *id;
    label_of(p->label, sizeof p->label, line, len, r);
    t->count++;
    return r;
}

static void pop_head(rec_tracker *t)
{
    rec_pending *h = head(t);
    if (h == NULL) return;
    if (h->id == POP3_CMD_AUTH && h->expect == POP3_EXPECT_SASL) t->in_sasl = false;
    if (t->hooks != NULL && t->hooks->end != NULL) t->hooks->end(t->ctx, h);
    t->head = (t->head + 1) % REC_MAX_PENDING;
    t->count--;
}

size_t rec_tracker_server(rec_tracker *t, const char *data, size_t len, bool *stls_ok)
{
    *stls_ok = false;
    size_t off = 0;
    while (!t->lost && off < len) {
        rec_pending *h = head(t);
        if (h == NULL) {
            lose(t, "the server sent octets no command asked for");
            break;
        }
        if (h->awaiting_client) {
            lose(t, "the server went on after a SASL continuation without the client");
            break;
        }
        if (!h->started) {
            if (pop3_decoder_expect(&t->dec, h->expect) != POP3_OK) {
                lose(t, "the reply decoder is out of step");
                break;
            }
            h->started = true;
        }
        pop3_event ev;
        off += pop3_decode(&t->dec, data + off, len - off, &ev);
        switch (ev.kind) {
        case POP3_EV_NEED_MORE:
        case POP3_EV_IDLE:
        case POP3_EV_BANNER: break;
        case POP3_EV_STATUS:
            h->got_status = true;
            if (t->hooks != NULL && t->hooks->status != NULL)
                t->hooks->status(t->ctx, h, &ev.status);
            if (ev.status.kind == POP3_STATUS_CONTINUE) {
                h->awaiting_client = true;
            } else if (pop3_decoder_idle(&t->dec)) {
                bool stls = h->id == POP3_CMD_STLS && ev.status.kind == POP3_STATUS_OK;
                pop_head(t);
                if (stls) {
                    *stls_ok = true;
                    return off;
                }
            }
            break;
        case POP3_EV_LINE:
            if (t->hooks != NULL && t->hooks->line != NULL)
                t->hooks->line(t->ctx, h, ev.line.ptr, ev.line.len);
            break;
        case POP3_EV_DATA:
            if (t->hooks != NULL && t->hooks->data != NULL)
                t->hooks->data(t->ctx, h, ev.data.ptr, ev.data.len);
            break;
        case POP3_EV_END: pop_head(t); break;
        case POP3_EV_ERROR: {
            char why[160];
            snprintf(why, sizeof why, "the reply to %s: %s", h->label,
                     ev.message != NULL ? ev.message : pop3_strerror(ev.error));
            lose(t, why);
            break;
        }
        }
    }
    return len;
}

void rec_tracker_eof(rec_tracker *t)
{
    rec_pending *h = head(t);
    if (t->lost || h == NULL || !h->started) return;
    pop3_event ev;
    pop3_decode_eof(&t->dec, &ev);
    if (ev.kind == POP3_EV_END) pop_head(t);
}

bool rec_tracker_due(const rec_tracker *t)
{
    return !t->lost && t->count > 0 && !t->q[t->head].awaiting_client;
}

bool rec_tracker_mid_reply(const rec_tracker *t)
{
    /* Its status line came and its body has not ended. */
    return !t->lost && t->count > 0 && t->q[t->head].got_status && !t->q[t->head].awaiting_client;
}

bool rec_tracker_idle(const rec_tracker *t)
{
    return !t->lost && t->count == 0;
}

const char *rec_tracker_waiting_for(const rec_tracker *t)
{
    return t->count > 0 ? t->q[t->head].label : "a reply";
}
