/*
 * client_commands.c - the commands of RFC 1939 sections 5-7 and the extensions with no
 * policy of their own: STAT, LIST, RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL, CAPA
 * (RFC 2449 section 5), UTF8 (RFC 6856 section 2), and any command by name.
 *
 * Which replies are multi-line is decided per command and argument, never guessed
 * (Q49: "LIST n", "UIDL n", STAT, DELE, NOOP, RSET are one line; treating them as
 * multi-line hangs). Listings go through pop3_listing (64-bit sizes Q13, message number 0
 * and duplicates Q45, odd unique-ids Q46); a listing line that does not parse is
 * reported once the whole listing is read, so the session stays in step.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* Capabilities
 * ------------ */

int pop3_capa(pop3_client *c, const pop3_capa_set **caps)
{
    if (caps) *caps = NULL;
    int rc = pop3__send(c, "CAPA", NULL, 0, 0, NULL);
    if (rc != POP3_OK) return rc;
    c->capa_tried = true;
    rc = pop3__expect(c, POP3_EXPECT_LISTING, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc == POP3_ESERVER) {
        c->capa_known = false;
        pop3_capa_clear(&c->capa);
        /* poplib: "-ERR CAPA not supported by server"; RFC2449-5.4. */
        return pop3__fail(c, POP3_ESERVER, "CAPA not supported by server: %s", c->resp);
    }
    if (rc != POP3_OK) return rc;
    c->capa_known = false;
    pop3_capa_clear(&c->capa);
    int first = POP3_OK;
    for (;;) {
        pop3_event ev;
        rc = pop3__next_event(c, &ev);
        if (rc != POP3_OK) return rc;
        if (ev.kind == POP3_EV_END) break;
        if (ev.kind != POP3_EV_LINE)
            return pop3__fatal(c, POP3_EPROTO, "CAPA: unexpected event in the listing");
        pop3__trace_line(c, 2, "*get*", ev.line.ptr, ev.line.len);
        int r = pop3_capa_add(&c->capa, ev.line.ptr, ev.line.len);
        /* A blank line names no capability; skip it rather than fail the list. */
        if (r != POP3_OK && r != POP3_EPROTO && first == POP3_OK) first = r;
    }
    if (first != POP3_OK)
        return pop3__fail(c, first, "CAPA: %s after %zu capabilities; the rest was dropped",
                          first == POP3_ELIMIT ? "more lines than max_capa" : "out of memory",
                          c->capa.count);
    c->capa_known = true;
    c->capa_after_auth = c->authenticated;
    if (caps) *caps = &c->capa;
    return pop3__ok(c);
}

/* Single-line commands
 * -------------------- */

int pop3_stat(pop3_client *c, uint64_t *count, uint64_t *size)
{
    pop3_status_line st;
    int rc = pop3__simple(c, "STAT", NULL, 0, 0, &st);
    if (rc != POP3_OK) return rc;
    uint64_t n = 0, s = 0;
    if (pop3_parse_stat(st.text.ptr, st.text.len, &n, &s, NULL) != POP3_OK)
        return pop3__fail(c, POP3_EPROTO, "STAT: reply is not \"+OK count size\": %s", c->resp);
    if (count) *count = n;
    if (size) *size = s;
    return POP3_OK;
}

static int simple_msg(pop3_client *c, const char *keyword, uint64_t msg, pop3_status_line *st)
{
    char num[24];
    pop3__u64(num, sizeof num, msg);
    const char *args[] = {num};
    return pop3__simple(c, keyword, args, 1, 0, st);
}

int pop3_list_one(pop3_client *c, uint64_t msg, uint64_t *size)
{
    pop3_status_line st;
    int rc = simple_msg(c, "LIST", msg, &st);
    if (rc != POP3_OK) return rc;
    uint64_t n = 0, s = 0;
    if (pop3_parse_scan(st.text.ptr, st.text.len, &n, &s, NULL) != POP3_OK)
        return pop3__fail(c, POP3_EPROTO, "LIST: reply is not \"+OK msg size\": %s", c->resp);
    if (size) *size = s;
    return POP3_OK;
}

int pop3_uidl_one(pop3_client *c, uint64_t msg, const char **uid)
{
    if (uid) *uid = NULL;
    pop3_status_line st;
    int rc = simple_msg(c, "UIDL", msg, &st);
    if (rc != POP3_OK) return rc;
    uint64_t n = 0;
    pop3_view v;
    if (pop3_parse_uidl(st.text.ptr, st.text.len, &n, &v, NULL) != POP3_OK)
        return pop3__fail(c, POP3_EPROTO, "UIDL: reply is not \"+OK msg unique-id\": %s", c->resp);
    char *copy = malloc(v.len + 1);
    if (copy == NULL) return pop3__fail(c, POP3_ENOMEM, "out of memory");
    memcpy(copy, v.ptr, v.len);
    copy[v.len] = '\0';
    free(c->uid);
    c->uid = copy;
    if (uid) *uid = copy;
    return POP3_OK;
}

