/*
 * fuzz_client_session.c - the whole client API (pop3/client.h) against fuzzed server
 * octets over the in-memory transport: RFC 1939 commands, RFC 2449 CAPA and pipelining,
 * RFC 2595 STLS, RFC 5034 SASL, RFC 6856 UTF8.
 *
 * Input: byte 0 chooses the read chunk size, byte 1 the options (tolerances, strict TLS,
 * pipelining, APOP), bytes 2-9 a sequence of up to eight calls; the rest is what the
 * server says, cut into segments at each "@@\n": segment k is released once the client
 * has written k times, so replies follow commands as on a real connection (the scheme
 * of curl-fuzzer).
 * Invariants beyond memory safety: a call that reports success returns consistent
 * results (listings hold no message 0 and no duplicate number, within the limit; bodies
 * are no larger than what the server sent; status text is a NUL-terminated line within
 * the line limit), an I/O or timeout error leaves the session closed, and nothing hangs
 * (the
 * memory transport times out instead of waiting for octets that never come).
 */
#include "fuzz_common.h"

#include "pop3/client.h"
#include "pop3/error.h"
#include "pop3/transport.h"

typedef struct body_count {
    uint64_t octets;
} body_count;

static int count_body(void *ud, const char *data, size_t len)
{
    FUZZ_CHECK(len > 0);
    (void)data;
    ((body_count *)ud)->octets += len;
    return POP3_OK;
}

/* Errors that always end the session. POP3_EPROTO does only when framing is lost, and
 * POP3_ETLS not when the TLS policy stopped a command before anything was sent. */
static int fatal(int rc)
{
    return rc == POP3_EIO || rc == POP3_ETIMEOUT || rc == POP3_ECLOSED;
}

static void check_listing(const pop3_listing *l, size_t max)
{
    FUZZ_CHECK(l->count <= max);
    for (size_t i = 0; i < l->count; i++) {
        FUZZ_CHECK(l->entries[i].msgno != 0);
        FUZZ_CHECK(pop3_listing_find(l, l->entries[i].msgno) == &l->entries[i]);
        if (l->uidl) FUZZ_CHECK(l->entries[i].uid != NULL && l->entries[i].uid_len > 0);
    }
}

typedef struct retrieve_ctx {
    uint64_t octets;
    unsigned open;
} retrieve_ctx;

static int r_begin(void *ud, uint64_t msg)
{
    (void)msg;
    retrieve_ctx *r = ud;
    FUZZ_CHECK(r->open == 0);
    r->open = 1;
    return POP3_OK;
}

static int r_data(void *ud, uint64_t msg, const char *data, size_t len)
{
    (void)msg;
    (void)data;
    retrieve_ctx *r = ud;
    FUZZ_CHECK(r->open == 1);
    r->octets += len;
    return POP3_OK;
}

