/*
 * commands.c - the one-shot commands of `pop3`: capa, stat, list, uidl, retr, top,
 * dele, noop (RFC 1939 sections 5 and 7, RFC 2449 section 5). Each opens a session,
 * logs in (all but capa), runs one command, prints its result on stdout in the form
 * pop3.1 documents, and ends with QUIT so that a DELE takes effect (RFC 1939 section 6).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_usage.h"
#include "pop3/buf.h"

/* End the session: QUIT, and its -ERR counts ("some deleted messages not removed"). */
static int finish(pop3_client *c, int rc)
{
    if (rc == POP3_OK || rc == POP3_ESERVER) {
        int q = pop3_quit(c);
        if (q != POP3_OK && rc == POP3_OK) {
            cli_report(c, q, "QUIT");
            rc = q;
        }
    }
    pop3_client_free(c);
    return cli_exit_status(rc);
}

static int open_session(pop3_client **c, const cli_options *o, bool login)
{
    int rc = cli_connect(c, o);
    if (rc != POP3_OK) return rc;
    if (login) {
        rc = cli_login(*c, o);
        if (rc != POP3_OK) {
            pop3_quit(*c);
            pop3_client_free(*c);
            *c = NULL;
        }
    }
    return rc;
}

static int usage(const char *what)
{
    return pop3__usage_error("pop3", "usage: pop3 [options] %s", what);
}

/* A message number (from 1, RFC 1939 section 3) or a line count (from 0) that is not a
 * number in range: one line naming the argument, the range and what was given. */
static int bad_number(const char *command, const char *what, uint64_t min, const char *arg)
{
    return pop3__usage_error("pop3", "%s: the %s must be a number from %llu to %llu, not '%s'",
                             command, what, (unsigned long long)min, (unsigned long long)UINT64_MAX,
                             arg);
}

int cli_capa(const cli_options *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) return usage("capa");
    pop3_client *c;
    int rc = open_session(&c, o, false);
    if (rc != POP3_OK) return cli_exit_status(rc);
    const pop3_capa_set *caps = NULL;
    rc = pop3_capa(c, &caps);
    if (rc != POP3_OK) {
        cli_report(c, rc, "CAPA");
        return finish(c, rc);
    }
    for (size_t i = 0; i < caps->count; i++) {
        fwrite(caps->caps[i].line.ptr, 1, caps->caps[i].line.len, stdout);
        fputc('\n', stdout);
    }
    return finish(c, rc);
}

int cli_stat(const cli_options *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) return usage("stat");
    pop3_client *c;
    int rc = open_session(&c, o, true);
    if (rc != POP3_OK) return cli_exit_status(rc);
    uint64_t count, size;
    rc = pop3_stat(c, &count, &size);
    if (rc != POP3_OK) {
        cli_report(c, rc, "STAT");
        return finish(c, rc);
    }
    printf("%llu %llu\n", (unsigned long long)count, (unsigned long long)size);
    return finish(c, rc);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * A listing as the library keeps it (pop3_listing_add: message number 0 and numbers
 * listed again are left out, Q45), with a warning on stderr for each number left out:
 * the user must see a server fault rather than lose lines in silence.
 */
static int read_listing(pop3_client *c, bool uidl, pop3_listing *l)
{
    pop3_lines raw;
    memset(&raw, 0, sizeof raw);
    int rc = uidl ? pop3_uidl_lines(c, &raw) : pop3_list_lines(c, &raw);
    pop3_listing_init(l, uidl);
    uint64_t *left_out = NULL;
    size_t nleft = 0, left_cap = 0;
    for (size_t i = 0; rc == POP3_OK && i < raw.count; i++) {
        size_t before = l->skipped;
        rc = pop3_listing_add(l, raw.lines[i].ptr, raw.lines[i].len);
        if (rc != POP3_OK) {
            fprintf(stderr, "pop3: %s: line %zu is not \"N %s\"\n", uidl ? "UIDL" : "LIST", i + 1,
                    uidl ? "UID" : "SIZE");
            break;
        }
        if (l->skipped == before) continue;
        uint64_t msg = 0, size = 0;
        pop3_view uid;
        if (uidl)
            pop3_parse_uidl(raw.lines[i].ptr, raw.lines[i].len, &msg, &uid, NULL);
        else
            pop3_parse_scan(raw.lines[i].ptr, raw.lines[i].len, &msg, &size, NULL);
        /* At most one per line read, and those the library bounds (max_listing). */
        uint64_t *p =
            pop3_array_grow(left_out, &left_cap, nleft + 1, sizeof *p, 16, raw.count, &rc);
        if (!p) break;
        left_out = p;
        left_out[nleft++] = msg;
    }
    if (nleft > 1) qsort(left_out, nleft, sizeof *left_out, cmp_u64); /* never qsort(NULL) */
    for (size_t i = 0; i < nleft;) {
        size_t j = i;
        while (j < nleft && left_out[j] == left_out[i])
            j++;
        if (left_out[i] == 0)
            fprintf(stderr,
                    "pop3: warning: %s: the server listed message number 0 (%zu line%s), which "
                    "RFC 1939 does not allow; left out\n",
                    uidl ? "UIDL" : "LIST", j - i, j - i > 1 ? "s" : "");
        else
            fprintf(stderr,
                    "pop3: warning: %s: the server listed message %llu %zu times; only the "
                    "first is shown\n",
                    uidl ? "UIDL" : "LIST", (unsigned long long)left_out[i], j - i + 1);
        i = j;
    }
    free(left_out);
    pop3_lines_free(&raw);
    return rc;
}

