/*
 * fetch.c - `pop3 fetch DIR`: every message into a Maildir, pipelined when the server
 * allows it (RFC 2449 section 6.6), with UIDL-based skipping (RFC 1939 section 7) and
 * deletion only of what is safely on disk (RFC 1939 section 6: DELE takes effect at
 * QUIT, and nothing is removed when the session ends another way).
 *
 * Why no message is lost and none is fetched twice when a run is interrupted anywhere:
 *  - a message is written under tmp/, synced with its batch (FETCH_BATCH messages, one
 *    sync), renamed into new/ and new/ fsync'd before anything else happens to it: it is
 *    in new/ whole, or not at all (a stray tmp/ file is not delivered mail, and the next
 *    run removes it, see maildir.h);
 *  - its UID is part of its file name (",U=<hex>"), and the UIDs in the Maildir's names
 *    are added to the state at the start of each run, so a run stopped between the
 *    rename and the save of the state file does not fetch it again;
 *  - DELE is sent only after that (pop3_retrieve_delete, from the batch's committed
 *    callback), and a run stopped before QUIT deletes nothing: the next run finds the
 *    message in the state and deletes it then (with --delete).
 *
 * SIGINT and SIGTERM: the handler only sets cli_interrupted; the transport of
 * session.c then ends its wait within a fraction of a second, the message in hand is
 * dropped (its tmp/ file removed), the messages already complete are flushed into new/,
 * the state file is written, the summary printed, and the exit status is 130 or 143.
 * No QUIT is sent (the session is in the middle of a reply), so nothing is deleted on
 * the server by this run's DELEs: with --delete the next run deletes them.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_usage.h"
#include "maildir.h"
#include "progress.h"
#include "uidl_state.h"

/* How often the state file is saved during a run (it is always saved at the end). */
#define FETCH_SAVE_EVERY 256
/* Messages made durable together (see maildir.h); with --delete each one's DELE is sent
 * once its batch is (pop3_retrieve_delete). */
#define FETCH_BATCH      64

typedef struct fetch_run {
    const cli_options *o;
    maildir md;
    maildir_msg cur;
    bool open;
    uidl_state state;
    bool use_state;
    const pop3_listing *uids; /* UIDL listing, NULL without --uidl-state */
    pop3_client *c;           /* for pop3_retrieve_delete while retrieving */
    bool retrieving;          /* pop3_retrieve is under way */
    size_t todo, done;        /* messages asked for, and answered */
    progress bar;
    uint64_t fetched, octets, refused, skipped, deleted;
    unsigned since_save;
    int error; /* first local failure (disk, state file), stops the run */
    char err[768];
} fetch_run;

static const char *uid_of(const fetch_run *r, uint64_t msg)
{
    if (!r->uids) return NULL;
    const pop3_listing_entry *e = pop3_listing_find(r->uids, msg);
    return e ? e->uid : NULL;
}

static int on_begin(void *ud, uint64_t msg)
{
    fetch_run *r = ud;
    if (maildir_begin(&r->md, uid_of(r, msg), &r->cur, r->err, sizeof r->err)) {
        r->error = POP3_EIO;
        return POP3_EIO;
    }
    r->open = true;
    return POP3_OK;
}

static int on_data(void *ud, uint64_t msg, const char *data, size_t len)
{
    fetch_run *r = ud;
    (void)msg;
    cli_trace_body(r->o, data, len);
    if (maildir_write(&r->cur, data, len, r->err, sizeof r->err)) {
        r->error = POP3_EIO;
        return POP3_EIO;
    }
    r->octets += len;
    progress_add(&r->bar, len, 0);
    return POP3_OK;
}

/* One more RETR answered: the last answer flushes the last batch while its DELEs can
 * still join the run. POP3_KEEP, or the first error of the run. */
static int answered(fetch_run *r)
{
    if (++r->done == r->todo && maildir_flush(&r->md, r->err, sizeof r->err) && !r->error)
        r->error = POP3_EIO;
    return r->error ? r->error : POP3_KEEP;
}

static int on_done(void *ud, uint64_t msg, int status)
{
    fetch_run *r = ud;
    if (status != POP3_OK) {
        if (r->open) maildir_abort(&r->cur);
        r->open = false;
        if (status == POP3_ESERVER) {
            /* The server refused this one message: report it, go on with the rest. */
            fprintf(stderr, "\npop3: RETR %llu refused by the server\n", (unsigned long long)msg);
            r->refused++;
            return answered(r);
        }
        return status;
    }
    r->open = false;
    if (maildir_commit(&r->md, &r->cur, msg, r->err, sizeof r->err) || r->error) {
        if (!r->error) r->error = POP3_EIO;
        return r->error;
    }
    /* DELE goes out from on_committed, once the message is durably in new/. */
    return answered(r);
}

static void on_deleted(void *ud, uint64_t msg, int status)
{
    fetch_run *r = ud;
    (void)msg;
    if (status == POP3_OK) r->deleted++;
}

/* A message is durably in new/: remember its UID, count it. */
static void on_committed(void *ud, uint64_t msg)
{
    fetch_run *r = ud;
    r->fetched++;
    progress_add(&r->bar, 0, 1);
    /* Durably in new/: now, and only now, it may go from the server. A message made
     * durable after the retrieval (a run that stopped early) is deleted by the next run,
     * which finds its UID in the Maildir. */
    if (r->o->delete_after && r->retrieving && pop3_retrieve_delete(r->c, msg) != POP3_OK &&
        !r->error) {
        snprintf(r->err, sizeof r->err, "DELE %llu could not be queued", (unsigned long long)msg);
        r->error = POP3_EUSAGE;
    }
    const char *uid = uid_of(r, msg);
    if (!r->use_state || !uid || r->error) return;
    if (uidl_state_add(&r->state, uid)) {
        snprintf(r->err, sizeof r->err, "out of memory");
        r->error = POP3_ENOMEM;
        return;
    }
    if (++r->since_save >= FETCH_SAVE_EVERY) {
        r->since_save = 0;
        if (uidl_state_save(&r->state, r->err, sizeof r->err)) r->error = POP3_EIO;
    }
}

static void remember_uid(void *ud, const char *uid)
{
    fetch_run *r = ud;
    if (uidl_state_add(&r->state, uid)) r->error = POP3_ENOMEM;
}

/* Pruning: a UID the server no longer lists is gone for good (RFC 1939 section 7: a
 * unique-id is never reused for another message). */
static bool still_listed(void *ud, const char *uid)
{
    return uidl_state_has(ud, uid);
}

/* Keep only the UIDs of `uids` in the state. 0, or -1 when out of memory. */
static int prune(fetch_run *r, const pop3_listing *uids)
{
    uidl_state listed;
    memset(&listed, 0, sizeof listed);
    for (size_t i = 0; i < uids->count; i++)
        if (uidl_state_add(&listed, uids->entries[i].uid) &&
            strpbrk(uids->entries[i].uid, "\r\n") == NULL) {
            uidl_state_free(&listed);
            return -1;
        }
    uidl_state_retain(&r->state, still_listed, &listed);
    uidl_state_free(&listed);
    return 0;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    cli_interrupted = sig;
}

/* USER@HOST:PORT, an IPv6 host in brackets: the state file's account key. */
static void account_key(const cli_options *o, char *buf, size_t cap)
{
    unsigned port = o->port ? o->port : o->tls ? POP3_TLS_PORT : POP3_PORT;
    bool v6 = strchr(o->host, ':') != NULL;
    snprintf(buf, cap, "%s@%s%s%s:%u", o->user ? o->user : "", v6 ? "[" : "", o->host,
             v6 ? "]" : "", port);
}

