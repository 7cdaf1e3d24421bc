/*
 * modes.h - what the pop3-mock command shares between its files: the parsed options
 * (the engine's options module, plus the SCRIPT files),
 * the two ways it serves (a maildrop, or dialogue scripts), and the serving loop with
 * its signals, ready line and port file.
 */
#ifndef POP3MOCK_CLI_MODES_H
#define POP3MOCK_CLI_MODES_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "pop3mock/server.h"

/* Exit statuses of pop3-mock. */
#define EXIT_DEPARTED 1 /* a client departed from a script, or a session never ran */
#define EXIT_USAGE    2 /* usage, script or configuration error */
#define EXIT_RUNTIME  3 /* the server could not run (address in use, I/O failure) */

typedef struct mock_cli {
    pop3mock__options opt; /* every --option, read and checked by the options module */
    const char **scripts;
    size_t nscripts;
} mock_cli;

/* Each returns the process exit status. */
int pop3mock__run_maildrop(const mock_cli *o);
int pop3mock__run_scripts(const mock_cli *o);

/* Called between two steps of the loop after a SIGHUP. */
typedef void (*mock_hup_fn)(void *ctx);

/*
 * pop3mock__serve - bind, print "pop3-mock listening on ADDR:PORT", write the port file,
 * and step the server until it finishes or SIGTERM/SIGINT stops it (calling `on_hup`
 * after a SIGHUP). `*signalled` is set to the signal that stopped it (0: none). Returns
 * 0, or EXIT_RUNTIME after printing why.
 */
int pop3mock__serve(pop3mock_server *srv, const mock_cli *o, mock_hup_fn on_hup, void *ctx,
                    int *signalled);

/* "pop3-mock: MESSAGE" on stderr. */
void pop3mock__say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif
