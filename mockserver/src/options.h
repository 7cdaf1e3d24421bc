/*
 * options.h - pop3-mock's settings by their long option names ("max-command", "quirk",
 * ...), with the command's value syntax and messages, for every front end of the mock:
 * the embedding library (libpop3mock_embed) and the pop3-mock command.
 *
 * Values are borrowed: the strings given to pop3mock__options_set must outlive the
 * options (the embedding library keeps copies; the command would pass argv).
 *
 * The pop3-mock command builds its getopt_long table from pop3mock__option_name and
 * hands every option to pop3mock__options_set, so that the two front ends cannot drift.
 */
#ifndef POP3MOCK_OPTIONS_H
#define POP3MOCK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "pop3mock/maildrop.h"
#include "pop3mock/script.h"
#include "pop3mock/server.h"

/* The largest value a size, count or time option takes (2^31): far past any useful
 * setting, and small enough that no sum of two of them overflows an int-sized field. */
#define POP3MOCK_OPTION_VALUE_MAX (1ull << 31)

typedef struct pop3mock__options {
    pop3mock_server_config cfg;
    pop3mock_maildrop_options mopt;
    pop3mock_script_options sopt; /* script mode: the parser's limits (--max-steps) */
    const char *maildrop, *user, *password, *hostname;
    const char *users_file; /* --users */
    const char *case_file;  /* --case */
    const char *port_file;  /* --port-file */
    bool no_lock;
    bool allow_plaintext; /* --allow-plaintext: drop plaintext-needs-tls (a preset's) */
    /* --hostname as the APOP timestamp can carry it (RFC 1939 section 7: a msg-id):
     * letters, digits, '.', '-', '_' only; `hostname` points here once it is set. */
    char host[128];
} pop3mock__options;

/* The defaults of every setting (hostname "pop3kit.mock"). */
void pop3mock__options_default(pop3mock__options *o);

/* The name (without "--") of option number `i` in the table, NULL past the last: the
 * command's getopt_long table is made from these. */
const char *pop3mock__option_name(size_t i);

/* Does option `name` (without "--") take a value? 1 yes, 0 it is a switch, -1 no such
 * option. */
int pop3mock__option_kind(const char *name);

/*
 * pop3mock__options_set - apply option `name` (without "--"). A switch takes `value`
 * NULL. Returns 0, or -1 with the message the command prints in `err`
 * ("--max-command 3: want octets, 8 to 2147483648", "unknown option '--x'").
 */
int pop3mock__options_set(pop3mock__options *o, const char *name, const char *value, char *err,
                          size_t errlen);

/*
 * pop3mock__options_check - the modes and what belongs to each, once every option is
 * read; `nscripts` SCRIPT files were given besides. Returns 0, or -1 with the reason in
 * `err`. Also sets mopt.tls_available from the certificate.
 */
int pop3mock__options_check(pop3mock__options *o, size_t nscripts, char *err, size_t errlen);

#endif
