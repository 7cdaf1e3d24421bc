/*
 * session.c - one relayed session (see session.h).
 *
 * One loop polls both connections. Octets are written to the script before they are
 * relayed, so whatever a side received is in the file, however the session ends.
 * Client lines are relayed whole, in the order they came; server octets are relayed in
 * the chunks they came in.
 *
 * TLS (RFC 2595 section 4, RFC 8314 section 3.1), on each side independently:
 *   - upstream: --upstream-tls connects with TLS; --upstream-starttls forwards the
 *     client's STLS (both sides then start TLS after the server's +OK: the upstream
 *     first, so the client sees +OK only when the server's side worked) or, when the
 *     client goes on in plaintext, sends STLS itself before the first command that is
 *     not CAPA (so no credential travels upstream in clear);
 *   - client: STLS, when not forwarded, is answered by the recorder itself with its own
 *     certificate (--tls-cert); without one, with -ERR. Those answers are the recorder's,
 *     and the script says so in a comment; the replay gives the client the same.
 */
#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "downstream.h"
#include "pop3/error.h"

/* Octets read from either side at once. */
#define CHUNK         16384
/* How often the loop looks at the stop flag when nothing happens (a signal that comes
 * just before poll would otherwise wait for the next event). */
#define STOP_CHECK_MS 1000

typedef struct session {
    const rec_config *cfg;
    rec_writer *w;
    rec_downstream ds;
    pop3_transport *up;
    bool up_tls;
    rec_tracker tr;
    bool lost_reported;
    pop3_buf cin;         /* client octets not yet relayed (at most one line, or the lines
                             held while a TLS upgrade is pending) */
    bool stls_wait;       /* a forwarded STLS awaits its reply: hold client lines */
    int64_t last_up_ms;   /* the upstream's last octets */
    int64_t last_line_ms; /* the client's last line */
    bool spoke_since_up;  /* a client line went up after the upstream's last octets */
    rec_end end;
    char *why;
    size_t whylen;
} session;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* End the session as `end` with a reason; the script gets the reason as a comment that
 * marks it partial. Returns false, for "stop the loop". */
static bool finish(session *s, rec_end end, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static bool finish(session *s, rec_end end, const char *fmt, ...)
{
    if (s->end != REC_END_COMPLETE) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, s->whylen, fmt, ap);
    va_end(ap);
    s->end = end;
    if (end != REC_END_FILE) {
        rec_comment(s->w, "pop3-record: partial recording: %s", s->why);
        rec_sync(s->w);
    }
    return false;
}

/* After every write to the script: a failed write ends the session before the octets
 * are relayed, so nothing reaches the client that the file lacks. */
static bool synced(session *s)
{
    if (rec_sync(s->w)) return true;
    return finish(s, REC_END_FILE, "cannot write %s: %s", s->w->path, strerror(s->w->err));
}

static void note_lost(session *s)
{
    if (!s->tr.lost || s->lost_reported) return;
    s->lost_reported = true;
    rec_comment(s->w, "pop3-record: lost track of the replies (%s); recorded as relayed",
                s->tr.lost_why);
    fprintf(stderr, "pop3-record: warning: %s\n", s->tr.lost_why);
}

static bool to_client(session *s, const char *data, size_t len)
{
    char err[256];
    if (rec_downstream_write(&s->ds, data, len, s->cfg->timeout_ms, err, sizeof err) != 0)
        return finish(s, REC_END_PARTIAL, "%s", err);
    return true;
}

static bool to_upstream(session *s, const char *data, size_t len)
{
    int rc = s->up->ops->write(s->up, data, len, s->cfg->timeout_ms);
    if (rc != POP3_OK)
        return finish(s, REC_END_PARTIAL, "cannot send to the upstream: %s",
                      s->up->error[0] != '\0' ? s->up->error : pop3_strerror(rc));
    return true;
}

/* The client's TLS handshake, right after the "+OK" it was given. */
static bool client_tls(session *s)
{
    rec_directive(s->w, "!starttls");
    if (!synced(s)) return false;
    char err[256];
    if (rec_downstream_starttls(&s->ds, s->cfg->server_ctx, s->cfg->timeout_ms, err, sizeof err) !=
        0)
        return finish(s, REC_END_PARTIAL, "%s", err);
    return true;
}

/* RFC 2595 section 4: what the client sent after STLS and before its handshake is not
 * part of the TLS session; the server (here, the recorder) discards it. */
