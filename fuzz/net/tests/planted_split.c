/*
 * planted_split.c - a test client for pop3-fuzz with a planted bug: it looks for the end
 * of a RETR body (RFC 1939 section 3: CRLF "." CRLF) inside each single read, so a
 * terminator that arrives split across two reads is never seen, and at the end of the
 * stream it waits for more, forever. pop3-fuzz must report the hang.
 */
#include "planted_common.h"

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
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk - 1, 0);
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
