/*
 * fetch.c - `pop3 fetch DIR`: every message into a Maildir, pipelined when the server
 * allows it (RFC 2449 section 6.6), with UIDL-based skipping (RFC 1939 section 7) and
 * deletion only of what is safely on disk (RFC 1939 section 6: DELE takes effect at
 * QUIT, and nothing is removed when the session ends another way).
 *
 * Why no message is lost and none is fetched twice when a run is interrupted anywhere:
 *  - a message is written under tmp/, fsync'd, renamed into new/ and new/ fsync'd before
 *    anything else happens to it: it is in new/ whole, or not at all (a stray tmp/ file
 *    is not delivered mail);
 *  - its UID is part of its file name (",U=<hex>"), and the UIDL state file is rebuilt
 *    from those names at the start of each run, so a run stopped between the rename and
 *    the save of the state file does not fetch it again;
 *  - DELE is sent only after that, and a run stopped before QUIT deletes nothing: the
 *    next run finds the message in the state and deletes it then (with --delete).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "maildir.h"
#include "progress.h"
#include "uidl_state.h"

/* How often the state file is saved during a run (it is always saved at the end). */
#define FETCH_SAVE_EVERY 256
/* Messages made durable together when nothing waits for each one (see maildir.h). */
#define FETCH_BATCH      64

typedef struct fetch_run {
    const cli_options *o;
    maildir md;
    maildir_msg cur;
    bool open;
    uidl_state state;
    bool use_state;
    const pop3_listing *uids; /* UIDL listing, NULL without --uidl-state */
    progress bar;
    uint64_t fetched, octets, refused;
    unsigned since_save;
    int error; /* first local failure (disk), stops the run */
    char err[512];
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
    if (maildir_write(&r->cur, data, len, r->err, sizeof r->err)) {
        r->error = POP3_EIO;
        return POP3_EIO;
    }
    progress_add(&r->bar, len, 0);
    return POP3_OK;
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
            return POP3_KEEP;
        }
        return status;
    }
    r->octets += r->cur.size;
    r->open = false;
    uint64_t before = r->fetched;
    if (maildir_commit(&r->md, &r->cur, msg, r->err, sizeof r->err) || r->error) {
        if (!r->error) r->error = POP3_EIO;
        return r->error;
    }
    /* DELE only for a message that on_committed has seen: durably in new/. Batches
     * (used without --delete) are only reported when flushed. */
    return r->o->delete_after && r->fetched > before ? POP3_DELETE : POP3_KEEP;
}

/* A message is durably in new/: remember its UID, count it. */
static void on_committed(void *ud, uint64_t msg)
{
    fetch_run *r = ud;
    r->fetched++;
    progress_add(&r->bar, 0, 1);
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

static int local_failure(fetch_run *r, int rc)
{
    fprintf(stderr, "pop3: fetch: %s\n", r->err);
    return rc;
}

int cli_fetch(const cli_options *o, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "pop3: usage: pop3 [options] fetch DIR [--delete] [--uidl-state FILE]\n");
        return EXIT_USAGE;
    }
    fetch_run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    if (maildir_open(&r.md, argv[0], r.err, sizeof r.err)) {
        fprintf(stderr, "pop3: fetch: %s\n", r.err);
        return EXIT_USAGE;
    }
    r.md.fsync = !o->no_fsync;
    /* Without --delete nothing waits on a message's durability but the next run: sync
     * in batches. With --delete each message must be durable before its DELE. */
    r.md.batch_max = o->delete_after ? 1 : FETCH_BATCH;
    r.md.committed = on_committed;
    r.md.committed_ud = &r;
    int status = EXIT_OK;
    pop3_client *c = NULL;
    pop3_listing list, uids;
    memset(&list, 0, sizeof list);
    memset(&uids, 0, sizeof uids);
    uint64_t *todo = NULL;

    /* With --delete, the UIDs in the Maildir's names also guard against fetching twice
     * what a run stopped before QUIT had fetched but not yet deleted. */
    if (o->uidl_state || o->delete_after) {
        r.use_state = true;
        if ((o->uidl_state && uidl_state_load(&r.state, o->uidl_state, r.err, sizeof r.err)) ||
            maildir_each_uid(&r.md, remember_uid, &r) || r.error) {
            if (!r.err[0]) snprintf(r.err, sizeof r.err, "cannot read the Maildir");
            status = cli_exit_status(local_failure(&r, POP3_EIO));
            goto out;
        }
    }

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
                if (rc != POP3_OK && rc != POP3_ESERVER) {
                    cli_report(c, rc, "DELE");
                    goto session_error;
                }
            }
            continue;
        }
        todo[ntodo++] = msg;
        todo_octets += list.entries[i].size;
    }

    progress_start(&r.bar, stderr, o->progress, ntodo, todo_octets);
    pop3_retrieve_handler h = {on_begin, on_data, on_done, NULL, &r};
    rc = pop3_retrieve(c, todo, ntodo, &h);
    if (r.open) maildir_abort(&r.cur);
    if (maildir_flush(&r.md, r.err, sizeof r.err) && !r.error) r.error = POP3_EIO;
    progress_finish(&r.bar);
    if (r.use_state && uidl_state_save(&r.state, r.err, sizeof r.err)) {
        local_failure(&r, POP3_EIO);
        if (rc == POP3_OK) rc = POP3_EIO;
    }
    if (r.error) {
        local_failure(&r, r.error);
        /* Quit anyway: only messages safely on disk were marked for deletion. */
        pop3_quit(c);
        status = cli_exit_status(r.error);
        goto out;
    }
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
    if (o->verbose)
        fprintf(stderr, "pop3: fetched %llu messages, %llu octets\n", (unsigned long long)r.fetched,
                (unsigned long long)r.octets);
    status = r.refused ? EXIT_SERVER : EXIT_OK;
    goto out;

session_error:
    /* A refusal leaves the session usable: QUIT commits what was safely stored. */
    if (rc == POP3_ESERVER) pop3_quit(c);
    status = cli_exit_status(rc);
out:
    free(todo);
    pop3_listing_free(&list);
    pop3_listing_free(&uids);
    pop3_client_free(c);
    if (r.use_state) uidl_state_free(&r.state);
    maildir_close(&r.md);
    return status;
}
