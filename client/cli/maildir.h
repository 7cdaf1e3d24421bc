/*
 * maildir.h - delivering messages into a Maildir the crash-safe way: write under tmp/,
 * fsync, rename into new/, fsync new/ (the Maildir convention; D. J. Bernstein's
 * maildir(5)). A message either is in new/ whole or is not there at all.
 */
#ifndef POP3_CLI_MAILDIR_H
#define POP3_CLI_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called once a message is durably in new/, with the tag given to maildir_commit. */
typedef void (*maildir_committed_fn)(void *ud, uint64_t tag);

typedef struct maildir_pending maildir_pending;

typedef struct maildir {
    char *path;     /* the Maildir itself */
    int new_fd;     /* new/, kept open to fsync it after renames */
    int tmp_fd;     /* tmp/, kept open: messages are created and renamed relative to it */
    unsigned seq;   /* per-process counter for unique names */
    char host[128]; /* this host's name as names carry it ("/", ":", "," replaced) */
    long pid;       /* this process, as names carry it */
    bool fsync;     /* fsync files and new/ (true; off only for benchmarks of the rest) */
    /* Store line ends as transferred (CRLF). false (the default): CRLF becomes LF, the
     * form a Maildir holds on Unix (as mpop and fetchmail deliver); a lone CR stays. */
    bool keep_crlf;
    unsigned stale_removed; /* tmp/ files of earlier runs removed by maildir_open */
    /* Messages committed together (1). Above 1, a message's file stays open when it is
     * complete; at the batch's end the files are made durable (one syncfs, or the file's
     * own fsync when the batch holds one) and closed, then renamed, then new/ is fsync'd
     * once: the same guarantee (nothing reaches new/ before its octets are on disk) for
     * a fraction of the synchronous writes. At most batch_max files are open at once. */
    unsigned batch_max;
    maildir_committed_fn committed;
    void *committed_ud;
    maildir_pending *pending;
    unsigned npending;
} maildir;

typedef struct maildir_msg {
    int fd;
    char *tmp_path;   /* DIR/tmp/NAME */
    char *name;       /* NAME, the same in new/ */
    uint64_t size;    /* octets on disk */
    bool to_lf;       /* CRLF -> LF (from the maildir's keep_crlf) */
    bool held_cr;     /* a CR ended the last chunk: its LF may start the next */
    uint64_t flushed; /* octets handed to the kernel's writeback (sync_file_range) */
} maildir_msg;

/* While a message is written, each this many octets are handed to the kernel's writeback
 * at once (sync_file_range, which does not wait): the batch's final sync then finds the
 * bulk of a large message already on its way to disk instead of all of it dirty, so the
 * disk works while the network does. */
#define MAILDIR_WRITEBACK_STEP ((uint64_t)8 << 20)

/* The buffer of the CRLF -> LF conversion: one write per this many octets of output. */
#define MAILDIR_CONVERT_BUF (64 * 1024)

/* tmp/ files older than this are removed when a Maildir is opened (maildir(5): "a file
 * in tmp/ that has not been accessed for 36 hours" is garbage). */
#define MAILDIR_TMP_STALE_SECONDS (36 * 3600)

/*
 * Open (creating DIR, tmp/, new/ and cur/ when missing). 0, or -1 with `err` set: the
 * path and the OS error ("DIR/new: Not a directory"). Stale tmp/ files are removed: those
 * older than MAILDIR_TMP_STALE_SECONDS, and at once those this program wrote on this
 * host in a process that no longer exists (a run that was killed; see maildir.c).
 */
int maildir_open(maildir *m, const char *dir, char *err, size_t errlen);
void maildir_close(maildir *m);

/*
 * Start a message. `uid` (may be NULL) is recorded in the file name, hex-encoded after
 * ",U=", so that a run interrupted between the rename and the save of the UIDL state
 * still knows on the next run that this message was delivered. 0 or -1 with `err`.
 */
int maildir_begin(maildir *m, const char *uid, maildir_msg *msg, char *err, size_t errlen);
/* Append octets. 0 or -1 with `err`. */
int maildir_write(maildir_msg *msg, const char *data, size_t len, char *err, size_t errlen);
/*
 * Deliver a finished message: fsync, rename into new/, fsync new/, then the committed
 * callback with `tag`. With batch_max above 1 the message waits for its batch (see
 * above); maildir_flush completes a partial batch. 0, or -1 with `err`: then the message
 * (or the whole batch) is not delivered and its tmp/ files are removed.
 */
int maildir_commit(maildir *m, maildir_msg *msg, uint64_t tag, char *err, size_t errlen);
/* Make every waiting message durable and deliver it. 0, or -1 with `err`. */
int maildir_flush(maildir *m, char *err, size_t errlen);
/* Drop a message that was begun: close and unlink its tmp/ file. */
void maildir_abort(maildir_msg *msg);

/*
 * Call `fn` with the UID of every message in new/ and cur/ whose name carries one
 * (",U=" as written by maildir_begin). Returns 0, or -1 when a folder cannot be read.
 */
int maildir_each_uid(const maildir *m, void (*fn)(void *ud, const char *uid), void *ud);

#endif
