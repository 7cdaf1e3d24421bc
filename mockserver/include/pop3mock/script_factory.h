/*
 * pop3mock/script_factory.h - serve dialogue scripts: every session of every script, one
 * per connection, in order.
 *
 * The sessions of the first script come first, then those of the next, so a script with
 * two sessions serves an [IN-USE] dialogue (RFC 2449 section 8.1.2) to two clients that
 * connect one after the other. The factory says it is finished once every session has
 * ended (or, with `once`, the first), which ends pop3mock_server_run. The pop3-mock
 * command and pop3-conform both serve scripts through it.
 *
 * Thread safety: the server calls the factory on its own thread; the status calls below
 * may be made from any other thread while it runs.
 */
#ifndef POP3MOCK_SCRIPT_FACTORY_H
#define POP3MOCK_SCRIPT_FACTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3mock/script.h"
#include "pop3mock/server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pop3mock_script_factory pop3mock_script_factory;

/*
 * pop3mock_script_factory_new - a factory for the sessions of `scripts` (`n` of them,
 * which must outlive it). `lim` (NULL: the defaults) is copied; with `implicit_tls` every
 * session starts with a TLS handshake; with `once` it is finished after one session.
 * NULL when out of memory.
 */
pop3mock_script_factory *pop3mock_script_factory_new(pop3mock_script *const *scripts, size_t n,
                                                     const pop3mock_limits *lim, bool implicit_tls,
                                                     bool once);

void pop3mock_script_factory_free(pop3mock_script_factory *sf);

/* The factory to give pop3mock_server_new; it points at `sf`. */
pop3mock_factory pop3mock_script_factory_get(pop3mock_script_factory *sf);

/* Sessions the scripts hold in all. */
size_t pop3mock_script_factory_sessions(const pop3mock_script_factory *sf);

/* Sessions handed to a connection so far, and those of them that ended. */
void pop3mock_script_factory_counts(pop3mock_script_factory *sf, size_t *started, size_t *ended);

/* Hand out no more sessions and say "finished": a runner that gave up waiting for a
 * client stops the server with this and pop3mock_server_stop. */
void pop3mock_script_factory_close(pop3mock_script_factory *sf);

/* Session `i` (0-based, in serving order): its script and index in it, whether it was
 * started and ended, and its verdict. False past the last one. */
typedef struct pop3mock_script_slot {
    const pop3mock_script *script;
    size_t index;
    unsigned long conn; /* the connection that played it; 0 if none */
    bool started, ended;
    pop3mock_script_result result;
} pop3mock_script_slot;

bool pop3mock_script_factory_slot(pop3mock_script_factory *sf, size_t i, pop3mock_script_slot *out);

#ifdef __cplusplus
}
#endif
#endif