static void drop_plaintext(session *s)
{
    if (s->cin.len == 0) return;
    rec_comment(s->w, "pop3-record: %zu octets the client sent after STLS, before TLS, dropped",
                s->cin.len);
    pop3_buf_reset(&s->cin);
}

/* Server octets as they came: recorded, then relayed. */
static bool from_upstream(session *s, const char *data, size_t len)
{
    int64_t now = now_ms();
    s->last_up_ms = now;
    s->spoke_since_up = false;
    bool stls_ok = false;
    size_t upto = rec_tracker_server(&s->tr, data, len, &stls_ok);
    note_lost(s);
    if (stls_ok) {
        /* The upstream's handshake first: the client gets the +OK only if it worked. */
        int rc = s->up->ops->starttls(s->up, &s->cfg->tls, s->cfg->timeout_ms);
        if (rc != POP3_OK)
            return finish(s, REC_END_PARTIAL, "TLS with the upstream after STLS failed: %s",
                          s->up->error[0] != '\0' ? s->up->error : pop3_strerror(rc));
        s->up_tls = true;
        rec_server(s->w, data, upto, now);
        if (!synced(s) || !to_client(s, data, upto)) return false;
        s->stls_wait = false;
        if (upto < len)
            rec_comment(s->w,
                        "pop3-record: %zu octets the upstream sent after its STLS reply, "
                        "before TLS, dropped",
                        len - upto);
        drop_plaintext(s);
        return client_tls(s);
    }
    rec_server(s->w, data, len, now);
    if (!synced(s) || !to_client(s, data, len)) return false;
    if (s->stls_wait && (rec_tracker_idle(&s->tr) || s->tr.lost)) s->stls_wait = false;
    return true;
}

/* A client line the recorder answers itself (STLS it terminates or refuses). */
static bool answer_self(session *s, const char *line, size_t len, size_t linelen, const char *reply,
                        bool tls)
{
    int64_t now = now_ms();
    rec_client(s->w, line, len, (rec_redaction){.keep = len}, now);
    rec_comment(s->w, "pop3-record: answered by the recorder, not the upstream");
    rec_server(s->w, reply, strlen(reply), now);
    if (!synced(s)) return false;
    memmove(s->cin.ptr, s->cin.ptr + linelen, s->cin.len - linelen);
    s->cin.len -= linelen;
    if (!to_client(s, reply, strlen(reply))) return false;
    if (!tls) return true;
    drop_plaintext(s);
    return client_tls(s);
}

/* --upstream-starttls, the client going on in plaintext: the recorder's own STLS. */
static bool hidden_stls(session *s)
{
    rec_comment(s->w, "pop3-record: STLS sent to the upstream by the recorder");
    if (!synced(s) || !to_upstream(s, "STLS\r\n", 6)) return false;
    char line[512];
    size_t n = 0;
    int64_t deadline = now_ms() + s->cfg->timeout_ms;
    /* One octet at a time: nothing after the line end may be consumed before TLS. */
    while (n == 0 || line[n - 1] != '\n') {
        if (n == sizeof line)
            return finish(s, REC_END_PARTIAL, "the upstream's reply to STLS is too long");
        int left = (int)(deadline - now_ms());
        size_t got = 0;
        int rc = s->up->ops->read(s->up, line + n, 1, &got, left > 0 ? left : 0);
        if (rc != POP3_OK)
            return finish(s, REC_END_PARTIAL, "no reply from the upstream to STLS: %s",
                          s->up->error[0] != '\0' ? s->up->error : pop3_strerror(rc));
        n += got;
    }
    size_t len = n - 1 - (n >= 2 && line[n - 2] == '\r');
    pop3_status_line st;
    unsigned quirks = 0;
    if (pop3_parse_status(line, len, POP3_EXPECT_SINGLE, POP3_TOL_DEFAULT, &st, &quirks, NULL) !=
            POP3_OK ||
        st.kind != POP3_STATUS_OK)
        return finish(s, REC_END_PARTIAL, "the upstream refused STLS: %.*s", (int)len, line);
    int rc = s->up->ops->starttls(s->up, &s->cfg->tls, s->cfg->timeout_ms);
    if (rc != POP3_OK)
        return finish(s, REC_END_PARTIAL, "TLS with the upstream failed: %s",
                      s->up->error[0] != '\0' ? s->up->error : pop3_strerror(rc));
    s->up_tls = true;
    return true;
}

static bool keyword_only(const char *line, size_t len, const char *kw)
{
    if (len != strlen(kw)) return false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c != kw[i]) return false;
    }
    return true;
}

static bool starts_keyword(const char *line, size_t len, const char *kw)
{
    size_t n = strlen(kw);
    return (len == n || (len > n && line[n] == ' ')) && keyword_only(line, n, kw);
}

/* Relay the complete client lines held, in order. */
static bool from_client_lines(session *s)
{
    const rec_config *cfg = s->cfg;
    while (!s->stls_wait) {
        char *lf = s->cin.len > 0 ? memchr(s->cin.ptr, '\n', s->cin.len) : NULL;
        if (lf == NULL) {
            if (s->cin.len + 1 > cfg->max_line)
                return finish(s, REC_END_PARTIAL,
                              "a client line longer than %zu octets (--max-line)", cfg->max_line);
            return true;
        }
        size_t linelen = (size_t)(lf - s->cin.ptr) + 1;
        size_t len = linelen - 1;
        if (len > 0 && s->cin.ptr[len - 1] == '\r') len--;
        if (linelen > cfg->max_line)
            return finish(s, REC_END_PARTIAL, "a client line longer than %zu octets (--max-line)",
                          cfg->max_line);
        const char *line = s->cin.ptr;
        bool command = !s->tr.in_sasl;
        if (command && s->ds.ssl == NULL && keyword_only(line, len, "STLS")) {
            if (cfg->server_ctx == NULL) {
                if (!answer_self(s, line, len, linelen,
                                 "-ERR [SYS/PERM] pop3-record has no certificate for STLS "
                                 "(--tls-cert)\r\n",
                                 false))
                    return false;
                continue;
            }
            if (cfg->up_mode != REC_UP_STARTTLS || s->up_tls) {
                if (!answer_self(s, line, len, linelen, "+OK Begin TLS negotiation\r\n", true))
                    return false;
                continue;
            }
            /* Forwarded: both sides start TLS after the server's +OK. Replies to lines
             * before it come first. */
            if (!rec_tracker_idle(&s->tr) && !s->tr.lost) return true;
            s->stls_wait = true;
        } else if (command && cfg->up_mode == REC_UP_STARTTLS && !s->up_tls &&
                   !starts_keyword(line, len, "CAPA")) {
            if (!rec_tracker_idle(&s->tr) && !s->tr.lost) return true;
            if (!hidden_stls(s)) return false;
        }
        int64_t now = now_ms();
        pop3_command_id id;
        rec_redaction r = rec_tracker_client(&s->tr, line, len, &id);
        rec_client(s->w, line, len, r, now);
        if (!synced(s) || !to_upstream(s, line, linelen)) return false;
        s->last_line_ms = now;
        s->spoke_since_up = true;
        memmove(s->cin.ptr, s->cin.ptr + linelen, s->cin.len - linelen);
        s->cin.len -= linelen;
    }
    return true;
}

static void client_closed(session *s)
{
    if (s->cin.len > 0)
        rec_comment(s->w,
                    "pop3-record: the client closed after %zu octets of a line it did not end",
                    s->cin.len);
    rec_directive(s->w, "C: <close connection>");
    if (rec_tracker_mid_reply(&s->tr))
        finish(s, REC_END_PARTIAL,
               "the client closed the connection in the middle of the reply to %s",
               rec_tracker_waiting_for(&s->tr));
}

static void upstream_closed(session *s, int rc)
{
    rec_tracker_eof(&s->tr);
    if (rc != POP3_ECLOSED)
        rec_comment(s->w, "pop3-record: the upstream connection ended: %s",
                    s->up->error[0] != '\0' ? s->up->error : pop3_strerror(rc));
    if (rec_tracker_mid_reply(&s->tr))
        rec_comment(s->w, "pop3-record: the upstream closed in the middle of the reply to %s",
                    rec_tracker_waiting_for(&s->tr));
    rec_directive(s->w, "!close");
}

