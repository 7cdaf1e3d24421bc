/*
 * account.c - server addresses, URLs (RFC 2384 section 3), netrc files and password
 * commands for the `pop3` command (see account.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "account.h"
#include "errbuf.h"
#include "pop3/error.h"
#include "pop3/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A TCP port, 1 to 65535, read by the codec's one decimal parser. */
static int parse_port(const char *s, unsigned *port)
{
    uint64_t v;
    if (pop3_parse_number(s, strlen(s), &v) != POP3_OK || v == 0 || v > 65535) return -1;
    *port = (unsigned)v;
    return 0;
}

int cli_parse_host(const char *arg, char **host, unsigned *port, char *err, size_t errlen)
{
    const char *h = arg, *p = NULL;
    size_t hlen;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1)
            return cli_seterr(err, errlen, "'%s': an IPv6 address in brackets, like [::1]:110",
                              arg);
        h = arg + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1] != '\0')
            return cli_seterr(err, errlen, "'%s': only ':PORT' may follow ']'", arg);
    } else {
        const char *colon = strchr(arg, ':');
        if (colon && strchr(colon + 1, ':')) {
            hlen = strlen(arg); /* a bare IPv6 literal: no port can be told apart */
        } else if (colon) {
            hlen = (size_t)(colon - arg);
            p = colon + 1;
        } else {
            hlen = strlen(arg);
        }
    }
    if (hlen == 0) return cli_seterr(err, errlen, "'%s': no host name", arg);
    unsigned pv = 0;
    if (p && parse_port(p, &pv))
        return cli_seterr(err, errlen, "'%s': the port must be 1 to 65535", arg);
    char *copy = strndup(h, hlen);
    if (!copy) return cli_seterr(err, errlen, "out of memory");
    free(*host);
    *host = copy;
    if (p) *port = pv;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Percent-decoding (RFC 3986 section 2.1); NUL and line ends are refused. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            int v = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            if (v == 0 || v == '\r' || v == '\n') {
                free(out);
                return NULL;
            }
            *o++ = (char)v;
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

int cli_parse_url(const char *arg, char **user, char **host, unsigned *port, bool *tls, char *err,
                  size_t errlen)
{
    const char *sep = strstr(arg, "://");
    if (!sep) return 1;
    size_t slen = (size_t)(sep - arg);
    if (slen == 4 && strncasecmp(arg, "pop3", 4) == 0)
        *tls = false;
    else if (slen == 5 && strncasecmp(arg, "pop3s", 5) == 0)
        *tls = true;
    else
        return cli_seterr(err, errlen, "'%.*s://': only pop3:// and pop3s:// URLs", (int)slen, arg);
    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    if (auth[alen] == '/' && auth[alen + 1] != '\0')
        return cli_seterr(err, errlen,
                          "'%s': a path in the URL is not used; name the message "
                          "in the command (retr N)",
                          arg);
    const char *at = memchr(auth, '@', alen);
    char *u = NULL;
    if (at) {
        /* The last '@' ends the user part; ";AUTH=" is RFC 2384's, use --auth instead. */
        for (const char *q = at; q < auth + alen; q++)
            if (*q == '@') at = q;
        size_t ulen = (size_t)(at - auth);
        if (memchr(auth, ':', ulen))
            return cli_seterr(err, errlen,
                              "'%s': no password in a URL, please (it shows in "
                              "process lists); use --password-command or "
                              "--password-file",
                              arg);
        if (memchr(auth, ';', ulen))
            return cli_seterr(err, errlen, "'%s': ';AUTH=' is not taken from a URL; use --auth",
                              arg);
        if (ulen == 0) return cli_seterr(err, errlen, "'%s': empty user name", arg);
        u = pct_decode(auth, ulen);
        if (!u) return cli_seterr(err, errlen, "'%s': bad user name", arg);
        alen -= ulen + 1;
        auth = at + 1;
    }
    char *hostport = strndup(auth, alen);
    if (!hostport) {
        free(u);
        return cli_seterr(err, errlen, "out of memory");
    }
    unsigned p = *tls ? 995 : 110;
    int rc = cli_parse_host(hostport, host, &p, err, errlen);
    free(hostport);
    if (rc) {
        free(u);
        return -1;
    }
    *port = p;
    free(*user);
    *user = u;
    return 0;
}

