/*
 * account.h - where the `pop3` command finds its server and credentials: `-H` in the
 * forms HOST, HOST:PORT, [IPv6] and [IPv6]:PORT; pop3:// and pop3s:// URLs (RFC 2384
 * section 3, without the ";AUTH=" part); a netrc file in curl's format; a password
 * command (mpop's passwordeval); a password file.
 *
 * Every function returns 0 on success, or -1 with a sentence in `err` (from errbuf.h's
 * convention); strings it hands out are malloc'd and the caller frees them.
 */
#ifndef POP3_CLI_ACCOUNT_H
#define POP3_CLI_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

/* Longest secret read from a file or a command (a bearer token can be long). */
#define CLI_SECRET_MAX 65536

/*
 * HOST, HOST:PORT, [V6], [V6]:PORT, or a bare IPv6 literal (two colons or more: no
 * port). `*port` is left alone when the argument has none. `*host` is malloc'd,
 * brackets removed.
 */
int cli_parse_host(const char *arg, char **host, unsigned *port, char *err, size_t errlen);

/*
 * pop3://[USER@]HOST[:PORT][/] or pop3s://... (then `*tls` is set). USER may be
 * percent-encoded ("me%40example.com"). A password in the URL is refused: URLs end up
 * in shell histories and process lists. `*user` is NULL when the URL has none.
 * Returns 1 when `arg` is not a URL at all (no "://"), 0 on success, -1 on error.
 */
int cli_parse_url(const char *arg, char **user, char **host, unsigned *port, bool *tls, char *err,
                  size_t errlen);

/*
 * Look `host` up in a netrc file (curl's format: whitespace-separated tokens machine,
 * default, login, password, account, macdef; double-quoted tokens with backslash
 * escapes; '#' comments). The first `machine host` entry whose login is `user` wins (any
 * login when `user` is NULL), else the `default` entry. Returns 0 with `*login` and
 * `*password` (either may be NULL when the entry lacks it), 1 when nothing matches, -1
 * when the file cannot be read or is malformed.
 */
int cli_netrc_lookup(const char *path, const char *host, const char *user, char **login,
                     char **password, char *err, size_t errlen);

/* The first line of the file, without its line end. */
int cli_secret_from_file(const char *path, char **secret, char *err, size_t errlen);

/*
 * Run `cmd` through `sh -c` and take the first line of its output (without its line
 * end) as the secret. Its standard error goes to ours. A command that exits non-zero,
 * dies of a signal or prints nothing is an error.
 */
int cli_secret_from_command(const char *cmd, char **secret, char *err, size_t errlen);

#endif