static int r_done(void *ud, uint64_t msg, int status)
{
    retrieve_ctx *r = ud;
    r->open = 0;
    (void)status;
    return msg % 2 ? POP3_DELETE : POP3_KEEP;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size};
    size_t chunk = fuzz_byte(&in) % 8; /* 0: whatever is there; 1: one octet a time */
    uint8_t flags = fuzz_byte(&in);
    uint8_t calls[8];
    for (int i = 0; i < 8; i++)
        calls[i] = fuzz_byte(&in);

    pop3_options opt;
    pop3_options_default(&opt);
    opt.timeout_ms = 1000;
    opt.max_listing = 64;
    opt.max_capa = 32;
    opt.max_buffered = 1 << 16;
    opt.max_sasl_line = 4096;
    if (flags & 1) opt.tolerances = POP3_TOL_STRICT;
    if (flags & 2) opt.tolerances |= POP3_TOL_ANY_PLUS | POP3_TOL_STATUS_CASE;
    opt.require_tls = (flags & 4) != 0;
    opt.pipelining = (flags & 8) ? POP3_PIPELINING_ON : POP3_PIPELINING_AUTO;
    opt.allow_apop = (flags & 16) != 0;
    opt.sasl_ir = (flags & 32) != 0;

    pop3_transport *t = pop3_transport_memory_new();
    FUZZ_CHECK(t != NULL);
    pop3_transport_memory_set_chunk(t, chunk);
    /* Segments: the server's octets cut at each "@@\n". */
    const char *p = (const char *)in.p, *end = p + in.len;
    unsigned seg = 0;
    while (p <= end) {
        const char *cut = NULL;
        for (const char *q = p; q + 3 <= end; q++)
            if (q[0] == '@' && q[1] == '@' && q[2] == '\n') {
                cut = q;
                break;
            }
        const char *stop = cut ? cut : end;
        FUZZ_CHECK(pop3_transport_memory_add(t, p, (size_t)(stop - p), seg++) == POP3_OK);
        if (!cut) break;
        p = cut + 3;
    }

    pop3_client *c = NULL;
    FUZZ_CHECK(pop3_client_new(&c, &opt) == POP3_OK);
    int rc = pop3_connect_transport(c, t, "fuzz.example", 110);
    uint64_t total = in.len;
    for (int i = 0; i < 8 && rc != POP3_EUSAGE && pop3_is_connected(c); i++) {
        uint8_t op = calls[i];
        uint64_t n = (uint64_t)(op >> 5) + 1;
        body_count body = {0};
        switch (op % 20) {
        case 0: {
            uint64_t count, sz;
            rc = pop3_stat(c, &count, &sz);
            break;
        }
        case 1: {
            pop3_listing l;
            memset(&l, 0, sizeof l);
            rc = pop3_list(c, &l);
            if (rc == POP3_OK) check_listing(&l, opt.max_listing);
            pop3_listing_free(&l);
            break;
        }
        case 2: {
            pop3_listing l;
            memset(&l, 0, sizeof l);
            rc = pop3_uidl(c, &l);
            if (rc == POP3_OK) check_listing(&l, opt.max_listing);
            pop3_listing_free(&l);
            break;
        }
        case 3:
            rc = pop3_retr(c, n, count_body, &body);
            if (rc == POP3_OK) FUZZ_CHECK(body.octets <= total);
            break;
        case 4:
            rc = pop3_top(c, n, op & 3, count_body, &body);
            if (rc == POP3_OK) FUZZ_CHECK(body.octets <= total);
            break;
        case 5: rc = pop3_dele(c, n); break;
        case 6: rc = pop3_rset(c); break;
        case 7: rc = pop3_noop(c); break;
        case 8: {
            const pop3_capa_set *caps = NULL;
            rc = pop3_capa(c, &caps);
            if (rc == POP3_OK) FUZZ_CHECK(caps != NULL && caps->count <= opt.max_capa);
            break;
        }
        case 9:
            rc = pop3_user(c, "user");
            if (rc == POP3_OK) rc = pop3_pass(c, "pa ss");
            break;
        case 10: rc = pop3_apop(c, "user", "secret"); break;
        case 11: {
            static const char *const mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2",
                                                "OAUTHBEARER"};
            pop3_credentials cred = {.user = "user", .secret = "secret"};
            cred.bearer = (op >> 5) >= 3;
            rc = pop3_auth(c, mechs[(op >> 5) % 5], &cred);
            break;
        }
        case 12: {
            pop3_credentials cred = {.user = "user", .secret = "secret"};
            rc = pop3_login(c, &cred);
            break;
        }
        case 13: rc = pop3_stls(c, NULL); break;
        case 14: rc = pop3_utf8(c); break;
        case 15: {
            uint64_t sz;
            rc = pop3_list_one(c, n, &sz);
            break;
        }
        case 16: {
            const char *uid = NULL;
            rc = pop3_uidl_one(c, n, &uid);
            if (rc == POP3_OK) FUZZ_CHECK(uid != NULL);
            break;
        }
        case 17: {
            uint64_t msgs[4] = {1, 2, 3, n};
            retrieve_ctx r = {0, 0};
            pop3_retrieve_handler h = {r_begin, r_data, r_done, NULL, &r};
            rc = pop3_retrieve(c, msgs, 4, &h);
            FUZZ_CHECK(r.octets <= total);
            break;
        }
        case 18: {
            pop3_lines l;
            memset(&l, 0, sizeof l);
            rc = pop3_retr_lines(c, n, &l);
            if (rc == POP3_OK) {
                FUZZ_CHECK(l.octets <= total);
                uint64_t sum = 0;
                for (size_t k = 0; k < l.count; k++)
                    sum += l.lines[k].len;
                FUZZ_CHECK(sum <= l.octets);
            }
            pop3_lines_free(&l);
            break;
        }
        default: rc = pop3_quit(c); break;
        }
        /* Whatever happened, the details are readable and bounded. */
        const char *resp = pop3_response(c);
        FUZZ_CHECK(resp != NULL && strlen(resp) <= opt.max_sasl_line);
        FUZZ_CHECK(pop3_errmsg(c) != NULL);
        FUZZ_CHECK(pop3_last_error(c) == rc);

        if (fatal(rc)) FUZZ_CHECK(!pop3_is_connected(c));
    }
    pop3_client_free(c);
    pop3_transport_memory_free(t);
    return 0;
}