/* netrc
 * ----- */

typedef struct tokens {
    const char *p, *end;
    char buf[4096];
} tokens;

/* The next token (quoted strings unquoted), or NULL at the end; -1 in *bad when a token
 * is too long or a quote is not closed. */
static const char *next_token(tokens *t, int *bad)
{
    for (;;) {
        while (t->p < t->end && isspace((unsigned char)*t->p))
            t->p++;
        if (t->p < t->end && *t->p == '#') {
            while (t->p < t->end && *t->p != '\n')
                t->p++;
            continue;
        }
        break;
    }
    if (t->p >= t->end) return NULL;
    size_t n = 0;
    if (*t->p == '"') {
        t->p++;
        while (t->p < t->end && *t->p != '"') {
            char ch = *t->p++;
            if (ch == '\\' && t->p < t->end) {
                ch = *t->p++;
                if (ch == 'n')
                    ch = '\n';
                else if (ch == 'r')
                    ch = '\r';
                else if (ch == 't')
                    ch = '\t';
            }
            if (n + 1 >= sizeof t->buf) return *bad = -1, NULL;
            t->buf[n++] = ch;
        }
        if (t->p >= t->end) return *bad = -1, NULL;
        t->p++;
    } else {
        while (t->p < t->end && !isspace((unsigned char)*t->p)) {
            if (n + 1 >= sizeof t->buf) return *bad = -1, NULL;
            t->buf[n++] = *t->p++;
        }
    }
    t->buf[n] = '\0';
    return t->buf;
}

/* The netrc file is bounded: it is a small hand-written file. */
#define CLI_NETRC_MAX (1 << 20)

int cli_netrc_lookup(const char *path, const char *host, const char *user, char **login,
                     char **password, char *err, size_t errlen)
{
    *login = *password = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
    char *text = malloc(CLI_NETRC_MAX);
    if (!text) {
        fclose(f);
        return cli_seterr(err, errlen, "out of memory");
    }
    size_t len = fread(text, 1, CLI_NETRC_MAX, f);
    int rerr = ferror(f) ? errno : 0;
    bool more = !feof(f) && fgetc(f) != EOF;
    fclose(f);
    if (rerr || more) {
        free(text);
        return cli_seterr(err, errlen, "%s: %s", path,
                          rerr ? strerror(rerr) : "larger than 1 MiB: not a netrc file");
    }
    tokens t = {.p = text, .end = text + len};
    int bad = 0, rc = 1;
    /* The entry being read: 0 none, 1 the right machine, 2 another machine, 3 default. */
    int entry = 0;
    char *e_login = NULL, *e_pass = NULL, *d_login = NULL, *d_pass = NULL;
    bool have_default = false;
    const char *tok;
    for (;;) {
        tok = next_token(&t, &bad);
        if (!tok && bad) break;
        bool end_entry = !tok || strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0;
        if (end_entry && entry == 1 && (!user || (e_login && strcmp(e_login, user) == 0))) {
            rc = 0;
            break;
        }
        if (end_entry && entry == 3 && !have_default) {
            have_default = true;
            d_login = e_login, d_pass = e_pass;
            e_login = e_pass = NULL;
        }
        if (end_entry) {
            free(e_login), free(e_pass);
            e_login = e_pass = NULL;
        }
        if (!tok) break;
        if (strcmp(tok, "machine") == 0) {
            const char *name = next_token(&t, &bad);
            if (!name) break;
            entry = strcasecmp(name, host) == 0 ? 1 : 2;
        } else if (strcmp(tok, "default") == 0) {
            entry = 3;
        } else if (strcmp(tok, "login") == 0 || strcmp(tok, "password") == 0 ||
                   strcmp(tok, "account") == 0) {
            bool is_login = tok[0] == 'l', is_pass = tok[0] == 'p';
            const char *v = next_token(&t, &bad);
            if (!v) {
                if (!bad) bad = -2;
                break;
            }
            char **slot = is_login ? &e_login : is_pass ? &e_pass : NULL;
            if (slot && entry) {
                free(*slot);
                *slot = strdup(v);
            }
        } else if (strcmp(tok, "macdef") == 0) {
            /* A macro runs to the next empty line. */
            const char *blank = NULL;
            for (const char *q = t.p; q + 1 < t.end; q++)
                if (q[0] == '\n' && q[1] == '\n') {
                    blank = q + 2;
                    break;
                }
            t.p = blank ? blank : t.end;
            entry = 0;
        } else if (bad) {
            break;
        } else {
            bad = -3;
            break;
        }
    }
    if (rc == 0) {
        *login = e_login, *password = e_pass;
        free(d_login), free(d_pass);
    } else if (bad) {
        free(e_login), free(e_pass), free(d_login), free(d_pass);
        free(text);
        return cli_seterr(err, errlen, "%s: %s", path,
                          bad == -1   ? "a token too long or a quote not closed"
                          : bad == -2 ? "a keyword without its value at the end"
                                      : "an unknown keyword (not a netrc file?)");
    } else if (have_default && (!user || (d_login && strcmp(d_login, user) == 0))) {
        rc = 0;
        *login = d_login, *password = d_pass;
        free(e_login), free(e_pass);
    } else {
        free(e_login), free(e_pass), free(d_login), free(d_pass);
    }
    /* The file held passwords: do not leave them in freed memory. */
    for (volatile char *q = text; q < text + len; q++)
        *q = '\0';
    for (volatile char *q = t.buf; q < t.buf + sizeof t.buf; q++)
        *q = '\0';
    free(text);
    return rc;
}