static int listing(const cli_options *o, int argc, char **argv, bool uidl)
{
    const char *name = uidl ? "UIDL" : "LIST";
    uint64_t msg = 0;
    if (argc > 1) return usage(uidl ? "uidl [N]" : "list [N]");
    if (argc == 1 && cli_number(argv[0], 1, UINT64_MAX, &msg))
        return bad_number(uidl ? "uidl" : "list", "message number", 1, argv[0]);
    pop3_client *c;
    int rc = open_session(&c, o, true);
    if (rc != POP3_OK) return cli_exit_status(rc);
    if (argc == 1) {
        if (uidl) {
            const char *uid = NULL;
            rc = pop3_uidl_one(c, msg, &uid);
            if (rc == POP3_OK) printf("%llu %s\n", (unsigned long long)msg, uid);
        } else {
            uint64_t size = 0;
            rc = pop3_list_one(c, msg, &size);
            if (rc == POP3_OK)
                printf("%llu %llu\n", (unsigned long long)msg, (unsigned long long)size);
        }
    } else {
        pop3_listing l;
        rc = read_listing(c, uidl, &l);
        for (size_t i = 0; rc == POP3_OK && i < l.count; i++) {
            const pop3_listing_entry *e = &l.entries[i];
            if (uidl)
                printf("%llu %s\n", (unsigned long long)e->msgno, e->uid);
            else
                printf("%llu %llu\n", (unsigned long long)e->msgno, (unsigned long long)e->size);
        }
        pop3_listing_free(&l);
    }
    /* A fault found here (not by the library) was reported by read_listing. */
    if (rc != POP3_OK && pop3_last_error(c) == rc) cli_report(c, rc, name);
    return finish(c, rc);
}

int cli_list(const cli_options *o, int argc, char **argv)
{
    return listing(o, argc, argv, false);
}

int cli_uidl(const cli_options *o, int argc, char **argv)
{
    return listing(o, argc, argv, true);
}

/* The body goes to stdout byte for byte, as it arrives. */
static int to_stdout(void *ud, const char *data, size_t len)
{
    cli_trace_body(ud, data, len);
    if (fwrite(data, 1, len, stdout) != len) return POP3_EIO;
    return POP3_OK;
}

static int body_command(const cli_options *o, uint64_t msg, bool top, uint64_t lines)
{
    pop3_client *c;
    int rc = open_session(&c, o, true);
    if (rc != POP3_OK) return cli_exit_status(rc);
    rc = top ? pop3_top(c, msg, lines, to_stdout, (void *)o)
             : pop3_retr(c, msg, to_stdout, (void *)o);
    if (fflush(stdout) != 0 && rc == POP3_OK) {
        fprintf(stderr, "pop3: writing the message: %s\n", strerror(errno));
        pop3_client_free(c);
        return EXIT_CONNECTION;
    }
    if (rc != POP3_OK) cli_report(c, rc, top ? "TOP" : "RETR");
    return finish(c, rc);
}

int cli_retr(const cli_options *o, int argc, char **argv)
{
    uint64_t msg;
    if (argc != 1) return usage("retr N");
    if (cli_number(argv[0], 1, UINT64_MAX, &msg))
        return bad_number("retr", "message number", 1, argv[0]);
    return body_command(o, msg, false, 0);
}

int cli_top(const cli_options *o, int argc, char **argv)
{
    uint64_t msg, lines;
    if (argc != 2) return usage("top N LINES");
    if (cli_number(argv[0], 1, UINT64_MAX, &msg))
        return bad_number("top", "message number", 1, argv[0]);
    if (cli_number(argv[1], 0, UINT64_MAX, &lines))
        return bad_number("top", "line count", 0, argv[1]);
    return body_command(o, msg, true, lines);
}

int cli_dele(const cli_options *o, int argc, char **argv)
{
    uint64_t msg;
    if (argc != 1) return usage("dele N");
    if (cli_number(argv[0], 1, UINT64_MAX, &msg))
        return bad_number("dele", "message number", 1, argv[0]);
    pop3_client *c;
    int rc = open_session(&c, o, true);
    if (rc != POP3_OK) return cli_exit_status(rc);
    rc = pop3_dele(c, msg);
    if (rc != POP3_OK) cli_report(c, rc, "DELE");
    return finish(c, rc);
}

int cli_noop(const cli_options *o, int argc, char **argv)
{
    (void)argv;
    if (argc != 0) return usage("noop");
    pop3_client *c;
    int rc = open_session(&c, o, true);
    if (rc != POP3_OK) return cli_exit_status(rc);
    rc = pop3_noop(c);
    if (rc != POP3_OK) cli_report(c, rc, "NOOP");
    return finish(c, rc);
}
