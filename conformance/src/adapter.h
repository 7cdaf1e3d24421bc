/*
 * adapter.h - running an adapter command: one process per case (one-shot), or one
 * long-lived process per worker thread that serves many cases through framed requests
 * and replies (persistent). The contract is in conformance/README.md, "Persistent
 * adapters"; client_adapter.c turns what a run produced into results, the same way for
 * both modes.
 *
 * Layers: adapter_frame.c (the frames, no I/O) <- adapter_proc.c (a process and its
 * pipes) <- adapter_oneshot.c, adapter_persist.c <- client_adapter.c.
 */
#ifndef POP3_CONFORM_ADAPTER_H
#define POP3_CONFORM_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conform.h"

/* The most octets of a case's standard error kept for the report. */
#define ADAPTER_LOG_MAX (1u << 20)

/* The environment variable that tells an adapter started for many cases what it is. */
#define ADAPTER_MODE_VAR "POP3_CONFORM_ADAPTER_MODE"

/* What one case's run of an adapter produced, in either mode. */
typedef struct adapter_result {
    pop3_buf out;      /* its standard output */
    pop3_buf err;      /* its standard error, the first ADAPTER_LOG_MAX octets */
    bool exited;       /* `status` is the exit status of the case's run */
    int status;        /* 0..255 */
    int signal;        /* one-shot: the signal the adapter died of, else 0 */
    bool cannot_start; /* the shell could not execute or find the command (126, 127) */
    pop3_buf problem;  /* why the run has no trustworthy results: killed, malformed, ... */
} adapter_result;

void adapter_result_free(adapter_result *r);

/* -- adapter_proc.c: a command under /bin/sh -c in a process group of its own. -- */

typedef struct adapter_proc {
    pid_t pid;        /* 0: none */
    int in, out, err; /* our ends of its standard input, output and error; -1 closed */
    size_t unwritten; /* octets of the last pump's input it did not take */
} adapter_proc;

/* Start `command` with the environment `envp`. 0, or -1 with the reason in `why`. */
int adapter_proc_start(adapter_proc *p, const char *command, char *const envp[], pop3_buf *why);
/* Kill its process group, close our ends and reap it; `*wstatus` gets how it ended. */
void adapter_proc_kill(adapter_proc *p, int *wstatus);
/* Close our ends and reap it, killing the group when it is still running after `grace_ms`.
 * Returns true when it ended by itself. */
bool adapter_proc_reap(adapter_proc *p, int grace_ms, int *wstatus);

/* What to do with the octets a process writes. Return false to stop reading. */
typedef struct adapter_sink {
    bool (*out)(void *ud, const char *p, size_t n);
    void (*err)(void *ud, const char *p, size_t n);
    void *ud;
} adapter_sink;

typedef enum adapter_pump_end {
    PUMP_STOPPED, /* the sink said stop */
    PUMP_EOF,     /* standard output ended (and standard error, when `wait_err`) */
    PUMP_TIMEOUT, /* the deadline passed */
    PUMP_FAILED,  /* poll failed */
} adapter_pump_end;

/* Write `input` to its standard input (closing it afterwards when `close_in`) while
 * reading its output into `sink`, until the sink stops, its standard output ends (and its
 * standard error too, when `wait_err`), or `deadline` (mono_ms) passes. */
adapter_pump_end adapter_proc_pump(adapter_proc *p, const char *input, size_t len, bool close_in,
                                   bool wait_err, int64_t deadline, const adapter_sink *sink);

/* -- adapter_frame.c: the persistent contract's frames. -- */

/* The request for one case: an "env" record per NAME=VALUE of `env`, the "stdin" record,
 * the "end" record. */
void adapter_frame_request(pop3_buf *out, const strlist *env, const char *input, size_t len);

typedef enum adapter_frame_status {
    FRAME_MORE = 0, /* the reply is not complete: feed more */
    FRAME_DONE,     /* a whole reply; `*used` octets of this feed were its last */
    FRAME_BAD,      /* malformed; the reader's `why` says how */
    FRAME_TOO_BIG,  /* its standard output and error pass the limit */
} adapter_frame_status;

/* A reply being read: plain data, zero-initialised apart from `limit`. */
typedef struct adapter_frame_reader {
    size_t limit;   /* the most octets of "stdout" and "stderr" data together */
    size_t data;    /* such octets announced so far */
    size_t total;   /* octets fed so far */
    char why[160];  /* FRAME_BAD: what was wrong */
    char _head[40]; /* the record header being read */
    size_t _headlen;
    int _record;    /* 1 + the record whose data (then line feed) is being read; 0: a header */
    size_t _left;   /* its octets still to come */
    unsigned _seen; /* records seen, one bit each */
} adapter_frame_reader;

/* Feed `n` octets of the adapter's standard output; the reply's data goes to `res`
 * (out, err, exited and status). Past FRAME_MORE the reader is spent. */
adapter_frame_status adapter_frame_feed(adapter_frame_reader *r, const char *p, size_t n,
                                        size_t *used, adapter_result *res);

/* -- adapter_oneshot.c, adapter_persist.c: one case's run. -- */

/* One case's run of an adapter; every pointer is the caller's and lives through the call. */
typedef struct adapter_case {
    const char *command; /* the client's command, alive for the whole run */
    const strlist *env;  /* NAME=VALUE of each POP3_CONFORM_ variable the case sets */
    const char *input;   /* what its standard input gets: options and operations */
    size_t len;
    int watchdog_ms;   /* the longest the case may take */
    size_t max_output; /* the most octets of standard output and error together */
} adapter_case;

/* Start the command for this case alone and wait for it to end (or kill it). `res` is
 * zero-initialised by the caller and freed with adapter_result_free. */
void adapter_oneshot_run(const adapter_case *ac, adapter_result *res);
/* Run the case in this thread's long-lived process for the command, starting it (again)
 * when there is none. */
void adapter_persist_run(const adapter_case *ac, adapter_result *res);

/* -- adapter_marker.c -- */

/* Whether the file declares itself persistent: a comment line
 * "pop3-conform-adapter: persistent" within its first 2048 octets. */
bool adapter_file_is_persistent(const char *path);

#endif