/* Secrets
 * ------- */

static int first_line(char *buf, size_t n, char **secret, const char *what, char *err,
                      size_t errlen)
{
    size_t line = 0;
    while (line < n && buf[line] != '\n')
        line++;
    if (line > 0 && buf[line - 1] == '\r') line--;
    if (memchr(buf, '\0', line)) return cli_seterr(err, errlen, "%s: a NUL in the secret", what);
    *secret = strndup(buf, line);
    if (!*secret) return cli_seterr(err, errlen, "out of memory");
    return 0;
}

int cli_secret_from_file(const char *path, char **secret, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cli_seterr(err, errlen, "%s: %s", path, strerror(errno));
    char *buf = malloc(CLI_SECRET_MAX);
    if (!buf) {
        fclose(f);
        return cli_seterr(err, errlen, "out of memory");
    }
    size_t n = fread(buf, 1, CLI_SECRET_MAX, f);
    int e = ferror(f) ? errno : 0;
    fclose(f);
    int rc = e ? cli_seterr(err, errlen, "%s: %s", path, strerror(e))
               : first_line(buf, n, secret, path, err, errlen);
    memset(buf, 0, CLI_SECRET_MAX);
    free(buf);
    return rc;
}

int cli_secret_from_command(const char *cmd, char **secret, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0) return cli_seterr(err, errlen, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return cli_seterr(err, errlen, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]), close(fds[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char *buf = malloc(CLI_SECRET_MAX);
    size_t n = 0;
    for (;;) {
        if (!buf || n == CLI_SECRET_MAX) {
            /* Read and drop the rest, so the command is not killed by SIGPIPE. */
            char sink[4096];
            ssize_t r = read(fds[0], sink, sizeof sink);
            if (r > 0 || (r < 0 && errno == EINTR)) continue;
            break;
        }
        ssize_t r = read(fds[0], buf + n, CLI_SECRET_MAX - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int rc;
    if (!buf)
        rc = cli_seterr(err, errlen, "out of memory");
    else if (WIFSIGNALED(status))
        rc = cli_seterr(err, errlen, "--password-command: killed by signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        rc = cli_seterr(err, errlen, "--password-command: exit status %d", WEXITSTATUS(status));
    else if (n == 0 || buf[0] == '\n' || (buf[0] == '\r' && n > 1 && buf[1] == '\n'))
        rc = cli_seterr(err, errlen, "--password-command: printed no password");
    else
        rc = first_line(buf, n, secret, "--password-command", err, errlen);
    if (buf) {
        memset(buf, 0, CLI_SECRET_MAX);
        free(buf);
    }
    return rc;
}
