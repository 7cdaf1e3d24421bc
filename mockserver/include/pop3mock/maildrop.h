/*
 * pop3mock/maildrop.h - the messages a maildrop session serves.
 *
 * RFC 1939 section 4 and 11: messages have sizes in octets with every line end counted
 * as CRLF; section 7: each has a unique-id of 1 to 70 octets in 0x21..0x7E that stays
 * the same across sessions and processes. A maildrop is loaded from a Maildir (cur/
 * and new/) or a folder of message files, ordered by file name, or built in memory
 * (tests, fuzz targets). Message files are read when served, in chunks; only names,
 * sizes and unique-ids are kept in memory.
 *
 * Deletions made at QUIT last for the life of the maildrop object: files on disk are
 * never touched. One lock stands for RFC 1939's exclusive-access lock ([IN-USE]).
 */
#ifndef POP3MOCK_MAILDROP_H
#define POP3MOCK_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3mock/quirks.h"
#include "pop3mock/session.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pop3mock_message {
    char *name;         /* file name (the Maildir unique part keeps its flags) */
    const char *uid;    /* RFC 1939 section 7 unique-id, NUL-terminated: `name` itself, or a
                         * copy kept in the allocation of `name` (freed with it) */
    char *data;         /* in-memory content, or NULL for a file */
    uint64_t octets;    /* octets as stored */
    uint64_t size;      /* RFC 1939 section 11 size: bare LF counted as CRLF */
    uint64_t lines;     /* line ends (LF) in the message */
    long long mtime_ns; /* the file's modification time: a rescan re-reads only what changed */
    bool final_lf;      /* the last octet is LF (or the message is empty) */
    bool header_8bit;   /* an octet over 0x7F before the first empty line (RFC 6856 2.2) */
    bool removed;       /* deleted by a QUIT earlier in this process */
    /* private: the folder of the file, under the maildrop's `dir` (0: `dir` itself, 1:
     * cur/, 2: new/); the path is built from `dir`, this and `name` when the file is
     * opened, not kept */
    unsigned char _folder;
    /* private: taken at the last rescan as unchanged on the word of its name (",S=")
     * without a stat, so RETR checks the size of what it reads */
    bool _by_name;
    /* private: taken at the last rescan on the word of its unchanged Maildir folder
     * without a stat, so RETR and TOP check the file's size and modification time when
     * they open it */
    bool _by_dir;
} pop3mock_message;

/* private: a Maildir folder (cur/, new/) as it was when last read whole (maildrop.c) */
typedef struct pop3mock__folder_stamp {
    bool known;   /* the rest may be trusted */
    bool present; /* the folder existed */
    unsigned long long dev, ino;
    long long mtime_ns, ctime_ns;
} pop3mock__folder_stamp;

typedef struct pop3mock_maildrop {
    pop3mock_message *msgs;
    size_t count;
    char *user;
    char *password;
    bool locked;     /* a session is in TRANSACTION state */
    bool no_lock;    /* several sessions at once (load tests): never [IN-USE] */
    char *dir;       /* the folder it was loaded from; NULL when built in memory */
    unsigned active; /* sessions in TRANSACTION state now (no_lock allows several) */
    /* Most messages held (0: POP3MOCK_MAX_MESSAGES_DEFAULT). Set by init and load; a
     * caller may change it afterwards: it applies to later adds and rescans. */
    size_t max_messages;
    size_t msgs_cap; /* private: messages `msgs` has room for */
    /* private: the folders (`dir`, cur/, new/) held open while a session is in
     * TRANSACTION, so that a message is opened relative to its folder (openat) rather
     * than by its whole path; each the descriptor plus one, 0 when not open */
    int _folder_fd[3];
    /* private: cur/ and new/ (indexed as _folder_fd) as they were when last read whole:
     * a rescan that finds both as they were reads neither again */
    pop3mock__folder_stamp _stamp[3];
} pop3mock_maildrop;

/* Default limit on the messages of one maildrop: as many as the codec's listing parser
 * takes by default (pop3_listing max_entries), so a pop3kit client can list whatever
 * the mock serves. A folder with more is an error at load or rescan, not a truncation. */
#define POP3MOCK_MAX_MESSAGES_DEFAULT 1000000

/* A folder's modification time younger than this when the folder is read may yet be
 * given again to a change made within the same tick of the file system's clock (FAT
 * keeps 2 seconds): such a folder is read whole at the next rescan too. */
#define POP3MOCK_STAMP_MARGIN_NS (2LL * 1000000000LL)

/* Largest message file accepted (bounded sizes everywhere); larger files are skipped
 * with a message. 0 = no limit. */
#define POP3MOCK_MAX_MESSAGE_DEFAULT UINT64_C(0)

/*
 * pop3mock_maildrop_load - read the names and sizes of every message under `dir`:
 * the regular files of cur/ and new/ when either exists (a Maildir), otherwise the
 * regular files of `dir` itself; names starting with "." are skipped. Files are ordered
 * by name, at most POP3MOCK_MAX_MESSAGES_DEFAULT of them. Returns 0, or -1 with
 * `errbuf` filled.
 */
int pop3mock_maildrop_load(pop3mock_maildrop *md, const char *dir, const char *user,
                           const char *password, char *errbuf, size_t errlen);