static void relay(session *s)
{
    const rec_config *cfg = s->cfg;
    char buf[CHUNK];
    int upfd = rec_upstream_fd(s->up);
    for (;;) {
        if (*cfg->stop) {
            finish(s, REC_END_PARTIAL, "stopped by a signal");
            return;
        }
        int64_t now = now_ms();
        /* A reply is due: the upstream is timed from the later of its last octets and the
         * client's last line. Without track of the replies, any client line is taken to
         * want one. */
        bool due = rec_tracker_due(&s->tr) || (s->tr.lost && s->spoke_since_up);
        int64_t since = s->last_up_ms > s->last_line_ms ? s->last_up_ms : s->last_line_ms;
        int timeout = STOP_CHECK_MS;
        if (due) {
            int64_t left = since + cfg->timeout_ms - now;
            if (left <= 0) {
                finish(s, REC_END_PARTIAL,
                       "the upstream sent nothing for %d ms while %s was due (--timeout)",
                       cfg->timeout_ms, rec_tracker_waiting_for(&s->tr));
                return;
            }
            if (left < timeout) timeout = (int)left;
        }
        bool ds_buf = rec_downstream_buffered(&s->ds), up_buf = rec_upstream_buffered(s->up);
        if (ds_buf || up_buf) timeout = 0;
        /* Back-pressure: a client that sends while its lines are held is not read. */
        bool read_client = s->cin.len < cfg->max_line * 4;
        struct pollfd p[2] = {{.fd = s->ds.fd, .events = read_client ? POLLIN : 0},
                              {.fd = upfd, .events = POLLIN}};
        int n = poll(p, 2, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            finish(s, REC_END_PARTIAL, "poll: %s", strerror(errno));
            return;
        }
        if (up_buf || (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            size_t got = 0;
            int rc = s->up->ops->read(s->up, buf, sizeof buf, &got, 0);
            if (rc == POP3_OK) {
                if (!from_upstream(s, buf, got)) return;
            } else if (rc != POP3_ETIMEOUT) {
                upstream_closed(s, rc);
                return;
            }
        }
        if (read_client && (ds_buf || (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0)) {
            size_t got = 0;
            char err[256];
            int rc = rec_downstream_read(&s->ds, buf, sizeof buf, &got, err, sizeof err);
            if (rc == REC_DS_EOF || rc == REC_DS_ERROR) {
                if (rc == REC_DS_ERROR) rec_comment(s->w, "pop3-record: %s", err);
                client_closed(s);
                return;
            }
            if (rc == REC_DS_DATA && pop3_buf_append(&s->cin, buf, got) != POP3_OK) {
                finish(s, REC_END_PARTIAL, "out of memory");
                return;
            }
        }
        if (!from_client_lines(s)) return;
    }
}

rec_end rec_session_run(const rec_config *cfg, int client_fd, rec_writer *w, char *why,
                        size_t whylen)
{
    session s = {.cfg = cfg, .w = w, .ds = {.fd = client_fd}, .why = why, .whylen = whylen};
    why[0] = '\0';
    pop3_buf_init(&s.cin, 0);
    int fl = fcntl(client_fd, F_GETFL);
    if (fl < 0 || fcntl(client_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(client_fd);
        snprintf(why, whylen, "fcntl: %s", strerror(errno));
        return REC_END_PARTIAL;
    }
    if (rec_tracker_init(&s.tr, cfg->hooks, cfg->hooks_ctx) != 0) {
        close(client_fd);
        snprintf(why, whylen, "out of memory");
        return REC_END_PARTIAL;
    }
    /* --keep-timing: pauses count from the connection, not from the last session. */
    w->last_ms = now_ms();
    static const char *const modes[] = {"plain", "implicit TLS", "STLS"};
    rec_comment(w, "upstream %s:%u (%s)", cfg->up_host, cfg->up_port, modes[cfg->up_mode]);
    char err[POP3_TRANSPORT_ERROR_SIZE + 64];
    bool ok = true;
    if (cfg->implicit_tls) {
        rec_directive(w, "!implicit-tls");
        ok = synced(&s);
        if (ok &&
            rec_downstream_starttls(&s.ds, cfg->server_ctx, cfg->timeout_ms, err, sizeof err) != 0)
            ok = finish(&s, REC_END_PARTIAL, "%s", err);
    }
    if (ok) {
        int rc = rec_upstream_connect(&s.up, cfg->up_host, cfg->up_port, cfg->up_mode, &cfg->tls,
                                      cfg->timeout_ms, err, sizeof err);
        if (rc != POP3_OK) {
            s.up = NULL;
            finish(&s, REC_END_UPSTREAM, "upstream %s:%u: %s", cfg->up_host, cfg->up_port, err);
        } else {
            s.up_tls = cfg->up_mode == REC_UP_TLS;
            s.last_up_ms = s.last_line_ms = now_ms();
            relay(&s);
        }
    }
    rec_server_flush(w);
    rec_sync(w);
    if (w->failed && s.end != REC_END_FILE)
        finish(&s, REC_END_FILE, "cannot write %s: %s", w->path, strerror(w->err));
    if (s.up != NULL) s.up->ops->close(s.up);
    rec_downstream_close(&s.ds);
    rec_tracker_free(&s.tr);
    pop3_buf_free(&s.cin);
    return s.end;
}
