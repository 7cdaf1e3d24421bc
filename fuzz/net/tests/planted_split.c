/*
 * planted_split.c - a test client for pop3-fuzz with a planted bug: it looks for the end
 * of a RETR body (RFC 1939 section 3: CRLF "." CRLF) inside each single read, so a
 * terminator that arrives split across two reads is never seen, and at the end of the
 * stream it waits for more, forever. pop3-fuzz must report the hang.
 */
#include "planted_common.h"

#include <stdbool.h>
#include <time.h>

int main(void)
{
    static char line[1 << 16];
    int fd = planted_connect();
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "USER user\r\n");
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "PASS secret\r\n");
    planted_ok(fd, line, sizeof line);
    planted_send(fd, "RETR 1\r\n");
    planted_ok(fd, line, sizeof line);
    char chunk[1 << 16];
    for (bool first = true;; first = false) {
        /* The first read is what came with the status line. */
        ssize_t n = first && planted_rest_at < planted_rest_len
                        ? (ssize_t)(planted_rest_len - planted_rest_at)
                        : recv(fd, chunk, sizeof chunk - 1, 0);
        if (first && n > 0 && planted_rest_at < planted_rest_len)
            memcpy(chunk, planted_rest + planted_rest_at, (size_t)n);
        if (n < 0) return 3;
        if (n == 0) { /* the planted bug: the end of the stream is taken as "not yet" */
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        chunk[n] = '\0';
        /* Also planted: a body whose terminator is its whole first read is not seen. */
        if (strstr(chunk, "\r\n.\r\n") != NULL) break;
    }
    planted_send(fd, "QUIT\r\n");
    close(fd);
    return 0;
}