/*
 * pop3mock_maildrop_rescan - read the folder again: messages added since are seen, those
 * gone are dropped, an unchanged file (same path, size and modification time) is not
 * read again, and one whose Maildir name states (",S=NNN") the octets measured last time
 * is taken as unchanged without a stat (the reader checks it when it is sent). A Maildir
 * whose cur/ and new/ are as they were at the last complete read (same identity, change
 * and modification times, these older than POP3MOCK_STAMP_MARGIN_NS then) is not read
 * at all: maildir(5) files are renamed in and out, never rewritten, and each rename
 * changes its folder. A file rewritten in place all the same is caught when RETR or TOP
 * opens it (size or modification time differ): -ERR [SYS/TEMP], and the next rescan
 * reads the folders whole. Unique-ids
 * come from file names, so they stay what they were; deletions made at QUIT stay too
 * (matched by unique-id). Message numbers change, so this is done only while no session
 * is in TRANSACTION state (`active` 0); otherwise, and for an in-memory maildrop, it does
 * nothing. A maildrop session calls it at each login. Returns 0, or -1 with `errbuf`
 * filled (the old list is then kept).
 */
int pop3mock_maildrop_rescan(pop3mock_maildrop *md, char *errbuf, size_t errlen);

/* Forget every deletion made at QUIT so far, then rescan (SIGHUP in pop3-mock). */
int pop3mock_maildrop_reset(pop3mock_maildrop *md, char *errbuf, size_t errlen);

/* An empty maildrop for `user`/`password`, to which pop3mock_maildrop_add adds. */
int pop3mock_maildrop_init(pop3mock_maildrop *md, const char *user, const char *password);

/* Add an in-memory message (copied) named `name`. Returns 0, or -1 (out of memory, or
 * the maildrop already holds max_messages). */
int pop3mock_maildrop_add(pop3mock_maildrop *md, const char *name, const char *data, size_t len);

void pop3mock_maildrop_free(pop3mock_maildrop *md);

/* Reads one message in chunks (a file stays open while a body is being sent). */
typedef struct pop3mock_reader {
    const pop3mock_message *msg;
    int fd; /* -1 for an in-memory message */
    uint64_t offset;
} pop3mock_reader;

/* Open message `i` for reading. Returns 0, or -1 when its file cannot be opened. */
int pop3mock_reader_open(pop3mock_reader *r, const pop3mock_maildrop *md, size_t i);

/* Up to `cap` next octets. Returns the number read, 0 at the end, -1 on a read error or
 * when the file no longer holds the octets measured (it grew or shrank since): its size
 * as listed would not be what is sent. A read that reaches the measured end with room to
 * spare proves the end: the file is closed then, and the next call returns 0 without a
 * system call. */
long pop3mock_reader_read(pop3mock_reader *r, char *buf, size_t cap);

void pop3mock_reader_close(pop3mock_reader *r);

/* How maildrop sessions behave. */
typedef struct pop3mock_maildrop_options {
    pop3mock_limits limits;
    pop3mock_quirks quirks;
    bool tls_available; /* a certificate is configured: STLS is offered (RFC 2595) */
    bool implicit_tls;  /* sessions start with the TLS handshake (RFC 8314, port 995) */
    /* RFC 6856 sections 2.2 and 5: RETR and TOP of a message with 8-bit headers answer
     * -ERR [UTF8] until the client has issued UTF8 (--utf8-strict). Off by default:
     * curl and most clients never send UTF8, and real maildrops are full of raw 8-bit
     * headers that clients retrieve every day. */
    bool utf8_strict;
    /* CAPA lists "SASL PLAIN LOGIN CRAM-MD5" rather than the contract's "SASL PLAIN"
     * (--sasl-all). LOGIN and CRAM-MD5 are accepted either way (RFC 5034 lets a client
     * try a mechanism that is not listed). */
    bool sasl_all;
    /* RFC 2595 section 6: SASL PLAIN is listed and accepted only once TLS is active.
     * With plain_in_clear it is also listed and accepted without TLS, as before that
     * rule (--plain-in-clear; for clients that know no other mechanism). */
    bool plain_in_clear;
} pop3mock_maildrop_options;

/* Defaults: pop3mock_limits_default, no quirk, no TLS. */
void pop3mock_maildrop_options_default(pop3mock_maildrop_options *opt);

/*
 * pop3mock_maildrop_session_new - a session serving `md` (which must outlive it).
 * `timestamp` is the APOP timestamp of the greeting, angle brackets included; it must
 * differ for every greeting (RFC 1939 section 7), which is the caller's job since the
 * session has no clock. Returns NULL when out of memory.
 */
pop3mock_session *pop3mock_maildrop_session_new(pop3mock_maildrop *md,
                                                const pop3mock_maildrop_options *opt,
                                                const char *timestamp);

/*
 * pop3mock_accounts_session_new - a session serving several accounts (`n` maildrops,
 * each with its own user and password, which must outlive it): the name the client
 * gives picks the maildrop. The array itself is copied. NULL when out of memory.
 */
pop3mock_session *pop3mock_accounts_session_new(pop3mock_maildrop *const *accounts, size_t n,
                                                const pop3mock_maildrop_options *opt,
                                                const char *timestamp);

#ifdef __cplusplus
}
#endif
#endif