int pop3_dele(pop3_client *c, uint64_t msg)
{
    return simple_msg(c, "DELE", msg, NULL);
}

int pop3_rset(pop3_client *c)
{
    return pop3__simple(c, "RSET", NULL, 0, 0, NULL);
}

int pop3_noop(pop3_client *c)
{
    return pop3__simple(c, "NOOP", NULL, 0, 0, NULL);
}

int pop3_utf8(pop3_client *c)
{
    /* RFC 6856 section 2: valid in AUTHORIZATION only; the server judges. -ERR is an
     * error, as poplib raises. */
    int rc = pop3__simple(c, "UTF8", NULL, 0, 0, NULL);
    if (rc == POP3_OK) c->utf8_mode = true;
    return rc;
}

int pop3_quit(pop3_client *c)
{
    int rc = pop3__simple(c, "QUIT", NULL, 0, 0, NULL);
    /* RFC 1939 section 6: the server closes after QUIT whatever it answered; a fatal
     * error closed the connection already. */
    pop3__disconnect(c);
    return rc;
}

/* Listings
 * -------- */

static int listing(pop3_client *c, bool uidl, pop3_listing *out)
{
    pop3_listing_free(out);
    pop3_listing_init(out, uidl);
    out->max_entries = c->opt.max_listing;
    const char *kw = uidl ? "UIDL" : "LIST";
    int rc = pop3__send(c, kw, NULL, 0, 0, NULL);
    if (rc != POP3_OK) return rc;
    rc = pop3__expect(c, POP3_EXPECT_LISTING, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc != POP3_OK) return rc;
    int first = POP3_OK;
    char bad[96] = "";
    for (;;) {
        pop3_event ev;
        rc = pop3__next_event(c, &ev);
        if (rc != POP3_OK) return rc;
        if (ev.kind == POP3_EV_END) break;
        if (ev.kind != POP3_EV_LINE)
            return pop3__fatal(c, POP3_EPROTO, "%s: unexpected event in the listing", kw);
        pop3__trace_line(c, 2, "*get*", ev.line.ptr, ev.line.len);
        if (first != POP3_OK) continue;
        first = pop3_listing_add(out, ev.line.ptr, ev.line.len);
        if (first != POP3_OK) {
            size_t n = ev.line.len < 60 ? ev.line.len : 60;
            for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)ev.line.ptr[i];
                bad[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
            }
            bad[n] = '\0';
        }
    }
    if (first == POP3_EPROTO)
        return pop3__fail(c, first, "%s: listing line is not \"msg %s\": \"%s\"", kw,
                          uidl ? "unique-id" : "size", bad);
    if (first != POP3_OK)
        return pop3__fail(c, first, "%s: %s", kw,
                          first == POP3_ELIMIT ? "more entries than max_listing" : "out of memory");
    return pop3__ok(c);
}

int pop3_list(pop3_client *c, pop3_listing *out)
{
    return listing(c, false, out);
}

int pop3_uidl(pop3_client *c, pop3_listing *out)
{
    return listing(c, true, out);
}

/* Multi-line commands
 * ------------------- */

/* Send, then stream the body of a +OK reply to `sink`. */
static int multi(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                 pop3_sink_fn sink, void *ud)
{
    int rc = pop3__send(c, keyword, args, nargs, 0, NULL);
    if (rc != POP3_OK) return rc;
    rc = pop3__expect(c, POP3_EXPECT_MULTI, false);
    if (rc != POP3_OK) return rc;
    pop3_status_line st;
    rc = pop3__read_status(c, &st);
    if (rc != POP3_OK) return rc;
    rc = pop3__read_body(c, sink, ud);
    return rc == POP3_OK ? pop3__ok(c) : rc;
}

int pop3_retr(pop3_client *c, uint64_t msg, pop3_sink_fn sink, void *ud)
{
    char num[24];
    pop3__u64(num, sizeof num, msg);
    const char *args[] = {num};
    return multi(c, "RETR", args, 1, sink, ud);
}

int pop3_top(pop3_client *c, uint64_t msg, uint64_t lines, pop3_sink_fn sink, void *ud)
{
    char num[24], n[24];
    pop3__u64(num, sizeof num, msg);
    pop3__u64(n, sizeof n, lines);
    const char *args[] = {num, n};
    return multi(c, "TOP", args, 2, sink, ud);
}

int pop3_command(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                 pop3_sink_fn sink, void *ud)
{
    if (sink == NULL) return pop3__simple(c, keyword, args, nargs, 0, NULL);
    return multi(c, keyword, args, nargs, sink, ud);
}

int pop3__multi(pop3_client *c, const char *keyword, const char *const *args, size_t nargs,
                pop3_sink_fn sink, void *ud)
{
    return multi(c, keyword, args, nargs, sink, ud);
}
