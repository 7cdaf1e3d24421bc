/*
 * modes.h - the two ways pop3-mock serves: a maildrop, or dialogue scripts.
 */
#ifndef POP3MOCK_CLI_MODES_H
#define POP3MOCK_CLI_MODES_H

#include <stddef.h>

#include "pop3mock/maildrop.h"
#include "pop3mock/server.h"

/* Each returns the process exit status. */
int pop3mock__run_maildrop(const pop3mock_server_config *cfg, const pop3mock_maildrop_options *opt,
                           const char *dir, const char *user, const char *password,
                           const char *hostname, int no_lock);
int pop3mock__run_scripts(const pop3mock_server_config *cfg, const pop3mock_maildrop_options *opt,
                          const char *const *files, size_t nfiles);

#endif
