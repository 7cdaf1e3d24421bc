/*
 * users_file.h - pop3-mock --users FILE: several accounts, each with its own maildrop
 * (the command and the embedding library both read it).
 */
#ifndef POP3MOCK_USERS_FILE_H
#define POP3MOCK_USERS_FILE_H

#include <stddef.h>

#include "pop3mock/maildrop.h"

/* Most accounts one file may hold (each keeps a maildrop's names in memory). */
#define POP3MOCK_USERS_MAX 10000

/*
 * pop3mock__users_load - read FILE: one account per line, "USER PASSWORD MAILDIR"
 * separated by blanks; blank lines and lines starting with "#" are skipped; a relative
 * MAILDIR is taken from the folder of FILE. Each maildrop is loaded. Returns 0 with a
 * malloc'd array in `*mds` (`*n` entries), or -1 with "FILE:LINE: reason" in `err`.
 */
int pop3mock__users_load(const char *path, pop3mock_maildrop **mds, size_t *n, char *err,
                         size_t errlen);

#endif
