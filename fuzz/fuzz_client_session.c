/*
 * fuzz_client_session.c - the whole client API (pop3/client.h) against fuzzed server
 * octets over the in-memory transport: RFC 1939 commands, RFC 2449 CAPA and pipelining,
 * RFC 2595 STLS, RFC 5034 SASL, RFC 6856 UTF8.
 *
 * Input: byte 0 chooses the read chunk size, byte 1 the options (tolerances, strict TLS,
 * pipelining, APOP, SASL-IR, a level 2 trace), bytes 2-9 a sequence of up to eight
 * calls; the rest is what the server says, cut into segments at each "@@\n": segment k
 * is released once the client has written k times, so replies follow commands as on a
 * real connection (the scheme of curl-fuzzer).
 * Invariants beyond memory safety: a call that reports success returns consistent
 * results (listings hold no message 0 and no duplicate number, within the limit; bodies
 * are no larger than what the server sent; status text is a NUL-terminated line within
 * the line limit), an I/O or timeout error leaves the session closed, nothing hangs (the
 * memory transport times out instead of waiting for octets that never come), and the
 * trace never shows a password, an APOP digest or a SASL response the client sent, nor
 * a control octet the server sent (it is read on terminals).
 */
#include "fuzz_common.h"

#include "pop3/client.h"
#include "pop3/error.h"
#include "pop3/transport_memory.h"

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

/* The trace watch: the putline hook sees each line before it is traced, so it notes what
 * of the line is secret (the argument of PASS, the digest of APOP, the initial response
 * of AUTH, a whole SASL response); the trace of that line must not contain it. */
typedef struct trace_watch {
    char secret[8192];
    size_t len;
} trace_watch;

static bool is_command(const char *line, size_t len)
{
    static const char *const keywords[] = {"USER", "PASS", "APOP", "AUTH", "STAT", "LIST",
                                           "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP",
                                           "UIDL", "CAPA", "STLS", "UTF8"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        size_t k = strlen(keywords[i]);
        if (len >= k && memcmp(line, keywords[i], k) == 0 && (len == k || line[k] == ' '))
            return true;
    }
    return false;
}

static int watch_putline(void *ud, const char *line, size_t len)
{
    trace_watch *w = ud;
    FUZZ_CHECK(len >= 2 && line[len - 2] == '\r' && line[len - 1] == '\n');
    len -= 2;
    FUZZ_CHECK(len < sizeof w->secret);
    const char *from = line;
    if (len >= 5 && memcmp(line, "PASS ", 5) == 0) {
        from = line + 5;
    } else if ((len >= 5 && memcmp(line, "APOP ", 5) == 0) ||
               (len >= 5 && memcmp(line, "AUTH ", 5) == 0 && memchr(line + 5, ' ', len - 5))) {
        from = line + len;
        while (from[-1] != ' ')
            from--;
    } else if (is_command(line, len) || (len == 1 && line[0] == '*')) {
        from = line + len;
    }
    w->len = (size_t)(line + len - from);
    memcpy(w->secret, from, w->len);
    return POP3_OK;
}

static bool contains(const char *hay, size_t n, const char *needle, size_t k)
{
    for (size_t i = 0; k > 0 && i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return true;
    return false;
}

static void watch_trace(void *ud, int level, const char *line)
{
    const trace_watch *w = ud;
    FUZZ_CHECK(level >= 1 && level <= 2);
    size_t n = strlen(line);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
            fprintf(stderr, "trace line with a control octet at %zu: ", i);
            for (size_t k = 0; k < n; k++)
                fprintf(stderr, (unsigned char)line[k] < 0x20 ? "\\x%02x" : "%c", line[k]);
            fprintf(stderr, "\n");
            FUZZ_UNREACHABLE("a control octet in the trace");
        }
    }
    if (strncmp(line, "*cmd* ", 6) == 0 || strncmp(line, "*put* ", 6) == 0) {
        FUZZ_CHECK(!contains(line, n, w->secret, w->len));
        FUZZ_CHECK(!contains(line, n, "secret", 6) && !contains(line, n, "pa ss", 5));
    }
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
    trace_watch watch = {.len = 0};
    if (flags & 64) {
        pop3_set_debuglevel(c, 2);
        pop3_set_debug_callback(c, watch_trace, &watch);
        pop3_set_putline(c, watch_putline, &watch);
    }
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