int cli_fetch(const cli_options *o, int argc, char **argv)
{
    if (argc != 1)
        return pop3__usage_error("pop3", "fetch wants one Maildir: pop3 [options] fetch DIR");
    fetch_run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    double started = seconds_now();
    if (maildir_open(&r.md, argv[0], r.err, sizeof r.err)) {
        fprintf(stderr, "pop3: %s\n", r.err);
        return EXIT_LOCAL;
    }
    if (r.md.stale_removed && o->verbose)
        fprintf(stderr, "pop3: removed %u stale files from %s/tmp\n", r.md.stale_removed, argv[0]);
    r.md.fsync = !o->no_fsync;
    r.md.keep_crlf = o->keep_crlf;
    /* Sync in batches; with --delete each DELE waits for its message's batch. */
    r.md.batch_max = FETCH_BATCH;
    r.md.committed = on_committed;
    r.md.committed_ud = &r;
    int status = EXIT_OK;
    bool summary = false, quit_ok = false;
    pop3_client *c = NULL;
    pop3_listing list, uids;
    memset(&list, 0, sizeof list);
    memset(&uids, 0, sizeof uids);
    uint64_t *todo = NULL;

    /* With --delete, the UIDs in the Maildir's names also guard against fetching twice
     * what a run stopped before QUIT had fetched but not yet deleted. */
    if (o->uidl_state || o->delete_after) {
        r.use_state = true;
        char account[600];
        account_key(o, account, sizeof account);
        if (o->uidl_state &&
            uidl_state_load(&r.state, o->uidl_state, account, r.err, sizeof r.err)) {
            fprintf(stderr, "pop3: %s\n", r.err);
            status = EXIT_LOCAL;
            goto out;
        }
        if (maildir_each_uid(&r.md, remember_uid, &r) || r.error) {
            fprintf(stderr, "pop3: %s: cannot read its file names\n", argv[0]);
            status = EXIT_LOCAL;
            goto out;
        }
    }

    /* From here on an interruption ends the run cleanly (see the top of this file). */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    summary = true;

    int rc = cli_connect(&c, o);
    if (rc != POP3_OK) {
        status = cli_exit_status(rc);
        goto out;
    }
    rc = cli_login(c, o);
    if (rc != POP3_OK) goto session_error;

    rc = pop3_list(c, &list);
    if (rc != POP3_OK) {
        cli_report(c, rc, "LIST");
        goto session_error;
    }
    if (r.use_state) {
        rc = pop3_uidl(c, &uids);
        if (rc == POP3_ESERVER && !o->uidl_state) {
            /* No UIDL (RFC 1939 makes it optional): --delete alone still works. */
            rc = POP3_OK;
        } else if (rc != POP3_OK) {
            cli_report(c, rc, rc == POP3_ESERVER ? "UIDL (needed by --uidl-state)" : "UIDL");
            goto session_error;
        } else {
            r.uids = &uids;
            if (o->uidl_state && prune(&r, &uids)) {
                rc = POP3_ENOMEM;
                fprintf(stderr, "pop3: fetch: out of memory\n");
                goto session_error;
            }
        }
    }

    todo = calloc(list.count ? list.count : 1, sizeof *todo);
    if (!todo) {
        rc = POP3_ENOMEM;
        fprintf(stderr, "pop3: fetch: out of memory\n");
        goto session_error;
    }
    size_t ntodo = 0;
    uint64_t todo_octets = 0;
    for (size_t i = 0; i < list.count; i++) {
        uint64_t msg = list.entries[i].msgno;
        const char *uid = uid_of(&r, msg);
        if (r.use_state && uid && uidl_state_has(&r.state, uid)) {
            /* Fetched by an earlier run: only its deletion may still be owed. */
            if (o->delete_after) {
                rc = pop3_dele(c, msg);
                if (rc == POP3_OK) r.deleted++;
                if (rc != POP3_OK && rc != POP3_ESERVER) {
                    cli_report(c, rc, "DELE");
                    goto session_error;
                }
            }
            continue;
        }
        if ((o->max_size && list.entries[i].size > o->max_size) ||
            (o->max_messages && ntodo >= o->max_messages))
            continue;
        todo[ntodo++] = msg;
        todo_octets += list.entries[i].size;
    }

    progress_start(&r.bar, stderr, o->progress, ntodo, todo_octets);
    pop3_retrieve_handler h = {on_begin, on_data, on_done, on_deleted, &r};
    r.c = c;
    r.todo = ntodo;
    r.retrieving = true;
    rc = pop3_retrieve(c, todo, ntodo, &h);
    r.retrieving = false;
    /* The message in hand when the run stopped is dropped: nothing stays in tmp/. */
    if (r.open) maildir_abort(&r.cur);
    r.open = false;
    if (maildir_flush(&r.md, r.err, sizeof r.err) && !r.error) r.error = POP3_EIO;
    progress_finish(&r.bar);
    /* Skipped: listed and not fetched by this run, for whatever reason. */
    r.skipped = list.count - r.fetched;
    if (r.use_state && uidl_state_save(&r.state, r.err, sizeof r.err) && !r.error)
        r.error = POP3_EIO;
    if (r.error) {
        fprintf(stderr, "pop3: %s\n", r.err);
        /* Quit anyway: only messages safely on disk were marked for deletion. */
        if (!cli_interrupted && pop3_is_connected(c)) pop3_quit(c);
        status = r.error == POP3_ENOMEM ? EXIT_PROTOCOL : EXIT_LOCAL;
        goto out;
    }
    if (cli_interrupted) goto out;
    if (rc != POP3_OK) {
        cli_report(c, rc, "RETR");
        goto session_error;
    }
    rc = pop3_quit(c);
    if (rc != POP3_OK) {
        cli_report(c, rc, "QUIT");
        status = cli_exit_status(rc);
        goto out;
    }
    quit_ok = true;
    status = r.refused ? EXIT_SERVER : EXIT_OK;
    goto out;

session_error:
    /* A refusal leaves the session usable: QUIT commits what was safely stored. */
    if (rc == POP3_ESERVER && !cli_interrupted && pop3_quit(c) == POP3_OK) quit_ok = true;
    status = cli_exit_status(rc);
    if (r.use_state && r.fetched && uidl_state_save(&r.state, r.err, sizeof r.err)) {
        fprintf(stderr, "pop3: %s\n", r.err);
        status = EXIT_LOCAL;
    }
out:
    if (r.open) maildir_abort(&r.cur);
    if (cli_interrupted) {
        /* Whatever failed, it failed because the user asked to stop. */
        status = cli_interrupted == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    }
    if (summary)
        fprintf(stderr,
                "pop3: %sfetched %llu, skipped %llu, deleted %llu, %llu octets, %.1f seconds\n",
                cli_interrupted == SIGTERM  ? "interrupted by SIGTERM: "
                : cli_interrupted == SIGINT ? "interrupted by SIGINT: "
                                            : "",
                (unsigned long long)r.fetched, (unsigned long long)r.skipped,
                /* DELE takes effect at QUIT only (RFC 1939 section 6). */
                (unsigned long long)(quit_ok ? r.deleted : 0), (unsigned long long)r.octets,
                seconds_now() - started);
    free(todo);
    pop3_listing_free(&list);
    pop3_listing_free(&uids);
    pop3_client_free(c);
    if (r.use_state) uidl_state_free(&r.state);
    maildir_close(&r.md);
    return status;
}
